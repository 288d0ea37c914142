package runbooks

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

func hrs(h float64) orchestrator.Duration { return orchestrator.Duration(h * float64(time.Hour)) }

// fixture is a small CMDB for generation tests.
type fixture struct {
	nodes []impact.Node
	edges []impact.Edge
	cis   map[string]CIInfo
}

func newFixture() *fixture { return &fixture{cis: map[string]CIInfo{}} }

func (f *fixture) ci(key, class, strategy string, est float64) *fixture {
	f.nodes = append(f.nodes, impact.Node{Key: key, Class: class})
	f.cis[key] = CIInfo{Key: key, Name: key, Class: class, RecoveryStrategy: strategy, RecoveryEstimate: hrs(est), Owner: "owner-" + key}
	return f
}

func (f *fixture) dep(from, to string) *fixture {
	f.edges = append(f.edges, impact.Edge{From: from, To: to, Type: impact.DependsOn})
	return f
}

func (f *fixture) group(from, group string, minUp int, to ...string) *fixture {
	for _, t := range to {
		f.edges = append(f.edges, impact.Edge{From: from, To: t, Type: impact.DependsOn, Group: group, MinUp: minUp})
	}
	return f
}

func (f *fixture) input(t *testing.T, scope Scope) Input {
	t.Helper()
	b := impact.NewBuilder()
	for _, n := range f.nodes {
		b.AddNode(n)
	}
	for _, e := range f.edges {
		b.AddEdge(e)
	}
	g, err := b.Build()
	require.NoError(t, err)
	return Input{Graph: g, Scope: scope, Relations: f.edges, CIs: f.cis, BIAs: map[string]BIA{}}
}

// recoverOf finds the step of kind for ci.
func stepOf(t *testing.T, steps []Step, kind, ci string) Step {
	t.Helper()
	i := slices.IndexFunc(steps, func(s Step) bool { return s.Kind == kind && s.CI == ci })
	require.GreaterOrEqual(t, i, 0, "no %s step for %s", kind, ci)
	return steps[i]
}

func position(steps []Step, id string) int {
	return slices.IndexFunc(steps, func(s Step) bool { return s.ID == id })
}

// requireBefore checks every step comes after the steps it depends on.
func requireDependenciesFirst(t *testing.T, steps []Step) {
	t.Helper()
	for i, s := range steps {
		for _, d := range s.DependsOn {
			require.Less(t, position(steps, d), i, "%s depends on %s listed after it", s.ID, d)
		}
	}
}

func TestGenerateDiamond(t *testing.T) {
	// svc → app → {db, cache} → server: db and cache are parallel.
	f := newFixture().ci("svc", "business_service", "manual", 0).ci("app", "application", "failover", 1).
		ci("db", "database", "restore", 3).ci("cache", "middleware", "rebuild", 1).ci("srv", "server", "rebuild", 2).
		dep("svc", "app").dep("app", "db").dep("app", "cache").dep("db", "srv").dep("cache", "srv")
	d, err := Generate(f.input(t, Scope{Service: "svc"}))
	require.NoError(t, err)
	requireDependenciesFirst(t, d.Steps)
	require.Len(t, d.Steps, 4*2+2, "recover+verify per CI, service verification, hand-back")
	require.Equal(t, KindHandback, d.Steps[len(d.Steps)-1].Kind)
	require.Equal(t, KindServiceVerify, d.Steps[len(d.Steps)-2].Kind)

	srvOK := stepOf(t, d.Steps, KindVerify, "srv").ID
	require.Equal(t, []string{srvOK}, stepOf(t, d.Steps, KindRecover, "db").DependsOn)
	require.Equal(t, []string{srvOK}, stepOf(t, d.Steps, KindRecover, "cache").DependsOn, "db and cache run in parallel")
	require.ElementsMatch(t, []string{stepOf(t, d.Steps, KindVerify, "db").ID, stepOf(t, d.Steps, KindVerify, "cache").ID},
		stepOf(t, d.Steps, KindRecover, "app").DependsOn)
	require.Contains(t, stepOf(t, d.Steps, KindRecover, "db").Title, "Restore")
	require.Equal(t, "database administrator", stepOf(t, d.Steps, KindRecover, "db").OwnerRole)
	require.Equal(t, []string{"app", "cache", "db", "srv", "svc"}, d.ScopeCIs)

	sc, err := layout(d.Steps, "steps")
	require.NoError(t, err)
	// srv 2h+12m, db 3h+18m, app 1h+6m, svc check 30m, hand-back 15m.
	require.Equal(t, hrs(2)+minutes(12)+hrs(3)+minutes(18)+hrs(1)+minutes(6)+minutes(30)+minutes(15), sc.total)
	var crit []string
	for _, i := range sc.critical {
		crit = append(crit, d.Steps[i].CI+"/"+d.Steps[i].Kind)
	}
	require.Equal(t, []string{"srv/recover", "srv/verify", "db/recover", "db/verify", "app/recover", "app/verify",
		"svc/service_verify", "/handback"}, crit)
	require.Equal(t, sc.timing[position(d.Steps, stepOf(t, d.Steps, KindRecover, "db").ID)].Wave,
		sc.timing[position(d.Steps, stepOf(t, d.Steps, KindRecover, "cache").ID)].Wave, "parallel steps share a wave")
}

