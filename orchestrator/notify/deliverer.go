package notify

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bcdr/bcdr/orchestrator"
)

// Options tune a Deliverer; zero fields take the defaults in brackets.
type Options struct {
	// Replica names this deliverer in the rows it claims [hostname-pid-random].
	Replica string
	// PollInterval is how often due rows and expired leases are looked for [1s].
	PollInterval time.Duration
	// Lease is how long a claimed row stays this replica's; a replica that
	// dies mid-delivery leaves the row to another one after it [1m]. There
	// is no heartbeat: an attempt is bounded by RequestTimeout, which is
	// kept to at most half the lease.
	Lease time.Duration
	// RequestTimeout bounds one POST, connection to last byte [10s].
	RequestTimeout time.Duration
	// MaxAttempts is how many attempts a row gets before it is dead [10].
	MaxAttempts int
	// BackoffMin and BackoffMax bound the wait before a retry: BackoffMin
	// doubled per failed attempt, at most BackoffMax, with jitter; a
	// Retry-After header lengthens it up to BackoffMax [10s, 1h].
	BackoffMin, BackoffMax time.Duration
	// Batch is how many rows one poll claims and sends at once [16].
	Batch int
	// Retention is how long delivered and dead rows are kept; publishing
	// an occurrence again after its row is gone sends it again [720h].
	Retention time.Duration
	// Clock, when set, replaces the database clock for due times and
	// leases; tests use it to move time. Production leaves it nil so that
	// every replica measures time on the one database clock.
	Clock orchestrator.Clock
	// Registry receives the delivery metrics; nil keeps them private.
	Registry *prometheus.Registry
	// Transport carries the requests [a pooled transport honouring the
	// proxy environment].
	Transport http.RoundTripper
	// LookupEnv resolves secret_env references [os.LookupEnv].
	LookupEnv func(string) (string, bool)
}

func (o Options) withDefaults() Options {
	if o.Replica == "" {
		host, _ := os.Hostname()
		o.Replica = fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.N(1<<16))
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.PollInterval, time.Second)
	def(&o.Lease, time.Minute)
	def(&o.RequestTimeout, 10*time.Second)
	o.RequestTimeout = min(o.RequestTimeout, o.Lease/2)
	def(&o.BackoffMin, 10*time.Second)
	def(&o.BackoffMax, time.Hour)
	o.BackoffMax = max(o.BackoffMax, o.BackoffMin)
	def(&o.Retention, 30*24*time.Hour)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 10
	}
	if o.Batch <= 0 {
		o.Batch = 16
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.Transport == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 8
		o.Transport = tr
	}
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	return o
}

// Deliverer sends the outbox; run one per replica with Run.
type Deliverer struct {
	pool    *pgxpool.Pool
	logger  *slog.Logger
	opts    Options
	metrics *metrics
	client  *retryablehttp.Client

	lastMaintenance time.Time
	lastCleanup     time.Time
}

// NewDeliverer returns a deliverer over pool.
func NewDeliverer(pool *pgxpool.Pool, logger *slog.Logger, opts Options) *Deliverer {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts = opts.withDefaults()
	return &Deliverer{
		pool:    pool,
		logger:  logger.With("component", "notify", "replica", opts.Replica),
		opts:    opts,
		metrics: newMetrics(opts.Registry),
		client:  newHTTPClient(opts.Transport, opts.RequestTimeout),
	}
}

// newHTTPClient is the deliverer's one outbound client. Its own retries
// are off: every attempt is a claim recorded on the outbox row, so that a
// crash cannot hide one and the backoff survives restarts. Redirects are
// not followed (a webhook that moved is a configuration to fix, and a
// redirect must not carry a signed body elsewhere).
func newHTTPClient(tr http.RoundTripper, timeout time.Duration) *retryablehttp.Client {
	c := retryablehttp.NewClient()
	c.HTTPClient = &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c.Logger = nil
	c.RetryMax = 0
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	return c
}

// nowArg is the $n of `coalesce($n::timestamptz, now())`: nil selects the
// database clock.
func (d *Deliverer) nowArg() *time.Time {
	if d.opts.Clock == nil {
		return nil
	}
	t := d.opts.Clock.Now()
	return &t
}

