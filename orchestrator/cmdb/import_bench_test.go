package cmdb

import (
	"bytes"
	"context"
	"encoding/csv"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// BenchmarkImportCMDB imports a generated CMDB of 100,000 CIs and 400,000
// relations through the API's importer and reports the time of each file
// and the peak heap while importing.
func BenchmarkImportCMDB(b *testing.B) {
	nodes, edges := impact.Generate(1, 100_000, 400_000, 2_000)
	var cis, rels bytes.Buffer
	w := csv.NewWriter(&cis)
	_ = w.Write([]string{"key", "name", "class", "site", "data_bearing"})
	for _, n := range nodes {
		_ = w.Write([]string{n.Key, "CI " + n.Key, n.Class, n.Site, strconv.FormatBool(n.Class == "database")})
	}
	w.Flush()
	w = csv.NewWriter(&rels)
	_ = w.Write([]string{"from", "to", "type", "group", "min_up"})
	for _, e := range edges {
		_ = w.Write([]string{e.From, e.To, e.Type, e.Group, strconv.Itoa(e.MinUp)})
	}
	w.Flush()
	reg := importer.NewRegistry(CIImport(), RelationImport())
	for b.Loop() {
		pool := pgtest.New(b)
		var peak atomic.Uint64
		stop := samplePeakHeap(&peak)
		start := time.Now()
		for _, f := range []struct {
			typ  string
			body []byte
		}{{"cis", cis.Bytes()}, {"relations", rels.Bytes()}} {
			t0 := time.Now()
			rep, err := reg.Import(context.Background(), pool, f.typ, bytes.NewReader(f.body), importer.Options{Format: "csv"})
			if err != nil {
				b.Fatalf("import %s: %v %+v", f.typ, err, rep.Problems)
			}
			b.ReportMetric(time.Since(t0).Seconds(), f.typ+"-s")
		}
		b.ReportMetric(time.Since(start).Seconds(), "total-s")
		stop()
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	}
}

// samplePeakHeap records the largest live heap seen until stop is called.
func samplePeakHeap(peak *atomic.Uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var m runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}
