package cmdb

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// StagedRef is a column of an import's staging table that names CIs: one
// per row (text), a list (text[]), or a JSON array of names (jsonb).
type StagedRef struct {
	Column string
	Kind   RefKind
}

// RefKind says how a staged column holds its CI names.
type RefKind int

// The shapes of StagedRef columns.
const (
	RefText RefKind = iota
	RefArray
	RefJSON
)

// ResolveStaged rewrites the CI names in the staged columns refs to CI
// keys, the way exports name CIs: a name that is a key stays; else the CI
// whose external_id (ServiceNow's sys_id) it is; else the CI with that
// exact display name. Names that match several CIs at the first level that
// matches any are left as they are and listed in the temporary table
// import_ref (ref, keys), so AmbiguousCheck can name the candidates, and
// names that match none fail the callers' unknown-key checks as before.
// Only rows with a name that is not a key are rewritten, so files that
// name CIs by key cost one scan.
func ResolveStaged(ctx context.Context, tx pgx.Tx, refs ...StagedRef) error {
	var names []string
	for _, r := range refs {
		col := pgx.Identifier{r.Column}.Sanitize()
		switch r.Kind {
		case RefText:
			names = append(names, `SELECT `+col+` FROM import_stage`)
		case RefArray:
			names = append(names, `SELECT unnest(`+col+`) FROM import_stage`)
		case RefJSON:
			names = append(names, `SELECT jsonb_array_elements_text(`+col+`) FROM import_stage WHERE jsonb_typeof(`+col+`) = 'array'`)
		}
	}
	create := `CREATE TEMP TABLE import_ref ON COMMIT DROP AS
		WITH refs AS (
			SELECT DISTINCT v.ref FROM (` + strings.Join(names, " UNION ALL ") + `) AS v (ref)
			WHERE v.ref IS NOT NULL AND v.ref <> '' AND NOT EXISTS (SELECT 1 FROM cis c WHERE c.key = v.ref)
		), ext AS (
			SELECT r.ref, array_agg(c.key ORDER BY c.key) AS keys FROM refs r JOIN cis c ON c.external_id = r.ref GROUP BY r.ref
		), named AS (
			SELECT r.ref, array_agg(c.key ORDER BY c.key) AS keys FROM refs r JOIN cis c ON c.name = r.ref
			WHERE NOT EXISTS (SELECT 1 FROM ext WHERE ext.ref = r.ref) GROUP BY r.ref
		)
		SELECT ref, keys FROM ext UNION ALL SELECT ref, keys FROM named`
	tag, err := tx.Exec(ctx, create)
	if err != nil {
		return fmt.Errorf("resolve CI names: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `ANALYZE import_ref`); err != nil {
		return fmt.Errorf("resolve CI names: %w", err)
	}
	const one = `(SELECT ref FROM import_ref WHERE cardinality(keys) = 1)`
	for _, r := range refs {
		col := pgx.Identifier{r.Column}.Sanitize()
		var stmt string
		switch r.Kind {
		case RefText:
			stmt = `UPDATE import_stage s SET ` + col + ` = r.keys[1] FROM import_ref r
				WHERE s.` + col + ` = r.ref AND cardinality(r.keys) = 1`
		case RefArray:
			// Two names of one CI become one key, in the place of the first.
			stmt = `UPDATE import_stage s SET ` + col + ` = ARRAY(
					SELECT x.key FROM (SELECT coalesce(CASE WHEN cardinality(r.keys) = 1 THEN r.keys[1] END, e.name) AS key, min(e.n) AS n
						FROM unnest(s.` + col + `) WITH ORDINALITY AS e (name, n) LEFT JOIN import_ref r ON r.ref = e.name
						GROUP BY 1) x ORDER BY x.n)
				WHERE s.` + col + ` && ARRAY` + one
		case RefJSON:
			stmt = `UPDATE import_stage s SET ` + col + ` = (
					SELECT coalesce(jsonb_agg(x.key ORDER BY x.n), '[]') FROM (
						SELECT coalesce(CASE WHEN cardinality(r.keys) = 1 THEN r.keys[1] END, e.name) AS key, min(e.n) AS n
						FROM jsonb_array_elements_text(s.` + col + `) WITH ORDINALITY AS e (name, n) LEFT JOIN import_ref r ON r.ref = e.name
						GROUP BY 1) x)
				WHERE jsonb_typeof(s.` + col + `) = 'array'
					AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(s.` + col + `) e (name) WHERE e.name IN ` + one + `)`
		}
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("resolve CI names in %s: %w", r.Column, err)
		}
	}
	return nil
}

// AmbiguousCheck is a check query (row_no, field, message) naming, for the
// staged column ref reported as field, the names ResolveStaged found
// several CIs for, with their keys. Put it first among a spec's checks: a
// row gets one problem, and this one says more than "no CI has key".
func AmbiguousCheck(ref StagedRef, field string) string {
	col := pgx.Identifier{ref.Column}.Sanitize()
	var names string
	switch ref.Kind {
	case RefText:
		names = `SELECT s.row_no, s.` + col + ` AS name FROM import_stage s`
	case RefArray:
		names = `SELECT s.row_no, e.name FROM import_stage s CROSS JOIN LATERAL unnest(s.` + col + `) AS e (name)`
	case RefJSON:
		names = `SELECT s.row_no, e.name FROM import_stage s CROSS JOIN LATERAL jsonb_array_elements_text(
			CASE WHEN jsonb_typeof(s.` + col + `) = 'array' THEN s.` + col + ` ELSE '[]' END) AS e (name)`
	}
	return `SELECT n.row_no, '` + field + `', format('%s names %s CIs: %s; use a key', to_json(n.name), cardinality(r.keys),
			array_to_string(r.keys[1:10], ', ') || CASE WHEN cardinality(r.keys) > 10 THEN ', ...' ELSE '' END)
		FROM (` + names + `) n JOIN import_ref r ON r.ref = n.name
		WHERE cardinality(r.keys) > 1`
}
