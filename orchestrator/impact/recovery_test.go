package impact

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

func pd(s string) orchestrator.Duration {
	d, err := orchestrator.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}

func durp(s string) *orchestrator.Duration {
	d := pd(s)
	return &d
}

// ci is a CI of a hand-built CMDB: "class:key@site", estimate, strategy,
// data-bearing and the age of its newest verified backup ("" for none).
type ci struct {
	spec     string
	estimate string
	strategy string
	data     bool
	backup   string
}

// standby is a standby relation with its failover attributes.
func standby(from, typ, to, estimate, activation, replication, lag string) Edge {
	e := Edge{From: from, To: to, Type: typ, Failover: Failover{Activation: activation, Replication: replication}}
	if estimate != "" {
		e.Failover.Estimate = durp(estimate)
	}
	if lag != "" {
		e.Failover.Lag = durp(lag)
	}
	return e
}

type planFixture struct {
	g     *Graph
	facts RecoveryFacts
}

func newPlanFixture(t *testing.T, cis []ci, edges ...Edge) planFixture {
	t.Helper()
	b := NewBuilder()
	type info struct {
		est      orchestrator.Duration
		strategy string
		data     bool
		backup   *orchestrator.Duration
	}
	infos := map[string]info{}
	for _, c := range cis {
		class, rest, _ := strings.Cut(c.spec, ":")
		key, site, _ := strings.Cut(rest, "@")
		b.AddNode(Node{Key: key, Class: class, Site: site})
		in := info{strategy: c.strategy, data: c.data}
		if c.estimate != "" {
			in.est = pd(c.estimate)
		}
		if c.backup != "" {
			in.backup = durp(c.backup)
		}
		infos[key] = in
	}
	for _, e := range edges {
		b.AddEdge(e)
	}
	g, err := b.Build()
	require.NoError(t, err)
	f := RecoveryFacts{
		Estimate:    func(n int32) orchestrator.Duration { return infos[g.Key(n)].est },
		Strategy:    func(n int32) string { return infos[g.Key(n)].strategy },
		DataBearing: func(n int32) bool { return infos[g.Key(n)].data },
		Backup: func(n int32) (orchestrator.Duration, bool, bool) {
			in := infos[g.Key(n)]
			if in.backup == nil {
				return 0, false, false
			}
			return *in.backup, true, true
		},
	}
	return planFixture{g: g, facts: f}
}

// plan recovers service in the scenario where failed fail (and corrupt
// are corrupted).
func (f planFixture) plan(t *testing.T, service string, failed, corrupt []string) (Plan, bool) {
	t.Helper()
	p := newPlanner(f.g, f.facts)
	defer p.release()
	p.limit(nil)
	p.scenario(nodes(t, f.g, failed...), nodes(t, f.g, corrupt...))
	n := nodes(t, f.g, service)[0]
	if !p.down(n) {
		return Plan{}, false
	}
	return p.result(n), true
}

func actionOf(p Plan, key string) PlanAction {
	for _, a := range p.Actions {
		if a.CI == key {
			return a
		}
	}
	return PlanAction{}
}

// requireCriticalPath checks that the RTO is the critical path's length
// and that its steps follow one another.
func requireCriticalPath(t *testing.T, p Plan) {
	t.Helper()
	require.NotEmpty(t, p.CriticalPath)
	var sum orchestrator.Duration
	for _, s := range p.CriticalPath {
		sum += s.Estimate
	}
	require.Equal(t, p.RTO, sum, "the RTO estimate is the critical path's length")
	require.Equal(t, p.RTO, p.CriticalPath[len(p.CriticalPath)-1].Finish)
	require.Equal(t, ActionVerifyService, p.CriticalPath[len(p.CriticalPath)-1].Kind)
}

