package notify

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bcdr/bcdr/orchestrator/telemetry"
)

// metrics are the Deliverer's own Prometheus series. The lease queue adds
// the rest under the same prefix: bcdr_notify_queue_depth,
// _loop_errors_total, _claims_total, _lease_takeovers_total,
// _lease_give_ups_total, _lease_losses_total and _db_seconds{op="claim"}.
// Deliverers sharing a registry (several replicas in one process, as in
// tests) share the series.
type metrics struct {
	delivered *prometheus.CounterVec
	failed    *prometheus.CounterVec
	dead      *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	return &metrics{
		delivered: telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bcdr_notify_delivered_total", Help: "Notifications a receiver accepted (2xx), by channel kind.",
		}, []string{"kind"})),
		failed: telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bcdr_notify_failed_attempts_total", Help: "Delivery attempts that failed and will be retried or given up, by channel kind.",
		}, []string{"kind"})),
		dead: telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bcdr_notify_dead_total", Help: "Notifications given up after their last attempt, by channel kind.",
		}, []string{"kind"})),
	}
}