func TestGenerateRedundancyRecoversOnlyWhatTheGroupNeeds(t *testing.T) {
	// app runs on 1 of {vm1 (2h), vm2 (1h)} and 2 of {db1, db2, db3}.
	f := newFixture().ci("svc", "business_service", "manual", 0).ci("app", "application", "failover", 1).
		ci("vm1", "vm", "rebuild", 2).ci("vm2", "vm", "rebuild", 1).
		ci("db1", "database", "restore", 4).ci("db2", "database", "restore", 1).ci("db3", "database", "restore", 2).
		dep("svc", "app").group("app", "hosts", 1, "vm1", "vm2").group("app", "db", 2, "db1", "db2", "db3")
	d, err := Generate(f.input(t, Scope{Service: "svc"}))
	require.NoError(t, err)
	requireDependenciesFirst(t, d.Steps)
	var cis []string
	for _, s := range d.Steps {
		if s.Kind == KindRecover {
			cis = append(cis, s.CI)
		}
	}
	require.ElementsMatch(t, []string{"vm2", "db2", "db3", "app"}, cis, "the quickest members that make up min_up")
	require.Equal(t, []string{"db1", "vm1"}, d.Redundant)
	require.Contains(t, d.Sections.Failback, "Restore redundancy: recover vm1 (left out of the recovery steps because its group had enough members).")

	// A scenario where vm2 failed alone takes nothing else down; vm2 is
	// still recovered.
	d, err = Generate(f.input(t, Scope{Failed: []string{"vm2"}}))
	require.NoError(t, err)
	require.Equal(t, []string{"vm2"}, d.ScopeCIs)
	require.Len(t, d.Steps, 3)

	// Two of three databases failing takes the service down; the one
	// still up counts towards the group, so one more is needed.
	d, err = Generate(f.input(t, Scope{Failed: []string{"db2", "db3"}}))
	require.NoError(t, err)
	require.Equal(t, []string{"app", "db2", "db3", "svc"}, d.ScopeCIs)
	app := stepOf(t, d.Steps, KindRecover, "app")
	require.Equal(t, []string{stepOf(t, d.Steps, KindVerify, "db2").ID}, app.DependsOn, "db1 is up, db2 is the quicker")
	require.Equal(t, KindHandback, d.Steps[len(d.Steps)-1].Kind)
	require.Contains(t, d.Steps[len(d.Steps)-1].DependsOn, stepOf(t, d.Steps, KindVerify, "db3").ID, "failed CIs are recovered too")
}

func TestGenerateCycleStillGivesADAG(t *testing.T) {
	f := newFixture().ci("svc", "business_service", "manual", 0).ci("a", "application", "rebuild", 1).
		ci("b", "application", "rebuild", 1).ci("c", "application", "rebuild", 1).ci("db", "database", "restore", 1).
		dep("svc", "a").dep("a", "b").dep("b", "c").dep("c", "a").dep("c", "db")
	d, err := Generate(f.input(t, Scope{Service: "svc"}))
	require.NoError(t, err)
	requireDependenciesFirst(t, d.Steps)
	require.NoError(t, checkDAG(d.Steps, "steps"))
	require.Equal(t, "db", d.Steps[0].CI, "what the cycle needs comes first")
	for _, k := range []string{"a", "b"} {
		require.Contains(t, stepOf(t, d.Steps, KindRecover, k).Text, "dependency cycle", "%s cannot wait for the member after it", k)
	}
	require.NotContains(t, stepOf(t, d.Steps, KindRecover, "c").Text, "dependency cycle")
	require.Contains(t, stepOf(t, d.Steps, KindRecover, "c").DependsOn, stepOf(t, d.Steps, KindVerify, "a").ID,
		"c waits for a, recovered before it")
}

func TestGenerateBadScope(t *testing.T) {
	f := newFixture().ci("svc", "business_service", "manual", 0).ci("app", "application", "failover", 1).dep("svc", "app")
	for name, tc := range map[string]struct {
		scope Scope
		field string
	}{
		"unknown service":   {Scope{Service: "nope"}, "service"},
		"not a service":     {Scope{Service: "app"}, "service"},
		"unknown failed CI": {Scope{Failed: []string{"app", "../../etc"}}, "scenario.failed"},
		"empty scenario":    {Scope{Failed: []string{}}, "scenario.failed"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Generate(f.input(t, tc.scope))
			require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
			require.Equal(t, tc.field, orchestrator.ErrorFields(err)[0].Field)
		})
	}
}