// dualSite is a service whose application and database run at site-a with
// standbys at site-b.
func dualSite(t *testing.T, drSite string) planFixture {
	return newPlanFixture(t, []ci{
		{spec: "business_service:svc"},
		{spec: "site:site-a@site-a", estimate: "72h", strategy: "manual"},
		{spec: "site:site-b@site-b", estimate: "72h", strategy: "manual"},
		{spec: "application:app@site-a", estimate: "2h", strategy: "rebuild"},
		{spec: "vm:vm@site-a", estimate: "2h", strategy: "rebuild"},
		{spec: "database:db@site-a", estimate: "4h", strategy: "restore", data: true, backup: "30h"},
		{spec: "backup_repository:bkp@site-b", estimate: "8h", strategy: "rebuild", data: true},
		{spec: "application:app-dr@" + drSite, estimate: "30m", strategy: "failover"},
		{spec: "vm:vm-dr@" + drSite, estimate: "2h", strategy: "rebuild"},
		{spec: "database:db-dr@" + drSite, estimate: "30m", strategy: "failover", data: true},
	},
		dep("svc", DependsOn, "app"), dep("app", RunsOn, "vm"), dep("app", DependsOn, "db"), dep("db", RunsOn, "vm"),
		dep("vm", HostedIn, "site-a"), dep("db", BackedUpBy, "bkp"), dep("bkp", HostedIn, "site-b"),
		standby("app", FailsOverTo, "app-dr", "15m", "manual", "", ""),
		standby("db", ReplicatesTo, "db-dr", "10m", "automatic", "async", "5m"),
		dep("app-dr", RunsOn, "vm-dr"), dep("app-dr", DependsOn, "db-dr"), dep("db-dr", RunsOn, "vm-dr"),
		dep("vm-dr", HostedIn, "site-"+drSite[len(drSite)-1:]),
	)
}

func TestPlanFailsOverWhenTheStandbyStands(t *testing.T) {
	t.Parallel()
	f := dualSite(t, "site-b")
	p, down := f.plan(t, "svc", keysOf(f.g, f.g.AtSite("site-a")), nil)
	require.True(t, down)
	app, db := actionOf(p, "app"), actionOf(p, "db")
	require.Equal(t, ActionFailover, app.Action)
	require.Equal(t, "app-dr", app.Standby)
	require.Equal(t, ActionFailover, db.Action)
	require.Equal(t, "db-dr", db.Standby)
	require.Equal(t, []string{"app-dr", "db-dr"}, p.Standbys)
	// db-dr promoted first (10m, automatic, 15m data check), since app-dr
	// needs it; then app: 15m failover + 10m repoint (manual) + 5m check;
	// then the service's 30m check.
	require.Equal(t, pd("1h25m"), p.RTO)
	require.Equal(t, []string{"db"}, app.After)
	require.Equal(t, durp("5m"), p.RPO, "the async replica's lag")
	requireCriticalPath(t, p)
	for _, a := range p.Actions {
		require.NotEqual(t, "site-a", a.CI, "the plan never waits for the lost site")
		require.NotEqual(t, "vm", a.CI, "the failed CI's dependencies leave the plan")
	}
}

func TestPlanDoesNotFailOverToAStandbyInTheLostSite(t *testing.T) {
	t.Parallel()
	f := dualSite(t, "site-a")
	p, down := f.plan(t, "svc", keysOf(f.g, f.g.AtSite("site-a")), nil)
	require.True(t, down)
	require.Empty(t, p.Standbys)
	require.Equal(t, ActionRebuild, actionOf(p, "app").Action)
	// The database restores from the backup kept at site-b.
	db := actionOf(p, "db")
	require.Equal(t, ActionRestore, db.Action)
	require.Equal(t, durp("30h"), db.RPO)
	require.Equal(t, durp("30h"), p.RPO)
	requireCriticalPath(t, p)
	require.Greater(t, p.RTO, pd("4h"))
}

func TestPlanCorruptionNeverUsesAReplica(t *testing.T) {
	t.Parallel()
	f := dualSite(t, "site-b")
	// A plain failure of the database fails over to its replica.
	p, _ := f.plan(t, "svc", []string{"db"}, nil)
	require.Equal(t, ActionFailover, actionOf(p, "db").Action)
	require.Equal(t, durp("5m"), p.RPO)
	// Corruption reaches the replica too: only the backup helps.
	p, down := f.plan(t, "svc", []string{"db", "db-dr"}, []string{"db", "db-dr"})
	require.True(t, down)
	require.Empty(t, p.Standbys)
	require.Equal(t, ActionRestore, actionOf(p, "db").Action)
	require.Equal(t, durp("30h"), p.RPO, "the age of the newest verified backup, though a replica exists")
	requireCriticalPath(t, p)
}

