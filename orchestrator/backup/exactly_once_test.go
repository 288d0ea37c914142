package backup

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/migrations"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/localpg/localpgtest"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
)

// runScheduler runs s until the test ends.
func runScheduler(t *testing.T, s *scheduler.Scheduler) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// The database restarts while scheduled checks are in flight: some meet
// it down before loading their target, the others after checking, while
// recording. No run fails for the outage, and every run records exactly
// one check.
func TestScheduledChecks_SurviveDatabaseRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and restarts a PostgreSQL cluster")
	}
	t.Parallel()
	ctx := orchestrator.WithActor(context.Background(), orchestrator.Actor{Name: "test", Role: orchestrator.RoleAdmin})
	cluster := localpgtest.Start(t)
	pool, err := postgres.Open(ctx, cluster.URL("postgres"), postgres.Options{MaxConns: 8})
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	migrator, err := postgres.NewMigrator(pool, migrations.FS, nil)
	require.NoError(t, err)
	_, err = migrator.Up(ctx)
	require.NoError(t, err)

	h := &harness{t: t, ctx: ctx, pool: pool, env: map[string]string{}}
	h.svc = NewService(pool, orchestrator.Runtime{}, Options{ScratchDir: t.TempDir(), Roots: []string{filepath.Dir(t.TempDir())}})
	h.ci("db1", "database", true)
	dir := dumps(t)
	const targets = 8
	var schedules []int64
	for range targets {
		tg := h.target(KindFile, FileConfig{Path: dir + "/*.dump", Manifest: dir + "/SHA256SUMS"},
			func(in *TargetInput) { in.Schedule = "0 0 1 1 *" })
		schedules = append(schedules, *tg.ScheduleID)
	}

	// First attempts wait for the outage: even schedules before loading
	// their target, odd ones after checking it, before the run is recorded.
	down := make(chan struct{})
	var waiting, returned atomic.Int32
	s := scheduler.New(pool, orchestrator.Runtime{}, scheduler.Options{Replica: "r1", Workers: targets,
		PollInterval: 20 * time.Millisecond, LeaseDuration: 5 * time.Minute, HeartbeatInterval: 50 * time.Millisecond,
		MaxBackoff: 200 * time.Millisecond})
	s.Register(scheduler.KindBackupCheck, func(ctx context.Context, run scheduler.Run) (string, error) {
		if run.Attempts > 1 {
			return h.svc.HandleRun(ctx, run)
		}
		defer returned.Add(1)
		if run.ScheduleID%2 == 0 {
			waiting.Add(1)
			<-down
			return h.svc.HandleRun(ctx, run)
		}
		out, err := h.svc.HandleRun(ctx, run)
		waiting.Add(1)
		<-down
		return out, err
	})
	runScheduler(t, s)
	fire := scheduler.NewService(pool, orchestrator.Runtime{}, scheduler.ServiceOptions{})
	for _, id := range schedules {
		_, err := fire.FireNow(ctx, id)
		require.NoError(t, err)
	}
	eventually.True(t, func() bool { return waiting.Load() == targets }, "every run in flight")

	require.NoError(t, cluster.Stop(ctx))
	close(down)
	eventually.True(t, func() bool { return returned.Load() == targets }, "every first attempt returns while the server is down")
	require.NoError(t, cluster.Start(ctx))

	finished := func() bool {
		var n int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM schedule_runs WHERE finished_at IS NOT NULL`).Scan(&n)
		return err == nil && n == targets
	}
	eventually.True(t, finished, "every run ends after the restart")
	rows, err := pool.Query(ctx, `SELECT r.schedule_id, r.status, r.error, r.attempts, count(c.id)
		FROM schedule_runs r LEFT JOIN backup_checks c ON c.run_id = r.id GROUP BY r.id ORDER BY r.id`)
	require.NoError(t, err)
	type result struct {
		schedule int64
		status   string
		err      string
		attempts int
		checks   int
	}
	results, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (result, error) {
		var r result
		return r, row.Scan(&r.schedule, &r.status, &r.err, &r.attempts, &r.checks)
	})
	require.NoError(t, err)
	require.Len(t, results, targets)
	for _, r := range results {
		require.Equal(t, string(scheduler.StatusSucceeded), r.status, "schedule %d: %s", r.schedule, r.err)
		require.Equal(t, 1, r.checks, "schedule %d records one check", r.schedule)
		if r.schedule%2 == 0 {
			require.Equal(t, 2, r.attempts, "schedule %d met the outage loading its target: queued again", r.schedule)
		} else {
			require.Equal(t, 1, r.attempts, "schedule %d met the outage recording: recorded once back", r.schedule)
		}
	}
	var all int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM backup_checks`).Scan(&all))
	require.Equal(t, targets, all, "no check without its run")
}

