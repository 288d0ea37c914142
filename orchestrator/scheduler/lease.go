package scheduler

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/leasequeue"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// runsTable puts schedule_runs on the lease queue. A claimed run comes
// with its schedule's name, kind, target and max run time, which is what
// the handler needs; the same columns come back from a reap (for the event
// of a run that gave up) and from recording an outcome (for its event).
var runsTable = leasequeue.Table{
	Name: "schedule_runs", Due: "run_after",
	Pending: string(StatusPending), Leased: string(StatusRunning), GaveUp: string(StatusFailed),
	Error: "error", Finished: "finished_at", Heartbeat: "heartbeat_at",
	ClaimSet: "started_at = " + leasequeue.Now,
	Columns:  runColumnsOf("t") + ", s.name, s.kind, s.target, s.max_run_s",
	Join:     "JOIN schedules s ON s.id = t.schedule_id",
	Requeued: "; queued for another replica",
}

// newQueue is this replica's lease queue over schedule_runs; its metrics
// keep the scheduler's names (bcdr_scheduler_lease_takeovers_total, ...).
func newQueue(pool *pgxpool.Pool, rt orchestrator.Runtime, opts Options) *leasequeue.Queue[Run] {
	return leasequeue.New(pool, rt, runsTable, scanClaimedRun, leasequeue.Options{
		Replica: opts.Replica, Lease: opts.LeaseDuration, HeartbeatInterval: opts.HeartbeatInterval,
		MaxAttempts: opts.MaxAttempts, Backoff: leasequeue.Backoff{Min: opts.PollInterval, Max: opts.MaxBackoff},
		Registry: opts.Registry, Metrics: "bcdr_scheduler",
	})
}

// leaseOf is the lease under which run was claimed: every write about
// the run's outcome is fenced by it.
func leaseOf(run Run) leasequeue.Lease {
	return leasequeue.Lease{ID: run.ID, Attempts: run.Attempts, Replica: run.Replica}
}

// claim takes up to n due pending runs, oldest first, skipping rows other
// replicas are claiming. The lease is measured on the database clock.
func (s *Scheduler) claim(ctx context.Context, n int) ([]Run, error) {
	claimed, err := s.queue.Claim(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("claim runs: %w", err)
	}
	runs := make([]Run, len(claimed))
	for i, c := range claimed {
		runs[i] = c.Row
	}
	return runs, nil
}

// reap returns runs whose lease expired (their replica died or stalled) to
// the queue for any replica to take over, keeping the attempt count; after
// MaxAttempts claims the run fails for good instead, and its event is
// emitted in the transaction that fails it.
func (s *Scheduler) reap(ctx context.Context) error {
	var follow func(context.Context, postgres.Querier, []leasequeue.Reaped[Run]) error
	if s.opts.OnEvent != nil {
		follow = func(ctx context.Context, q postgres.Querier, reaped []leasequeue.Reaped[Run]) error {
			var failed []Event
			for _, r := range reaped {
				if r.GaveUp {
					failed = append(failed, Event{Run: r.Row})
				}
			}
			return s.emit(ctx, q, failed)
		}
	}
	if _, err := s.queue.Reap(ctx, follow); err != nil {
		return fmt.Errorf("reap expired leases: %w", err)
	}
	return nil
}
