// Package telemetry holds what the capability packages share about
// exposing Prometheus metrics.
package telemetry

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Register adds c to reg, or returns the collector already registered under
// the same name, so that two services of one replica sharing a registry
// share their metrics. Any other clash is a programming error.
func Register[C prometheus.Collector](reg *prometheus.Registry, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var dup prometheus.AlreadyRegisteredError
	if errors.As(err, &dup) {
		if existing, ok := dup.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic("register metrics: " + err.Error())
}
