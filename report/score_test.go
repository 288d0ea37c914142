package report

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

var scoreNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// perfect is one service "svc" that loses no point: tier 1, RPO 1h, a
// fresh verified backup of its database, an approved fresh runbook, a
// technical drill passed a month ago.
func perfect() *inputs {
	b := impact.BIA{Service: "svc"}
	b.Tier, b.RTO, b.RPO = 1, orchestrator.Duration(4*time.Hour), orchestrator.Duration(time.Hour)
	rto := b.RTO
	fresh := scoreNow.Add(-10 * time.Minute)
	return &inputs{
		now:        scoreNow,
		services:   []string{"svc"},
		bias:       map[string]impact.BIA{"svc": b},
		resilience: map[string]impact.ServiceResilienceSummary{"svc": {Service: "svc", RTO: &rto, Scenarios: 3}},
		dataDeps:   map[string][]string{"svc": {"db"}},
		backups:    map[string]*time.Time{"db": &fresh},
		runbooks:   map[string][]runbookFact{"svc": {{ID: 7}}},
		policies: map[int]drills.Policy{
			0: {Tier: 0, Type: drills.TypeTechnical, PerYear: 2}, 1: {Tier: 1, Type: drills.TypeTechnical, PerYear: 2},
			2: {Tier: 2, Type: drills.TypeSimulation, PerYear: 1}, 3: {Tier: 3, Type: drills.TypeTabletop, PerYear: 1},
			4: {Tier: 4, Type: drills.TypeTabletop, PerYear: 1},
		},
		drills: map[string][]drillFact{"svc": {{ID: 3, Type: drills.TypeTechnical, CompletedAt: scoreNow.AddDate(0, -1, 0), Result: drills.ResultPass}}},
	}
}

func component(t *testing.T, r ServiceReadiness, name string) Component {
	t.Helper()
	for _, c := range r.Components {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no component %s", name)
	return Component{}
}

func TestScoreComponents(t *testing.T) {
	t.Parallel()
	r := perfect().score("svc")
	require.Equal(t, 100, r.Score)
	require.Equal(t, StatusReady, r.Status)
	require.Len(t, r.Components, 7)

	for _, tc := range []struct {
		name      string
		component string
		change    func(in *inputs)
		points    int // the component's points after the change
		status    string
		capped    string
		link      string
	}{
		{"no approved BIA", ComponentBIA, func(in *inputs) { delete(in.bias, "svc") }, 0, StatusNotReady, "", "/api/v1/services/svc/bia"},
		{"no approved runbook", ComponentRunbook, func(in *inputs) { delete(in.runbooks, "svc") }, 0, StatusReady, "", "/api/v1/runbooks?service=svc"},
		{"stale runbook", ComponentRunbook, func(in *inputs) {
			in.runbooks["svc"] = []runbookFact{{ID: 7, Stale: true, Flags: []string{"review_due"}}}
		}, 0, StatusReady, "", "/api/v1/runbooks/7"},
		{"RTO missed in a scenario", ComponentRTO, func(in *inputs) {
			r := in.resilience["svc"]
			r.RTOMisses = 1
			r.WorstRTO = &impact.ScenarioBrief{Scenario: impact.Disruption{Type: impact.DisruptionSite, Site: "dc1"}, RTOEstimate: orchestrator.Duration(9 * time.Hour)}
			in.resilience["svc"] = r
		}, 0, StatusAtRisk, capRTO, "/api/v1/services/svc/resilience"},
		{"RPO breached", ComponentRPO, func(in *inputs) {
			old := scoreNow.Add(-3 * time.Hour)
			in.backups["db"] = &old
		}, 0, StatusAtRisk, capRPO, "/api/v1/cis/db/backup-status"},
		{"no backup target", ComponentRPO, func(in *inputs) { delete(in.backups, "db") }, 0, StatusAtRisk, "", "/api/v1/cis/db/backup-status"},
		{"no drill within policy", ComponentDrills, func(in *inputs) {
			in.drills["svc"][0].CompletedAt = scoreNow.AddDate(0, -7, 0)
		}, 0, StatusAtRisk, "", "/api/v1/drills?service=svc"},
		{"drill of a lesser type", ComponentDrills, func(in *inputs) { in.drills["svc"][0].Type = drills.TypeTabletop }, 0, StatusAtRisk, "", "/api/v1/drills?service=svc"},
		{"last drill partial", ComponentDrills, func(in *inputs) { in.drills["svc"][0].Result = drills.ResultPartial }, 10, StatusReady, "", "/api/v1/drills/3/report"},
		{"last drill failed", ComponentDrills, func(in *inputs) { in.drills["svc"][0].Result = drills.ResultFail }, 0, StatusAtRisk, "", "/api/v1/drills/3/report"},
		{"overdue finding", ComponentFindings, func(in *inputs) {
			in.overdue = map[string][]findingFact{"svc": {{ID: 4, Title: "restore slow"}}}
		}, 0, StatusReady, "", "/api/v1/findings?service=svc&overdue=true"},
		{"supplier short", ComponentSuppliers, func(in *inputs) {
			in.supplierGaps = map[string][]impact.Gap{"svc": {{Kind: impact.GapSupplierRTO, Subject: "isp", Message: "isp commits 8h, 4h needed"}}}
		}, 0, StatusReady, "", "/api/v1/suppliers/isp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := perfect()
			tc.change(in)
			r := in.score("svc")
			c := component(t, r, tc.component)
			require.Equal(t, tc.points, c.Points)
			lost := 0
			for _, l := range c.Lost {
				lost += l.Points
				require.NotEmpty(t, l.Reason)
			}
			require.Equal(t, c.Max-c.Points, lost, "every lost point has a reason")
			require.Equal(t, tc.link, c.Lost[0].Link)
			require.Equal(t, tc.status, r.Status, "score %d", r.Score)
			require.Equal(t, tc.capped, r.CappedBy)
		})
	}
}

