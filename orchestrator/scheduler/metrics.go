package scheduler

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bcdr/bcdr/orchestrator/telemetry"
)

// metrics are the scheduler's Prometheus series. Schedulers sharing a
// registry (several replicas in one process, as in tests) share the series.
type metrics struct {
	firings     *prometheus.CounterVec
	misses      *prometheus.CounterVec
	takeovers   prometheus.Counter
	gaveUp      prometheus.Counter
	runDuration *prometheus.HistogramVec
	queueDepth  prometheus.Gauge
	dbSeconds   *prometheus.HistogramVec
	loopErrors  prometheus.Counter
}

func newMetrics(reg *prometheus.Registry) *metrics {
	return &metrics{
		firings: telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bcdr_scheduler_firings_total", Help: "Firings turned into runs, by schedule kind.",
		}, []string{"kind"})),
		misses: telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bcdr_scheduler_misses_total", Help: "Firings skipped because they were noticed after their catch-up window, by kind.",
		}, []string{"kind"})),
		takeovers: telemetry.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bcdr_scheduler_lease_takeovers_total", Help: "Runs whose lease expired and were queued for another replica.",
		})),
		gaveUp: telemetry.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bcdr_scheduler_lease_give_ups_total", Help: "Runs failed for good after their lease expired on the last attempt.",
		})),
		runDuration: telemetry.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bcdr_scheduler_run_duration_seconds", Help: "Handler run time, by schedule kind and outcome.",
			Buckets: []float64{.01, .05, .1, .5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600},
		}, []string{"kind", "status"})),
		queueDepth: telemetry.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bcdr_scheduler_queue_depth", Help: "Runs due and waiting for a worker.",
		})),
		dbSeconds: telemetry.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "bcdr_scheduler_db_seconds", Help: "Time spent turning due firings into runs (tick), claiming runs and recording outcomes.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"op"})),
		loopErrors: telemetry.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bcdr_scheduler_loop_errors_total", Help: "Scheduler polls that failed and were retried.",
		})),
	}
}
