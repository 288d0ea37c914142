package runbooks

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/directory"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// benchSteps is the runbook size the issue names.
const benchSteps = 2000

// benchModel is impact.Generate's 100k-CI graph with made-up recovery
// attributes, approved BIAs for every service, and the scope whose
// generated runbook is closest to benchSteps steps.
type benchModel struct {
	g       *impact.Graph
	edges   map[string][]impact.Edge
	cis     map[string]CIInfo
	bias    map[string]BIA
	req     []impact.Requirement
	scope   Scope
	ciCount int
}

var benchSetup = sync.OnceValues(func() (*benchModel, error) {
	nodes, edges := impact.Generate(1, 100_000, 400_000, 2_000)
	b := impact.NewBuilder()
	b.Grow(len(nodes), len(edges))
	m := &benchModel{edges: map[string][]impact.Edge{}, cis: make(map[string]CIInfo, len(nodes)), bias: map[string]BIA{}}
	strategies := []string{"failover", "restore", "rebuild", "manual"}
	targets := map[int32]impact.Target{}
	for i, n := range nodes {
		b.AddNode(n)
		m.cis[n.Key] = CIInfo{Key: n.Key, Name: n.Key, Class: n.Class, Site: n.Site, Owner: "owner-" + fmt.Sprint(i%50),
			DataBearing: n.Class == "database", RecoveryStrategy: strategies[i%len(strategies)],
			RecoveryEstimate: orchestrator.Duration(time.Duration(15+i%240) * time.Minute)}
	}
	for _, e := range edges {
		b.AddEdge(e)
		m.edges[e.From] = append(m.edges[e.From], e)
	}
	var err error
	if m.g, err = b.Build(); err != nil {
		return nil, err
	}
	for i, n := range m.g.OfClass(classBusinessService) {
		rto := orchestrator.Duration(time.Duration(1+i%72) * time.Hour)
		m.bias[m.g.Key(n)] = BIA{Version: 1, Assessment: impact.Assessment{RTO: rto, RPO: rto / 4, WRT: rto / 2, MBCO: 50}}
		targets[n] = impact.Target{RTO: rto, RPO: rto / 4}
	}
	m.req = m.g.RollDown(targets)
	m.scope = m.closestScope()
	return m, nil
})

// input builds the generation input for a scope, reading only the scope's
// relations and CIs as the service does.
func (m *benchModel) input(scope Scope) Input {
	in := Input{Graph: m.g, Scope: scope, CIs: map[string]CIInfo{}, BIAs: m.bias, Requirements: m.req}
	r, err := resolveScope(m.g, scope)
	if err != nil {
		panic(err)
	}
	for _, k := range r.keys(m.g) {
		in.CIs[k] = m.cis[k]
		in.Relations = append(in.Relations, m.edges[k]...)
	}
	return in
}

// closestScope looks through service runbooks, then growing scenarios of
// failed applications, for the one whose draft is nearest benchSteps.
func (m *benchModel) closestScope() Scope {
	best, bestDiff := Scope{}, math.MaxInt
	try := func(s Scope) {
		d, err := Generate(m.input(s))
		if err != nil {
			return
		}
		if diff := abs(len(d.Steps) - benchSteps); diff < bestDiff {
			best, bestDiff, m.ciCount = s, diff, len(d.ScopeCIs)
		}
	}
	for _, n := range m.g.OfClass(classBusinessService)[:200] {
		try(Scope{Service: m.g.Key(n)})
	}
	apps := m.g.OfClass("application")
	for k := 50; k <= 2000 && bestDiff > 50; k += 50 {
		var failed []string
		for i := 0; i < k; i++ {
			failed = append(failed, m.g.Key(apps[(i*7919)%len(apps)]))
		}
		try(Scope{Failed: failed})
	}
	return best
}

func abs(x int) int { return max(x, -x) }

