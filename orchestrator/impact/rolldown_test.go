package impact

import (
	"math/rand/v2"
	"testing"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/stretchr/testify/require"
)

func TestRollDown(t *testing.T) {
	t.Parallel()
	g := build(t,
		// payments (RTO 4h, RPO 5m) and web (RTO 1h, RPO 24h) share a VM
		// several levels down; each figure is set by a different service.
		dep("payments", DependsOn, "pay-app"), dep("pay-app", DependsOn, "pay-db"), dep("pay-db", RunsOn, "vm"),
		dep("vm", RunsOn, "host"), dep("host", HostedIn, "dc"),
		dep("web", DependsOn, "web-app"), dep("web-app", RunsOn, "vm"),
		// reporting needs payments itself, so payments inherits its RTO.
		dep("reporting", DependsOn, "payments"),
		// backups do not carry requirements; an unused CI has none.
		dep("pay-db", BackedUpBy, "bkp"), dep("spare", RunsOn, "host"),
		// a cycle below a service terminates and is covered.
		dep("web-app", DependsOn, "cache"), dep("cache", DependsOn, "web-app"),
		// two services with the same RTO: the smaller key sets it.
		dep("b-svc", DependsOn, "shared"), dep("a-svc", DependsOn, "shared"),
	)
	ix := func(k string) int32 { return nodes(t, g, k)[0] }
	targets := map[int32]Target{
		ix("payments"):  {RTO: dur(t, "4h"), RPO: dur(t, "5m")},
		ix("web"):       {RTO: dur(t, "1h"), RPO: dur(t, "24h")},
		ix("reporting"): {RTO: dur(t, "30m"), RPO: dur(t, "72h")},
		ix("a-svc"):     {RTO: dur(t, "8h"), RPO: dur(t, "8h")},
		ix("b-svc"):     {RTO: dur(t, "8h"), RPO: dur(t, "8h")},
	}
	req := g.RollDown(targets)
	cases := []struct {
		ci           string
		rto, rtoFrom string
		rpo, rpoFrom string
	}{
		{"reporting", "30m", "reporting", "72h", "reporting"},
		{"payments", "30m", "reporting", "5m", "payments"},
		{"pay-app", "30m", "reporting", "5m", "payments"},
		{"web", "1h", "web", "24h", "web"},
		{"web-app", "1h", "web", "24h", "web"},
		{"cache", "1h", "web", "24h", "web"},
		{"vm", "30m", "reporting", "5m", "payments"},
		{"dc", "30m", "reporting", "5m", "payments"},
		{"shared", "8h", "a-svc", "8h", "a-svc"},
	}
	for _, c := range cases {
		r := req[ix(c.ci)]
		require.Equal(t, c.rto, r.RTO.String(), c.ci)
		require.Equal(t, c.rtoFrom, g.Key(r.RTOFrom), c.ci)
		require.Equal(t, c.rpo, r.RPO.String(), c.ci)
		require.Equal(t, c.rpoFrom, g.Key(r.RPOFrom), c.ci)
	}
	for _, ci := range []string{"bkp", "spare"} {
		require.False(t, req[ix(ci)].HasRTO(), ci)
		require.False(t, req[ix(ci)].HasRPO(), ci)
	}
}

// TestRollDownMatchesTheRule checks the pruned traversal against the
// definition: for each CI, the minimum over every service reaching it.
func TestRollDownMatchesTheRule(t *testing.T) {
	t.Parallel()
	ns, es := Generate(11, 4000, 16000, 150)
	g := buildFrom(t, ns, es)
	targets := generatedTargets(g)
	got := g.RollDown(targets)
	wantRTO := make([]orchestrator.Duration, g.Len())
	wantRPO := make([]orchestrator.Duration, g.Len())
	reached := make([]bool, g.Len())
	for svc, tg := range targets {
		for _, n := range g.Dependencies(svc).Nodes {
			if !reached[n] || tg.RTO < wantRTO[n] {
				wantRTO[n] = tg.RTO
			}
			if !reached[n] || tg.RPO < wantRPO[n] {
				wantRPO[n] = tg.RPO
			}
			reached[n] = true
		}
	}
	for n := range int32(g.Len()) {
		require.Equal(t, reached[n], got[n].HasRTO(), g.Key(n))
		require.Equal(t, reached[n], got[n].HasRPO(), g.Key(n))
		if reached[n] {
			require.Equal(t, wantRTO[n], got[n].RTO, g.Key(n))
			require.Equal(t, wantRPO[n], got[n].RPO, g.Key(n))
			require.Equal(t, got[n].RTO, targets[got[n].RTOFrom].RTO, "the named service sets the RTO")
			require.Equal(t, got[n].RPO, targets[got[n].RPOFrom].RPO, "the named service sets the RPO")
		}
	}
}

// TestRollDownToAgreesWithRollDown checks the roll-down over some CIs'
// ancestors against the whole one, on a generated CMDB with groups,
// shared infrastructure and services needing services.
func TestRollDownToAgreesWithRollDown(t *testing.T) {
	t.Parallel()
	g, err := buildCMDB(Generate(3, 3000, 12000, 60))
	require.NoError(t, err)
	targets := generatedTargets(g)
	all := g.RollDown(targets)
	rng := rand.New(rand.NewPCG(3, 3))
	for _, size := range []int{1, 1, 2, 5, 50, 3000} {
		picked := make([]int32, size)
		for i := range picked {
			picked[i] = int32(rng.IntN(g.Len()))
		}
		some, considered := g.rollDownTo(picked, targets)
		require.LessOrEqual(t, considered, g.Len())
		for _, n := range picked {
			require.Equal(t, all[n], some[n], "requirement of %s", g.Key(n))
		}
	}
}
