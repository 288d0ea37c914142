package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Several replicas tick and claim over the same due firings at once: every
// firing becomes exactly one run and runs exactly once.
func TestReplicasRunEachFiringOnce(t *testing.T) {
	t.Parallel()
	h := setup(t, nil)
	ctx := context.Background()
	const schedules, manual, replicas = 300, 50, 4
	ids := make([]int64, schedules)
	for i := range schedules {
		// Yearly, so the only firings are the forced one below and the manual ones.
		ids[i] = h.create(fmt.Sprintf("race-%03d", i), "0 0 1 1 *", Input{}).ID
	}
	_, err := h.pool.Exec(ctx, `UPDATE schedules SET next_fire_at = now() - interval '1 second'`)
	require.NoError(t, err)
	for _, id := range ids[:manual] {
		_, err := h.svc.FireNow(ctx, id)
		require.NoError(t, err)
	}
	want := schedules + manual

	work := h.handler(func(context.Context, Run) (string, error) {
		time.Sleep(time.Duration(rand.N(3)) * time.Millisecond)
		return "ok", nil
	})
	for i := range replicas {
		s := h.scheduler(fmt.Sprintf("replica-%d", i), Options{Workers: 4})
		s.Register(KindBackupCheck, work)
		h.start(s)
	}
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM schedule_runs WHERE status = 'succeeded'`) == want
	}, "all %d firings run", want)

	total, twice, _ := h.invocations()
	require.Empty(t, twice, "firings run more than once")
	require.Equal(t, want, total)
	require.Equal(t, want, h.count(`SELECT count(*) FROM schedule_runs`), "one row per firing")
	require.Zero(t, h.count(`SELECT count(*) FROM schedule_runs WHERE attempts <> 1`))
	require.GreaterOrEqual(t, h.count(`SELECT count(DISTINCT replica) FROM schedule_runs`), 2, "the work was shared")
	require.Equal(t, float64(schedules), h.metric("bcdr_scheduler_firings_total"), "each firing counted once across replicas")
	require.Zero(t, h.count(`SELECT count(*) FROM schedules WHERE next_fire_at < now()`), "every schedule moved on")
}

// A replica that claims a run and dies (no heartbeat, no outcome) loses it
// when its lease expires; another replica completes it as attempt 2, and the
// dead replica's late write is refused.
func TestLeaseTakeover(t *testing.T) {
	t.Parallel()
	clock := orchestrator.NewManualClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	h := setup(t, clock)
	ctx := context.Background()
	sc := h.create("takeover", "@daily", Input{})
	queued, err := h.svc.FireNow(ctx, sc.ID)
	require.NoError(t, err)

	dead := h.scheduler("dead", Options{})
	claimed, err := dead.claim(ctx, 10)
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	require.Equal(t, queued.ID, claimed[0].ID)
	require.Equal(t, 1, claimed[0].Attempts)

	live := h.scheduler("live", Options{})
	live.Register(KindBackupCheck, h.handler(nil))
	// Before the lease expires nobody else may take the run.
	require.NoError(t, live.reap(ctx))
	again, err := live.claim(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, again)

	clock.Advance(time.Minute + time.Second)
	h.start(live)
	h.eventually(func() bool { return h.runsOf(sc.ID)[0].Status == StatusSucceeded }, "taken over")

	run := h.runsOf(sc.ID)[0]
	require.Equal(t, 2, run.Attempts)
	require.Equal(t, "live", run.Replica)
	require.Nil(t, run.LeaseExpiresAt)
	total, _, invoked := h.invocations()
	require.Equal(t, 1, total)
	require.Equal(t, 2, invoked[0].Attempts, "the handler sees the attempt")
	require.Equal(t, 1.0, h.metric("bcdr_scheduler_lease_takeovers_total"))

	// The dead replica wakes up and tries to record its outcome: fenced off.
	dead.finish(ctx, claimed[0], "stale", errors.New("stale"), time.Second)
	after := h.runsOf(sc.ID)[0]
	require.Equal(t, StatusSucceeded, after.Status)
	require.Equal(t, "ok", after.Output)
}

// A run whose lease keeps expiring fails for good after MaxAttempts claims.
func TestLeaseGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	clock := orchestrator.NewManualClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	h := setup(t, clock)
	ctx := context.Background()
	sc := h.create("doomed", "@daily", Input{})
	_, err := h.svc.FireNow(ctx, sc.ID)
	require.NoError(t, err)
	for attempt := 1; attempt <= 3; attempt++ {
		s := h.scheduler(fmt.Sprintf("crashy-%d", attempt), Options{MaxAttempts: 3})
		runs, err := s.claim(ctx, 1)
		require.NoError(t, err)
		require.Len(t, runs, 1, "attempt %d", attempt)
		require.Equal(t, attempt, runs[0].Attempts)
		clock.Advance(2 * time.Minute)
		require.NoError(t, s.reap(ctx))
	}
	run := h.runsOf(sc.ID)[0]
	require.Equal(t, StatusFailed, run.Status)
	require.Equal(t, 3, run.Attempts)
	require.Contains(t, run.Error, "lease of replica crashy-3 expired during attempt 3; gave up")
	require.NotNil(t, run.FinishedAt)
	require.Equal(t, 2.0, h.metric("bcdr_scheduler_lease_takeovers_total"))
	require.Equal(t, 1.0, h.metric("bcdr_scheduler_lease_give_ups_total"))
}

// The heartbeat keeps a long run's lease alive, so a second replica never
// takes over a run that is still going. Time is the test's clock: three
// leases' worth passes in steps shorter than a lease, and after each step
// the test waits for a heartbeat at the new time, so however slowly the
// replicas are scheduled the lease lapses only if nothing renews it.
func TestHeartbeatKeepsLease(t *testing.T) {
	t.Parallel()
	clock := orchestrator.NewManualClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	h := setup(t, clock)
	ctx := context.Background()
	sc := h.create("long", "@daily", Input{})
	started, release := make(chan struct{}, 2), make(chan struct{})
	slow := h.handler(func(ctx context.Context, _ Run) (string, error) {
		started <- struct{}{}
		select {
		case <-release:
			return "done", nil
		case <-ctx.Done():
			return "", context.Cause(ctx)
		}
	})
	for _, name := range []string{"a", "b"} {
		s := h.scheduler(name, Options{LeaseDuration: time.Minute, HeartbeatInterval: 20 * time.Millisecond})
		s.Register(KindBackupCheck, slow)
		h.start(s)
	}
	_, err := h.svc.FireNow(ctx, sc.ID)
	require.NoError(t, err)
	h.eventually(func() bool { return len(started) == 1 }, "the run started")

	for range 6 {
		clock.Advance(30 * time.Second)
		renewed := clock.Now().Add(time.Minute)
		// Heartbeats come every 20 ms of real time: 30 s is generous.
		eventually.TrueWithin(t, 30*time.Second, func() bool {
			run := h.runsOf(sc.ID)[0]
			require.Equal(t, StatusRunning, run.Status)
			require.Equal(t, 1, run.Attempts, "taken over while running")
			return run.LeaseExpiresAt != nil && !run.LeaseExpiresAt.Before(renewed)
		}, "a heartbeat renews the lease to %s", renewed)
	}
	close(release)
	h.eventually(func() bool { return h.runsOf(sc.ID)[0].Status == StatusSucceeded }, "finished")
	run := h.runsOf(sc.ID)[0]
	require.Equal(t, 1, run.Attempts)
	require.Equal(t, "done", run.Output)
	require.True(t, run.HeartbeatAt.After(*run.StartedAt), "heartbeats were recorded")
	total, _, _ := h.invocations()
	require.Equal(t, 1, total)
	require.Len(t, started, 1, "no second replica started the run")
}

// Misfire policy: after an outage, firings within the catch-up window run
// once; older ones become one missed row each schedule.
func TestMisfirePolicy(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	clock := orchestrator.NewManualClock(t0)
	h := setup(t, clock)
	window := func(d time.Duration) *orchestrator.Duration { v := orchestrator.Duration(d); return &v }
	every10 := h.create("every 10 minutes", "*/10 * * * *", Input{CatchUpWindow: window(30 * time.Minute)})
	hourly := h.create("hourly", "0 * * * *", Input{CatchUpWindow: window(10 * time.Minute), Kind: new(KindReport)})
	noon := h.create("noon, no catch-up", "0 12 * * *", Input{CatchUpWindow: window(0)})
	off := h.create("disabled", "* * * * *", Input{Enabled: new(false)})

	// Every replica was down from 10:00 to 12:05.
	clock.Set(t0.Add(2*time.Hour + 5*time.Minute))
	s := h.scheduler("r1", Options{})
	s.Register(KindBackupCheck, h.handler(nil))
	s.Register(KindReport, h.handler(nil))
	h.start(s)
	at := func(hhmm string) time.Time {
		tt, _ := time.Parse("15:04", hhmm)
		return time.Date(2026, 3, 2, tt.Hour(), tt.Minute(), 0, 0, time.UTC)
	}
	h.eventually(func() bool {
		return h.count(`SELECT count(*) FROM schedule_runs WHERE status IN ('succeeded', 'missed')`) == 5
	}, "caught up")

	check := func(sc Schedule, want []Run) {
		t.Helper()
		got := h.runsOf(sc.ID)
		require.Len(t, got, len(want), sc.Name)
		for i := range want {
			require.Equal(t, want[i].Status, got[i].Status, sc.Name)
			require.True(t, want[i].FireAt.Equal(got[i].FireAt), "%s: fire at %s, want %s", sc.Name, got[i].FireAt, want[i].FireAt)
			require.Contains(t, got[i].Error, want[i].Error, sc.Name)
		}
	}
	check(every10, []Run{
		{Status: StatusMissed, FireAt: at("10:10"), Error: "missed 9 firing(s) from 2026-03-02T10:10:00Z to 2026-03-02T11:30:00Z"},
		{Status: StatusSucceeded, FireAt: at("12:00")},
	})
	check(hourly, []Run{
		{Status: StatusMissed, FireAt: at("11:00"), Error: "missed 1 firing(s)"},
		{Status: StatusSucceeded, FireAt: at("12:00")},
	})
	check(noon, []Run{{Status: StatusMissed, FireAt: at("12:00"), Error: "missed 1 firing(s)"}})
	check(off, nil)
	require.Equal(t, 11.0, h.metric("bcdr_scheduler_misses_total"))
	total, _, _ := h.invocations()
	require.Equal(t, 2, total, "one catch-up run each")

	next, err := h.svc.Get(context.Background(), every10.ID)
	require.NoError(t, err)
	require.Equal(t, at("12:10"), next.NextFireAt.UTC())

	// Back to normal: the next firing runs on time.
	clock.Set(at("12:10"))
	h.eventually(func() bool {
		return len(h.runsOf(every10.ID)) == 3 && h.runsOf(every10.ID)[2].Status == StatusSucceeded
	}, "on time")
}

// Jitter delays a firing's start by a fixed offset; disabling the schedule
// cancels the waiting run.
func TestJitterAndDisable(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	clock := orchestrator.NewManualClock(t0)
	h := setup(t, clock)
	ctx := context.Background()
	jitter := orchestrator.Duration(30 * time.Minute)
	sc := h.create("jittery", "0 * * * *", Input{Jitter: &jitter})
	s := h.scheduler("r1", Options{})
	s.Register(KindBackupCheck, h.handler(nil))

	clock.Set(t0.Add(time.Hour))
	require.NoError(t, s.maintain(ctx))
	runs := h.runsOf(sc.ID)
	require.Len(t, runs, 1)
	offset := jitterOffset(sc.ID, t0.Add(time.Hour), 30*time.Minute)
	require.True(t, runs[0].RunAfter.Equal(t0.Add(time.Hour+offset.Truncate(time.Microsecond))), "run_after %s", runs[0].RunAfter)
	if offset > 0 {
		claimed, err := s.claim(ctx, 1)
		require.NoError(t, err)
		require.Empty(t, claimed, "not before its jitter offset")
	}

	_, err := h.svc.Update(ctx, sc.ID, Input{Enabled: new(false)})
	require.NoError(t, err)
	runs = h.runsOf(sc.ID)
	require.Equal(t, StatusCancelled, runs[0].Status)
	require.Equal(t, "schedule disabled", runs[0].Error)

	// Re-enabling starts from now: the hours while disabled are not caught up.
	clock.Set(t0.Add(5*time.Hour + 30*time.Minute))
	updated, err := h.svc.Update(ctx, sc.ID, Input{Enabled: new(true)})
	require.NoError(t, err)
	require.Equal(t, t0.Add(6*time.Hour), updated.NextFireAt.UTC())
}

// Outcomes: success with output, handler error, panic, missing handler, and
// a handler that overruns its max run time.
func TestRunOutcomes(t *testing.T) {
	t.Parallel()
	h := setup(t, nil)
	ctx := context.Background()
	s := h.scheduler("r1", Options{})
	s.Register(KindBackupCheck, h.handler(func(ctx context.Context, run Run) (string, error) {
		switch run.Target {
		case "fail":
			return "partial output", errors.New("restic check: repository corrupted")
		case "panic":
			panic("boom")
		case "chatty":
			return strings.Repeat("line of output\n", 1000) + "the end", nil
		case "slow":
			<-ctx.Done()
			return "", ctx.Err()
		}
		return "verified", nil
	}))
	h.start(s)

	cases := []struct {
		kind         Kind
		target       string
		status       Status
		output, errs string
	}{
		{KindBackupCheck, "ok", StatusSucceeded, "verified", ""},
		{KindBackupCheck, "fail", StatusFailed, "partial output", "restic check: repository corrupted"},
		{KindBackupCheck, "panic", StatusFailed, "", "handler panicked: boom"},
		{KindBackupCheck, "chatty", StatusSucceeded, "[truncated]", ""},
		{KindBackupCheck, "slow", StatusFailed, "", "exceeded the max run time of 1s"},
		{KindDrill, "", StatusFailed, "", `no handler is registered for kind "drill"`},
	}
	ids := make([]int64, len(cases))
	for i, c := range cases {
		sc := h.create(fmt.Sprintf("outcome %d", i), "@yearly", Input{Kind: new(c.kind), Target: new(c.target),
			MaxRun: new(orchestrator.Duration(time.Second))})
		_, err := h.svc.FireNow(ctx, sc.ID)
		require.NoError(t, err)
		ids[i] = sc.ID
	}
	for i, c := range cases {
		h.eventually(func() bool {
			st := h.runsOf(ids[i])[0].Status
			return st == StatusSucceeded || st == StatusFailed
		}, "case %d finished", i)
		run := h.runsOf(ids[i])[0]
		require.Equal(t, c.status, run.Status, "case %d: %+v", i, run)
		require.Contains(t, run.Output, c.output, "case %d", i)
		require.Contains(t, run.Error, c.errs, "case %d", i)
		require.LessOrEqual(t, len(run.Output), maxOutputBytes)
		require.NotNil(t, run.FinishedAt)
	}
}

// Outcomes reach the event hook inside the recording transaction.
func TestEventHook(t *testing.T) {
	t.Parallel()
	h := setup(t, nil)
	ctx := context.Background()
	type seen struct {
		ev     Event
		stored string // the run's status as the hook's transaction sees it
	}
	events := make(chan seen, 10)
	s := h.scheduler("r1", Options{OnEvent: func(ctx context.Context, q postgres.Querier, ev Event) error {
		var status string
		if err := q.QueryRow(ctx, `SELECT status FROM schedule_runs WHERE id = $1`, ev.Run.ID).Scan(&status); err != nil {
			return err
		}
		events <- seen{ev, status}
		return nil
	}})
	s.Register(KindReport, h.handler(nil))
	h.start(s)
	sc := h.create("monthly report", "@monthly", Input{Kind: new(KindReport), Target: new("executive")})
	_, err := h.svc.FireNow(ctx, sc.ID)
	require.NoError(t, err)
	select {
	case got := <-events:
		ev := got.ev
		require.Equal(t, StatusSucceeded, ev.Run.Status)
		require.Equal(t, "succeeded", got.stored, "the hook runs in the recording transaction")
		require.Equal(t, KindReport, ev.Run.Kind)
		require.Equal(t, "executive", ev.Run.Target)
		require.Equal(t, "monthly report", ev.Run.ScheduleName)
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
}

// The loop survives the database going away: it logs, backs off, and goes
// on once connections are possible again.
func TestLoopSurvivesDatabaseOutage(t *testing.T) {
	t.Parallel()
	h := setup(t, nil)
	ctx := context.Background()
	sc := h.create("resilient", "@daily", Input{})
	s := h.scheduler("r1", Options{})
	s.Register(KindBackupCheck, h.handler(nil))
	h.start(s)

	admin := h.adminConn()
	db := h.pool.Config().ConnConfig.Database
	_, err := admin.Exec(ctx, `ALTER DATABASE `+db+` ALLOW_CONNECTIONS false`)
	require.NoError(t, err)
	_, err = admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, db)
	require.NoError(t, err)
	h.eventually(func() bool { return h.metric("bcdr_scheduler_loop_errors_total") >= 2 }, "the loop notices the outage")
	_, err = admin.Exec(ctx, `ALTER DATABASE `+db+` ALLOW_CONNECTIONS true`)
	require.NoError(t, err)

	h.eventually(func() bool {
		_, err := h.svc.FireNow(ctx, sc.ID)
		return err == nil
	}, "the database is back")
	h.eventually(func() bool {
		runs := h.runsOf(sc.ID)
		return len(runs) == 1 && runs[0].Status == StatusSucceeded
	}, "the scheduler works again")
}

// A replica stopping while a handler runs puts the run back in the queue at
// once (no waiting for the lease), and another replica completes it.
func TestShutdownReleasesRuns(t *testing.T) {
	t.Parallel()
	h := setup(t, nil)
	ctx := context.Background()
	sc := h.create("interrupted", "@daily", Input{})
	started := make(chan struct{}, 1)
	first := h.scheduler("leaving", Options{})
	first.Register(KindBackupCheck, h.handler(func(ctx context.Context, _ Run) (string, error) {
		started <- struct{}{}
		<-ctx.Done()
		return "", ctx.Err()
	}))
	stop := h.start(first)
	_, err := h.svc.FireNow(ctx, sc.ID)
	require.NoError(t, err)
	<-started
	stop()
	run := h.runsOf(sc.ID)[0]
	require.Equal(t, StatusPending, run.Status)
	require.Equal(t, 1, run.Attempts)
	require.Contains(t, run.Error, "released at shutdown by replica leaving")

	second := h.scheduler("staying", Options{})
	second.Register(KindBackupCheck, h.handler(nil))
	h.start(second)
	h.eventually(func() bool { return h.runsOf(sc.ID)[0].Status == StatusSucceeded }, "completed elsewhere")
	run = h.runsOf(sc.ID)[0]
	require.Equal(t, "staying", run.Replica)
	require.Equal(t, 2, run.Attempts)
}
