package importer

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// DefaultBulkRows is the number of new records from which an import may
// load in bulk (see Spec.Bulk).
const DefaultBulkRows = 50_000

// bulkMemory is the maintenance_work_mem for rebuilding indexes: a sort of
// a million short keys fits, so each index builds in one pass.
const bulkMemory = "256MB"

// setAside is what bulk mode took off the tables: statements that put it
// back.
type setAside struct {
	restore []string
	tables  []string
}

// bulkWanted says whether the staged rows should load in bulk: at least
// minRows of them are new, and they at least double the first Bulk table
// (so rebuilding its indexes is cheaper than maintaining them row by row).
func (s *Spec[In]) bulkWanted(ctx context.Context, tx pgx.Tx, minRows int, staged int) (bool, error) {
	if len(s.Bulk) == 0 || len(s.Identity) == 0 || staged < minRows {
		return false, nil
	}
	table := pgx.Identifier{s.Bulk[0]}.Sanitize()
	var match []string
	for _, c := range s.Identity {
		id := pgx.Identifier{c}.Sanitize()
		match = append(match, "t."+id+" = s."+id)
	}
	query := `SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM ` + table + ` t WHERE ` + strings.Join(match, " AND ") + `)),
			(SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = $1::regclass)
		FROM import_stage s`
	var fresh, existing int64
	if err := tx.QueryRow(ctx, query, s.Bulk[0]).Scan(&fresh, &existing); err != nil {
		return false, fmt.Errorf("size bulk load: %w", err)
	}
	return fresh >= int64(minRows) && fresh >= existing, nil
}

// setAsideIndexes drops the secondary indexes of tables and the foreign
// keys among them, and returns how to recreate them. Primary keys and
// unique constraints stay (merges need them), and so do foreign keys to
// other tables: dropping one would lock the table it references too. It
// runs in the import's transaction, so a failed import gets everything
// back by rolling back; readers of the tables wait until the import
// commits.
func setAsideIndexes(ctx context.Context, tx pgx.Tx, tables []string) (*setAside, error) {
	const query = `SELECT 1, format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
			FROM pg_index i
			WHERE i.indrelid = ANY ($1::regclass[])
				AND NOT EXISTS (SELECT 1 FROM pg_constraint c
					WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x'))
		UNION ALL
		SELECT 2, format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname),
				format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname, pg_get_constraintdef(c.oid))
			FROM pg_constraint c
			WHERE c.contype = 'f' AND c.conrelid = ANY ($1::regclass[]) AND c.confrelid = ANY ($1::regclass[])
		ORDER BY 1, 2`
	rows, err := tx.Query(ctx, query, tables)
	if err != nil {
		return nil, fmt.Errorf("list indexes to rebuild: %w", err)
	}
	var (
		kind         int
		drop, create string
		drops        []string
		aside        = &setAside{tables: tables}
	)
	_, err = pgx.ForEachRow(rows, []any{&kind, &drop, &create}, func() error {
		drops = append(drops, drop)
		aside.restore = append(aside.restore, create)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list indexes to rebuild: %w", err)
	}
	for _, stmt := range drops {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return nil, fmt.Errorf("set aside for bulk load: %w", err)
		}
	}
	return aside, nil
}

// rebuild recreates what setAsideIndexes dropped and refreshes the
// tables' statistics, which a bulk load leaves far off.
func (a *setAside) rebuild(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '`+bulkMemory+`'`); err != nil {
		return fmt.Errorf("rebuild indexes: %w", err)
	}
	for _, stmt := range a.restore {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("rebuild after bulk load: %w", err)
		}
	}
	for _, t := range a.tables {
		if _, err := tx.Exec(ctx, `ANALYZE `+pgx.Identifier{t}.Sanitize()); err != nil {
			return fmt.Errorf("analyse %s: %w", t, err)
		}
	}
	return nil
}
