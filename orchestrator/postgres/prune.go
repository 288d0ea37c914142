package postgres

import (
	"context"
	"fmt"
)

// Retention deletes in batches of PruneBatch rows, at most pruneBatches
// statements a call, so no statement holds many row locks for long; what
// is left is deleted by the next call.
const (
	PruneBatch   = 1000
	pruneBatches = 20
)

// Prune runs query, a DELETE of at most $n rows where $n is its last
// parameter (PruneBatch, appended to args), until a round deletes fewer
// than a batch or pruneBatches rounds ran, and returns how many rows went.
// what names the rows in errors.
func Prune(ctx context.Context, q Querier, what, query string, args ...any) (int64, error) {
	args = append(args, PruneBatch)
	var total int64
	for range pruneBatches {
		tag, err := q.Exec(ctx, query, args...)
		if err != nil {
			return total, fmt.Errorf("prune %s: %w", what, err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < PruneBatch {
			break
		}
	}
	return total, nil
}
