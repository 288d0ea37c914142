package impact

import (
	"testing"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/stretchr/testify/require"
)

func TestRecoveryOrder(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		edges []Edge
		down  []string
		rto   map[string]string // missing: no RTO
		want  []string
	}{
		{"chain: what is needed first", []Edge{dep("svc", DependsOn, "app"), dep("app", RunsOn, "vm"), dep("vm", HostedIn, "dc")},
			[]string{"svc", "app", "vm", "dc"}, nil, []string{"dc", "vm", "app", "svc"}},
		{"diamond: tighter RTO breaks the tie", []Edge{dep("svc", DependsOn, "a"), dep("svc", DependsOn, "b"),
			dep("a", DependsOn, "db"), dep("b", DependsOn, "db")},
			[]string{"svc", "a", "b", "db"}, map[string]string{"svc": "30m", "a": "4h", "b": "1h", "db": "30m"},
			[]string{"db", "b", "a", "svc"}},
		{"diamond: equal RTOs fall back to key", []Edge{dep("svc", DependsOn, "b"), dep("svc", DependsOn, "a"),
			dep("a", DependsOn, "db"), dep("b", DependsOn, "db")},
			[]string{"svc", "b", "a", "db"}, map[string]string{"a": "1h", "b": "1h"}, []string{"db", "a", "b", "svc"}},
		{"no RTO goes after any RTO", []Edge{dep("x", DependsOn, "y")},
			[]string{"x", "y", "lone"}, map[string]string{"lone": "168h"}, []string{"lone", "y", "x"}},
		{"dependencies beat RTO", []Edge{dep("fast", DependsOn, "slow")},
			[]string{"fast", "slow"}, map[string]string{"fast": "1h", "slow": "72h"}, []string{"slow", "fast"}},
		{"cycle recovered as a block after its needs", []Edge{dep("a", DependsOn, "b"), dep("b", DependsOn, "c"),
			dep("c", DependsOn, "a"), dep("b", DependsOn, "db"), dep("svc", DependsOn, "a")},
			[]string{"svc", "a", "b", "c", "db"}, map[string]string{"c": "1h", "a": "4h", "b": "4h"},
			[]string{"db", "c", "a", "b", "svc"}},
		{"needs that are up are ignored, duplicates dropped", []Edge{dep("svc", DependsOn, "app"), dep("app", RunsOn, "vm")},
			[]string{"svc", "app", "app", "svc"}, nil, []string{"app", "svc"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			g := build(t, append(c.edges, dep("lone", DependsOn, "lone-needs"))...)
			rto := func(n int32) (orchestrator.Duration, bool) {
				s, ok := c.rto[g.Key(n)]
				if !ok {
					return 0, false
				}
				return dur(t, s), true
			}
			require.Equal(t, c.want, keysOf(g, g.RecoveryOrder(nodes(t, g, c.down...), rto)))
		})
	}
}

func TestRecoveryOrderOnGeneratedCMDB(t *testing.T) {
	t.Parallel()
	ns, es := Generate(3, 5000, 20000, 100)
	g := buildFrom(t, ns, es)
	req := g.RollDown(generatedTargets(g))
	rto := func(n int32) (orchestrator.Duration, bool) { return req[n].RTO, req[n].HasRTO() }
	r := g.WhatIf(g.AtSite("site-a"))
	order := g.RecoveryOrder(r.Down, rto)
	require.ElementsMatch(t, r.Down, order, "every down CI exactly once")
	pos := make(map[int32]int, len(order))
	for i, n := range order {
		pos[n] = i
	}
	// Outside a cycle, whatever a CI needs comes first. Generated cycles
	// are mutual pairs, so a need that comes later must need the CI back.
	for _, n := range order {
		for _, m := range g.Needs(n) {
			if p, down := pos[m]; down && p > pos[n] {
				require.Contains(t, g.Needs(m), n, "%s before its need %s", g.Key(n), g.Key(m))
			}
		}
	}
}

// generatedTargets gives every generated business service an RTO and RPO
// spread over the usual range.
func generatedTargets(g *Graph) map[int32]Target {
	rtos := []orchestrator.Duration{hours(1), hours(4), hours(8), hours(24), hours(72)}
	targets := map[int32]Target{}
	for i, s := range g.OfClass("business_service") {
		targets[s] = Target{RTO: rtos[i%len(rtos)], RPO: rtos[(i*3+1)%len(rtos)] / 4}
	}
	return targets
}
