package leasequeue

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/orchestrator/telemetry/metrictest"
	"github.com/bcdr/bcdr/orchestrator/testlog"
)

// job is a row of the test queue, read by name as a user of the queue
// would read its own type.
type job struct {
	ID       int64  `db:"id"`
	Name     string `db:"name"`
	Status   string `db:"status"`
	Attempts int    `db:"attempts"`
	Replica  string `db:"replica"`
	Result   string `db:"result"`
	Error    string `db:"error"`
	Group    string `db:"group_name"`
}

// jobsSchema is a queue table as Table documents it, with a parent whose
// enabled flag pauses its jobs.
const jobsSchema = `
	CREATE TABLE lq_groups (
		id      bigserial PRIMARY KEY,
		name    text    NOT NULL,
		enabled boolean NOT NULL DEFAULT true
	);
	CREATE TABLE lq_jobs (
		id               bigserial   PRIMARY KEY,
		group_id         bigint      NOT NULL REFERENCES lq_groups (id) ON DELETE CASCADE,
		name             text        NOT NULL,
		status           text        NOT NULL DEFAULT 'pending'
		                 CHECK (status IN ('pending', 'leased', 'done', 'dead')),
		attempts         integer     NOT NULL DEFAULT 0,
		replica          text        NOT NULL DEFAULT '',
		due_at           timestamptz NOT NULL,
		lease_expires_at timestamptz,
		beat_at          timestamptz,
		started_at       timestamptz,
		finished_at      timestamptz,
		result           text        NOT NULL DEFAULT '',
		error            text        NOT NULL DEFAULT '',
		CHECK ((status = 'leased') = (lease_expires_at IS NOT NULL))
	);
	CREATE INDEX lq_jobs_due ON lq_jobs (due_at, id) WHERE status = 'pending';
	CREATE INDEX lq_jobs_leases ON lq_jobs (lease_expires_at) WHERE status = 'leased';`

var jobsTable = Table{
	Name: "lq_jobs", Due: "due_at",
	Pending: "pending", Leased: "leased", GaveUp: "dead",
	Error: "error", Finished: "finished_at", Heartbeat: "beat_at",
	ClaimSet:  "started_at = " + Now,
	ClaimJoin: "JOIN lq_groups g ON g.id = t.group_id", ClaimFilter: "g.enabled",
	Columns:  "t.id, t.name, t.status, t.attempts, t.replica, t.result, t.error, g.name AS group_name",
	Join:     "JOIN lq_groups g ON g.id = t.group_id",
	Requeued: "; queued for another try",
}

// harness is a database with the test queue table, a clock (nil: the
// database's) and a registry the replicas share.
type harness struct {
	t        *testing.T
	pool     *pgxpool.Pool
	clock    *orchestrator.ManualClock
	registry *prometheus.Registry
	group    int64
	log      io.Writer
}

func setup(t *testing.T, clock *orchestrator.ManualClock) *harness {
	t.Helper()
	// The log is made first, so it falls silent after every other cleanup.
	h := &harness{t: t, log: testlog.Writer(t), clock: clock, registry: prometheus.NewRegistry()}
	h.pool = pgtest.New(t)
	_, err := h.pool.Exec(context.Background(), jobsSchema)
	require.NoError(t, err)
	h.group = h.newGroup("default", true)
	return h
}

func (h *harness) newGroup(name string, enabled bool) int64 {
	h.t.Helper()
	var id int64
	require.NoError(h.t, h.pool.QueryRow(context.Background(),
		`INSERT INTO lq_groups (name, enabled) VALUES ($1, $2) RETURNING id`, name, enabled).Scan(&id))
	return id
}

// queue returns replica's queue over lq_jobs; opts overrides.
func (h *harness) queue(replica string, opts Options) *Queue[job] {
	opts.Replica = replica
	if opts.Lease == 0 {
		opts.Lease = time.Minute
	}
	if opts.Registry == nil {
		opts.Registry = h.registry
	}
	opts.Metrics = "lq_test"
	rt := orchestrator.Runtime{Logger: slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	if h.clock != nil {
		rt.Clock = h.clock
	}
	return New(h.pool, rt, jobsTable, pgx.RowToStructByName[job], opts)
}

// add queues n jobs of group, due now (on the harness clock if any).
func (h *harness) add(group int64, n int) {
	h.t.Helper()
	var now *time.Time
	if h.clock != nil {
		t := h.clock.Now()
		now = &t
	}
	_, err := h.pool.Exec(context.Background(), `INSERT INTO lq_jobs (group_id, name, due_at)
		SELECT $1, 'job ' || i, coalesce($3::timestamptz, now()) - interval '1 second' FROM generate_series(1, $2) AS i`,
		group, n, now)
	require.NoError(h.t, err)
}

// row reads a job as stored.
func (h *harness) row(id int64) job {
	h.t.Helper()
	rows, err := h.pool.Query(context.Background(), `SELECT `+jobsTable.Columns+` FROM lq_jobs t `+jobsTable.Join+` WHERE t.id = $1`, id)
	require.NoError(h.t, err)
	j, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[job])
	require.NoError(h.t, err)
	return j
}

// leaseExpiry reads a job's lease_expires_at (zero when not leased).
func (h *harness) leaseExpiry(id int64) time.Time {
	h.t.Helper()
	var at *time.Time
	require.NoError(h.t, h.pool.QueryRow(context.Background(), `SELECT lease_expires_at FROM lq_jobs WHERE id = $1`, id).Scan(&at))
	if at == nil {
		return time.Time{}
	}
	return *at
}

// claimOne claims one row with q, requiring one.
func (h *harness) claimOne(q *Queue[job]) Claimed[job] {
	h.t.Helper()
	got, err := q.Claim(context.Background(), 1)
	require.NoError(h.t, err)
	require.Len(h.t, got, 1)
	return got[0]
}

// metric reads a counter or gauge of the shared registry.
func (h *harness) metric(name string) float64 {
	h.t.Helper()
	return metrictest.Value(h.t, h.registry, name)
}
