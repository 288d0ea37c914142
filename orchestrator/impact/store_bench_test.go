package impact

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// dependentsCTE answers "what does the failure of this CI take down" the
// way a database-only implementation would: a recursive CTE over the
// propagating relations. It cannot count redundancy-group members (the
// recursive term may reference the working table once and not aggregate),
// so it returns the dependents closure, a superset of WhatIf's answer.
// Keys are looked up per row: joining cis instead lets the planner, which
// cannot estimate the recursion, hash all 100k CIs on every question.
const dependentsCTE = `WITH RECURSIVE down(id) AS (
		SELECT id FROM cis WHERE key = $1
		UNION
		SELECT r.from_id FROM relations r JOIN down d ON r.to_id = d.id
		WHERE r.type IN ('depends_on', 'runs_on', 'hosted_in', 'provided_by'))
	SELECT (SELECT c.key FROM cis c WHERE c.id = down.id) FROM down`

// BenchmarkDatabase loads the generated CMDB (100k CIs, 400k relations,
// 2,000 services with approved BIAs) into PostgreSQL with COPY once, then
// measures against it: loading the graph, a single-CI what-if in memory
// against the same question as a recursive CTE (reporting the ratio),
// roll-down of every CI from the stored BIAs, and a whole-site what-if
// through the service. It needs TEST_DATABASE_URL.
func BenchmarkDatabase(b *testing.B) {
	pool := pgtest.New(b)
	ctx := context.Background()
	start := time.Now()
	nodes, edges := benchCMDB()
	if err := copyCMDB(ctx, pool, nodes, edges); err != nil {
		b.Fatal(err)
	}
	b.Logf("loaded %d CIs and %d relations into PostgreSQL in %s", len(nodes), len(edges), time.Since(start).Round(time.Millisecond))

	b.Run("load", func(b *testing.B) {
		var took time.Duration
		for b.Loop() {
			t := time.Now()
			snap, err := LoadSnapshot(ctx, pool)
			took += time.Since(t)
			if err != nil || snap.Graph.Len() != len(nodes) || len(snap.Anomalies) != 0 {
				b.Fatalf("load: %v (%d anomalies)", err, len(snap.Anomalies))
			}
		}
		b.ReportMetric(float64(took.Milliseconds())/float64(b.N), "ms/load")
	})
	snap, err := LoadSnapshot(ctx, pool)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("whatif-one-ci-vs-cte", func(b *testing.B) { benchVersusCTE(b, ctx, pool, snap.Graph) })
	b.Run("rolldown-all", func(b *testing.B) {
		var took time.Duration
		for b.Loop() {
			t := time.Now()
			byKey, err := approvedTargets(ctx, pool)
			if err != nil || len(byKey) != benchServices {
				b.Fatalf("targets: %v (%d)", err, len(byKey))
			}
			_ = snap.Graph.RollDown(targetsOf(snap, byKey))
			took += time.Since(t)
		}
		b.ReportMetric(float64(took.Microseconds())/1000/float64(b.N), "ms/rolldown")
	})
	b.Run("service-whatif-site", func(b *testing.B) {
		svc := NewService(pool, orchestrator.Runtime{}, nil)
		if err := svc.Graphs().Load(ctx); err != nil {
			b.Fatal(err)
		}
		var lat []time.Duration
		for b.Loop() {
			t := time.Now()
			w, err := svc.WhatIf(ctx, Scenario{Site: "site-a"})
			lat = append(lat, time.Since(t))
			if err != nil || len(w.Services) == 0 {
				b.Fatalf("what-if: %v", err)
			}
		}
		reportLatency(b, lat)
	})
}

