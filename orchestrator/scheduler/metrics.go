package scheduler

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bcdr/bcdr/orchestrator/telemetry"
)

// metrics are the scheduler's own Prometheus series. The lease queue adds
// the rest under the same prefix: bcdr_scheduler_lease_takeovers_total,
// _lease_give_ups_total, _lease_losses_total, _claims_total, _queue_depth,
// _db_seconds{op="tick"|"claim"|"record"} and _loop_errors_total.
// Schedulers sharing a registry (several replicas in one process, as in
// tests) share the series.
type metrics struct {
	firings     *prometheus.CounterVec
	misses      *prometheus.CounterVec
	runDuration *prometheus.HistogramVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	return &metrics{
		firings: telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bcdr_scheduler_firings_total", Help: "Firings turned into runs, by schedule kind.",
		}, []string{"kind"})),
		misses: telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bcdr_scheduler_misses_total", Help: "Firings skipped because they were noticed after their catch-up window, by kind.",
		}, []string{"kind"})),
		runDuration: telemetry.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bcdr_scheduler_run_duration_seconds", Help: "Handler run time, by schedule kind and outcome.",
			Buckets: []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600},
		}, []string{"kind", "status"})),
	}
}
