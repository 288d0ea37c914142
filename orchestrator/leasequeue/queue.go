package leasequeue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// reapBatch bounds the expired leases one Reap handles, so that a reap
// after a long outage stays a short transaction; the next poll does more.
const reapBatch = 500

// releaseTimeout bounds a Release: it runs at shutdown, which must not
// hang on a database that does not answer (the lease expires anyway).
const releaseTimeout = 5 * time.Second

// Options tune a Queue; zero fields take the defaults in brackets.
type Options struct {
	// Replica names this process in the rows it claims [ReplicaName()].
	Replica string
	// Lease is how long a claim holds without a heartbeat [30s].
	Lease time.Duration
	// HeartbeatInterval is how often Heartbeats renews the leases [Lease/3].
	HeartbeatInterval time.Duration
	// MaxAttempts is how many claims a row gets before an expired lease
	// gives it up for good [3].
	MaxAttempts int
	// Backoff paces Retry [1s doubling up to 30s].
	Backoff Backoff
	// Registry receives the metrics; nil keeps them private.
	Registry *prometheus.Registry
	// Metrics prefixes the metric names ["bcdr_" + the table's name].
	Metrics string
}

func (o Options) withDefaults(table string) Options {
	if o.Replica == "" {
		o.Replica = ReplicaName()
	}
	if o.Lease <= 0 {
		o.Lease = 30 * time.Second
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = o.Lease / 3
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.Backoff.Min <= 0 {
		o.Backoff.Min = time.Second
	}
	if o.Backoff.Max <= 0 {
		o.Backoff.Max = 30 * time.Second
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.Metrics == "" {
		o.Metrics = "bcdr_" + table
	}
	return o
}

// ReplicaName is a name for this process unique among replicas:
// host-pid-random, so that a restarted process is a new replica.
func ReplicaName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.N(1<<16))
}

// Backoff is an exponential wait with jitter, so that replicas failing
// together do not retry in step.
type Backoff struct {
	Min, Max time.Duration
}

// After is the wait after the given number of consecutive failures: Min
// doubled per failure, at most Max, of which the second half is random.
func (b Backoff) After(failures int) time.Duration {
	d := min(b.Min<<min(failures, 16), b.Max)
	return d/2 + rand.N(d/2+1)
}

// Lease identifies one attempt at a row: the claim that made replica its
// owner for the attempts-th time. Every write of the owner is fenced by it.
type Lease struct {
	ID       int64
	Attempts int
	Replica  string
}

// Claimed is a row this replica now holds a lease on.
type Claimed[T any] struct {
	Lease Lease
	Row   T
}

// Reaped is a row whose lease expired: back in the queue, or given up.
type Reaped[T any] struct {
	// Lease is the expired one: its replica is the owner that went quiet.
	Lease  Lease
	GaveUp bool
	Row    T
}

// Queue claims, renews, reaps and finishes the rows of one table for one
// replica. Create one per table per process with New.
type Queue[T any] struct {
	pool    *pgxpool.Pool
	table   Table
	sql     statements
	scan    pgx.RowToFunc[T]
	opts    Options
	clock   orchestrator.Clock
	log     *slog.Logger
	metrics *Metrics
	held    holdings
}

// New returns a queue over table whose rows the caller reads with scan
// (from the table's Columns). The runtime's clock, when set, replaces the
// database clock for due times and leases. It panics on a malformed table.
func New[T any](pool *pgxpool.Pool, rt orchestrator.Runtime, table Table, scan pgx.RowToFunc[T], opts Options) *Queue[T] {
	table.validate()
	opts = opts.withDefaults(table.Name)
	return &Queue[T]{
		pool:    pool,
		table:   table,
		sql:     table.statements(),
		scan:    scan,
		opts:    opts,
		clock:   rt.Clock,
		log:     rt.Log(),
		metrics: newMetrics(opts.Registry, opts.Metrics, table.Name),
		held:    holdings{m: map[int64]*held{}},
	}
}

// Replica is the name the queue writes into the rows it claims.
func (q *Queue[T]) Replica() string { return q.opts.Replica }

// Metrics are the queue's series, for the user's own ops and poll errors.
func (q *Queue[T]) Metrics() *Metrics { return q.metrics }

// now is the $1 of every statement: nil selects the database clock.
func (q *Queue[T]) now() *time.Time { return postgres.NowArg(q.clock) }

// Claim leases up to n due pending rows to this replica, oldest due first,
// skipping rows other replicas are claiming at the same moment: each row
// goes to one replica, with attempts+1 and a lease measured on the
// database clock. Hold each returned row before working on it.
func (q *Queue[T]) Claim(ctx context.Context, n int) ([]Claimed[T], error) {
	start := time.Now()
	rows, err := q.pool.Query(ctx, q.sql.claim, q.now(), q.opts.Replica, n, q.opts.Lease.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", q.table.Name, err)
	}
	claimed, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Claimed[T], error) {
		c := Claimed[T]{Lease: Lease{Replica: q.opts.Replica}}
		var err error
		c.Row, err = scanTail(row, q.scan, &c.Lease.ID, &c.Lease.Attempts)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", q.table.Name, err)
	}
	if len(claimed) > 0 {
		q.metrics.ObserveDB("claim", time.Since(start))
		q.metrics.claims.Add(float64(len(claimed)))
	}
	return claimed, nil
}

