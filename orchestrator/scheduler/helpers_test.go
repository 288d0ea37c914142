package scheduler

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/orchestrator/telemetry/metrictest"
	"github.com/bcdr/bcdr/orchestrator/testlog"
)

// harness is a database, a schedule service, a shared metrics registry and
// a record of every handler invocation.
type harness struct {
	t        testing.TB
	pool     *pgxpool.Pool
	svc      *Service
	clock    *orchestrator.ManualClock // nil: the database clock
	registry *prometheus.Registry
	log      io.Writer

	mu    sync.Mutex
	calls map[string]int // "schedule/fire_at" → invocations
	runs  []Run          // every invocation, in order
}

// setup returns a harness on a fresh database; clock may be nil.
func setup(t testing.TB, clock *orchestrator.ManualClock) *harness {
	t.Helper()
	// The log is made first, so it falls silent after every other cleanup.
	h := &harness{t: t, log: testlog.Writer(t), clock: clock, registry: prometheus.NewRegistry(), calls: map[string]int{}}
	h.pool = pgtest.New(t)
	var c orchestrator.Clock
	if clock != nil {
		c = clock
	}
	h.svc = NewService(h.pool, orchestrator.Runtime{Clock: c}, ServiceOptions{Handled: Kinds})
	return h
}

// scheduler returns a replica with short test intervals; opts overrides.
func (h *harness) scheduler(replica string, opts Options) *Scheduler {
	opts.Replica = replica
	if opts.PollInterval == 0 {
		opts.PollInterval = 20 * time.Millisecond
	}
	if opts.LeaseDuration == 0 {
		opts.LeaseDuration = time.Minute
	}
	if opts.HeartbeatInterval == 0 {
		opts.HeartbeatInterval = 50 * time.Millisecond
	}
	if opts.MaxBackoff == 0 {
		opts.MaxBackoff = 200 * time.Millisecond
	}
	if opts.Registry == nil {
		opts.Registry = h.registry
	}
	rt := orchestrator.Runtime{Logger: slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if h.clock != nil {
		rt.Clock = h.clock
	}
	return New(h.pool, rt, opts)
}

// start runs s until the test ends.
func (h *harness) start(s *Scheduler) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	h.t.Cleanup(stop)
	return stop
}

// handler records each invocation, then does work.
func (h *harness) handler(work func(ctx context.Context, run Run) (string, error)) Handler {
	return func(ctx context.Context, run Run) (string, error) {
		h.mu.Lock()
		h.calls[fmt.Sprintf("%d/%s", run.ScheduleID, run.FireAt.UTC().Format(time.RFC3339Nano))]++
		h.runs = append(h.runs, run)
		h.mu.Unlock()
		if work == nil {
			return "ok", nil
		}
		return work(ctx, run)
	}
}

func (h *harness) invocations() (total int, twice []string, runs []Run) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for key, n := range h.calls {
		total += n
		if n > 1 {
			twice = append(twice, key)
		}
	}
	return total, twice, append([]Run(nil), h.runs...)
}

// create adds a schedule with the given cron expression and overrides.
func (h *harness) create(name, expr string, in Input) Schedule {
	h.t.Helper()
	in.Name, in.Cron = &name, &expr
	if in.Kind == nil {
		in.Kind = new(KindBackupCheck)
	}
	sc, err := h.svc.Create(context.Background(), in)
	require.NoError(h.t, err)
	return sc
}

// runsOf returns a schedule's runs, oldest firing first.
func (h *harness) runsOf(scheduleID int64) []Run {
	h.t.Helper()
	rows, err := h.pool.Query(context.Background(), `SELECT `+runColumns+` FROM schedule_runs WHERE schedule_id = $1 ORDER BY fire_at`, scheduleID)
	require.NoError(h.t, err)
	runs, err := pgx.CollectRows(rows, scanRun)
	require.NoError(h.t, err)
	return runs
}

func (h *harness) count(query string, args ...any) int {
	h.t.Helper()
	var n int
	require.NoError(h.t, h.pool.QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}

// adminConn connects to the test server's maintenance database.
func (h *harness) adminConn() *pgx.Conn {
	h.t.Helper()
	conn, err := pgx.Connect(context.Background(), pgtest.ServerURL(h.t))
	require.NoError(h.t, err)
	h.t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// eventually waits for cond, polled on the test goroutine (see package
// eventually for the bound).
func (h *harness) eventually(cond func() bool, msg string, args ...any) {
	h.t.Helper()
	eventually.True(h.t, cond, msg, args...)
}

// metric reads a counter or gauge from the shared registry, summed over labels.
func (h *harness) metric(name string) float64 {
	h.t.Helper()
	return metrictest.Value(h.t, h.registry, name)
}
