package leasequeue

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bcdr/bcdr/orchestrator/telemetry"
)

// Metrics are a queue's Prometheus series, named after Options.Metrics:
//
//	<prefix>_claims_total            rows claimed
//	<prefix>_lease_takeovers_total   expired leases whose row went back to the queue
//	<prefix>_lease_give_ups_total    expired leases whose row gave up (last attempt)
//	<prefix>_lease_losses_total      work cancelled with ErrLeaseLost
//	<prefix>_queue_depth             rows pending and due, as of the last Depth
//	<prefix>_db_seconds{op}          database time: claim, record (Finish), and the user's own ops
//	<prefix>_loop_errors_total       the user's poll rounds that failed and were retried
//
// Queues sharing a registry and a prefix (replicas in one process, as in
// tests) share the series.
type Metrics struct {
	claims     prometheus.Counter
	takeovers  prometheus.Counter
	gaveUp     prometheus.Counter
	lost       prometheus.Counter
	depth      prometheus.Gauge
	dbSeconds  *prometheus.HistogramVec
	loopErrors prometheus.Counter
}

func newMetrics(reg *prometheus.Registry, prefix, table string) *Metrics {
	counter := func(name, help string) prometheus.Counter {
		return telemetry.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{Name: prefix + "_" + name, Help: help}))
	}
	return &Metrics{
		claims:    counter("claims_total", "Rows of "+table+" claimed."),
		takeovers: counter("lease_takeovers_total", "Rows of "+table+" whose lease expired and that went back to the queue."),
		gaveUp:    counter("lease_give_ups_total", "Rows of "+table+" given up after their lease expired on the last attempt."),
		lost:      counter("lease_losses_total", "Work on rows of "+table+" cancelled because its lease was lost."),
		depth: telemetry.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: prefix + "_queue_depth", Help: "Rows of " + table + " due and waiting to be claimed.",
		})),
		dbSeconds: telemetry.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: prefix + "_db_seconds", Help: "Database time spent on " + table + ", by operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
		}, []string{"op"})),
		loopErrors: counter("loop_errors_total", "Polls of "+table+" that failed and were retried."),
	}
}

// ObserveDB adds the database time of one op (the user's own, like the
// scheduler's "tick") to <prefix>_db_seconds.
func (m *Metrics) ObserveDB(op string, d time.Duration) {
	m.dbSeconds.WithLabelValues(op).Observe(d.Seconds())
}

// LoopFailed counts a poll round that failed and will be retried.
func (m *Metrics) LoopFailed() { m.loopErrors.Inc() }
