package web

import (
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

// BenchmarkPages50Clients asks for the dashboard, the services page, the
// runbook list and a runbook from 50 clients at once on the demo
// organisation, 500 requests of each page an iteration, and reports each
// page's latency p50 and p99 (issue 16's target: p99 ≤ 100 ms).
func BenchmarkPages50Clients(b *testing.B) {
	const clients, requests = 50, 500
	e := setup(b)
	p := e.signIn("bench", orchestrator.RoleContinuityManager)
	for _, tc := range []struct{ name, path string }{
		{"dashboard", "/"}, {"services", "/services"}, {"runbooks", "/runbooks"}, {"runbook", "/runbooks/1"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				took = append(took, load(b, p, tc.path, clients, requests)...)
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// load makes requests GETs of path from clients goroutines and returns
// each one's latency.
func load(b *testing.B, p *person, path string, clients, requests int) []time.Duration {
	work := make(chan struct{}, requests)
	for range requests {
		work <- struct{}{}
	}
	close(work)
	var mu sync.Mutex
	took := make([]time.Duration, 0, requests)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range work {
				start := time.Now()
				resp, err := p.client.Get(p.e.srv.URL + path)
				require.NoError(b, err)
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				require.Equal(b, http.StatusOK, resp.StatusCode)
				mu.Lock()
				took = append(took, time.Since(start))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return took
}
