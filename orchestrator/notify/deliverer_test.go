package notify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/outbound/outboundtest"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

func itoa(n int64) string                { return strconv.FormatInt(n, 10) }
func pageOf(limit int) orchestrator.Page { return orchestrator.Page{Limit: limit} }

// A receiver that fails twice gets the same notification three times with
// one Idempotency-Key, and the row ends delivered after three attempts,
// each retry waiting for its backoff.
func TestRetriesUntilDelivered(t *testing.T) {
	h := setup(t)
	rcv := outboundtest.NewReceiver(t, http.StatusServiceUnavailable, http.StatusServiceUnavailable)
	ch := h.channel("ops", KindWebhook, rcv.URL+"/services/T0/B0/XYZ", []string{"check_failed"}, nil)
	h.publish(event(12, "check/1"))
	d := h.deliverer("r1", Options{BackoffMin: 10 * time.Second, BackoffMax: time.Minute})

	require.Equal(t, 1, h.step(d))
	first := h.only(ch.ID)
	require.Equal(t, DeliveryPending, first.Status)
	require.Equal(t, 1, first.Attempts)
	require.Equal(t, http.StatusServiceUnavailable, *first.LastStatusCode)
	require.Contains(t, first.LastError, "answered HTTP 503")
	require.NotContains(t, first.LastError, "XYZ", "the URL path may be a credential")
	// Not due again before its backoff (5–10s after a first failure).
	require.WithinRange(t, *first.NextAttemptAt, h.clock.Now().Add(5*time.Second), h.clock.Now().Add(10*time.Second))
	h.clock.Advance(4 * time.Second)
	require.Equal(t, 0, h.step(d))

	h.clock.Advance(6 * time.Second)
	require.Equal(t, 1, h.step(d))
	require.Equal(t, 2, h.only(ch.ID).Attempts)
	h.clock.Advance(20 * time.Second) // the second wait is 10–20s
	require.Equal(t, 1, h.step(d))

	got := h.only(ch.ID)
	require.Equal(t, DeliveryDelivered, got.Status)
	require.Equal(t, 3, got.Attempts)
	require.Equal(t, http.StatusOK, *got.LastStatusCode)
	require.Empty(t, got.LastError)
	require.NotNil(t, got.FinishedAt)
	require.Nil(t, got.NextAttemptAt)

	reqs := rcv.Requests()
	require.Len(t, reqs, 3)
	for i, r := range reqs {
		require.Equal(t, got.IdempotencyKey, r.Header.Get("Idempotency-Key"))
		require.Equal(t, strconv.Itoa(i+1), r.Header.Get("X-Bcdr-Delivery-Attempt"))
		require.Equal(t, "check_failed", r.Header.Get("X-Bcdr-Event"))
		require.Equal(t, reqs[0].Body, r.Body, "every attempt sends the same bytes")
	}
	require.Equal(t, 0, h.step(d), "nothing left to send")
	require.Equal(t, 1.0, h.counter("delivered", "webhook"))
	require.Equal(t, 2.0, h.counter("failed_attempts", "webhook"))
}

// A receiver that never accepts gets MaxAttempts requests, then the row
// is dead and is not sent again.
func TestDeadAfterMaxAttempts(t *testing.T) {
	h := setup(t)
	rcv := outboundtest.NewReceiver(t, 500, 500, 500, 500, 500)
	ch := h.channel("ops", KindSlack, rcv.URL, []string{"*"}, nil)
	h.publish(event(1, "check/1"))
	d := h.deliverer("r1", Options{MaxAttempts: 3})
	for range 3 {
		require.Equal(t, 1, h.step(d))
		h.clock.Advance(time.Minute)
	}
	got := h.only(ch.ID)
	require.Equal(t, DeliveryDead, got.Status)
	require.Equal(t, 3, got.Attempts)
	require.Contains(t, got.LastError, "HTTP 500")
	require.NotNil(t, got.FinishedAt)
	h.clock.Advance(time.Hour)
	require.Equal(t, 0, h.step(d))
	require.Len(t, rcv.Requests(), 3)
	require.Equal(t, 1.0, h.counter("dead", "slack"))
	require.Equal(t, 3.0, h.counter("failed_attempts", "slack"))
}

// A replica that claims a row and sends it, then dies before recording
// the outcome, leaves the row leased; once the lease expires another
// replica sends it again with the same Idempotency-Key (at-least-once
// delivery, deduplicated by the receiver), and the dead replica's late
// write is fenced off.
func TestCrashedReplicaIsTakenOver(t *testing.T) {
	h := setup(t)
	rcv := outboundtest.NewReceiver(t)
	ch := h.channel("ops", KindWebhook, rcv.URL, []string{"check_failed"}, nil)
	h.publish(event(7, "check/9"))
	ctx := context.Background()

	crashed := h.deliverer("crashed", Options{Lease: 30 * time.Second})
	items, err := crashed.claim(ctx, 10)
	require.NoError(t, err)
	require.Len(t, items, 1)
	require.NoError(t, crashed.send(ctx, items[0]).err, "the receiver got it")
	// ... and the replica dies here, before recording anything.

	survivor := h.deliverer("survivor", Options{})
	require.Equal(t, 0, h.step(survivor), "leased to the crashed replica")
	require.Equal(t, DeliveryDelivering, h.only(ch.ID).Status)

	h.clock.Advance(31 * time.Second)
	require.Equal(t, 1, h.step(survivor))
	got := h.only(ch.ID)
	require.Equal(t, DeliveryDelivered, got.Status)
	require.Equal(t, 2, got.Attempts)
	require.Equal(t, "survivor", got.Replica)

	reqs := rcv.Requests()
	require.Len(t, reqs, 2)
	require.Equal(t, got.IdempotencyKey, reqs[0].Header.Get("Idempotency-Key"))
	require.Equal(t, got.IdempotencyKey, reqs[1].Header.Get("Idempotency-Key"))

	// The crashed replica comes back and tries to record its attempt.
	crashed.record(ctx, items[0], outcome{code: 200})
	require.Equal(t, "survivor", h.only(ch.ID).Replica)
}

