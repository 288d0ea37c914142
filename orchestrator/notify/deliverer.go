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
	"github.com/bcdr/bcdr/orchestrator/leasequeue"
	"github.com/bcdr/bcdr/orchestrator/outbound"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// Options tune a Deliverer; zero fields take the defaults in brackets.
type Options struct {
	// Replica names this deliverer in the rows it claims [hostname-pid-random].
	Replica string
	// PollInterval is how often due rows and expired leases are looked for [1s].
	PollInterval time.Duration
	// Lease is how long a claimed row stays this replica's without a
	// heartbeat; the heartbeat renews it every third of it while the
	// request is in flight, and a replica that dies mid-delivery leaves the
	// row to another one once it expires [1m].
	Lease time.Duration
	// RequestTimeout bounds one POST, connection to last byte, and one
	// SMTP exchange, connection to QUIT [10s]; at most half the lease, so
	// that even a replica whose heartbeats fail gives up its request
	// before the row can be taken over.
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
	// Registry receives the delivery metrics; nil keeps them private.
	Registry *prometheus.Registry
	// Transport carries the requests [outbound.NewTransport(OutboundPolicy),
	// honouring the proxy environment].
	Transport http.RoundTripper
	// OutboundPolicy is the address policy of the default transport: the
	// private hosts channels may reach [public addresses only].
	OutboundPolicy outbound.Policy
	// LookupEnv resolves secret_env references [os.LookupEnv].
	LookupEnv func(string) (string, bool)
	// Secrets is what channels' secret references, and the SMTP
	// password's, may name [BCDR_SECRET_* variables, no files].
	Secrets secretref.Policy
	// SMTP is the mail server email channels are sent through; without it
	// their deliveries fail, saying email is not configured.
	SMTP *SMTP
	// Attachments gives the files an event's emails carry; nil sends
	// none. Other kinds of channel never ask for them.
	Attachments AttachmentSource
}

func (o Options) withDefaults() Options {
	if o.Replica == "" {
		o.Replica = leasequeue.ReplicaName()
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
		tr := outbound.NewTransport(o.OutboundPolicy)
		tr.MaxIdleConnsPerHost = 8
		o.Transport = tr
	}
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	return o
}

// Deliverer sends the outbox; run one per replica with Run. Rows are
// claimed, renewed, taken over and fenced through the lease queue
// (package leasequeue).
type Deliverer struct {
	pool    *pgxpool.Pool
	rt      orchestrator.Runtime
	logger  *slog.Logger
	opts    Options
	metrics *metrics
	queue   *leasequeue.Queue[claimed]
	client  *retryablehttp.Client

	lastMaintenance time.Time
	lastCleanup     time.Time
}

// NewDeliverer returns a deliverer over pool. The runtime's clock, when
// set, replaces the database clock for due times and leases (tests move
// time with it).
func NewDeliverer(pool *pgxpool.Pool, rt orchestrator.Runtime, opts Options) *Deliverer {
	opts = opts.withDefaults()
	logger := rt.Log().With("component", "notify", "replica", opts.Replica)
	return &Deliverer{
		pool:    pool,
		rt:      rt,
		logger:  logger,
		opts:    opts,
		metrics: newMetrics(opts.Registry),
		queue: leasequeue.New(pool, orchestrator.Runtime{Logger: logger, Clock: rt.Clock}, outboxTable, scanClaimed,
			leasequeue.Options{Replica: opts.Replica, Lease: opts.Lease, MaxAttempts: opts.MaxAttempts,
				Backoff: pollBackoff(opts.PollInterval), Registry: opts.Registry, Metrics: "bcdr_notify"}),
		client: newHTTPClient(opts.Transport, opts.RequestTimeout),
	}
}

// newHTTPClient is the deliverer's outbound client, from the one
// constructor. Its own retries are off: every attempt is a claim recorded
// on the outbox row, so that a crash cannot hide one and the backoff
// survives restarts. Redirects are not followed (a webhook that moved is a
// configuration to fix, and a redirect must not carry a signed body
// elsewhere).
func newHTTPClient(tr http.RoundTripper, timeout time.Duration) *retryablehttp.Client {
	return outbound.NewClient(outbound.Options{Timeout: timeout, Retries: 0, FollowRedirects: false, Transport: tr})
}

