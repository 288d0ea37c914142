package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// errLeaseLost cancels a handler whose run another replica may now own.
var errLeaseLost = errors.New("lease lost")

// abandonAfter is how long past its max run time a handler that ignores its
// context is waited for before the run is failed without it.
const abandonAfter = 5 * time.Second

// activeRun is a run this replica holds a lease on.
type activeRun struct {
	run     Run
	cancel  context.CancelCauseFunc
	renewed time.Time // local monotonic time of the last renewal
}

// activeRuns are the runs this replica executes, for the heartbeat.
type activeRuns struct {
	mu sync.Mutex
	m  map[int64]*activeRun
}

func (a *activeRuns) add(run Run, cancel context.CancelCauseFunc) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.m[run.ID] = &activeRun{run: run, cancel: cancel, renewed: time.Now()}
}

func (a *activeRuns) remove(id int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.m, id)
}

func (a *activeRuns) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.m)
}

// claimQuery marks up to $3 due pending runs as running under replica $2
// with a lease of $4 ms, and returns them with their schedule's settings.
var claimQuery = `WITH picked AS (
		SELECT id FROM schedule_runs
		WHERE status = 'pending' AND run_after <= coalesce($1::timestamptz, now())
		ORDER BY run_after, id LIMIT $3 FOR UPDATE SKIP LOCKED
	), claimed AS (
		UPDATE schedule_runs r SET status = 'running', replica = $2, attempts = r.attempts + 1,
			started_at = coalesce($1::timestamptz, now()), heartbeat_at = coalesce($1::timestamptz, now()),
			lease_expires_at = coalesce($1::timestamptz, now()) + $4::bigint * interval '1 millisecond'
		FROM picked WHERE r.id = picked.id
		RETURNING r.*
	)
	SELECT ` + runColumnsOf("c") + `, s.name, s.kind, s.target, s.max_run_s
	FROM claimed c JOIN schedules s ON s.id = c.schedule_id ORDER BY c.run_after, c.id`

// claim takes up to n due pending runs, oldest first, skipping rows other
// replicas are claiming. The lease is measured on the database clock.
func (s *Scheduler) claim(ctx context.Context, n int) ([]Run, error) {
	start := time.Now()
	rows, err := s.pool.Query(ctx, claimQuery, s.nowArg(), s.opts.Replica, n, s.opts.LeaseDuration.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("claim runs: %w", err)
	}
	runs, err := pgx.CollectRows(rows, scanClaimedRun)
	if err != nil {
		return nil, fmt.Errorf("claim runs: %w", err)
	}
	if len(runs) > 0 {
		s.metrics.dbSeconds.WithLabelValues("claim").Observe(time.Since(start).Seconds())
	}
	return runs, nil
}

// execute runs the handler for a claimed run under hctx (ctx, cancelled
// early when the lease is lost) and records the outcome, unless the lease
// was lost (another replica owns the run now) or the scheduler is stopping
// and the handler gave up (the run goes back to the queue).
func (s *Scheduler) execute(ctx, hctx context.Context, run Run) {
	start := time.Now()
	var out string
	var err error
	if h := s.handler(run.Kind); h == nil {
		err = fmt.Errorf("no handler is registered for kind %q on replica %s", run.Kind, s.opts.Replica)
	} else {
		out, err = s.invoke(hctx, h, run)
	}
	elapsed := time.Since(start)
	bg := context.WithoutCancel(ctx)
	switch {
	case errors.Is(context.Cause(hctx), errLeaseLost):
		s.logger.Warn("lease lost while running; leaving the run to its new owner", "run", run.ID, "schedule", run.ScheduleID)
	case ctx.Err() != nil && err != nil:
		s.release(bg, run)
	default:
		s.finish(bg, run, out, err, elapsed)
	}
}

// invoke calls h with the run's max run time, turning a panic into an error
// and giving up on a handler that outlives its deadline by abandonAfter.
func (s *Scheduler) invoke(ctx context.Context, h Handler, run Run) (string, error) {
	rctx, cancel := context.WithTimeout(ctx, run.MaxRun)
	defer cancel()
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- result{err: fmt.Errorf("handler panicked: %v", v)}
			}
		}()
		out, err := h(rctx, run)
		done <- result{out, err}
	}()
	abandon := time.NewTimer(run.MaxRun + abandonAfter)
	defer abandon.Stop()
	select {
	case r := <-done:
		if r.err != nil && errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			r.err = fmt.Errorf("exceeded the max run time of %s: %w", run.MaxRun, r.err)
		}
		return r.out, r.err
	case <-abandon.C:
		return "", fmt.Errorf("did not stop within %s of its max run time of %s; abandoned", abandonAfter, run.MaxRun)
	}
}