// A replica whose lease on a backup_check run was taken over finishes
// late: its check is not recorded; the new owner's is, once.
func TestScheduledCheck_NotRecordedByOwnerWhoseLeaseWasTakenOver(t *testing.T) {
	t.Parallel()
	h := setup(t)
	h.clock.Set(time.Date(2030, 6, 1, 10, 0, 0, 0, time.UTC))
	dir := dumps(t)
	tg := h.target(KindFile, FileConfig{Path: dir + "/*.dump"}, func(in *TargetInput) { in.Schedule = "0 0 1 1 *" })

	// Each attempt checks, then waits for its gate before its run is recorded.
	gates := map[int]chan struct{}{1: make(chan struct{}), 2: make(chan struct{})}
	var checked [3]atomic.Bool
	handler := func(ctx context.Context, run scheduler.Run) (string, error) {
		out, err := h.svc.HandleRun(ctx, run)
		checked[run.Attempts].Store(true)
		<-gates[run.Attempts]
		return out, err
	}
	// The old owner's refused finish is logged: the test waits for it.
	dropped := &logWatch{want: "outcome dropped", seen: make(chan struct{})}
	replica := func(name string, heartbeat time.Duration) *scheduler.Scheduler {
		logger := slog.New(slog.NewTextHandler(dropped, &slog.HandlerOptions{Level: slog.LevelWarn}))
		s := scheduler.New(h.pool, orchestrator.Runtime{Logger: logger, Clock: h.clock}, scheduler.Options{Replica: name, Workers: 1,
			PollInterval: 20 * time.Millisecond, LeaseDuration: time.Minute, HeartbeatInterval: heartbeat, MaxBackoff: 200 * time.Millisecond})
		s.Register(scheduler.KindBackupCheck, handler)
		return s
	}
	// The old owner stalls: it renews nothing while its check runs.
	runScheduler(t, replica("old", time.Hour))
	queued, err := scheduler.NewService(h.pool, orchestrator.Runtime{Clock: h.clock}, scheduler.ServiceOptions{}).FireNow(h.ctx, *tg.ScheduleID)
	require.NoError(t, err)
	eventually.True(t, checked[1].Load, "the old owner checks")

	h.clock.Advance(2 * time.Minute) // its lease expires; the new owner takes the run over
	runScheduler(t, replica("new", 50*time.Millisecond))
	eventually.True(t, checked[2].Load, "the new owner checks")

	checks := func() int {
		var n int
		require.NoError(t, h.pool.QueryRow(h.ctx, `SELECT count(*) FROM backup_checks WHERE run_id = $1`, queued.ID).Scan(&n))
		return n
	}
	close(gates[1])
	select {
	case <-dropped.seen:
	case <-time.After(10 * time.Second):
		t.Fatal("the old owner did not try to finish")
	}
	require.Zero(t, checks(), "the old owner records no check")

	close(gates[2])
	eventually.True(t, func() bool {
		var status string
		require.NoError(t, h.pool.QueryRow(h.ctx, `SELECT status FROM schedule_runs WHERE id = $1`, queued.ID).Scan(&status))
		return status == string(scheduler.StatusSucceeded)
	}, "the new owner finishes")
	require.Equal(t, 1, checks(), "exactly one check, the new owner's")
	all, err := h.svc.Checks(h.ctx, tg.ID, orchestrator.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, all.Items, 1)
	require.Equal(t, TriggerSchedule, all.Items[0].Trigger)
}

// A run's check is stored once however often recording it is tried: the
// second insert for the same run is dropped and publishes nothing.
func TestRecordTx_OncePerRun(t *testing.T) {
	t.Parallel()
	h := setup(t)
	dir := dumps(t)
	tg := h.target(KindFile, FileConfig{Path: dir + "/*.missing"})
	c, err := h.svc.check(h.ctx, tg.ID)
	require.NoError(t, err)
	require.Equal(t, StatusFailed, c.result.Status)
	runID := int64(42)
	for i, want := range []bool{true, false} {
		err := postgres.WithTx(h.ctx, h.pool, func(tx pgx.Tx) error {
			_, recorded, err := h.svc.recordTx(h.ctx, tx, c, TriggerSchedule, &runID)
			require.Equal(t, want, recorded, "try %d", i+1)
			return err
		})
		require.NoError(t, err)
	}
	var checks int
	require.NoError(t, h.pool.QueryRow(h.ctx, `SELECT count(*) FROM backup_checks WHERE target_id = $1`, tg.ID).Scan(&checks))
	require.Equal(t, 1, checks)
}

// logWatch closes seen once a log line containing want is written.
type logWatch struct {
	want string
	seen chan struct{}
	once sync.Once
}

func (w *logWatch) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}
