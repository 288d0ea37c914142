package directory

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// The record types are written the same way: the API's create and replace
// check the input, then one transaction resolves references, writes the row
// and its children, audits and reads the record back. These helpers hold
// that shape once; each record keeps its SQL next to the method that runs it.

// recordInput is a record's input struct (ContactInput, ...).
type recordInput interface {
	Normalize(defaultSource string)
	Validate() error
}

// saveInTx normalizes and validates in, then runs save in one transaction;
// save writes the record and reads it back into out.
func saveInTx[T any](ctx context.Context, pool *pgxpool.Pool, in recordInput, save func(tx pgx.Tx, out *T) error) (T, error) {
	in.Normalize(DefaultSource)
	if err := in.Validate(); err != nil {
		var zero T
		return zero, err
	}
	var out T
	err := postgres.WithTx(ctx, pool, func(tx pgx.Tx) error { return save(tx, &out) })
	return out, err
}

// pathKey gives a replacement without a key in its body the key in the
// path, and refuses one whose body names another key.
func pathKey(bodyKey *string, key, what string) error {
	trim(bodyKey)
	if *bodyKey == "" {
		*bodyKey = key
	}
	if *bodyKey != key {
		return mismatchedKey(what, key)
	}
	return nil
}

// scanID reads the id a write returns. When the write matched no row the
// error is missing (nil for an insert, which always returns one).
func scanID(row pgx.Row, missing error) (int64, error) {
	var id int64
	err := row.Scan(&id)
	if missing != nil && errors.Is(err, pgx.ErrNoRows) {
		return 0, missing
	}
	return id, err
}

// getRecord reads the one record query returns, scanned with scan. what
// names the record in errors; missing is the error when there is none.
func getRecord[T any](ctx context.Context, q postgres.Querier, scan pgx.RowToFunc[T], what string, missing error,
	query string, args ...any) (T, error) {
	var zero T
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return zero, fmt.Errorf("get %s: %w", what, err)
	}
	rec, err := pgx.CollectExactlyOneRow(rows, scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return zero, missing
	}
	if err != nil {
		return zero, fmt.Errorf("get %s: %w", what, err)
	}
	return rec, nil
}

// listRecords reads one page of the records query returns, scanned with
// scan and positioned by cursor. what names the list in errors.
func listRecords[T any](ctx context.Context, q postgres.Querier, scan pgx.RowToFunc[T], what string, limit int,
	cursor func(T) string, query string, args ...any) (orchestrator.List[T], error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return orchestrator.List[T]{}, fmt.Errorf("list %s: %w", what, err)
	}
	items, err := pgx.CollectRows(rows, scan)
	if err != nil {
		return orchestrator.List[T]{}, fmt.Errorf("list %s: %w", what, err)
	}
	return orchestrator.Paginate(items, limit, cursor), nil
}

// deleteRecord deletes one record with del, whose argument is arg, and
// audits it as resource/resourceID. what names the record in errors;
// missing is the error when there was nothing to delete.
func (s *Service) deleteRecord(ctx context.Context, what string, missing error, del string, arg any,
	resource, resourceID string) error {
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, del, arg)
		if err != nil {
			return fmt.Errorf("delete %s: %w", what, err)
		}
		if tag.RowsAffected() == 0 {
			return missing
		}
		return audit.Record(ctx, tx, audit.Change{Action: "delete", Resource: resource, ResourceID: resourceID, Summary: "deleted"})
	})
}