func TestScoreRPOShareAmongCIs(t *testing.T) {
	t.Parallel()
	in := perfect()
	in.dataDeps["svc"] = []string{"db", "files", "logs"}
	r := in.score("svc")
	c := component(t, r, ComponentRPO)
	require.Len(t, c.Lost, 2)
	require.Equal(t, 10, c.Lost[0].Points)
	require.Equal(t, 10, c.Lost[1].Points)
	require.Equal(t, 0, c.Points)
}

func TestScoreRPOBreachOfOneCI(t *testing.T) {
	t.Parallel()
	in := perfect()
	in.dataDeps["svc"] = []string{"db", "db2", "db3", "db4"}
	old := scoreNow.Add(-2 * time.Hour)
	fresh := scoreNow.Add(-time.Minute)
	in.backups = map[string]*time.Time{"db": &fresh, "db2": &fresh, "db3": &fresh, "db4": &old}
	r := in.score("svc")
	require.Equal(t, 80, r.Score, "RPO compliance is all or nothing: one breached CI loses the 20")
	require.Equal(t, StatusAtRisk, r.Status)
	require.Equal(t, capRPO, r.CappedBy)
	require.Len(t, component(t, r, ComponentRPO).Lost, 1)
}

func TestScoreThresholds(t *testing.T) {
	t.Parallel()
	require.Equal(t, StatusReady, statusOf(85))
	require.Equal(t, StatusAtRisk, statusOf(84))
	require.Equal(t, StatusAtRisk, statusOf(60))
	require.Equal(t, StatusNotReady, statusOf(59))
}

func TestOrganisationWeightsByTier(t *testing.T) {
	t.Parallel()
	tier := func(n int) *int { return &n }
	all := []ServiceReadiness{
		{Service: "a", Tier: tier(0), Score: 100, Status: StatusReady},
		{Service: "b", Tier: tier(4), Score: 40, Status: StatusNotReady},
		{Service: "c", Tier: nil, Score: 40, Status: StatusNotReady},
	}
	org := organise(all, scoreNow)
	// (5×100 + 1×40 + 1×40) / 7
	require.InDelta(t, 82.9, org.Score, 0.001)
	require.Equal(t, StatusAtRisk, org.Status)
	require.Equal(t, map[string]int{StatusReady: 1, StatusAtRisk: 0, StatusNotReady: 2}, org.Counts.ByStatus)
	require.Equal(t, map[string]int{"0": 1, "4": 1, "unassessed": 1}, org.Counts.ByTier)
}
