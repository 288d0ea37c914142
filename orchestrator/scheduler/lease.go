package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// reapBatch bounds the expired leases one reap handles.
const reapBatch = 500

// heartbeatLoop renews the leases of this replica's running runs until ctx
// ends.
func (s *Scheduler) heartbeatLoop(ctx context.Context) {
	t := time.NewTicker(s.opts.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.heartbeat(ctx)
		}
	}
}

// heartbeat renews every lease this replica holds in one statement. A run
// the statement does not return is no longer ours (reaped after a stall, or
// deleted), and a run that could not be renewed for a whole lease may be
// someone else's by now: either way its handler is cancelled, so one run
// does not go on in two places.
func (s *Scheduler) heartbeat(ctx context.Context) {
	s.active.mu.Lock()
	ids := make([]int64, 0, len(s.active.m))
	attempts := make([]int32, 0, len(s.active.m))
	for id, a := range s.active.m {
		ids = append(ids, id)
		attempts = append(attempts, int32(a.run.Attempts))
	}
	s.active.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	const query = `UPDATE schedule_runs r SET heartbeat_at = coalesce($1::timestamptz, now()),
			lease_expires_at = coalesce($1::timestamptz, now()) + $2::bigint * interval '1 millisecond'
		FROM unnest($4::bigint[], $5::integer[]) AS held (id, attempts)
		WHERE r.id = held.id AND r.attempts = held.attempts AND r.replica = $3 AND r.status = 'running'
		RETURNING r.id`
	rows, err := s.pool.Query(ctx, query, s.nowArg(), s.opts.LeaseDuration.Milliseconds(), s.opts.Replica, ids, attempts)
	var renewed []int64
	if err == nil {
		renewed, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	}
	if err != nil {
		s.logger.Warn("heartbeat failed", "error", err, "runs", len(ids))
	}
	kept := make(map[int64]bool, len(renewed))
	for _, id := range renewed {
		kept[id] = true
	}
	now := time.Now()
	s.active.mu.Lock()
	defer s.active.mu.Unlock()
	for _, id := range ids {
		a, ok := s.active.m[id]
		switch {
		case !ok:
		case kept[id]:
			a.renewed = now
		case err == nil || now.Sub(a.renewed) > s.opts.LeaseDuration:
			s.logger.Warn("lease lost; cancelling the handler", "run", id, "schedule", a.run.ScheduleID)
			a.cancel(errLeaseLost)
		}
	}
}

// reap returns runs whose lease expired (their replica died or stalled) to
// the queue for any replica to take over, keeping the attempt count; after
// MaxAttempts claims the run fails for good instead.
func (s *Scheduler) reap(ctx context.Context) error {
	var failed []Event
	requeued := 0
	err := s.inTx(ctx, func(q postgres.Querier) error {
		query := `WITH expired AS (
				SELECT id FROM schedule_runs
				WHERE status = 'running' AND lease_expires_at < coalesce($1::timestamptz, now())
				ORDER BY lease_expires_at LIMIT $3 FOR UPDATE SKIP LOCKED
			)
			UPDATE schedule_runs r SET
				status = CASE WHEN r.attempts >= $2 THEN 'failed' ELSE 'pending' END,
				lease_expires_at = NULL,
				finished_at = CASE WHEN r.attempts >= $2 THEN coalesce($1::timestamptz, now()) END,
				error = left(format('lease of replica %s expired during attempt %s', r.replica, r.attempts) ||
					CASE WHEN r.attempts >= $2 THEN '; gave up' ELSE '; queued for another replica' END, 2000)
			FROM expired, schedules s WHERE r.id = expired.id AND s.id = r.schedule_id
			RETURNING ` + runColumnsOf("r") + `, s.name, s.kind, s.target, s.max_run_s`
		rows, err := q.Query(ctx, query, s.nowArg(), s.opts.MaxAttempts, reapBatch)
		if err != nil {
			return fmt.Errorf("reap leases: %w", err)
		}
		runs, err := pgx.CollectRows(rows, scanClaimedRun)
		if err != nil {
			return fmt.Errorf("reap leases: %w", err)
		}
		failed, requeued = failed[:0], 0
		for _, r := range runs {
			if r.Status == StatusFailed {
				failed = append(failed, Event{Run: r})
				continue
			}
			requeued++
		}
		if len(runs) > 0 {
			s.logger.Warn("reaped expired leases", "requeued", requeued, "failed", len(failed))
		}
		return s.emit(ctx, q, failed)
	})
	if err != nil {
		return err
	}
	s.metrics.takeovers.Add(float64(requeued))
	s.metrics.gaveUp.Add(float64(len(failed)))
	return nil
}