func TestPlanStandbyOfAStandby(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t, []ci{
		{spec: "business_service:svc"},
		{spec: "database:db@site-a", estimate: "4h", strategy: "restore", data: true},
		{spec: "database:db-b@site-b", estimate: "30m", strategy: "failover", data: true},
		{spec: "database:db-c@site-c", estimate: "30m", strategy: "failover", data: true},
	},
		dep("svc", DependsOn, "db"),
		standby("db", ReplicatesTo, "db-b", "10m", "automatic", "async", "5m"),
		standby("db-b", ReplicatesTo, "db-c", "20m", "automatic", "async", "10m"),
	)
	p, _ := f.plan(t, "svc", []string{"db", "db-b"}, nil)
	db := actionOf(p, "db")
	require.Equal(t, ActionFailover, db.Action)
	require.Equal(t, "db-c", db.Standby)
	require.Equal(t, []string{"db-b"}, db.Via)
	require.Equal(t, pd("20m"), db.Estimate, "the last hop's switch")
	require.Equal(t, durp("15m"), p.RPO, "the lags of both hops")
	requireCriticalPath(t, p)

	// With only the first standby lost, the nearest one serves.
	p, _ = f.plan(t, "svc", []string{"db"}, nil)
	require.Equal(t, "db-b", actionOf(p, "db").Standby)
	require.Equal(t, durp("5m"), p.RPO)
}

func TestPlanGroupsAndCycles(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t, []ci{
		{spec: "business_service:svc"},
		{spec: "application:app", estimate: "1h", strategy: "rebuild"},
		{spec: "vm:vm1", estimate: "1h", strategy: "rebuild"},
		{spec: "vm:vm2", estimate: "3h", strategy: "rebuild"},
		{spec: "middleware:a", estimate: "1h", strategy: "rebuild"},
		{spec: "middleware:b", estimate: "1h", strategy: "rebuild"},
		{spec: "server:c", estimate: "2h", strategy: "rebuild"},
	},
		dep("svc", DependsOn, "app"), grp("app", "vm1", "h", 1), grp("app", "vm2", "h", 1),
		dep("app", DependsOn, "a"), dep("a", DependsOn, "b"), dep("b", DependsOn, "a"), dep("b", DependsOn, "c"),
	)
	_, down := f.plan(t, "svc", []string{"vm1"}, nil)
	require.False(t, down, "one member of a 1-of-2 group is not a scenario that hits the service")

	p, down := f.plan(t, "svc", []string{"vm1", "vm2"}, nil)
	require.True(t, down)
	require.Equal(t, ActionRebuild, actionOf(p, "vm1").Action, "the quicker member is rebuilt")
	require.Empty(t, actionOf(p, "vm2").Action, "one member is enough")
	requireCriticalPath(t, p)
	// vm1 1h + 6m check, app restarts and is checked (5m), service 30m.
	require.Equal(t, pd("1h41m"), p.RTO)

	p, down = f.plan(t, "svc", []string{"c"}, nil)
	require.True(t, down, "a failure under a cycle takes it down")
	requireCriticalPath(t, p)
	// c 2h + 12m, the cycle's members once each 5m + 5m, app 5m, service 30m.
	require.Equal(t, pd("2h57m"), p.RTO)
}

func TestPlanRPOUnknownWithoutEvidence(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t, []ci{
		{spec: "business_service:svc"},
		{spec: "database:db", estimate: "4h", strategy: "restore", data: true},
		{spec: "database:db-r", strategy: "failover", data: true},
	},
		dep("svc", DependsOn, "db"), standby("db", ReplicatesTo, "db-r", "", "", "", ""))
	p, _ := f.plan(t, "svc", []string{"db"}, nil)
	require.Equal(t, ActionFailover, actionOf(p, "db").Action)
	require.Nil(t, p.RPO, "no lag or replication mode recorded")
	require.NotEmpty(t, p.Notes)
	require.True(t, actionOf(p, "db").Assumed, "no failover estimate anywhere: the default is assumed and said so")
	p, _ = f.plan(t, "svc", []string{"db", "db-r"}, []string{"db", "db-r"})
	require.Equal(t, ActionRebuild, actionOf(p, "db").Action)
	require.Nil(t, p.RPO, "no verified backup")
	require.Contains(t, strings.Join(p.Notes, "\n"), "db: data lost unknown")
}

