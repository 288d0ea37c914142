package scheduler

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

const (
	benchSchedules = 10000
	benchReplicas  = 3
)

// benchEnv is one database with a pool per replica, as separate processes
// would have.
type benchEnv struct {
	pools []*pgxpool.Pool
}

func newBenchEnv(b *testing.B) *benchEnv {
	url := pgtest.NewURL(b)
	env := &benchEnv{}
	for range benchReplicas {
		pool, err := postgres.Open(context.Background(), url, postgres.Options{MaxConns: 10})
		require.NoError(b, err)
		b.Cleanup(pool.Close)
		env.pools = append(env.pools, pool)
	}
	return env
}

// seed replaces every schedule with n yearly ones whose next firing falls
// within the last minute (or, with offset, that far in the future).
func (e *benchEnv) seed(b *testing.B, n int, offset time.Duration) {
	ctx := context.Background()
	_, err := e.pools[0].Exec(ctx, `TRUNCATE schedules CASCADE`)
	require.NoError(b, err)
	_, err = e.pools[0].Exec(ctx, `INSERT INTO schedules (name, kind, target, cron, next_fire_at)
		SELECT 'bench-' || i, 'backup_check', i::text, '0 0 1 1 *',
			now() + $2::bigint * interval '1 millisecond' - (i % 60) * interval '1 second'
		FROM generate_series(1, $1) AS i`, n, offset.Milliseconds())
	require.NoError(b, err)
	_, err = e.pools[0].Exec(ctx, `ANALYZE schedules; ANALYZE schedule_runs`)
	require.NoError(b, err)
}

// start runs one scheduler per pool; stop waits for them to return.
func (e *benchEnv) start(reg *prometheus.Registry, poll time.Duration, h Handler) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i, pool := range e.pools {
		s := New(pool, orchestrator.Runtime{}, Options{Replica: fmt.Sprintf("bench-%d", i), PollInterval: poll, Registry: reg})
		s.Register(KindBackupCheck, h)
		wg.Add(1)
		go func() { defer wg.Done(); _ = s.Run(ctx) }()
	}
	return func() { cancel(); wg.Wait() }
}

// histogramSum is the total of a histogram series in reg with label op.
func histogramSum(b *testing.B, reg *prometheus.Registry, name, op string) float64 {
	families, err := reg.Gather()
	require.NoError(b, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "op" && l.GetValue() == op {
					return m.GetHistogram().GetSampleSum()
				}
			}
		}
	}
	return 0
}

// BenchmarkDueSchedules: 10,000 schedules due in the same minute, three
// replicas with their own pools and a trivial handler. Reports the time to
// run them all, duplicate runs (must be 0) and the database time per run
// spent firing, claiming and recording.
func BenchmarkDueSchedules(b *testing.B) {
	env := newBenchEnv(b)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		env.seed(b, benchSchedules, 0)
		reg := prometheus.NewRegistry()
		var mu sync.Mutex
		calls := make(map[int64]int, benchSchedules)
		b.StartTimer()

		start := time.Now()
		stop := env.start(reg, 100*time.Millisecond, func(_ context.Context, run Run) (string, error) {
			mu.Lock()
			calls[run.ScheduleID]++
			mu.Unlock()
			return "ok", nil
		})
		deadline := time.Now().Add(2 * time.Minute)
		for {
			var done int
			require.NoError(b, env.pools[0].QueryRow(ctx, `SELECT count(*) FROM schedule_runs WHERE status = 'succeeded'`).Scan(&done))
			if done == benchSchedules {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("only %d of %d runs done after 2 minutes", done, benchSchedules)
			}
			time.Sleep(20 * time.Millisecond)
		}
		elapsed := time.Since(start)
		stop()
		b.StopTimer()

		duplicates := 0
		for _, n := range calls {
			duplicates += n - 1
		}
		var rows int
		require.NoError(b, env.pools[0].QueryRow(ctx, `SELECT count(*) FROM schedule_runs`).Scan(&rows))
		require.Equal(b, benchSchedules, rows)
		require.Len(b, calls, benchSchedules)
		perRun := func(op string) float64 {
			return histogramSum(b, reg, "bcdr_scheduler_db_seconds", op) * 1000 / benchSchedules
		}
		b.ReportMetric(elapsed.Seconds(), "s/10k-runs")
		b.ReportMetric(float64(benchSchedules)/elapsed.Seconds(), "runs/s")
		b.ReportMetric(float64(duplicates), "duplicates")
		b.ReportMetric(perRun("tick"), "tick-ms/run")
		b.ReportMetric(perRun("claim"), "claim-ms/run")
		b.ReportMetric(perRun("record"), "record-ms/run")
		b.StartTimer()
	}
}

// BenchmarkIdleOverhead: three replicas polling every second over 10,000
// schedules none of which is due. Reports this process's CPU use.
func BenchmarkIdleOverhead(b *testing.B) {
	env := newBenchEnv(b)
	const window = 5 * time.Second
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		env.seed(b, benchSchedules, time.Hour)
		b.StartTimer()
		cpuBefore := cpuTime(b)
		start := time.Now()
		stop := env.start(prometheus.NewRegistry(), time.Second, func(context.Context, Run) (string, error) { return "", nil })
		time.Sleep(window)
		stop()
		wall := time.Since(start)
		b.ReportMetric(float64(cpuTime(b)-cpuBefore)/float64(wall)*100, "cpu%")
	}
}

// cpuTime is the user plus system CPU time this process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