// benchVersusCTE asks the same 100 single-CI questions both ways, checks
// the CTE finds exactly the in-memory dependents closure, and reports
// latencies and the ratio of the medians.
func benchVersusCTE(b *testing.B, ctx context.Context, pool *pgxpool.Pool, g *Graph) {
	rng := rand.New(rand.NewPCG(benchSeed, 3))
	sample := make([]int32, 100)
	for i := range sample {
		sample[i] = int32(rng.IntN(g.Len()))
	}
	var mem, closure, cte []time.Duration
	for b.Loop() {
		for _, n := range sample {
			t := time.Now()
			r := g.WhatIf([]int32{n})
			_ = keyList(g, r.Down)
			mem = append(mem, time.Since(t))

			t = time.Now()
			c := g.Dependents(n)
			_ = keyList(g, c.Nodes)
			closure = append(closure, time.Since(t))

			t = time.Now()
			rows, err := pool.Query(ctx, dependentsCTE, g.Key(n))
			if err != nil {
				b.Fatal(err)
			}
			keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
			cte = append(cte, time.Since(t))
			if err != nil || len(keys) != len(c.Nodes) {
				b.Fatalf("CTE for %s: %v, %d keys, closure %d", g.Key(n), err, len(keys), len(c.Nodes))
			}
		}
	}
	p50 := func(ds []time.Duration) float64 {
		s := slices.Clone(ds)
		slices.Sort(s)
		return float64(s[len(s)/2]) / float64(time.Millisecond)
	}
	reportLatency(b, mem)
	b.ReportMetric(p50(closure), "closure-p50-ms")
	b.ReportMetric(p50(cte), "cte-p50-ms")
	b.ReportMetric(p50(cte)/p50(mem), "cte/whatif-x")
	b.ReportMetric(p50(cte)/p50(closure), "cte/closure-x")
}

// copyCMDB writes nodes and edges with COPY, CI ids being node index + 1,
// and an approved BIA for every business service with generatedTargets.
func copyCMDB(ctx context.Context, pool *pgxpool.Pool, nodes []Node, edges []Edge) error {
	ids := make(map[string]int64, len(nodes))
	ciRows := make([][]any, len(nodes))
	for i, n := range nodes {
		ids[n.Key] = int64(i + 1)
		ciRows[i] = []any{int64(i + 1), n.Key, n.Key, n.Class, n.Site, int64(3600), n.Class == "database", n.Key}
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"cis"},
		[]string{"id", "key", "name", "class", "site", "recovery_estimate_s", "data_bearing", "external_id"}, pgx.CopyFromRows(ciRows)); err != nil {
		return fmt.Errorf("copy CIs: %w", err)
	}
	relRows := make([][]any, len(edges))
	for i, e := range edges {
		relRows[i] = []any{ids[e.From], ids[e.To], e.Type, e.Group, int32(e.MinUp), fmt.Sprint(i)}
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"relations"},
		[]string{"from_id", "to_id", "type", "grp", "min_up", "external_id"}, pgx.CopyFromRows(relRows)); err != nil {
		return fmt.Errorf("copy relations: %w", err)
	}
	b := NewBuilder()
	for _, n := range nodes {
		b.AddNode(n)
	}
	g, err := b.Build()
	if err != nil {
		return err
	}
	settings, _ := json.Marshal(DefaultSettings())
	var biaRows [][]any
	for n, t := range generatedTargets(g) {
		amount := 100000.0
		a, _ := json.Marshal(Assessment{RTO: t.RTO, RPO: t.RPO,
			Thresholds: []Threshold{{Category: CategoryFinancial, At: hours(4), Rating: 4, Amount: &amount}}})
		biaRows = append(biaRows, []any{int64(n) + 1, int32(1), "approved", a, settings, t.RTO.Seconds(), t.RPO.Seconds(), int64(0), time.Now()})
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"bia_versions"},
		[]string{"service_id", "version", "status", "assessment", "settings", "rto_s", "rpo_s", "wrt_s", "approved_at"}, pgx.CopyFromRows(biaRows)); err != nil {
		return fmt.Errorf("copy BIAs: %w", err)
	}
	for _, q := range []string{`SELECT setval('cis_id_seq', (SELECT max(id) FROM cis))`, `ANALYZE cis`, `ANALYZE relations`, `ANALYZE bia_versions`} {
		if _, err := pool.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}
