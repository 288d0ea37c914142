package scheduler

import (
	"context"
	"time"

	"github.com/bcdr/bcdr/orchestrator/postgres"
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
	return postgres.Prune(ctx, s.pool, "schedule runs", prune, postgres.NowArg(s.rt.Clock), int64(age/time.Second))
}