// Run delivers until ctx ends; call it once per Deliverer. Database errors
// are logged and retried with backoff; Run never gives up on its own.
// Deliveries interrupted by the end of ctx go back to the queue.
func (d *Deliverer) Run(ctx context.Context) error {
	d.logger.Info("notification delivery started", "poll", d.opts.PollInterval, "lease", d.opts.Lease,
		"max_attempts", d.opts.MaxAttempts)
	failures := 0
	for ctx.Err() == nil {
		wait := d.opts.PollInterval
		n, err := d.poll(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			failures++
			wait = d.loopBackoff(failures)
			d.metrics.loopErrors.Inc()
			d.logger.Warn("notification poll failed; retrying", "error", err, "failures", failures, "retry_in", wait)
		case err == nil:
			failures = 0
			if n == d.opts.Batch {
				wait = 0 // more may be due
			}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-timer.C:
		}
		timer.Stop()
	}
	d.logger.Info("notification delivery stopped")
	return nil
}

// poll does maintenance when its interval has passed, then claims and
// sends one batch, returning how many rows it claimed.
func (d *Deliverer) poll(ctx context.Context) (int, error) {
	if time.Since(d.lastMaintenance) >= d.opts.PollInterval {
		if err := d.maintain(ctx); err != nil {
			return 0, err
		}
		d.lastMaintenance = time.Now()
	}
	return d.deliverDue(ctx)
}

// deliverDue claims up to Batch due rows and sends them concurrently.
func (d *Deliverer) deliverDue(ctx context.Context) (int, error) {
	items, err := d.claim(ctx, d.opts.Batch)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Go(func() { d.deliver(ctx, it) })
	}
	wg.Wait()
	return len(items), nil
}

// loopBackoff doubles the wait with each consecutive poll failure, up to
// 30s, with jitter so that replicas do not retry in step.
func (d *Deliverer) loopBackoff(failures int) time.Duration {
	w := min(d.opts.PollInterval<<min(failures, 16), 30*time.Second)
	return w/2 + rand.N(w/2+1)
}

// retryDelay is the wait before attempt n+1 after attempt n failed:
// BackoffMin·2^(n-1), capped, with up to half of it as jitter; at least
// what the receiver asked for in Retry-After, within BackoffMax.
func (d *Deliverer) retryDelay(attempts int, retryAfter time.Duration) time.Duration {
	w := d.opts.BackoffMin
	for i := 1; i < attempts && w < d.opts.BackoffMax; i++ {
		w *= 2
	}
	w = min(w, d.opts.BackoffMax)
	w = w/2 + rand.N(w/2+1)
	return min(max(w, retryAfter), d.opts.BackoffMax)
}

// claimed is an outbox row this replica holds a lease on, with what is
// needed to send it.
type claimed struct {
	id, channelID int64
	key           string
	event         []byte
	attempts      int
	replica       string
	kind          Kind
	url           string
	secretEnv     string
	secretFile    string
}

// claimQuery leases up to $3 due rows of enabled channels to replica $2
// for $4 ms, oldest first, skipping rows other replicas are claiming. Rows
// of disabled channels wait, so disabling a channel pauses it.
const claimQuery = `WITH picked AS (
		SELECT o.id FROM notification_outbox o JOIN notification_channels c ON c.id = o.channel_id
		WHERE o.status = 'pending' AND o.next_attempt_at <= coalesce($1::timestamptz, now()) AND c.enabled
		ORDER BY o.next_attempt_at, o.id LIMIT $3 FOR UPDATE OF o SKIP LOCKED
	), claimed AS (
		UPDATE notification_outbox o SET status = 'delivering', replica = $2, attempts = o.attempts + 1,
			last_attempt_at = coalesce($1::timestamptz, now()),
			lease_expires_at = coalesce($1::timestamptz, now()) + $4::bigint * interval '1 millisecond'
		FROM picked WHERE o.id = picked.id
		RETURNING o.id, o.channel_id, o.idempotency_key, o.event, o.attempts, o.replica
	)
	SELECT cl.id, cl.channel_id, cl.idempotency_key, cl.event, cl.attempts, cl.replica, c.kind, c.url, c.secret_env, c.secret_file
	FROM claimed cl JOIN notification_channels c ON c.id = cl.channel_id ORDER BY cl.id`

