package impact

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// BenchmarkGraphUpdate loads the generated CMDB (100k CIs, 400k relations,
// 2,000 services with approved BIAs) into PostgreSQL, then in each of 100
// rounds asks two single-CI what-ifs through the service with nothing
// changed and times the second (steady), then three times commits one new
// depends_on relation and times, in turn:
//   - reflect: from the commit to a what-if answer that shows it (the new
//     relation's From CI down when its To CI fails);
//   - first: the first single-CI what-if about another CI;
//   - catchup: GraphCache.Current alone (reading the change from the log
//     and applying it to the snapshot).
//
// It reports p50 and p99 of each, and for comparison one full read of the
// CMDB, which the first reader after a change paid before the change log.
// It fails if the cache read the whole CMDB more than once. It needs
// TEST_DATABASE_URL.
func BenchmarkGraphUpdate(b *testing.B) {
	pool := pgtest.New(b)
	ctx := context.Background()
	nodes, edges := benchCMDB()
	if err := copyCMDB(ctx, pool, nodes, edges); err != nil {
		b.Fatal(err)
	}
	svc := NewService(pool, orchestrator.Runtime{}, nil)
	if err := svc.Graphs().Load(ctx); err != nil {
		b.Fatal(err)
	}
	ask := func(key string) (WhatIfAnswer, time.Duration) {
		t := time.Now()
		w, err := svc.WhatIf(ctx, Scenario{Failed: []string{key}})
		if err != nil {
			b.Fatal(err)
		}
		return w, time.Since(t)
	}
	rng := rand.New(rand.NewPCG(benchSeed, 4))
	random := func() string { return nodes[rng.IntN(len(nodes))].Key }
	const rounds = 100
	var steady, reflect, first, catchUp []time.Duration
	for b.Loop() {
		for range rounds {
			// The snapshot is the one the last round caught up to; a
			// first question settles it, the second is steady state.
			ask(random())
			_, took := ask(random())
			steady = append(steady, took)

			from, to := commitRelation(b, pool, random)
			w, took := ask(to)
			if !slices.Contains(w.Down, from) {
				b.Fatalf("%s depends on %s, but the what-if of %s does not take it down", from, to, to)
			}
			reflect = append(reflect, took)

			commitRelation(b, pool, random)
			_, took = ask(random())
			first = append(first, took)

			commitRelation(b, pool, random)
			t := time.Now()
			if _, err := svc.Graphs().Current(ctx); err != nil {
				b.Fatal(err)
			}
			catchUp = append(catchUp, time.Since(t))
		}
	}
	t := time.Now()
	if _, err := LoadSnapshot(ctx, pool); err != nil {
		b.Fatal(err)
	}
	full := time.Since(t)
	if loads := svc.Graphs().Loads(); loads != 1 {
		b.Fatalf("%d full reads of the CMDB, want only the first", loads)
	}
	p := func(lat []time.Duration, q float64) float64 {
		s := slices.Clone(lat)
		slices.Sort(s)
		return float64(s[int(q*float64(len(s)-1))]) / float64(time.Millisecond)
	}
	for _, m := range []struct {
		name string
		lat  []time.Duration
	}{{"steady", steady}, {"reflect", reflect}, {"first", first}, {"catchup", catchUp}} {
		b.ReportMetric(p(m.lat, 0.5), m.name+"-p50-ms")
		b.ReportMetric(p(m.lat, 0.99), m.name+"-p99-ms")
	}
	b.ReportMetric(float64(full)/float64(time.Millisecond), "full-read-ms")
}

// commitRelation commits a new depends_on relation between two CIs that
// random picks (not the same CI, not already related) and returns their
// keys.
func commitRelation(b *testing.B, pool *pgxpool.Pool, random func() string) (from, to string) {
	b.Helper()
	for {
		from, to = random(), random()
		if from == to {
			continue
		}
		tag, err := pool.Exec(context.Background(), `INSERT INTO relations (from_id, to_id, type, external_id)
			SELECT f.id, t.id, 'depends_on', 'bench ' || f.key || ' ' || t.key FROM cis f, cis t WHERE f.key = $1 AND t.key = $2
			ON CONFLICT DO NOTHING`, from, to)
		if err != nil {
			b.Fatal(err)
		}
		if tag.RowsAffected() == 1 {
			return from, to
		}
	}
}
