package notify

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/outbound"
	"github.com/bcdr/bcdr/orchestrator/outbound/outboundtest"
)

// loopbackAllowed is the address policy of tests whose receivers are
// httptest servers on 127.0.0.1.
func loopbackAllowed(t testing.TB) outbound.Policy {
	t.Helper()
	p, err := outbound.ParsePolicy("127.0.0.1")
	require.NoError(t, err)
	return p
}

// A receiver's answer is its own business: last_error keeps the status
// code and its reason, never the body (an internal service's, or bcdr's
// own metrics, when a channel points at one).
func TestLastErrorKeepsNoBody(t *testing.T) {
	h := setup(t)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid token","debug":"SECRET-BODY-123"}`))
	}))
	t.Cleanup(rcv.Close)
	ch := h.channel("ops", KindWebhook, rcv.URL, []string{"*"}, nil)
	h.publish(event(1, "check/1"))
	require.Equal(t, 1, h.step(h.deliverer("r1", Options{})))
	got := h.only(ch.ID)
	require.Equal(t, http.StatusBadRequest, *got.LastStatusCode)
	require.Equal(t, "POST "+rcv.URL+" answered HTTP 400 Bad Request", got.LastError)
	require.NotContains(t, got.LastError, "SECRET-BODY-123")
}

// Without an allowance a channel on loopback is refused before anything
// is sent, and last_error says how to allow it.
func TestLoopbackChannelRefusedByDefault(t *testing.T) {
	h := setup(t)
	rcv := outboundtest.NewReceiver(t)
	ch := h.channel("ops", KindWebhook, rcv.URL, []string{"*"}, nil)
	h.publish(event(1, "check/1"))
	d := NewDeliverer(h.pool, orchestrator.Runtime{Clock: h.clock}, Options{Replica: "r1", Registry: prometheus.NewRegistry(),
		Secrets: h.secrets})
	require.Equal(t, 1, h.step(d))
	got := h.only(ch.ID)
	require.Equal(t, DeliveryPending, got.Status)
	require.Nil(t, got.LastStatusCode)
	require.Contains(t, got.LastError, "address 127.0.0.1 is not allowed for outbound calls (loopback); allow it with BCDR_OUTBOUND_ALLOW")
	require.Empty(t, rcv.Requests())
}
