package leasequeue

import (
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// tailRow is a result row whose first columns are the queue's own (id,
// attempts, ...), shown to the caller's scan function without them. It
// lets one statement return both what the queue needs to hold a lease and
// what the caller needs to do the work, so a claim stays one round trip
// and the caller's type need not say where its id and attempts are.
type tailRow struct {
	row     pgx.CollectableRow
	head    []any // where the queue's columns go
	scanned bool
}

func (r *tailRow) FieldDescriptions() []pgconn.FieldDescription {
	return r.row.FieldDescriptions()[len(r.head):]
}

// Scan fills the queue's columns together with the caller's, so the row
// is decoded once.
func (r *tailRow) Scan(dest ...any) error {
	all := make([]any, 0, len(r.head)+len(dest))
	all = append(append(all, r.head...), dest...)
	r.scanned = true
	return r.row.Scan(all...)
}

func (r *tailRow) Values() ([]any, error) {
	v, err := r.row.Values()
	if err != nil {
		return nil, err
	}
	return v[len(r.head):], nil
}

func (r *tailRow) RawValues() [][]byte { return r.row.RawValues()[len(r.head):] }

// finish reads the queue's columns if the caller's scan function did not
// go through Scan (pgx.RowToMap reads Values): pgx skips nil destinations.
func (r *tailRow) finish() error {
	if r.scanned {
		return nil
	}
	all := make([]any, len(r.row.FieldDescriptions()))
	copy(all, r.head)
	return r.row.Scan(all...)
}

// scanTail scans row with scan after reading the queue's leading columns
// into head.
func scanTail[T any](row pgx.CollectableRow, scan pgx.RowToFunc[T], head ...any) (T, error) {
	r := &tailRow{row: row, head: head}
	v, err := scan(r)
	if err != nil {
		return v, err
	}
	return v, r.finish()
}
