package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// adminShutdown is what a handler's query meets when the server restarts.
func adminShutdown() error {
	return fmt.Errorf("load backup target 7: %w", &pgconn.PgError{Severity: "FATAL", Code: "57P01",
		Message: "terminating connection due to administrator command"})
}

// A handler that meets the database going away does not fail its run: the
// run goes back to the queue and succeeds at the next attempt. A real
// failure still fails the run at once, and so does a transient error that
// keeps coming back once the database answers claims again.
func TestTransientErrorQueuesRunAgain(t *testing.T) {
	t.Parallel()
	h := setup(t, nil)
	ctx := context.Background()
	flaky := h.create("flaky", "@yearly", Input{})
	broken := h.create("broken", "@yearly", Input{})
	stuck := h.create("stuck", "@yearly", Input{})
	s := h.scheduler("r1", Options{})
	s.Register(KindBackupCheck, h.handler(func(_ context.Context, run Run) (string, error) {
		switch {
		case run.ScheduleID == broken.ID:
			return "", errors.New("no file matches")
		case run.ScheduleID == stuck.ID || run.Attempts == 1:
			return "", adminShutdown()
		}
		return "ok", nil
	}))

	_, err := h.svc.FireNow(ctx, flaky.ID)
	require.NoError(t, err)
	_, err = h.svc.FireNow(ctx, broken.ID)
	require.NoError(t, err)
	queued, err := h.svc.FireNow(ctx, stuck.ID)
	require.NoError(t, err)
	_, err = h.pool.Exec(ctx, `UPDATE schedule_runs SET attempts = $2 - 1 WHERE id = $1`, queued.ID, maxTransientAttempts)
	require.NoError(t, err)
	h.start(s)
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM schedule_runs WHERE finished_at IS NOT NULL`) == 3
	}, "every run ends")

	run := h.runsOf(flaky.ID)[0]
	require.Equal(t, StatusSucceeded, run.Status, run.Error)
	require.Equal(t, 2, run.Attempts, "queued again once, then run again")
	require.Equal(t, "ok", run.Output)
	run = h.runsOf(broken.ID)[0]
	require.Equal(t, StatusFailed, run.Status)
	require.Equal(t, 1, run.Attempts)
	require.Equal(t, "no file matches", run.Error)
	run = h.runsOf(stuck.ID)[0]
	require.Equal(t, StatusFailed, run.Status)
	require.Equal(t, maxTransientAttempts, run.Attempts)
	require.Contains(t, run.Error, "terminating connection due to administrator command")
}

// producedTable is where the tests' handlers record what a run produced.
func producedTable(t *testing.T, h *harness) {
	t.Helper()
	_, err := h.pool.Exec(context.Background(), `CREATE TABLE produced (run_id bigint PRIMARY KEY, attempt int NOT NULL)`)
	require.NoError(t, err)
}

// produce is a Recorder writing run's row into produced.
func produce(run Run) Recorder {
	return func(ctx context.Context, q postgres.Querier) error {
		_, err := q.Exec(ctx, `INSERT INTO produced (run_id, attempt) VALUES ($1, $2)`, run.ID, run.Attempts)
		return err
	}
}

// What a handler records commits with its run's outcome, whatever the
// outcome; a recorder that meets a transient error is tried again with the
// outcome; one that fails for good fails the run and writes nothing.
func TestRecordOnFinish(t *testing.T) {
	t.Parallel()
	h := setup(t, nil)
	ctx := context.Background()
	producedTable(t, h)
	ok := h.create("ok", "@yearly", Input{})
	failed := h.create("failed", "@yearly", Input{})
	retried := h.create("retried", "@yearly", Input{})
	refused := h.create("refused", "@yearly", Input{})
	var conflicts atomic.Int32
	s := h.scheduler("r1", Options{})
	s.Register(KindBackupCheck, h.handler(func(ctx context.Context, run Run) (string, error) {
		rec := produce(run)
		switch run.ScheduleID {
		case retried.ID:
			rec = func(ctx context.Context, q postgres.Querier) error {
				if conflicts.Add(1) == 1 {
					return &pgconn.PgError{Code: "40001", Message: "could not serialize access"}
				}
				return produce(run)(ctx, q)
			}
		case refused.ID:
			rec = func(ctx context.Context, q postgres.Querier) error {
				if err := produce(run)(ctx, q); err != nil {
					return err
				}
				return orchestrator.Errorf(orchestrator.ENOTFOUND, "backup target 7 was deleted during its check")
			}
		}
		if err := RecordOnFinish(ctx, rec); err != nil {
			return "", err
		}
		if run.ScheduleID == failed.ID {
			return "", errors.New("check failed")
		}
		return "ok", nil
	}))
	for _, sc := range []Schedule{ok, failed, retried, refused} {
		_, err := h.svc.FireNow(ctx, sc.ID)
		require.NoError(t, err)
	}
	h.start(s)
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM schedule_runs WHERE finished_at IS NOT NULL`) == 4
	}, "every run ends")

	for _, tc := range []struct {
		sc       Schedule
		status   Status
		produced int
	}{{ok, StatusSucceeded, 1}, {failed, StatusFailed, 1}, {retried, StatusSucceeded, 1}, {refused, StatusFailed, 0}} {
		run := h.runsOf(tc.sc.ID)[0]
		require.Equal(t, tc.status, run.Status, "%s: %s", tc.sc.Name, run.Error)
		require.Equal(t, tc.produced, h.count(`SELECT count(*) FROM produced WHERE run_id = $1`, run.ID), tc.sc.Name)
	}
	require.Equal(t, int32(2), conflicts.Load())
	run := h.runsOf(refused.ID)[0]
	require.Equal(t, "record the run's result: backup target 7 was deleted during its check", run.Error)

	err := RecordOnFinish(ctx, produce(Run{}))
	require.ErrorContains(t, err, "needs a run handler's context", "outside a handler")
}

// A replica whose lease was taken over finishes late: neither its outcome
// nor what its handler recorded is written; the new owner's are, once.
func TestLeaseTakeover_DropsWhatTheOldOwnerRecorded(t *testing.T) {
	t.Parallel()
	clock := orchestrator.NewManualClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	h := setup(t, clock)
	ctx := context.Background()
	producedTable(t, h)
	sc := h.create("takeover", "@daily", Input{})
	_, err := h.svc.FireNow(ctx, sc.ID)
	require.NoError(t, err)

	old := h.scheduler("old", Options{})
	claimed, err := old.claim(ctx, 10)
	require.NoError(t, err)
	require.Len(t, claimed, 1)

	clock.Advance(time.Minute + time.Second)
	live := h.scheduler("live", Options{})
	require.NoError(t, live.reap(ctx))
	taken, err := live.claim(ctx, 10)
	require.NoError(t, err)
	require.Len(t, taken, 1)
	require.Equal(t, 2, taken[0].Attempts)

	old.finish(ctx, claimed[0], "stale", nil, time.Second, produce(claimed[0]))
	require.Zero(t, h.count(`SELECT count(*) FROM produced`), "the old owner records nothing")
	require.Equal(t, StatusRunning, h.runsOf(sc.ID)[0].Status)

	live.finish(ctx, taken[0], "ok", nil, time.Second, produce(taken[0]))
	require.Equal(t, 1, h.count(`SELECT count(*) FROM produced WHERE attempt = 2`))
	require.Equal(t, 1, h.count(`SELECT count(*) FROM produced`))
	run := h.runsOf(sc.ID)[0]
	require.Equal(t, StatusSucceeded, run.Status)
	require.Equal(t, "ok", run.Output)
}
