package notify

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bcdr/bcdr/orchestrator/telemetry"
)

// metrics are the Deliverer's Prometheus series. Deliverers sharing a
// registry (several replicas in one process, as in tests) share the series.
type metrics struct {
	delivered  *prometheus.CounterVec
	failed     *prometheus.CounterVec
	dead       *prometheus.CounterVec
	queueDepth prometheus.Gauge
	loopErrors prometheus.Counter
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
		queueDepth: telemetry.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bcdr_notify_queue_depth", Help: "Notifications not yet delivered or given up (pending or being sent).",
		})),
		loopErrors: telemetry.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bcdr_notify_loop_errors_total", Help: "Delivery polls that failed (database errors) and were retried.",
		})),
	}
}
