package cmdb_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strconv"
	"testing"
	"time"

	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/internal/heapwatch"
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
	reg := importer.NewRegistry(cmdb.CIImport(), cmdb.RelationImport())
	for b.Loop() {
		pool := pgtest.New(b)
		stop := heapwatch.Start()
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
		b.ReportMetric(float64(stop())/(1<<20), "peak-heap-MiB")
	}
}
