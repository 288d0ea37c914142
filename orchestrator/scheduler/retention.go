package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Retention prunes in batches of pruneBatch rows, at most pruneBatches
// statements a call, so no statement holds many row locks for long; what
// is left is pruned by the next call.
const (
	pruneBatch   = 1000
	pruneBatches = 20
)

// PruneRuns deletes the runs that finished (succeeded, failed, missed,
// cancelled) longer than age ago, and returns how many. Pending and running
// runs are never touched, whatever their age.
func (s *Service) PruneRuns(ctx context.Context, age time.Duration) (int64, error) {
	const prune = `DELETE FROM schedule_runs WHERE id IN (
		SELECT id FROM schedule_runs
		WHERE finished_at < coalesce($1::timestamptz, now()) - $2::bigint * interval '1 second'
		  AND status NOT IN ('pending', 'running')
		ORDER BY finished_at LIMIT $3)`
	var total int64
	for range pruneBatches {
		tag, err := s.pool.Exec(ctx, prune, postgres.NowArg(s.rt.Clock), int64(age/time.Second), pruneBatch)
		if err != nil {
			return total, fmt.Errorf("prune schedule runs: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneBatch {
			break
		}
	}
	return total, nil
}
