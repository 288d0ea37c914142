package impact

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWhatIf(t *testing.T) {
	t.Parallel()
	cluster := []Edge{grp("app", "db1", "c", 2), grp("app", "db2", "c", 2), grp("app", "db3", "c", 2), dep("svc", DependsOn, "app")}
	cases := []struct {
		name   string
		edges  []Edge
		failed []string
		down   []string // sorted by key
	}{
		{"failure climbs a chain", []Edge{dep("svc", DependsOn, "app"), dep("app", RunsOn, "vm"), dep("vm", HostedIn, "dc")},
			[]string{"dc"}, []string{"app", "dc", "svc", "vm"}},
		{"provided_by propagates", []Edge{dep("app", ProvidedBy, "saas")}, []string{"saas"}, []string{"app", "saas"}},
		{"not towards what the failed CI needs", []Edge{dep("svc", DependsOn, "app"), dep("app", RunsOn, "vm")},
			[]string{"app"}, []string{"app", "svc"}},
		{"backups and replicas do not propagate", []Edge{dep("db", BackedUpBy, "bkp"), dep("db", ReplicatesTo, "db2")},
			[]string{"bkp", "db2"}, []string{"bkp", "db2"}},
		{"2-of-3 survives one failure", cluster, []string{"db1"}, []string{"db1"}},
		{"2-of-3 falls with two", cluster, []string{"db1", "db3"}, []string{"app", "db1", "db3", "svc"}},
		{"1-of-2 survives one", []Edge{grp("app", "a-vm", "h", 1), grp("app", "b-vm", "h", 1)}, []string{"a-vm"}, []string{"a-vm"}},
		{"1-of-2 falls with both", []Edge{grp("app", "a-vm", "h", 1), grp("app", "b-vm", "h", 1)},
			[]string{"a-vm", "b-vm"}, []string{"a-vm", "app", "b-vm"}},
		{"members fall through their own needs", []Edge{grp("app", "vm1", "h", 1), grp("app", "vm2", "h", 1),
			dep("vm1", RunsOn, "host"), dep("vm2", RunsOn, "host")}, []string{"host"}, []string{"app", "host", "vm1", "vm2"}},
		{"an ungrouped need outside the group still takes it down", []Edge{grp("app", "db1", "c", 1), grp("app", "db2", "c", 1),
			dep("app", DependsOn, "mq")}, []string{"mq"}, []string{"app", "mq"}},
		{"groups are counted separately", []Edge{grp("app", "db1", "d", 1), grp("app", "db2", "d", 1),
			grp("app", "vm1", "h", 1), grp("app", "vm2", "h", 1)}, []string{"db1", "vm2"}, []string{"db1", "vm2"}},
		{"a member listed twice counts once", []Edge{grp("app", "db1", "c", 2), {From: "app", To: "db1", Type: RunsOn, Group: "c", MinUp: 2},
			grp("app", "db2", "c", 2)}, []string{"db2"}, []string{"app", "db2"}},
		{"a cycle goes down together and terminates", []Edge{dep("a", DependsOn, "b"), dep("b", DependsOn, "a"),
			dep("b", DependsOn, "c"), dep("svc", DependsOn, "a")}, []string{"c"}, []string{"a", "b", "c", "svc"}},
		{"a cycle does not bring itself down", []Edge{dep("a", DependsOn, "b"), dep("b", DependsOn, "a"), dep("b", DependsOn, "c")},
			[]string{"x"}, []string{"x"}},
		{"a cycle through a group holds while a member is up", []Edge{grp("a", "b", "g", 1), grp("a", "x", "g", 1),
			dep("b", DependsOn, "a")}, []string{"x"}, []string{"x"}},
		{"repeated failures count once", []Edge{dep("svc", DependsOn, "app")}, []string{"app", "app"}, []string{"app", "svc"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			g := build(t, append(c.edges, dep("x", DependsOn, "x-needs"))...)
			r := g.WhatIf(nodes(t, g, c.failed...))
			got := keysOf(g, r.Down)
			slices.Sort(got)
			require.Equal(t, c.down, got)
			for _, n := range r.Down {
				checkPath(t, g, c.edges, c.failed, g.Path(r, n))
			}
		})
	}
}

