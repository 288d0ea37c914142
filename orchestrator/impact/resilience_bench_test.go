package impact

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

// benchRecovery is the generated 100k-CI CMDB with recovery facts: an
// estimate and strategy by class, data in databases, storage and backup
// repositories, a verified backup of every second database (its age
// varying up to two days), one supplier per supplier_service CI and an
// approved BIA for every service.
func benchRecovery(b *testing.B) *recoveryContext {
	return recoveryFixture(benchGraph())
}

// recoveryFixture gives g the recovery facts benchRecovery describes.
func recoveryFixture(g *Graph) *recoveryContext {
	n := g.Len()
	snap := &Snapshot{Graph: g, estimates: make([]orchestrator.Duration, n), dataBearing: make([]bool, n),
		strategies: make([]string, n), regions: map[string]string{}}
	byClass := map[string]struct {
		estimate orchestrator.Duration
		strategy string
		data     bool
	}{
		"site": {hours(72), "manual", false}, "network": {hours(1), "failover", false}, "storage": {hours(4), "restore", true},
		"server": {hours(4), "rebuild", false}, "vm": {hours(2), "rebuild", false}, "database": {hours(3), "restore", true},
		"middleware": {hours(1), "rebuild", false}, "application": {hours(1), "rebuild", false},
		"backup_repository": {hours(8), "rebuild", true}, "supplier_service": {hours(4), "supplier", false},
	}
	backups := map[int32]orchestrator.Duration{}
	suppliers := map[string][]int32{}
	for i := range int32(n) {
		c := byClass[g.Class(i)]
		snap.estimates[i], snap.strategies[i], snap.dataBearing[i] = c.estimate, c.strategy, c.data
		if g.Class(i) == "database" && i%2 == 0 {
			backups[i] = orchestrator.Duration(time.Duration(i%48) * time.Hour)
		}
		if g.Class(i) == "supplier_service" {
			suppliers["supplier-"+g.Key(i)] = []int32{i}
		}
	}
	facts := RecoveryFacts{Estimate: snap.Estimate, Strategy: snap.Strategy, DataBearing: snap.DataBearing,
		Backup: func(n int32) (orchestrator.Duration, bool, bool) {
			age, ok := backups[n]
			return age, ok, ok
		}}
	bias := map[string]BIA{}
	for s, t := range generatedTargets(g) {
		bias[g.Key(s)] = BIA{Service: g.Key(s), Version: 1, Assessment: Assessment{RTO: t.RTO, RPO: t.RPO}}
	}
	return &recoveryContext{snap: snap, facts: facts, bias: bias, suppliers: suppliers, supplierKeys: sortedSet(suppliers), now: time.Now()}
}

// BenchmarkResilienceAll evaluates every scenario of every business
// service (GET /resilience without its database reads), on every core.
func BenchmarkResilienceAll(b *testing.B) {
	rc := benchRecovery(b)
	var sum ResilienceSummary
	b.ResetTimer()
	for b.Loop() {
		var err error
		if sum, err = rc.all(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/all")
	scenarios := 0
	for _, s := range sum.Services {
		scenarios += s.Scenarios
	}
	b.ReportMetric(float64(len(sum.Services)), "services")
	b.ReportMetric(float64(scenarios)/float64(len(sum.Services)), "scenarios/service")
}

// BenchmarkResilienceService times one service's resilience (GET
// /services/{key}/resilience without its database reads) for every
// service in turn, and reports latency percentiles.
func BenchmarkResilienceService(b *testing.B) {
	rc := benchRecovery(b)
	services := rc.snap.Graph.OfClass(ClassBusinessService)
	var lat []time.Duration
	evaluated := 0
	b.ResetTimer()
	for b.Loop() {
		p := newPlanner(rc.snap.Graph, rc.facts)
		for _, s := range services {
			start := time.Now()
			r := rc.service(p, s)
			lat = append(lat, time.Since(start))
			evaluated += len(r.Scenarios)
		}
		p.release()
	}
	reportLatency(b, lat)
	b.ReportMetric(float64(evaluated)/float64(len(lat)), "scenarios/service")
}

// BenchmarkPlanSite plans the recovery of every service the loss of a
// whole site takes down.
func BenchmarkPlanSite(b *testing.B) {
	rc := benchRecovery(b)
	g := rc.snap.Graph
	failed := g.AtSite("site-a")
	var plan ScenarioPlan
	b.ResetTimer()
	for b.Loop() {
		plan = PlanFailures(g, rc.facts, failed)
	}
	b.ReportMetric(float64(len(failed)), "failed")
	b.ReportMetric(float64(len(plan.Actions)), "actions")
	b.ReportMetric(float64(len(plan.Services)), "services")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/plan")
}

// The organisation's summary, computed from the planner's brief, agrees
// with every service's full list of scenarios on a generated CMDB with
// redundancy groups, replicas and cycles.
func TestSummaryAgreesWithServiceResilience(t *testing.T) {
	t.Parallel()
	ns, es := Generate(3, 5000, 20000, 100)
	g, err := buildCMDB(ns, es)
	require.NoError(t, err)
	rc := recoveryFixture(g)
	p := newPlanner(g, rc.facts)
	defer p.release()
	hit := 0
	for _, s := range g.OfClass(ClassBusinessService) {
		r := rc.service(p, s)
		require.Equal(t, summarise(r), rc.summary(p, s), g.Key(s))
		for _, sc := range r.Scenarios {
			require.Equal(t, sc.RTOEstimate, sc.CriticalPath[len(sc.CriticalPath)-1].Finish, "%s %+v", g.Key(s), sc.Scenario)
		}
		hit += len(r.Scenarios)
	}
	require.Positive(t, hit)
}