// Reap returns rows whose lease expired (their replica died or stalled)
// to the queue for any replica to take over, keeping the attempt count so
// the next claim is attempt+1; a row whose last attempt's lease expired
// gives up instead. The message in the table's Error column says which.
//
// follow, when not nil, runs in the reap's transaction with the reaped
// rows, so that what the caller records about them (an event, an outbox
// row) commits or rolls back with the reap; an error from it rolls both
// back, to be retried on the next Reap.
func (q *Queue[T]) Reap(ctx context.Context, follow func(ctx context.Context, db postgres.Querier, reaped []Reaped[T]) error) ([]Reaped[T], error) {
	var reaped []Reaped[T]
	reap := func(db postgres.Querier) error {
		rows, err := db.Query(ctx, q.sql.reap, q.now(), q.opts.MaxAttempts, reapBatch)
		if err != nil {
			return fmt.Errorf("reap expired leases of %s: %w", q.table.Name, err)
		}
		reaped, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Reaped[T], error) {
			var r Reaped[T]
			var err error
			r.Row, err = scanTail(row, q.scan, &r.Lease.ID, &r.Lease.Attempts, &r.Lease.Replica, &r.GaveUp)
			return r, err
		})
		if err != nil {
			return fmt.Errorf("reap expired leases of %s: %w", q.table.Name, err)
		}
		if follow == nil || len(reaped) == 0 {
			return nil
		}
		return follow(ctx, db, reaped)
	}
	var err error
	if follow == nil {
		err = reap(q.pool)
	} else {
		err = postgres.WithTx(ctx, q.pool, func(tx pgx.Tx) error { return reap(tx) })
	}
	if err != nil {
		return nil, err
	}
	gaveUp := 0
	for _, r := range reaped {
		if r.GaveUp {
			gaveUp++
		}
	}
	if len(reaped) > 0 {
		q.log.Warn("reaped expired leases", "table", q.table.Name, "requeued", len(reaped)-gaveUp, "gave_up", gaveUp)
	}
	q.metrics.takeovers.Add(float64(len(reaped) - gaveUp))
	q.metrics.gaveUp.Add(float64(gaveUp))
	return reaped, nil
}

// Finish records the outcome of lease's attempt with set, assignments in
// which $1 is the time (see Now) and $2, $3, … are args, e.g. "status =
// $2, output = $3". It ends the lease, and applies only while the row is
// still leased to lease's replica and attempt: a replica whose lease was
// taken over, or whose row was released or deleted, is refused, and ok is
// false. Otherwise the row is returned as recorded. db may be a
// transaction, so that the caller's follow-up commits with the outcome.
func (q *Queue[T]) Finish(ctx context.Context, db postgres.Querier, lease Lease, set string, args ...any) (row T, ok bool, err error) {
	start := time.Now()
	all := make([]any, 0, len(args)+4)
	all = append(append(append(all, q.now()), args...), lease.ID, lease.Replica, lease.Attempts)
	rows, err := db.Query(ctx, q.table.finishStatement(set, len(args)), all...)
	if err != nil {
		return row, false, fmt.Errorf("record %s %d: %w", q.table.Name, lease.ID, err)
	}
	row, err = pgx.CollectExactlyOneRow(rows, q.scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return row, false, nil
	}
	if err != nil {
		return row, false, fmt.Errorf("record %s %d: %w", q.table.Name, lease.ID, err)
	}
	q.metrics.ObserveDB("record", time.Since(start))
	return row, true, nil
}

// Release puts a row back in the queue at once, keeping its attempt
// count, for any replica to take: for work interrupted by shutdown, which
// should not wait a whole lease to be taken over. Like Finish it applies
// only to the lease's own attempt; a row no longer ours is left alone.
func (q *Queue[T]) Release(ctx context.Context, lease Lease) error {
	ctx, cancel := context.WithTimeout(ctx, releaseTimeout)
	defer cancel()
	if _, err := q.pool.Exec(ctx, q.sql.release, lease.ID, lease.Replica, lease.Attempts); err != nil {
		return fmt.Errorf("release %s %d: %w", q.table.Name, lease.ID, err)
	}
	return nil
}

// Depth measures the rows pending and due into <prefix>_queue_depth and
// returns it.
func (q *Queue[T]) Depth(ctx context.Context) (int64, error) {
	var depth int64
	if err := q.pool.QueryRow(ctx, q.sql.depth, q.now()).Scan(&depth); err != nil {
		return 0, fmt.Errorf("measure %s queue: %w", q.table.Name, err)
	}
	q.metrics.depth.Set(float64(depth))
	return depth, nil
}

// Retry calls fn until it succeeds, backing off, for at most one lease:
// after that the row may be another replica's, and the outcome is better
// lost (the row runs again) than written late. It is for recording an
// outcome while the database is failing over or restarting.
func (q *Queue[T]) Retry(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(q.opts.Lease)
	for failures := 1; ; failures++ {
		err := fn()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		q.log.Warn("database write failed; retrying", "table", q.table.Name, "error", err)
		t := time.NewTimer(min(q.opts.Backoff.After(failures), time.Until(deadline)+time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}