func TestWhatIfExplains(t *testing.T) {
	t.Parallel()
	g := build(t, dep("svc", DependsOn, "app"), dep("app", RunsOn, "vm"), dep("vm", RunsOn, "host"),
		grp("svc2", "app", "f", 1), grp("svc2", "app2", "f", 1), dep("app2", RunsOn, "vm"))
	r := g.WhatIf(nodes(t, g, "host", "vm"))
	require.Equal(t, []string{"svc", "app", "vm"}, g.Path(r, nodes(t, g, "svc")[0]), "vm failed itself, so the path stops there")
	require.Equal(t, []string{"host"}, g.Path(r, nodes(t, g, "host")[0]))
	// svc2 fell when its second front end went down; either front end is a
	// valid explanation, but the path must end at the failure.
	path := g.Path(r, nodes(t, g, "svc2")[0])
	require.Len(t, path, 3)
	require.Equal(t, "svc2", path[0])
	require.Equal(t, "vm", path[2])
	cause, ok := r.CauseOf(nodes(t, g, "app")[0])
	require.True(t, ok)
	require.Equal(t, "vm", g.Key(cause))
	_, ok = r.CauseOf(nodes(t, g, "vm")[0])
	require.False(t, ok, "a failed CI has no cause")

	r = g.WhatIf(nodes(t, g, "app"))
	require.Nil(t, g.Path(r, nodes(t, g, "vm")[0]), "an up CI has no path")
	require.False(t, r.IsDown(nodes(t, g, "svc2")[0]))
	require.Empty(t, g.WhatIf([]int32{-1, int32(g.Len())}).Down, "indices outside the graph are ignored")
}

// checkPath asserts a path starts at a down node, follows propagating
// relations from each CI to one it needs, and ends at a failed CI.
func checkPath(t *testing.T, g *Graph, edges []Edge, failed, path []string) {
	t.Helper()
	require.NotEmpty(t, path)
	require.Contains(t, failed, path[len(path)-1], "path %v ends at a failure", path)
	for i := 0; i+1 < len(path); i++ {
		require.True(t, slices.ContainsFunc(edges, func(e Edge) bool {
			return e.From == path[i] && e.To == path[i+1] && Propagates(e.Type)
		}), "path %v: %s does not need %s", path, path[i], path[i+1])
	}
}

// naiveDown is the what-if rule read literally: repeat full passes over
// every CI, applying the definition to the raw relations, until nothing
// changes.
func naiveDown(nodes []Node, edges []Edge, failed []string) map[string]bool {
	down := map[string]bool{}
	for _, f := range failed {
		down[f] = true
	}
	type group struct {
		members []string
		minUp   int
	}
	plain := map[string][]string{}
	groups := map[string]map[string]*group{}
	for _, e := range edges {
		switch {
		case !Propagates(e.Type):
		case e.Group == "":
			plain[e.From] = append(plain[e.From], e.To)
		default:
			if groups[e.From] == nil {
				groups[e.From] = map[string]*group{}
			}
			gr := groups[e.From][e.Group]
			if gr == nil {
				gr = &group{minUp: e.MinUp}
				groups[e.From][e.Group] = gr
			}
			if !slices.Contains(gr.members, e.To) {
				gr.members = append(gr.members, e.To)
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, n := range nodes {
			if down[n.Key] {
				continue
			}
			fall := slices.ContainsFunc(plain[n.Key], func(k string) bool { return down[k] })
			for _, gr := range groups[n.Key] {
				up := 0
				for _, m := range gr.members {
					if !down[m] {
						up++
					}
				}
				fall = fall || up < gr.minUp
			}
			if fall {
				down[n.Key] = true
				changed = true
			}
		}
	}
	return down
}

func TestWhatIfMatchesTheRuleOnGeneratedCMDBs(t *testing.T) {
	t.Parallel()
	for seed := range int64(4) {
		ns, es := Generate(seed, 3000, 12000, 60)
		g := buildFrom(t, ns, es)
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		for q := range 25 {
			var failed []string
			for range 1 + q%5 {
				failed = append(failed, ns[rng.IntN(len(ns))].Key)
			}
			if q == 0 {
				failed = keysOf(g, g.AtSite("site-a"))
			}
			r := g.WhatIf(nodes(t, g, failed...))
			want := naiveDown(ns, es, failed)
			require.Len(t, r.Down, len(want), "seed %d failed %v", seed, failed)
			for _, n := range r.Down {
				require.True(t, want[g.Key(n)])
				checkPath(t, g, es, failed, g.Path(r, n))
			}
		}
	}
}

func buildFrom(t testing.TB, ns []Node, es []Edge) *Graph {
	t.Helper()
	b := NewBuilder()
	b.Grow(len(ns), len(es))
	for _, n := range ns {
		b.AddNode(n)
	}
	for _, e := range es {
		b.AddEdge(e)
	}
	g, err := b.Build()
	require.NoError(t, err)
	return g
}

// TestWhatIfConcurrent runs queries from several goroutines on one graph:
// each must get its own working memory from the pool.
func TestWhatIfConcurrent(t *testing.T) {
	t.Parallel()
	ns, es := Generate(5, 2000, 8000, 40)
	g := buildFrom(t, ns, es)
	queries := make([][]int32, 64)
	want := make([]Result, len(queries))
	for i := range queries {
		queries[i] = []int32{int32(i * 31 % g.Len()), int32(i * 17 % g.Len())}
		want[i] = g.WhatIf(queries[i])
	}
	got := make([]Result, len(queries))
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(queries); i += 8 {
				got[i] = g.WhatIf(queries[i])
			}
		})
	}
	wg.Wait()
	for i := range queries {
		require.Equal(t, want[i].Down, got[i].Down)
	}
}
