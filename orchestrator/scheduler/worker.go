package scheduler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/leasequeue"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// abandonAfter is how long past its max run time a handler that ignores its
// context is waited for before the run is failed without it.
const abandonAfter = 5 * time.Second

// maxTransientAttempts is the attempt from which a handler's transient
// database error fails the run instead of queueing it again: the database
// answers claims, yet the handler keeps meeting one.
const maxTransientAttempts = 10

// outcome is what one invocation of a handler produced.
type outcome struct {
	out    string
	err    error
	record []Recorder
}

// execute runs the handler for a claimed run under hctx (ctx, cancelled
// early when the lease is lost) and records the outcome, unless the lease
// was lost (another replica owns the run now), the scheduler is stopping
// and the handler gave up (the run goes back to the queue), or the handler
// met the database failing (the run goes back to the queue, to run again
// once the database is back).
func (s *Scheduler) execute(ctx, hctx context.Context, run Run) {
	start := time.Now()
	var res outcome
	if h := s.handler(run.Kind); h == nil {
		res.err = fmt.Errorf("no handler is registered for kind %q on replica %s", run.Kind, s.opts.Replica)
	} else {
		res = s.invoke(hctx, h, run)
	}
	elapsed := time.Since(start)
	bg := context.WithoutCancel(ctx)
	switch {
	case errors.Is(context.Cause(hctx), leasequeue.ErrLeaseLost):
		s.logger.Warn("lease lost while running; leaving the run to its new owner", "run", run.ID, "schedule", run.ScheduleID)
	case ctx.Err() != nil && res.err != nil:
		s.release(bg, run)
	case postgres.IsTransient(res.err) && run.Attempts < maxTransientAttempts:
		s.requeue(bg, run, res.err)
	default:
		s.finish(bg, run, res.out, res.err, elapsed, res.record...)
	}
}

// invoke calls h with the run's max run time, turning a panic into an error
// and giving up on a handler that outlives its deadline by abandonAfter.
// What the handler asked to record comes back only when it returned.
func (s *Scheduler) invoke(ctx context.Context, h Handler, run Run) outcome {
	recs := &recorders{}
	rctx, cancel := context.WithTimeout(context.WithValue(ctx, recordersKey{}, recs), run.MaxRun)
	defer cancel()
	done := make(chan outcome, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				recs.seal()
				done <- outcome{err: fmt.Errorf("handler panicked: %v", v)}
			}
		}()
		out, err := h(rctx, run)
		done <- outcome{out: out, err: err, record: recs.seal()}
	}()
	abandon := time.NewTimer(run.MaxRun + abandonAfter)
	defer abandon.Stop()
	select {
	case r := <-done:
		if r.err != nil && errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
			r.err = fmt.Errorf("exceeded the max run time of %s: %w", run.MaxRun, r.err)
		}
		return r
	case <-abandon.C:
		recs.seal()
		return outcome{err: fmt.Errorf("did not stop within %s of its max run time of %s; abandoned", abandonAfter, run.MaxRun)}
	}
}

// finish records a run's outcome, with what its handler asked to record,
// retrying while the database fails for up to a lease: after that another
// replica may own the run. The write is fenced by the run's lease, so a
// replica whose lease was taken over records nothing, neither the outcome
// nor what goes with it.
func (s *Scheduler) finish(ctx context.Context, run Run, out string, runErr error, elapsed time.Duration, record ...Recorder) {
	status, msg := StatusSucceeded, ""
	if runErr != nil {
		status, msg = StatusFailed, runErr.Error()
	}
	out, msg = orchestrator.Excerpt(out, maxOutputBytes), orchestrator.Excerpt(msg, maxErrorBytes)
	ours := false
	err := s.queue.Retry(ctx, func() error {
		var err error
		ours, err = s.record(ctx, run, status, out, msg, record)
		var recErr *recorderError
		if errors.As(err, &recErr) && !postgres.IsTransient(recErr.err) {
			// Retrying cannot help: end the run, failed, without it.
			s.logger.Error("could not record what the run produced; recording the run failed", "run", run.ID, "error", recErr.err)
			status, msg, record = StatusFailed, orchestrator.Excerpt(strings.TrimPrefix(msg+"; "+recErr.Error(), "; "), maxErrorBytes), nil
			ours, err = s.record(ctx, run, status, out, msg, nil)
		}
		return err
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

// record writes the outcome under run's lease, then what the handler asked
// to record and the event, all in one transaction. ok is false, and nothing
// is written, when the run is no longer ours.
func (s *Scheduler) record(ctx context.Context, run Run, status Status, out, msg string, record []Recorder) (ok bool, err error) {
	const set = `status = $2, output = $3, error = $4, finished_at = ` + leasequeue.Now
	err = s.inTx(ctx, len(record) > 0, func(q postgres.Querier) error {
		recorded, mine, err := s.queue.Finish(ctx, q, leaseOf(run), set, status, out, msg)
		if err != nil || !mine {
			return err
		}
		for _, rec := range record {
			if err := rec(ctx, q); err != nil {
				return &recorderError{err: err}
			}
		}
		ok = true
		return s.emit(ctx, q, []Event{{Run: recorded}})
	})
	return ok && err == nil, err
}

// recorderError is a Recorder's failure, which rolled the outcome back.
type recorderError struct{ err error }

func (e *recorderError) Error() string { return "record the run's result: " + e.err.Error() }
func (e *recorderError) Unwrap() error { return e.err }

// requeue puts back in the queue a run whose handler met the database
// failing (see postgres.IsTransient): not a failure of the work, so the
// run is due again after a backoff, as the next attempt, rather than
// failed. Like finish, the write is fenced by the lease and retried while
// the database is away for up to a lease; past that the lease expires and
// the reaper puts the run back instead.
func (s *Scheduler) requeue(ctx context.Context, run Run, cause error) {
	const set = `status = '` + string(StatusPending) + `', error = $2,
		run_after = greatest(t.run_after, ` + leasequeue.Now + ` + $3::bigint * interval '1 millisecond')`
	msg := orchestrator.Excerpt(fmt.Sprintf("database unavailable during attempt %d on replica %s; queued again: %v", run.Attempts, run.Replica, cause), maxErrorBytes)
	delay := s.backoff(run.Attempts)
	ours := false
	err := s.queue.Retry(ctx, func() error {
		var err error
		_, ours, err = s.queue.Finish(ctx, s.pool, leaseOf(run), set, msg, delay.Milliseconds())
		return err
	})
	switch {
	case err != nil:
		s.logger.Error("could not queue a run again after a database error; its lease will expire and it will run again", "run", run.ID, "error", err)
	case !ours:
		s.logger.Warn("run no longer ours (lease taken over or schedule deleted); left to its owner", "run", run.ID)
	default:
		s.logger.Warn("database error during a run; queued again", "run", run.ID, "attempt", run.Attempts, "retry_in", delay, "error", cause)
	}
}

// release puts a run back in the queue at shutdown, for any replica to take.
func (s *Scheduler) release(ctx context.Context, run Run) {
	if err := s.queue.Release(ctx, leaseOf(run)); err != nil {
		s.logger.Warn("could not release run at shutdown; its lease will expire", "run", run.ID, "error", err)
	}
}

// inTx runs fn on the pool, or in a transaction when an event hook or
// what a handler records (tx) must commit with it.
func (s *Scheduler) inTx(ctx context.Context, tx bool, fn func(q postgres.Querier) error) error {
	if s.opts.OnEvent == nil && !tx {
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
