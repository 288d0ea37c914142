package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Finished runs past the retention age go; newer ones, and pending or
// running runs of any age, stay.
func TestPruneRuns(t *testing.T) {
	t.Parallel()
	h := setup(t, nil)
	sc := h.create("pruned", "0 3 * * *", Input{Target: new("1")})
	ctx := context.Background()
	_, err := h.pool.Exec(ctx, `INSERT INTO schedule_runs (schedule_id, fire_at, run_after, status, finished_at, replica, lease_expires_at)
		VALUES ($1, now() - interval '500 days', now() - interval '500 days', 'succeeded', now() - interval '500 days', '', NULL),
		       ($1, now() - interval '499 days', now() - interval '499 days', 'failed', now() - interval '499 days', '', NULL),
		       ($1, now() - interval '498 days', now() - interval '498 days', 'missed', now() - interval '498 days', '', NULL),
		       ($1, now() - interval '10 days', now() - interval '10 days', 'succeeded', now() - interval '10 days', '', NULL),
		       ($1, now() - interval '600 days', now() - interval '600 days', 'pending', NULL, '', NULL),
		       ($1, now() - interval '700 days', now() - interval '700 days', 'running', NULL, 'r1', now() + interval '1 minute')`, sc.ID)
	require.NoError(t, err)

	n, err := h.svc.PruneRuns(ctx, 400*24*time.Hour)
	require.NoError(t, err)
	require.EqualValues(t, 3, n)
	var statuses []string
	for _, r := range h.runsOf(sc.ID) {
		statuses = append(statuses, string(r.Status))
	}
	require.ElementsMatch(t, []string{"succeeded", "pending", "running"}, statuses)

	n, err = h.svc.PruneRuns(ctx, 400*24*time.Hour)
	require.NoError(t, err)
	require.Zero(t, n, "a second pass finds nothing left to prune")
}
