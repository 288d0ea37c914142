package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/leasequeue"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Options tune a Scheduler; zero fields take the defaults in brackets.
type Options struct {
	// Replica names this scheduler in run rows [hostname-pid-random].
	Replica string
	// PollInterval is how often due firings, expired leases and the queue
	// are checked [1s]; a finished run also triggers a claim at once.
	PollInterval time.Duration
	// LeaseDuration is how long a claim holds without a heartbeat [30s].
	LeaseDuration time.Duration
	// HeartbeatInterval is how often running runs renew their lease
	// [LeaseDuration/3].
	HeartbeatInterval time.Duration
	// Workers is how many runs this replica executes at once [8].
	Workers int
	// MaxAttempts is how many claims a run gets before an expired lease
	// fails it for good [3].
	MaxAttempts int
	// MisfireGrace is how late a firing may be noticed and still count as
	// on time, whatever its schedule's catch-up window [1m].
	MisfireGrace time.Duration
	// ShutdownGrace is how long Run waits, once its context ends, for
	// cancelled handlers to return before leaving their leases to expire [10s].
	ShutdownGrace time.Duration
	// MaxBackoff bounds the wait between retries while the database fails [30s].
	MaxBackoff time.Duration
	// Registry receives the scheduler's metrics; nil keeps them private.
	Registry *prometheus.Registry
	// OnEvent, when set, is told of runs that end (succeeded, failed,
	// missed) inside the transaction that records them, so a notification
	// outbox row commits or rolls back with the state change.
	OnEvent EventHook
}

// Event is a run that reached a final state: its Status says which.
type Event struct {
	Run Run
}

// EventHook reacts to an Event using q, the recording transaction. An
// error rolls the recording back; it is retried on the next poll.
type EventHook func(ctx context.Context, q postgres.Querier, ev Event) error

// Scheduler fires schedules and executes their runs; create one per process
// with New and start it with Run. Runs are claimed, renewed, taken over and
// recorded through the lease queue (package leasequeue).
type Scheduler struct {
	pool    *pgxpool.Pool
	rt      orchestrator.Runtime
	logger  *slog.Logger
	opts    Options
	metrics *metrics
	queue   *leasequeue.Queue[Run]
	specs   specCache

	mu       sync.RWMutex
	handlers map[Kind]Handler

	wake chan struct{}
}

// New returns a scheduler over pool; register handlers, then call Run.
// The runtime's clock, when set, replaces the database clock for firings
// and leases (tests move time with it).
func New(pool *pgxpool.Pool, rt orchestrator.Runtime, opts Options) *Scheduler {
	opts = withDefaults(opts)
	logger := rt.Log().With("component", "scheduler", "replica", opts.Replica)
	return &Scheduler{
		pool:     pool,
		rt:       rt,
		logger:   logger,
		opts:     opts,
		metrics:  newMetrics(opts.Registry),
		queue:    newQueue(pool, orchestrator.Runtime{Logger: logger, Clock: rt.Clock}, opts),
		specs:    specCache{m: map[[2]string]cron.Schedule{}},
		handlers: map[Kind]Handler{},
		wake:     make(chan struct{}, 1),
	}
}

func withDefaults(o Options) Options {
	if o.Replica == "" {
		o.Replica = leasequeue.ReplicaName()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.PollInterval, time.Second)
	def(&o.LeaseDuration, 30*time.Second)
	def(&o.HeartbeatInterval, o.LeaseDuration/3)
	def(&o.MisfireGrace, time.Minute)
	def(&o.ShutdownGrace, 10*time.Second)
	def(&o.MaxBackoff, 30*time.Second)
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	return o
}

// Replica returns the name this scheduler writes into the runs it claims.
func (s *Scheduler) Replica() string { return s.opts.Replica }

// Run fires and executes runs until ctx ends. Database errors are logged
// and retried with backoff; Run never gives up on its own. On return,
// runs whose handlers stopped on cancellation are back in the queue.
func (s *Scheduler) Run(ctx context.Context) error {
	s.logger.Info("scheduler started", "workers", s.opts.Workers, "poll", s.opts.PollInterval, "lease", s.opts.LeaseDuration)
	// Heartbeats outlive ctx: handlers finishing during shutdown keep their lease.
	stopHeartbeats := s.queue.Heartbeats(ctx)

	var inflight sync.WaitGroup
	var lastMaintenance time.Time
	failures := 0
	for ctx.Err() == nil {
		wait := s.opts.PollInterval
		err := s.poll(ctx, &inflight, &lastMaintenance)
		switch {
		case err != nil && ctx.Err() == nil:
			failures++
			wait = s.backoff(failures)
			s.queue.Metrics().LoopFailed()
			s.logger.Warn("scheduler poll failed; retrying", "error", err, "failures", failures, "retry_in", wait)
		case err == nil:
			failures = 0
			wait = max(0, s.opts.PollInterval-time.Since(lastMaintenance))
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-timer.C:
		case <-s.wake:
		}
		timer.Stop()
	}
	s.drain(&inflight)
	stopHeartbeats()
	s.logger.Info("scheduler stopped")
	return nil
}

// poll does one round: maintenance (tick, reap, queue depth) when its
// interval has passed, then claims as many runs as there are free workers.
func (s *Scheduler) poll(ctx context.Context, inflight *sync.WaitGroup, lastMaintenance *time.Time) error {
	if time.Since(*lastMaintenance) >= s.opts.PollInterval {
		if err := s.maintain(ctx); err != nil {
			return err
		}
		*lastMaintenance = time.Now()
	}
	free := s.opts.Workers - s.queue.Held()
	if free <= 0 {
		return nil
	}
	runs, err := s.claim(ctx, free)
	if err != nil {
		return err
	}
	for _, run := range runs {
		// Held before the goroutine starts, so the next poll counts it.
		hctx, done := s.queue.Hold(ctx, leaseOf(run))
		inflight.Add(1)
		go func() {
			defer inflight.Done()
			s.execute(ctx, hctx, run)
			done()
			select {
			case s.wake <- struct{}{}:
			default:
			}
		}()
	}
	return nil
}

func (s *Scheduler) maintain(ctx context.Context) error {
	if err := s.tick(ctx); err != nil {
		return fmt.Errorf("tick: %w", err)
	}
	if err := s.reap(ctx); err != nil {
		return err
	}
	_, err := s.queue.Depth(ctx)
	return err
}

// backoff doubles the wait with each consecutive failure, up to MaxBackoff,
// with jitter so that replicas do not retry in step.
func (s *Scheduler) backoff(failures int) time.Duration {
	return leasequeue.Backoff{Min: s.opts.PollInterval, Max: s.opts.MaxBackoff}.After(failures)
}

// drain waits up to ShutdownGrace for in-flight runs to return.
func (s *Scheduler) drain(inflight *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.opts.ShutdownGrace):
		s.logger.Warn("handlers still running at shutdown; their leases will expire", "count", s.queue.Held())
	}
}

// specCache keeps parsed expressions: loading a time zone reads the zone
// database, too slow to repeat for every due schedule of every tick.
type specCache struct {
	mu sync.Mutex
	m  map[[2]string]cron.Schedule
}

func (c *specCache) get(expr, timezone string) (cron.Schedule, error) {
	key := [2]string{expr, timezone}
	c.mu.Lock()
	defer c.mu.Unlock()
	if spec, ok := c.m[key]; ok {
		return spec, nil
	}
	spec, err := ParseCron(expr, timezone)
	if err != nil {
		return nil, err
	}
	if len(c.m) > 10000 {
		clear(c.m)
	}
	c.m[key] = spec
	return spec, nil
}