// finish records a run's outcome, retrying while the database fails for up
// to a lease: after that another replica may own the run.
func (s *Scheduler) finish(ctx context.Context, run Run, out string, runErr error, elapsed time.Duration) {
	status, msg := StatusSucceeded, ""
	if runErr != nil {
		status, msg = StatusFailed, runErr.Error()
	}
	out, msg = excerpt(out, maxOutputBytes), excerpt(msg, maxErrorBytes)
	start := time.Now()
	dropped := false
	err := s.retry(ctx, func() error {
		return s.inTx(ctx, func(q postgres.Querier) error {
			const query = `UPDATE schedule_runs SET status = $4, output = $5, error = $6, lease_expires_at = NULL,
					finished_at = coalesce($7::timestamptz, now())
				WHERE id = $1 AND replica = $2 AND attempts = $3 AND status = 'running'
				RETURNING ` + runColumns
			rows, err := q.Query(ctx, query, run.ID, run.Replica, run.Attempts, status, out, msg, s.nowArg())
			if err != nil {
				return fmt.Errorf("record run %d: %w", run.ID, err)
			}
			recorded, err := pgx.CollectExactlyOneRow(rows, scanRun)
			if errors.Is(err, pgx.ErrNoRows) {
				s.logger.Warn("run no longer ours (lease taken over or schedule deleted); outcome dropped", "run", run.ID, "status", status)
				dropped = true
				return nil
			}
			if err != nil {
				return fmt.Errorf("record run %d: %w", run.ID, err)
			}
			recorded.ScheduleName, recorded.Kind, recorded.Target, recorded.MaxRun = run.ScheduleName, run.Kind, run.Target, run.MaxRun
			return s.emit(ctx, q, []Event{{Run: recorded}})
		})
	})
	if err != nil {
		s.logger.Error("could not record run outcome; its lease will expire and it will run again", "run", run.ID, "error", err)
		return
	}
	if dropped {
		return
	}
	s.metrics.dbSeconds.WithLabelValues("record").Observe(time.Since(start).Seconds())
	s.metrics.runDuration.WithLabelValues(string(run.Kind), string(status)).Observe(elapsed.Seconds())
}

// release puts a run back in the queue at shutdown, for any replica to take.
func (s *Scheduler) release(ctx context.Context, run Run) {
	const query = `UPDATE schedule_runs SET status = 'pending', lease_expires_at = NULL,
			error = left('released at shutdown by replica ' || replica, 2000)
		WHERE id = $1 AND replica = $2 AND attempts = $3 AND status = 'running'`
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.pool.Exec(ctx, query, run.ID, run.Replica, run.Attempts); err != nil {
		s.logger.Warn("could not release run at shutdown; its lease will expire", "run", run.ID, "error", err)
	}
}

// retry calls fn until it succeeds, backing off, for at most one lease.
func (s *Scheduler) retry(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(s.opts.LeaseDuration)
	for failures := 1; ; failures++ {
		err := fn()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		s.logger.Warn("database write failed; retrying", "error", err)
		time.Sleep(min(s.backoff(failures), time.Until(deadline)+time.Millisecond))
	}
}

// inTx runs fn on the pool, or in a transaction when an event hook must
// commit with it.
func (s *Scheduler) inTx(ctx context.Context, fn func(q postgres.Querier) error) error {
	if s.opts.OnEvent == nil {
		return fn(s.pool)
	}
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error { return fn(tx) })
}

// emit hands events to the hook, if any, inside the caller's transaction.
func (s *Scheduler) emit(ctx context.Context, q postgres.Querier, events []Event) error {
	if s.opts.OnEvent == nil {
		return nil
	}
	for _, ev := range events {
		if err := s.opts.OnEvent(ctx, q, ev); err != nil {
			return fmt.Errorf("handle %s event of run %d: %w", ev.Run.Status, ev.Run.ID, err)
		}
	}
	return nil
}
