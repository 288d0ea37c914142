package impact

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// The scale the issue names: 100,000 CIs, 400,000 relations, 2,000
// business services.
const (
	benchCIs       = 100_000
	benchRelations = 400_000
	benchServices  = 2_000
	benchSeed      = 1
)

// The generated CMDB and its graph are built once and shared, so each
// benchmark times only its own question.
var (
	benchCMDB = sync.OnceValues(func() ([]Node, []Edge) {
		return Generate(benchSeed, benchCIs, benchRelations, benchServices)
	})
	benchGraph = sync.OnceValue(func() *Graph {
		g, err := buildCMDB(benchCMDB())
		if err != nil {
			panic(err)
		}
		return g
	})
)

func buildCMDB(ns []Node, es []Edge) (*Graph, error) {
	b := NewBuilder()
	b.Grow(len(ns), len(es))
	for _, n := range ns {
		b.AddNode(n)
	}
	for _, e := range es {
		b.AddEdge(e)
	}
	return b.Build()
}

// BenchmarkBuild times building the in-memory graph from loaded records.
func BenchmarkBuild(b *testing.B) {
	ns, es := benchCMDB()
	b.ResetTimer()
	for b.Loop() {
		if _, err := buildCMDB(ns, es); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWhatIfOneCI asks 1,000 single-CI what-ifs per iteration, each
// for a CI drawn uniformly, and reports latency percentiles over every
// query timed.
func BenchmarkWhatIfOneCI(b *testing.B) {
	g := benchGraph()
	rng := rand.New(rand.NewPCG(benchSeed, 2))
	sample := make([][]int32, 1000)
	for i := range sample {
		sample[i] = []int32{int32(rng.IntN(g.Len()))}
	}
	benchWhatIf(b, g, sample)
}

// BenchmarkWhatIfSite fails every CI at one site, alternating between the
// two sites, 10 times each per iteration.
func BenchmarkWhatIfSite(b *testing.B) {
	g := benchGraph()
	sites := [][]int32{g.AtSite("site-a"), g.AtSite("site-b")}
	sample := make([][]int32, 20)
	for i := range sample {
		sample[i] = sites[i%2]
	}
	benchWhatIf(b, g, sample)
}

func benchWhatIf(b *testing.B, g *Graph, sample [][]int32) {
	var lat []time.Duration
	down := 0
	b.ResetTimer()
	for b.Loop() {
		for _, failed := range sample {
			start := time.Now()
			r := g.WhatIf(failed)
			lat = append(lat, time.Since(start))
			down += len(r.Down)
		}
	}
	reportLatency(b, lat)
	b.ReportMetric(float64(down)/float64(len(lat)), "down/query")
}

func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	at := func(q float64) float64 {
		return float64(lat[int(q*float64(len(lat)-1))]) / float64(time.Millisecond)
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(float64(len(lat)), "queries")
}

// BenchmarkRollDown computes required RTO and RPO for every CI from all
// business services' targets.
func BenchmarkRollDown(b *testing.B) {
	g := benchGraph()
	targets := generatedTargets(g)
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		_ = g.RollDown(targets)
	}
	b.ReportMetric(float64(time.Since(start))/float64(b.N)/float64(time.Millisecond), "ms/rolldown")
}

// BenchmarkRecoveryOrderSite orders every CI a site failure takes down.
func BenchmarkRecoveryOrderSite(b *testing.B) {
	g := benchGraph()
	req := g.RollDown(generatedTargets(g))
	down := g.WhatIf(g.AtSite("site-a")).Down
	b.ResetTimer()
	for b.Loop() {
		_ = g.RecoveryOrder(down, func(n int32) (orchestrator.Duration, bool) { return req[n].RTO, req[n].HasRTO() })
	}
	b.ReportMetric(float64(len(down)), "down")
}

// BenchmarkGraphMemory measures the live heap a built graph holds,
// including its keys, scaled to 100,000 CIs.
func BenchmarkGraphMemory(b *testing.B) {
	var perCI float64
	for b.Loop() {
		before := liveHeap()
		ns, es := Generate(benchSeed, benchCIs, benchRelations, benchServices)
		g, err := buildCMDB(ns, es)
		if err != nil {
			b.Fatal(err)
		}
		// ns and es are dead here, so the collection in liveHeap leaves
		// only what the graph itself keeps, key strings included.
		perCI = float64(liveHeap()-before) / float64(g.Len())
		runtime.KeepAlive(g)
	}
	b.ReportMetric(perCI*100_000/1e6, "MB/100kCI")
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
