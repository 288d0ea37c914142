package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
)

const (
	fleetTargets  = 10000
	fleetReplicas = 3
	// fleetDeadline bounds one round; the benchmark fails beyond it.
	fleetDeadline = 5 * time.Minute
)

// BenchmarkBackupTargets10k: 10,000 backup targets (half file, half
// loopback HTTP) all due in the same minute, checked by three scheduler
// replicas with their own pools and the production handlers. Reports the
// time to verify them all, duplicates (checks recorded twice for a target,
// runs twice for a firing; must be 0), and per check: the check itself
// (the probe, as the service logs it), the handler around it (loading the
// target, recording the check) and the scheduler's database work (firing,
// claiming, recording the run).
func BenchmarkBackupTargets10k(b *testing.B) {
	url := pgtest.NewURL(b)
	ctx := orchestrator.WithActor(context.Background(), orchestrator.Actor{Name: "bench", Role: orchestrator.RoleAdmin})
	pools := make([]*pgxpool.Pool, fleetReplicas)
	for i := range pools {
		pool, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 10})
		require.NoError(b, err)
		b.Cleanup(pool.Close)
		pools[i] = pool
	}
	_, err := cmdb.NewService(pools[0]).CreateCI(ctx, cmdb.CIInput{Key: "db1", Name: "db1", Class: "database", DataBearing: true})
	require.NoError(b, err)
	fileCfg, httpCfg := benchFixtures(b)

	for b.Loop() {
		b.StopTimer()
		seedFleet(b, pools[0], fileCfg, httpCfg)
		reg := prometheus.NewRegistry()
		probes := &probeTimes{}
		b.StartTimer()

		start := time.Now()
		stop := startFleet(pools, reg, probes)
		waitFleet(b, pools[0], start)
		elapsed := time.Since(start)
		stop()

		b.StopTimer()
		dupChecks, dupRuns, ok := fleetDuplicates(b, pools[0])
		require.Equal(b, fleetTargets, ok, "every target checked ok")
		perCheck := func(seconds float64) float64 { return seconds * 1000 / fleetTargets }
		schedulerDB := sumHistogram(b, reg, "bcdr_scheduler_db_seconds")
		handler := sumHistogram(b, reg, "bcdr_scheduler_run_duration_seconds")
		probe := probes.total().Seconds()
		b.ReportMetric(elapsed.Seconds(), "s/10k-checks")
		b.ReportMetric(fleetTargets/elapsed.Seconds(), "checks/s")
		b.ReportMetric(float64(dupChecks), "duplicate-checks")
		b.ReportMetric(float64(dupRuns), "duplicate-runs")
		b.ReportMetric(perCheck(probes.of(KindFile).Seconds())*2, "file-probe-ms/check")
		b.ReportMetric(perCheck(probes.of(KindHTTP).Seconds())*2, "http-probe-ms/check")
		b.ReportMetric(perCheck(handler-probe), "handler-overhead-ms/check")
		b.ReportMetric(perCheck(schedulerDB), "scheduler-db-ms/check")
		b.ReportMetric(perCheck(handler-probe+schedulerDB), "claim+record-ms/check")
		b.StartTimer()
	}
}

// seedFleet replaces every target with fleetTargets of them, written in
// bulk as Service.Create writes one (the target, its backup_check schedule
// named after it, the link), with each schedule's next firing within the
// last minute.
func seedFleet(b *testing.B, pool *pgxpool.Pool, fileCfg FileConfig, httpCfg HTTPConfig) {
	ctx := context.Background()
	fileJSON, err := json.Marshal(fileCfg)
	require.NoError(b, err)
	httpJSON, err := json.Marshal(httpCfg)
	require.NoError(b, err)
	timeout := int64(defaultTimeout / time.Second)
	maxRun := timeout + int64(time.Minute/time.Second)
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`TRUNCATE backup_checks, backup_targets, schedule_runs, schedules, notification_outbox CASCADE`, nil},
		{`INSERT INTO backup_targets (ci_id, name, kind, config, timeout_s)
			SELECT (SELECT id FROM cis WHERE key = 'db1'), 'fleet ' || i,
				CASE WHEN i % 2 = 0 THEN 'file' ELSE 'http' END,
				CASE WHEN i % 2 = 0 THEN $2::jsonb ELSE $3::jsonb END, $4
			FROM generate_series(1, $1) AS i`, []any{fleetTargets, fileJSON, httpJSON, timeout}},
		{`INSERT INTO schedules (name, kind, target, cron, timezone, max_run_s, next_fire_at, created_by)
			SELECT 'backup target ' || id, 'backup_check', id::text, '0 0 1 1 *', 'UTC', $1,
				now() - (id % 60) * interval '1 second', 'bench'
			FROM backup_targets`, []any{maxRun}},
		{`UPDATE backup_targets t SET schedule_id = s.id FROM schedules s WHERE s.target = t.id::text`, nil},
		{`ANALYZE backup_targets; ANALYZE schedules; ANALYZE schedule_runs; ANALYZE backup_checks`, nil},
	} {
		_, err := pool.Exec(ctx, stmt.sql, stmt.args...)
		require.NoError(b, err)
	}
}

