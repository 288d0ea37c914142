package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator/leasequeue"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// abandonAfter is how long past its max run time a handler that ignores its
// context is waited for before the run is failed without it.
const abandonAfter = 5 * time.Second

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
	case errors.Is(context.Cause(hctx), leasequeue.ErrLeaseLost):
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
// to a lease: after that another replica may own the run. The write is
// fenced by the run's lease, so a replica whose lease was taken over
// records nothing.
func (s *Scheduler) finish(ctx context.Context, run Run, out string, runErr error, elapsed time.Duration) {
	status, msg := StatusSucceeded, ""
	if runErr != nil {
		status, msg = StatusFailed, runErr.Error()
	}
	out, msg = excerpt(out, maxOutputBytes), excerpt(msg, maxErrorBytes)
	const set = `status = $2, output = $3, error = $4, finished_at = ` + leasequeue.Now
	ours := false
	err := s.queue.Retry(ctx, func() error {
		return s.inTx(ctx, func(q postgres.Querier) error {
			recorded, ok, err := s.queue.Finish(ctx, q, leaseOf(run), set, status, out, msg)
			if err != nil || !ok {
				return err
			}
			ours = true
			return s.emit(ctx, q, []Event{{Run: recorded}})
		})
	})
	switch {
	case err != nil:
		s.logger.Error("could not record run outcome; its lease will expire and it will run again", "run", run.ID, "error", err)
	case !ours:
		s.logger.Warn("run no longer ours (lease taken over or schedule deleted); outcome dropped", "run", run.ID, "status", status)
	default:
		s.metrics.runDuration.WithLabelValues(string(run.Kind), string(status)).Observe(elapsed.Seconds())
	}
}

// release puts a run back in the queue at shutdown, for any replica to take.
func (s *Scheduler) release(ctx context.Context, run Run) {
	if err := s.queue.Release(ctx, leaseOf(run)); err != nil {
		s.logger.Warn("could not release run at shutdown; its lease will expire", "run", run.ID, "error", err)
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
