package itsm

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// The four record types are stored the same way; these helpers hold that
// shape once. Each record keeps its SQL next to the method that runs it.

// recordInput is a record's input struct (IncidentInput, ...) used through
// its pointer methods.
type recordInput[In any] interface {
	*In
	Normalize(defaultSource string)
	Validate() error
}

// saveInTx normalizes and validates in, then writes it with write in one
// transaction: a new record (id 0) gets DefaultSource when it names none, an
// update keeps the stored source.
func saveInTx[T, In any, P recordInput[In]](ctx context.Context, pool *pgxpool.Pool, id int64, in In,
	write func(context.Context, pgx.Tx, int64, In) (T, error)) (T, error) {
	source := DefaultSource
	if id != 0 {
		source = ""
	}
	P(&in).Normalize(source)
	if err := P(&in).Validate(); err != nil {
		var zero T
		return zero, err
	}
	var out T
	err := postgres.WithTx(ctx, pool, func(tx pgx.Tx) error {
		var err error
		out, err = write(ctx, tx, id, in)
		return err
	})
	return out, err
}

// writeRow inserts a record with insert (id 0) or updates record id with
// update, which takes id after args, and returns the record's id and the
// audit action taken. kind names the record in errors.
func writeRow(ctx context.Context, tx pgx.Tx, kind, insert, update string, id int64, args []any) (int64, string, error) {
	action, query := "create", insert
	if id != 0 {
		action, query = "update", update
		args = append(args, id)
	}
	var written int64
	err := tx.QueryRow(ctx, query, args...).Scan(&written)
	if id != 0 && errors.Is(err, pgx.ErrNoRows) {
		return 0, "", notFound(kind, id)
	}
	if err != nil {
		return 0, "", fmt.Errorf("%s %s: %w", action, kind, conflictOrErr(err, kind))
	}
	return written, action, nil
}

// getRow reads record id of kind with query, whose only argument is the id.
func getRow[T any](ctx context.Context, q postgres.Querier, kind, query string, id int64) (T, error) {
	var zero T
	rows, err := q.Query(ctx, query, id)
	if err != nil {
		return zero, fmt.Errorf("get %s %d: %w", kind, id, err)
	}
	rec, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[T])
	if errors.Is(err, pgx.ErrNoRows) {
		return zero, notFound(kind, id)
	}
	if err != nil {
		return zero, fmt.Errorf("get %s %d: %w", kind, id, err)
	}
	return rec, nil
}

// listRows reads the records query returns as one page of at most limit
// items, each positioned by cursor. what names the list in errors.
func listRows[T any](ctx context.Context, q postgres.Querier, what, query string, args []any, limit int,
	cursor func(T) string) (orchestrator.List[T], error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return orchestrator.List[T]{}, fmt.Errorf("list %s: %w", what, err)
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[T])
	if err != nil {
		return orchestrator.List[T]{}, fmt.Errorf("list %s: %w", what, err)
	}
	return orchestrator.Paginate(items, limit, cursor), nil
}

// deleteRow deletes record id of kind with del, which returns the record's
// external id and a label (its title or version), and audits the deletion
// under resource.
func (s *Store) deleteRow(ctx context.Context, kind, resource, del string, id int64) error {
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var ext, label string
		err := tx.QueryRow(ctx, del, id).Scan(&ext, &label)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound(kind, id)
		}
		if err != nil {
			return fmt.Errorf("delete %s %d: %w", kind, id, err)
		}
		return recordAudit(ctx, tx, "delete", resource, id, fmt.Sprintf("%s %s %s", kind, ext, summaryText(label)))
	})
}

// recordAudit audits action on record id of resource (its table).
func recordAudit(ctx context.Context, tx pgx.Tx, action, resource string, id int64, summary string) error {
	return audit.Record(ctx, tx, audit.Change{Action: action, Resource: resource, ResourceID: strconv.FormatInt(id, 10),
		Summary: summary})
}