// startFleet runs one scheduler per pool, each with the production backup
// handlers; stop waits for them to return.
func startFleet(pools []*pgxpool.Pool, reg *prometheus.Registry, probes *probeTimes) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i, pool := range pools {
		s := scheduler.New(pool, orchestrator.Runtime{}, scheduler.Options{Replica: fmt.Sprintf("fleet-%d", i),
			PollInterval: 100 * time.Millisecond, Registry: reg})
		RegisterHandlers(s, NewService(pool, orchestrator.Runtime{Logger: slog.New(probes)}, Options{OutboundPolicy: loopbackAllowed(), Roots: []string{os.TempDir()}}))
		wg.Go(func() { _ = s.Run(ctx) })
	}
	return func() { cancel(); wg.Wait() }
}

// waitFleet waits until every firing has run, failing after fleetDeadline.
func waitFleet(b *testing.B, pool *pgxpool.Pool, start time.Time) {
	for {
		var done int
		require.NoError(b, pool.QueryRow(context.Background(),
			`SELECT count(*) FROM schedule_runs WHERE status IN ('succeeded', 'failed')`).Scan(&done))
		if done == fleetTargets {
			return
		}
		if time.Since(start) > fleetDeadline {
			b.Fatalf("only %d of %d checks done after %s", done, fleetTargets, fleetDeadline)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fleetDuplicates counts checks recorded more than once per target and
// runs more than once per firing, and the targets whose check was ok.
func fleetDuplicates(b *testing.B, pool *pgxpool.Pool) (checks, runs, ok int) {
	err := pool.QueryRow(context.Background(), `SELECT
			(SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM backup_checks GROUP BY target_id) c),
			(SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM schedule_runs GROUP BY schedule_id, fire_at) r),
			(SELECT count(DISTINCT target_id) FROM backup_checks WHERE status = 'ok')`).Scan(&checks, &runs, &ok)
	require.NoError(b, err)
	return checks, runs, ok
}

// sumHistogram totals every series of a histogram in reg.
func sumHistogram(b *testing.B, reg *prometheus.Registry, name string) float64 {
	families, err := reg.Gather()
	require.NoError(b, err)
	var sum float64
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				sum += m.GetHistogram().GetSampleSum()
			}
		}
	}
	return sum
}

// probeTimes is a log handler that adds up the probe time ("took") of each
// "backup check" line, by kind: the time of the check itself, as measured
// by the service around the tool or request.
type probeTimes struct {
	mu     sync.Mutex
	byKind map[Kind]time.Duration
}

func (p *probeTimes) Enabled(context.Context, slog.Level) bool { return true }
func (p *probeTimes) WithAttrs([]slog.Attr) slog.Handler       { return p }
func (p *probeTimes) WithGroup(string) slog.Handler            { return p }

func (p *probeTimes) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "backup check" {
		return nil
	}
	var kind Kind
	var took time.Duration
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "kind":
			kind = Kind(a.Value.String())
		case "took":
			took = a.Value.Duration()
		}
		return true
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byKind == nil {
		p.byKind = map[Kind]time.Duration{}
	}
	p.byKind[kind] += took
	return nil
}

func (p *probeTimes) of(kind Kind) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byKind[kind]
}

func (p *probeTimes) total() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var sum time.Duration
	for _, d := range p.byKind {
		sum += d
	}
	return sum
}