// claim leases up to n due rows; the lease is measured on the database clock.
func (d *Deliverer) claim(ctx context.Context, n int) ([]claimed, error) {
	rows, err := d.pool.Query(ctx, claimQuery, d.nowArg(), d.opts.Replica, n, d.opts.Lease.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (claimed, error) {
		var c claimed
		err := row.Scan(&c.id, &c.channelID, &c.key, &c.event, &c.attempts, &c.replica, &c.kind, &c.url, &c.secretEnv, &c.secretFile)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return items, nil
}

// maintain returns rows whose lease expired to the queue (or kills them on
// their last attempt), measures the queue, and now and then deletes
// finished rows past the retention.
func (d *Deliverer) maintain(ctx context.Context) error {
	if err := d.reap(ctx); err != nil {
		return err
	}
	var depth int64
	const count = `SELECT count(*) FROM notification_outbox WHERE status IN ('pending', 'delivering')`
	if err := d.pool.QueryRow(ctx, count).Scan(&depth); err != nil {
		return fmt.Errorf("measure notification queue: %w", err)
	}
	d.metrics.queueDepth.Set(float64(depth))
	if time.Since(d.lastCleanup) < time.Minute {
		return nil
	}
	const cleanup = `DELETE FROM notification_outbox WHERE id IN (
		SELECT id FROM notification_outbox
		WHERE finished_at < coalesce($1::timestamptz, now()) - $2::bigint * interval '1 second' LIMIT 1000)`
	if _, err := d.pool.Exec(ctx, cleanup, d.nowArg(), int64(d.opts.Retention.Seconds())); err != nil {
		return fmt.Errorf("delete old deliveries: %w", err)
	}
	d.lastCleanup = time.Now()
	return nil
}

// reapQuery requeues (or, after $2 attempts, kills) up to 500 rows whose
// lease expired: their replica died or stalled mid-delivery.
const reapQuery = `WITH expired AS (
		SELECT id FROM notification_outbox
		WHERE status = 'delivering' AND lease_expires_at < coalesce($1::timestamptz, now())
		ORDER BY lease_expires_at LIMIT 500 FOR UPDATE SKIP LOCKED
	)
	UPDATE notification_outbox o SET
		status = CASE WHEN o.attempts >= $2 THEN 'dead' ELSE 'pending' END,
		lease_expires_at = NULL,
		next_attempt_at = coalesce($1::timestamptz, now()),
		finished_at = CASE WHEN o.attempts >= $2 THEN coalesce($1::timestamptz, now()) END,
		last_error = left(format('lease of replica %s expired during attempt %s', o.replica, o.attempts) ||
			CASE WHEN o.attempts >= $2 THEN '; gave up' ELSE '; queued for another attempt' END, 2000)
	FROM expired, notification_channels c WHERE o.id = expired.id AND c.id = o.channel_id
	RETURNING o.status, c.kind`

func (d *Deliverer) reap(ctx context.Context) error {
	rows, err := d.pool.Query(ctx, reapQuery, d.nowArg(), d.opts.MaxAttempts)
	if err != nil {
		return fmt.Errorf("reap expired deliveries: %w", err)
	}
	type reaped struct {
		status DeliveryStatus
		kind   Kind
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (reaped, error) {
		var r reaped
		return r, row.Scan(&r.status, &r.kind)
	})
	if err != nil {
		return fmt.Errorf("reap expired deliveries: %w", err)
	}
	dead := 0
	for _, r := range items {
		if r.status == DeliveryDead {
			dead++
			d.metrics.dead.WithLabelValues(string(r.kind)).Inc()
		}
	}
	if len(items) > 0 {
		d.logger.Warn("delivery leases expired", "requeued", len(items)-dead, "dead", dead)
	}
	return nil
}