// Run delivers until ctx ends; call it once per Deliverer. Database errors
// are logged and retried with backoff; Run never gives up on its own.
// Deliveries interrupted by the end of ctx go back to the queue.
func (d *Deliverer) Run(ctx context.Context) error {
	d.logger.Info("notification delivery started", "poll", d.opts.PollInterval, "lease", d.opts.Lease,
		"max_attempts", d.opts.MaxAttempts)
	// deliverDue waits for its batch, so nothing is in flight once the
	// loop ends and the heartbeats may stop with it.
	stopHeartbeats := d.queue.Heartbeats(ctx)
	defer stopHeartbeats()
	failures := 0
	for ctx.Err() == nil {
		wait := d.opts.PollInterval
		n, err := d.poll(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			failures++
			wait = d.loopBackoff(failures)
			d.queue.Metrics().LoopFailed()
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

// deliverDue claims up to Batch due rows and sends them concurrently,
// each under its lease: a request whose row is taken over is cancelled.
func (d *Deliverer) deliverDue(ctx context.Context) (int, error) {
	items, err := d.claim(ctx, d.opts.Batch)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, it := range items {
		workCtx, done := d.queue.Hold(ctx, leasequeue.Lease{ID: it.id, Attempts: it.attempts, Replica: it.replica})
		wg.Go(func() {
			defer done()
			d.deliver(workCtx, it)
		})
	}
	wg.Wait()
	return len(items), nil
}

// pollBackoff doubles the wait after each consecutive poll failure, up to
// 30s, with jitter so that replicas do not retry in step.
func pollBackoff(poll time.Duration) leasequeue.Backoff {
	return leasequeue.Backoff{Min: poll, Max: 30 * time.Second}
}

// loopBackoff is the wait after failures consecutive failures.
func (d *Deliverer) loopBackoff(failures int) time.Duration {
	return pollBackoff(d.opts.PollInterval).After(failures)
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

// outboxTable puts notification_outbox on the lease queue. Rows of
// disabled channels are not claimable, so disabling a channel pauses it;
// a claimed row comes with its channel's kind, URL and secret reference.
var outboxTable = leasequeue.Table{
	Name: "notification_outbox", Due: "next_attempt_at",
	Pending: string(DeliveryPending), Leased: string(DeliveryDelivering), GaveUp: string(DeliveryDead),
	Error: "last_error", Finished: "finished_at",
	ClaimSet:  "last_attempt_at = " + leasequeue.Now,
	ClaimJoin: "JOIN notification_channels c ON c.id = t.channel_id", ClaimFilter: "c.enabled",
	Columns: "t.id, t.channel_id, t.idempotency_key, t.event, t.attempts, t.replica, " +
		"c.kind, c.url, c.secret_env, c.secret_file",
	Join:     "JOIN notification_channels c ON c.id = t.channel_id",
	Requeued: "; queued for another attempt",
}

// lease is the row's claim, which fences every write of its outcome.
func (c claimed) lease() leasequeue.Lease {
	return leasequeue.Lease{ID: c.id, Attempts: c.attempts, Replica: c.replica}
}

func scanClaimed(row pgx.CollectableRow) (claimed, error) {
	var c claimed
	err := row.Scan(&c.id, &c.channelID, &c.key, &c.event, &c.attempts, &c.replica, &c.kind, &c.url, &c.secretEnv, &c.secretFile)
	return c, err
}

// claim leases up to n due rows; the lease is measured on the database clock.
func (d *Deliverer) claim(ctx context.Context, n int) ([]claimed, error) {
	got, err := d.queue.Claim(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	items := make([]claimed, len(got))
	for i, c := range got {
		items[i] = c.Row
	}
	return items, nil
}

// maintain returns rows whose lease expired to the queue (or kills them on
// their last attempt), measures the queue, and now and then deletes
// finished rows past the retention.
func (d *Deliverer) maintain(ctx context.Context) error {
	reaped, err := d.queue.Reap(ctx, nil)
	if err != nil {
		return err
	}
	for _, r := range reaped {
		if r.GaveUp {
			d.metrics.dead.WithLabelValues(string(r.Row.kind)).Inc()
		}
	}
	if _, err := d.queue.Depth(ctx); err != nil {
		return err
	}
	if time.Since(d.lastCleanup) < time.Minute {
		return nil
	}
	const cleanup = `DELETE FROM notification_outbox WHERE id IN (
		SELECT id FROM notification_outbox
		WHERE finished_at < coalesce($1::timestamptz, now()) - $2::bigint * interval '1 second' LIMIT $3)`
	if _, err := postgres.Prune(ctx, d.pool, "old deliveries", cleanup, postgres.NowArg(d.rt.Clock), int64(d.opts.Retention.Seconds())); err != nil {
		return err
	}
	d.lastCleanup = time.Now()
	return nil
}
