package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/migrations"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/localpg/localpgtest"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/testlog"
)

// The database server restarts while runs are in flight and while a firing
// falls due: with no manual action the replicas reconnect, record the
// in-flight outcomes, run the firing that fell due during the outage, and
// go on firing; every firing runs exactly once.
func TestRecoversFromDatabaseRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and restarts a PostgreSQL cluster")
	}
	t.Parallel()
	ctx := context.Background()
	cluster := localpgtest.Start(t)
	url := cluster.URL("postgres")
	open := func() *pgxpool.Pool {
		pool, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 4})
		require.NoError(t, err)
		t.Cleanup(pool.Close)
		return pool
	}
	pool := open()
	migrator, err := postgres.NewMigrator(pool, migrations.FS, nil)
	require.NoError(t, err)
	_, err = migrator.Up(ctx)
	require.NoError(t, err)

	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	clock := orchestrator.NewManualClock(t0)
	h := &harness{t: t, pool: pool, svc: NewService(pool, orchestrator.Runtime{Clock: clock}, ServiceOptions{Handled: Kinds}), clock: clock, log: testlog.Writer(t),
		registry: prometheus.NewRegistry(), calls: map[string]int{}}
	const schedules, replicas, minutes = 12, 2, 6
	for i := range schedules {
		h.create(fmt.Sprintf("every minute %02d", i), "* * * * *", Input{})
	}
	fire := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

	// The firing of minute 3 is in its handlers when the server goes down;
	// they finish only once it is back.
	restarted := make(chan struct{})
	var inFlight atomic.Int32
	work := h.handler(func(ctx context.Context, run Run) (string, error) {
		if run.FireAt.Equal(fire(3)) {
			inFlight.Add(1)
			select {
			case <-restarted:
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}
		return "ok", nil
	})
	logger := slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for i := range replicas {
		// Leases far longer than the outage: a takeover is not what
		// recovers here.
		s := New(open(), orchestrator.Runtime{Logger: logger, Clock: clock}, Options{Replica: fmt.Sprintf("replica-%d", i), Workers: schedules, Registry: h.registry,
			PollInterval: 20 * time.Millisecond, LeaseDuration: 10 * time.Minute, HeartbeatInterval: 50 * time.Millisecond,
			MaxBackoff: 200 * time.Millisecond})
		s.Register(KindBackupCheck, work)
		h.start(s)
	}
	// The observer's own connections break with the server too: a failed
	// count is "not yet".
	succeeded := func(m int) func() bool {
		return func() bool {
			var n int
			err := pool.QueryRow(ctx, `SELECT count(*) FROM schedule_runs WHERE fire_at = $1 AND status = 'succeeded'`, fire(m)).Scan(&n)
			return err == nil && n == schedules
		}
	}
	for m := 1; m <= 2; m++ {
		clock.Set(fire(m))
		eventually.True(t, succeeded(m), "minute %d", m)
	}

	clock.Set(fire(3))
	eventually.True(t, func() bool { return inFlight.Load() == schedules }, "minute 3 in flight")
	require.NoError(t, cluster.Stop(ctx))
	clock.Set(fire(4)) // falls due while the server is down
	errorsBefore := h.metric("bcdr_scheduler_loop_errors_total")
	eventually.True(t, func() bool { return h.metric("bcdr_scheduler_loop_errors_total") >= errorsBefore+replicas }, "the replicas notice the outage")
	require.NoError(t, cluster.Start(ctx))
	require.Equal(t, url, cluster.URL("postgres"), "the server is back where it was")
	close(restarted)

	for m := 3; m <= minutes; m++ {
		if m > 4 {
			clock.Set(fire(m))
		}
		eventually.True(t, succeeded(m), "minute %d after the restart", m)
	}
	total, twice, _ := h.invocations()
	require.Empty(t, twice, "firings run more than once")
	require.Equal(t, schedules*minutes, total, "no firing lost")
	require.Equal(t, schedules*minutes, h.count(`SELECT count(*) FROM schedule_runs`), "one row per firing")
	require.Zero(t, h.count(`SELECT count(*) FROM schedule_runs WHERE status <> 'succeeded' OR attempts <> 1`))
}
