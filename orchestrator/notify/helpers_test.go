package notify

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
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/orchestrator/secretref"
	"github.com/bcdr/bcdr/orchestrator/telemetry/metrictest"
	"github.com/bcdr/bcdr/orchestrator/testlog"
)

// harness is a database, a channel service and a shared metrics registry.
type harness struct {
	t        *testing.T
	pool     *pgxpool.Pool
	svc      *Service
	registry *prometheus.Registry
	log      io.Writer
	clock    *orchestrator.ManualClock
	env      map[string]string
	// secrets exposes HOOK_SECRET and files in a directory of the test's.
	secrets secretref.Policy
}

func setup(t *testing.T) *harness {
	t.Helper()
	// The log is made first, so it falls silent after every other cleanup.
	log := testlog.Writer(t)
	pool := pgtest.New(t)
	secrets := secretref.Policy{ExtraEnv: []string{"HOOK_SECRET"}, Dir: t.TempDir()}
	return &harness{t: t, log: log, pool: pool, svc: NewService(pool, orchestrator.Runtime{}, secrets), registry: prometheus.NewRegistry(), secrets: secrets,
		// Ahead of the database clock, so rows published now are due.
		clock: orchestrator.NewManualClock(time.Now().Add(time.Minute).UTC().Truncate(time.Millisecond)),
		env:   map[string]string{}}
}

// channel creates an enabled channel posting to url.
func (h *harness) channel(name string, kind Kind, url string, events []string, edit func(*ChannelInput)) Channel {
	h.t.Helper()
	in := ChannelInput{Name: &name, Kind: &kind, URL: &url, Events: events}
	if edit != nil {
		edit(&in)
	}
	c, err := h.svc.Create(context.Background(), in)
	require.NoError(h.t, err)
	return c
}

// deliverer returns a replica on the harness clock with test-sized
// intervals; opts overrides.
func (h *harness) deliverer(replica string, opts Options) *Deliverer {
	return h.delivererOn(h.clock, replica, opts)
}

// delivererOn is deliverer on another clock.
func (h *harness) delivererOn(clock orchestrator.Clock, replica string, opts Options) *Deliverer {
	opts.Replica = replica
	if opts.PollInterval == 0 {
		opts.PollInterval = 10 * time.Millisecond
	}
	if opts.BackoffMin == 0 {
		opts.BackoffMin, opts.BackoffMax = time.Second, time.Minute
	}
	if opts.Lease == 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.Registry == nil {
		opts.Registry = h.registry
	}
	if opts.LookupEnv == nil {
		opts.LookupEnv = func(name string) (string, bool) { v, ok := h.env[name]; return v, ok }
	}
	if opts.Secrets.Dir == "" {
		opts.Secrets = h.secrets
	}
	// The receivers are httptest servers on loopback, which the default
	// address policy refuses.
	opts.OutboundPolicy = loopbackAllowed(h.t)
	logger := slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelError}))
	return NewDeliverer(h.pool, orchestrator.Runtime{Logger: logger, Clock: clock}, opts)
}

// publish publishes e in a transaction of its own.
func (h *harness) publish(e Event) {
	h.t.Helper()
	err := postgres.WithTx(context.Background(), h.pool, func(tx pgx.Tx) error { return Publish(context.Background(), tx, e) })
	require.NoError(h.t, err)
}

// deliveries lists a channel's outbox rows, newest first.
func (h *harness) deliveries(channelID int64) []Delivery {
	h.t.Helper()
	list, err := h.svc.Deliveries(context.Background(), channelID, DeliveryFilter{}, pageOf(100))
	require.NoError(h.t, err)
	return list.Items
}

// only returns a channel's single delivery.
func (h *harness) only(channelID int64) Delivery {
	h.t.Helper()
	ds := h.deliveries(channelID)
	require.Len(h.t, ds, 1)
	return ds[0]
}

// step claims and sends one batch, returning how many rows it claimed.
func (h *harness) step(d *Deliverer) int {
	h.t.Helper()
	require.NoError(h.t, d.maintain(context.Background()))
	n, err := d.deliverDue(context.Background())
	require.NoError(h.t, err)
	return n
}

// counter reads bcdr_notify_<name>_total{kind=kind} from the registry;
// kind "" reads an unlabelled counter.
func (h *harness) counter(name, kind string) float64 {
	h.t.Helper()
	if kind == "" {
		return metrictest.Value(h.t, h.registry, "bcdr_notify_"+name+"_total")
	}
	return metrictest.Value(h.t, h.registry, "bcdr_notify_"+name+"_total", "kind", kind)
}

// event is a check_failed event about target n.
func event(n int, occurrence string) Event {
	return Event{Type: EventCheckFailed, Subject: "backup-target/" + itoa(int64(n)), Summary: "restic check failed for db1",
		Severity: SeverityCritical, OccurredAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), Occurrence: occurrence,
		Details: map[string]any{"target_id": n, "ci": "db1", "message": "pack 3f2a is damaged"}}
}