// A Deliverer stopped in the middle of a request puts the row back in the
// queue; another replica delivers it at once with the same key.
func TestCancelledDelivererRequeues(t *testing.T) {
	h := setup(t)
	arrived := make(chan string, 4)
	var hang atomic.Bool
	hang.Store(true)
	testDone := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- r.Header.Get("Idempotency-Key")
		if hang.Load() {
			select {
			case <-r.Context().Done():
			case <-testDone:
			}
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(testDone) })
	ch := h.channel("ops", KindTeams, srv.URL, []string{"check_failed"}, nil)
	h.publish(event(3, "check/3"))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.deliverer("stopping", Options{}).Run(ctx) }()
	firstKey := <-arrived
	cancel()
	<-done

	got := h.only(ch.ID)
	require.Equal(t, DeliveryPending, got.Status)
	require.Contains(t, got.LastError, "interrupted")
	hang.Store(false)
	require.Equal(t, 1, h.step(h.deliverer("other", Options{})))
	require.Equal(t, firstKey, <-arrived)
	got = h.only(ch.ID)
	require.Equal(t, DeliveryDelivered, got.Status)
	require.Equal(t, 2, got.Attempts)
	require.Equal(t, firstKey, got.IdempotencyKey)
}

// Publishing one occurrence twice queues it once; a rolled-back publish
// queues nothing; a new occurrence is a new row. Run delivers on its own.
func TestPublishDeduplicates(t *testing.T) {
	h := setup(t)
	rcv := outboundtest.NewReceiver(t)
	ch := h.channel("ops", KindWebhook, rcv.URL, []string{"check_failed", "rpo_breached"}, nil)
	other := h.channel("missed schedules only", KindWebhook, rcv.URL, []string{"schedule_missed"}, nil)
	off := false
	paused := h.channel("paused", KindWebhook, rcv.URL, []string{"*"}, func(in *ChannelInput) { in.Enabled = &off })

	h.publish(event(5, "check/1"))
	h.publish(event(5, "check/1"))
	err := postgres.WithTx(context.Background(), h.pool, func(tx pgx.Tx) error {
		require.NoError(t, Publish(context.Background(), tx, event(5, "check/2")))
		return orchestrator.Errorf(orchestrator.ECONFLICT, "the recording failed")
	})
	require.Error(t, err)
	require.Len(t, h.deliveries(ch.ID), 1)
	require.Empty(t, h.deliveries(other.ID))
	require.Empty(t, h.deliveries(paused.ID))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.delivererOn(orchestrator.SystemClock{}, "r1", Options{}).Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	eventually.True(t, func() bool { return len(rcv.Requests()) == 1 && h.only(ch.ID).Status == DeliveryDelivered }, "delivered once")

	h.publish(event(5, "check/1"))
	h.publish(event(5, "check/3"))
	eventually.True(t, func() bool { return len(rcv.Requests()) == 2 }, "a second request")
	ds := h.deliveries(ch.ID)
	require.Len(t, ds, 2)
	require.NotEqual(t, ds[0].IdempotencyKey, ds[1].IdempotencyKey)
}

// A bad event is refused, so the publisher's tests catch it.
func TestPublishRejectsBadEvents(t *testing.T) {
	h := setup(t)
	for name, e := range map[string]Event{
		"unknown type":  {Type: "disk_full", Subject: "ci/db1", Summary: "x"},
		"no subject":    {Type: EventCheckFailed, Summary: "x"},
		"bad severity":  {Type: EventCheckFailed, Subject: "ci/db1", Summary: "x", Severity: "panic"},
		"test event":    {Type: EventTest, Subject: "ci/db1", Summary: "x"},
		"not JSON-able": {Type: EventCheckFailed, Subject: "ci/db1", Summary: "x", Details: map[string]any{"f": func() {}}},
	} {
		err := Publish(context.Background(), h.pool, e)
		require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err), name)
	}
}

// Database errors do not stop the loop: it counts them, backs off, and
// delivers once the database answers again.
func TestRunSurvivesDatabaseErrors(t *testing.T) {
	h := setup(t)
	rcv := outboundtest.NewReceiver(t)
	h.channel("ops", KindWebhook, rcv.URL, []string{"*"}, nil)
	ctx := context.Background()
	_, err := h.pool.Exec(ctx, `ALTER TABLE notification_outbox RENAME TO notification_outbox_away`)
	require.NoError(t, err)

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = h.delivererOn(orchestrator.SystemClock{}, "r1", Options{PollInterval: 5 * time.Millisecond}).Run(runCtx)
	}()
	t.Cleanup(func() { cancel(); <-done })
	eventually.True(t, func() bool { return h.counter("loop_errors", "") >= 3 }, "three loop errors counted")

	_, err = h.pool.Exec(ctx, `ALTER TABLE notification_outbox_away RENAME TO notification_outbox`)
	require.NoError(t, err)
	h.publish(event(1, "after the outage"))
	eventually.True(t, func() bool { return len(rcv.Requests()) == 1 }, "one request arrives")
}