// serviceResilience runs the per-service scenario enumeration over a
// fixture, with regions for its sites and a BIA for svc.
func (f planFixture) serviceResilience(t *testing.T, regions map[string]string, rto, rpo string) ServiceResilience {
	t.Helper()
	snap := &Snapshot{Graph: f.g, regions: regions}
	bias := map[string]BIA{"svc": {Service: "svc", Version: 1, Assessment: Assessment{RTO: pd(rto), RPO: pd(rpo)}}}
	rc := &recoveryContext{snap: snap, facts: f.facts, bias: bias}
	p := newPlanner(f.g, f.facts)
	defer p.release()
	svc := nodes(t, f.g, "svc")[0]
	r := rc.service(p, svc)
	require.Equal(t, summarise(r), rc.summary(p, svc), "the organisation's summary agrees with the service's scenarios")
	return r
}

func findDisruption(t *testing.T, r ServiceResilience, typ, subject string) ScenarioResilience {
	t.Helper()
	for _, s := range r.Scenarios {
		if s.Scenario.Type == typ && (s.Scenario.Site == subject || s.Scenario.Region == subject || slices.Contains(s.Scenario.CIs, subject)) {
			return s
		}
	}
	t.Fatalf("no %s scenario of %s in %+v", typ, subject, r.Scenarios)
	return ScenarioResilience{}
}

func TestServiceScenarios(t *testing.T) {
	t.Parallel()
	f := newPlanFixture(t, []ci{
		{spec: "business_service:svc"},
		{spec: "site:site-a@site-a", estimate: "72h", strategy: "manual"},
		{spec: "site:site-b@site-b", estimate: "72h", strategy: "manual"},
		{spec: "application:app@site-a", estimate: "1h", strategy: "rebuild"},
		{spec: "database:db@site-a", estimate: "2h", strategy: "restore", data: true, backup: "26h"},
		{spec: "storage:vol@site-a", estimate: "3h", strategy: "restore", data: true},
		{spec: "database:db-r@site-b", estimate: "30m", strategy: "failover", data: true},
		{spec: "storage:vol-r@site-b", estimate: "3h", strategy: "restore", data: true},
	},
		dep("svc", DependsOn, "app"), dep("app", DependsOn, "db"), dep("db", DependsOn, "vol"),
		dep("app", HostedIn, "site-a"), dep("vol", HostedIn, "site-a"), dep("db-r", DependsOn, "vol-r"), dep("vol-r", HostedIn, "site-b"),
		standby("db", ReplicatesTo, "db-r", "10m", "automatic", "async", "5m"),
	)
	r := f.serviceResilience(t, map[string]string{"site-a": "east", "site-b": "east"}, "4h", "1h")
	// Losing the volume's storage alone: the database fails over.
	vol := findDisruption(t, r, DisruptionCI, "vol")
	require.Equal(t, []string{"db-r"}, vol.Standbys)
	require.True(t, *vol.RPOMet)
	// Corrupting the volume corrupts the database on it and so its replica:
	// the database is restored from its day-old backup.
	corrupt := findDisruption(t, r, DisruptionCorruption, "vol")
	require.Empty(t, corrupt.Standbys)
	require.Nil(t, corrupt.RPOEstimate, "the volume itself has no verified backup")
	corruptDB := findDisruption(t, r, DisruptionCorruption, "db")
	require.Equal(t, pd("26h"), *corruptDB.RPOEstimate)
	require.False(t, *corruptDB.RPOMet)
	// The region holds both sites: nothing to fail over to.
	region := findDisruption(t, r, DisruptionRegion, "east")
	require.Empty(t, region.Standbys)
	require.False(t, *region.RTOMet, "the site's 72h")
	site := findDisruption(t, r, DisruptionSite, "site-a")
	require.False(t, *site.RTOMet, "the application has no standby: the site's 72h")
	for _, s := range r.Scenarios {
		require.NotEqual(t, "site-b", s.Scenario.Site, "a site of standbys only does not take the service down")
	}
	for i := 1; i < len(r.Scenarios); i++ {
		require.GreaterOrEqual(t, misses(r.Scenarios[i-1]), misses(r.Scenarios[i]), "worst first")
	}
	require.Equal(t, 1, misses(r.Scenarios[0]))
}
