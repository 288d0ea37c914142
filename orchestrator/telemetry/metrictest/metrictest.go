// Package metrictest reads Prometheus metrics in tests: from a registry,
// or from a running server's /metrics page.
package metrictest

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// Value is the sum over every series of the counter, gauge or histogram
// (its sample sum) called name in g whose labels include labels, given as
// name, value pairs. A metric that is not there reads as 0.
func Value(t testing.TB, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	require.Zero(t, len(labels)%2, "labels come in name, value pairs")
	families, err := g.Gather()
	require.NoError(t, err)
	var total float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			for i := 0; i < len(labels); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
				}
				if !found {
					continue series
				}
			}
			total += m.GetCounter().GetValue() + m.GetGauge().GetValue() + m.GetHistogram().GetSampleSum()
		}
	}
	return total
}

// Scrape reads a metric as Value does from the text page at url (a
// server's /metrics), failing the test when no series of it is there.
func Scrape(t testing.TB, url, name string, labels ...string) float64 {
	t.Helper()
	require.Zero(t, len(labels)%2, "labels come in name, value pairs")
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s", url)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var (
		total float64
		seen  bool
	)
	for line := range strings.Lines(string(body)) {
		series, value, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || strings.HasPrefix(series, "#") {
			continue
		}
		metric, labelText, _ := strings.Cut(series, "{")
		if metric != name && metric != name+"_sum" {
			continue
		}
		matches := true
		for i := 0; i < len(labels); i += 2 {
			matches = matches && strings.Contains(labelText, fmt.Sprintf("%s=%q", labels[i], labels[i+1]))
		}
		if !matches {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(value)[0], 64)
		require.NoError(t, err, "%s in %s", line, url)
		total += v
		seen = true
	}
	require.True(t, seen, "%s is not in the metrics at %s", name, url)
	return total
}