// evidenceFor is what feasibility reads for a draft, as the service would
// gather it.
func (m *benchModel) evidenceFor(d Draft) evidence {
	ev := evidence{Services: d.Services, BIAs: m.bias, CIs: map[string]CIInfo{}, ScopeCIs: d.ScopeCIs,
		RequiredRTO: map[string]orchestrator.Duration{}, RequiredRPO: map[string]orchestrator.Duration{},
		Backups: map[string]BackupStatus{}, Suppliers: map[string][]directory.Supplier{}, CallTrees: map[string]directory.CallTree{},
		Contacts: map[string]directory.Contact{}, TreeServices: d.Sections.CallTree.Services}
	for _, k := range d.ScopeCIs {
		ev.CIs[k] = m.cis[k]
		if n, ok := m.g.Index(k); ok && m.req[n].HasRPO() {
			ev.RequiredRTO[k], ev.RequiredRPO[k] = m.req[n].RTO, m.req[n].RPO
		}
	}
	return ev
}

// BenchmarkGenerateAndAssess generates a ~2,000-step runbook over the
// 100k-CI graph and computes its feasibility, as POST /runbooks and a GET
// do after their database reads.
func BenchmarkGenerateAndAssess(b *testing.B) {
	m, err := benchSetup()
	if err != nil {
		b.Fatal(err)
	}
	var steps int
	b.ResetTimer()
	for b.Loop() {
		in := m.input(m.scope)
		d, err := Generate(in)
		if err != nil {
			b.Fatal(err)
		}
		f := assess(d.Steps, m.evidenceFor(d))
		if f.EstimatedRecovery <= 0 {
			b.Fatal("no estimate")
		}
		steps = len(d.Steps)
	}
	b.ReportMetric(float64(steps), "steps")
	b.ReportMetric(float64(m.ciCount), "scope_cis")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/runbook")
}

// BenchmarkAssess times feasibility alone, which every read recomputes.
func BenchmarkAssess(b *testing.B) {
	m, err := benchSetup()
	if err != nil {
		b.Fatal(err)
	}
	d, err := Generate(m.input(m.scope))
	if err != nil {
		b.Fatal(err)
	}
	ev := m.evidenceFor(d)
	b.ResetTimer()
	for b.Loop() {
		assess(d.Steps, ev)
	}
	b.ReportMetric(float64(len(d.Steps)), "steps")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/assess")
}

// BenchmarkScenarioRunbookSite generates the scenario runbook for the loss
// of a whole site of the 100k-CI graph — the impact model's recovery plan
// (failover where a replica stands, in place elsewhere), its steps and its
// feasibility — as POST /runbooks {"scenario":{"failed":["site-a"]}} and a
// GET do after their database reads.
func BenchmarkScenarioRunbookSite(b *testing.B) {
	m, err := benchSetup()
	if err != nil {
		b.Fatal(err)
	}
	ci := func(n int32) CIInfo { return m.cis[m.g.Key(n)] }
	facts := impact.RecoveryFacts{
		Estimate:    func(n int32) orchestrator.Duration { return ci(n).RecoveryEstimate },
		Strategy:    func(n int32) string { return ci(n).RecoveryStrategy },
		DataBearing: func(n int32) bool { return ci(n).DataBearing },
	}
	site, ok := m.g.Index("site-a")
	if !ok {
		b.Fatal("no site-a")
	}
	scope := Scope{Failed: []string{"site-a"}}
	var (
		steps, scopeCIs, failovers int
		f                          Feasibility
	)
	b.ResetTimer()
	for b.Loop() {
		in := m.input(scope)
		plan := impact.PlanFailures(m.g, facts, []int32{site})
		in.Plan = &plan
		d, err := Generate(in)
		if err != nil {
			b.Fatal(err)
		}
		ev := m.evidenceFor(d)
		ev.Plan = &plan
		f = assess(d.Steps, ev)
		if f.EstimatedRecovery <= 0 {
			b.Fatal("no estimate")
		}
		steps, scopeCIs, failovers = len(d.Steps), len(d.ScopeCIs), 0
		for _, a := range plan.Actions {
			if a.Action == impact.ActionFailover {
				failovers++
			}
		}
	}
	b.ReportMetric(float64(steps), "steps")
	b.ReportMetric(float64(scopeCIs), "scope_cis")
	b.ReportMetric(float64(failovers), "failovers")
	b.ReportMetric(float64(f.EstimatedRecovery)/float64(time.Hour), "estimate-h")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/runbook")
}
