package impact

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Disruption types: what a scenario fails.
const (
	DisruptionCI         = "ci_failure"
	DisruptionSite       = "site_loss"
	DisruptionSupplier   = "supplier_loss"
	DisruptionRegion     = "region_loss"
	DisruptionCorruption = "corruption"
)

// BackupEvidence tells which backups real checks verified. The backup
// capability implements it; impact asks through it rather than reading
// backup's tables.
type BackupEvidence interface {
	// VerifiedBackups returns, for every CI with a backup target, the
	// newest backup verified by a check made no later than at (nil when
	// none).
	VerifiedBackups(ctx context.Context, at time.Time) (map[string]*time.Time, error)
}

// WithBackupEvidence gives the service the backup capability's verified
// backups; without it every restore's data loss is unknown.
func WithBackupEvidence(b BackupEvidence) Option {
	return func(s *Service) { s.evidence = b }
}

// Disruption is a scenario derived from the CMDB. CIs lists the failed CIs
// of a CI failure (several alike CIs of one class share an entry) and the
// corrupted CI of a corruption; a site, supplier or region loss names it.
type Disruption struct {
	Type     string   `json:"type"`
	CIs      []string `json:"cis,omitempty"`
	Class    string   `json:"class,omitempty"`
	Site     string   `json:"site,omitempty"`
	Supplier string   `json:"supplier,omitempty"`
	Region   string   `json:"region,omitempty"`
}

// ScenarioResilience is how one business service recovers from one
// scenario that takes it down.
type ScenarioResilience struct {
	Scenario Disruption `json:"scenario"`
	// Strategy is the chain of actions the recovery takes, restarts of
	// CIs that only went down with their dependencies left out.
	Strategy    []PlanAction           `json:"strategy"`
	Standbys    []string               `json:"standbys"`
	RTOEstimate orchestrator.Duration  `json:"rto_estimate"`
	RPOEstimate *orchestrator.Duration `json:"rpo_estimate"`
	// RTOMet and RPOMet compare with the approved BIA; null without one,
	// and RPOMet null when the data lost is unknown.
	RTOMet       *bool      `json:"rto_met"`
	RPOMet       *bool      `json:"rpo_met"`
	CriticalPath []PlanStep `json:"critical_path"`
	Notes        []string   `json:"notes"`
}

// ServiceResilience is every scenario that can take a service down, worst
// first.
type ServiceResilience struct {
	Service     string                 `json:"service"`
	BIAVersion  *int                   `json:"bia_version"`
	RTO         *orchestrator.Duration `json:"rto"`
	RPO         *orchestrator.Duration `json:"rpo"`
	Scenarios   []ScenarioResilience   `json:"scenarios"`
	EvaluatedAt time.Time              `json:"evaluated_at"`
}

// recoveryContext is what resilience questions read once per request.
type recoveryContext struct {
	snap      *Snapshot
	facts     RecoveryFacts
	bias      map[string]BIA
	suppliers map[string][]int32 // supplier key → its supplier_service CIs
	// supplierKeys are the suppliers' keys in order.
	supplierKeys []string
	now          time.Time
}

// recoveryContext reads the graph, the approved BIAs of the services asked
// about (all with nil), the suppliers' services and the verified backups
// at now.
func (s *Service) loadRecoveryContext(ctx context.Context, services []string) (*recoveryContext, error) {
	snap, err := s.graphs.Current(ctx)
	if err != nil {
		return nil, err
	}
	rc := &recoveryContext{snap: snap, now: s.rt.Now()}
	if rc.bias, err = approvedBIAs(ctx, s.pool, services); err != nil {
		return nil, err
	}
	provided, err := allSupplierCIs(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	rc.suppliers = map[string][]int32{}
	for sup, keys := range provided {
		for _, k := range keys {
			if n, ok := snap.Graph.Index(k); ok {
				rc.suppliers[sup] = append(rc.suppliers[sup], n)
			}
		}
	}
	rc.supplierKeys = sortedSet(rc.suppliers)
	rc.facts, err = s.recoveryFacts(ctx, snap)
	return rc, err
}

// backupFacts turns verified backups by CI key into the planner's lookup.
func backupFacts(g *Graph, backups map[string]*time.Time, now time.Time) func(int32) (orchestrator.Duration, bool, bool) {
	type fact struct {
		age      orchestrator.Duration
		verified bool
	}
	byNode := make(map[int32]fact, len(backups))
	for k, t := range backups {
		n, ok := g.Index(k)
		if !ok {
			continue
		}
		f := fact{}
		if t != nil {
			f = fact{age: orchestrator.Duration(max(0, now.Sub(*t)).Truncate(time.Second)), verified: true}
		}
		byNode[n] = f
	}
	return func(n int32) (orchestrator.Duration, bool, bool) {
		f, ok := byNode[n]
		return f.age, f.verified, ok
	}
}

// allSupplierCIs returns the supplier_service CI keys every supplier
// provides.
func allSupplierCIs(ctx context.Context, q postgres.Querier) (map[string][]string, error) {
	rows, err := q.Query(ctx, `SELECT s.key FROM suppliers s ORDER BY s.key`)
	if err != nil {
		return nil, fmt.Errorf("read suppliers: %w", err)
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read suppliers: %w", err)
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read suppliers: %w", err)
	}
	if len(keys) == 0 {
		return map[string][]string{}, nil
	}
	return supplierCIs(ctx, q, keys)
}

// Resilience answers, for the business service with key, every scenario
// that can take it down and the recovery each allows, worst first.
func (s *Service) Resilience(ctx context.Context, key string) (ServiceResilience, error) {
	rc, err := s.loadRecoveryContext(ctx, []string{key})
	if err != nil {
		return ServiceResilience{}, err
	}
	n, ok := rc.snap.Graph.Index(key)
	if !ok {
		return ServiceResilience{}, notFoundService(key)
	}
	if c := rc.snap.Graph.Class(n); c != ClassBusinessService {
		return ServiceResilience{}, notAService(key, c)
	}
	p := newPlanner(rc.snap.Graph, rc.facts)
	defer p.release()
	return rc.service(p, n), nil
}

// service evaluates every scenario that can hit service n.
func (rc *recoveryContext) service(p *planner, n int32) ServiceResilience {
	g := rc.snap.Graph
	key := g.Key(n)
	out := ServiceResilience{Service: key, Scenarios: []ScenarioResilience{}, EvaluatedAt: rc.now.UTC()}
	b, hasBIA := rc.bias[key]
	if hasBIA {
		v, rto, rpo := b.Version, b.RTO, b.RPO
		out.BIAVersion, out.RTO, out.RPO = &v, &rto, &rpo
	}
	closure := g.Dependencies(n).Nodes
	members := rc.neighbourhood(closure)
	p.limit(members)
	rc.scenarios(closure, members, p.member, func(sc scenarioCase) {
		p.scenario(sc.failed, sc.corrupt)
		if p.down(n) {
			out.Scenarios = append(out.Scenarios, describe(p.result(n), sc.disruption(g), b, hasBIA))
		}
	})
	out.Scenarios = groupAlike(out.Scenarios)
	slices.SortStableFunc(out.Scenarios, worstFirst)
	return out
}

// describe judges a plan against the service's BIA.
func describe(plan Plan, d Disruption, b BIA, hasBIA bool) ScenarioResilience {
	sr := ScenarioResilience{Scenario: d, Strategy: []PlanAction{}, Standbys: plan.Standbys, RTOEstimate: plan.RTO,
		RPOEstimate: plan.RPO, CriticalPath: plan.CriticalPath, Notes: plan.Notes}
	for _, a := range plan.Actions {
		if a.Action != ActionRestart && a.Action != ActionVerifyService {
			sr.Strategy = append(sr.Strategy, a)
		}
	}
	if hasBIA {
		met := plan.RTO <= b.RTO
		sr.RTOMet = &met
		if plan.RPO != nil {
			ok := *plan.RPO <= b.RPO
			sr.RPOMet = &ok
		}
	}
	return sr
}

// neighbourhood is the closure of a service plus the closures of every
// standby reachable from it: enough to judge every scenario exactly.
func (rc *recoveryContext) neighbourhood(closure []int32) []int32 {
	g := rc.snap.Graph
	in := make(map[int32]bool, len(closure))
	out := slices.Clone(closure)
	for _, n := range closure {
		in[n] = true
	}
	for i := 0; i < len(out); i++ {
		if !g.hasStandby(out[i]) {
			continue
		}
		for _, sb := range g.Standbys(out[i]) {
			if in[sb.Node] {
				continue
			}
			for _, m := range g.Dependencies(sb.Node).Nodes {
				if !in[m] {
					in[m] = true
					out = append(out, m)
				}
			}
		}
	}
	return out
}

// scenarioCase is one scenario as the planner takes it; its Disruption is
// written out only for the scenarios that hit the service.
type scenarioCase struct {
	typ     string
	node    int32  // the failed or corrupted CI
	name    string // the site, supplier or region
	failed  []int32
	corrupt []int32
}

// disruption describes the scenario.
func (sc scenarioCase) disruption(g *Graph) Disruption {
	d := Disruption{Type: sc.typ}
	switch sc.typ {
	case DisruptionCI, DisruptionCorruption:
		d.CIs, d.Class = []string{g.Key(sc.node)}, g.Class(sc.node)
	case DisruptionSite:
		d.Site = sc.name
	case DisruptionSupplier:
		d.Supplier = sc.name
	case DisruptionRegion:
		d.Region = sc.name
	}
	return d
}

// scenarios derives what can hit a service from its closure and calls fn
// with each: each CI's failure, the loss of each site, supplier and region
// it relies on, and the corruption of each data-bearing CI (with what its
// corruption reaches: see corrupted). Only members can matter, so a
// site's or region's failed CIs are taken from the members rather than
// from the whole graph.
func (rc *recoveryContext) scenarios(closure, members []int32, member func(int32) bool, fn func(scenarioCase)) {
	g := rc.snap.Graph
	for i, n := range closure {
		if g.Class(n) != ClassBusinessService {
			fn(scenarioCase{typ: DisruptionCI, node: n, failed: closure[i : i+1]})
		}
	}
	atSite := map[string][]int32{}
	for _, n := range members {
		site := g.Site(n)
		if g.Class(n) == "site" {
			site = g.Key(n)
		}
		if site != "" {
			atSite[site] = append(atSite[site], n)
		}
	}
	sites := map[string]bool{}
	for _, n := range closure {
		if site := g.Site(n); site != "" {
			sites[site] = true
		}
		if g.Class(n) == "site" {
			sites[g.Key(n)] = true
		}
	}
	regions := map[string]bool{}
	for _, site := range sortedSet(sites) {
		fn(scenarioCase{typ: DisruptionSite, name: site, failed: atSite[site]})
		if r := rc.snap.Region(site); r != "" {
			regions[r] = true
		}
	}
	for _, r := range sortedSet(regions) {
		var failed []int32
		for site, at := range atSite {
			if rc.snap.Region(site) == r {
				failed = append(failed, at...)
			}
		}
		fn(scenarioCase{typ: DisruptionRegion, name: r, failed: failed})
	}
	if len(rc.suppliers) > 0 {
		inClosure := make(map[int32]bool, len(closure))
		for _, n := range closure {
			inClosure[n] = true
		}
		for _, sup := range rc.supplierKeys {
			cis := rc.suppliers[sup]
			if slices.ContainsFunc(cis, func(n int32) bool { return inClosure[n] }) {
				fn(scenarioCase{typ: DisruptionSupplier, name: sup, failed: cis})
			}
		}
	}
	for _, n := range closure {
		if rc.facts.DataBearing(n) {
			copies := rc.corrupted(n, member)
			fn(scenarioCase{typ: DisruptionCorruption, node: n, failed: copies, corrupt: copies})
		}
	}
}

// corrupted is what a corruption of n reaches: n, the data-bearing CIs
// whose data lives on it (data-bearing CIs that need it, transitively: a
// database on a corrupted volume), and every replica or standby of any of
// them, which replication feeds the corruption.
// Only CIs for which member holds are followed: the others cannot matter.
func (rc *recoveryContext) corrupted(n int32, member func(int32) bool) []int32 {
	g := rc.snap.Graph
	out := []int32{n}
	seen := map[int32]bool{n: true}
	add := func(x int32) {
		if !seen[x] && member(x) {
			seen[x] = true
			out = append(out, x)
		}
	}
	for i := 0; i < len(out); i++ {
		x := out[i]
		for _, s := range g.Standbys(x) {
			add(s.Node)
		}
		for e := g.inStart[x]; e < g.inStart[x+1]; e++ {
			if d := g.inFrom[e]; rc.facts.DataBearing(d) && g.Class(d) != ClassBusinessService {
				add(d)
			}
		}
	}
	return out
}

func sortedSet[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// groupAlike merges the CI failures of one class that recover the same way
// in the same time into one entry listing every CI.
func groupAlike(in []ScenarioResilience) []ScenarioResilience {
	type sig struct {
		class, action string
		rto           orchestrator.Duration
		rpo           string
	}
	at := map[sig]int{}
	var out []ScenarioResilience
	for _, sr := range in {
		if sr.Scenario.Type != DisruptionCI {
			out = append(out, sr)
			continue
		}
		k := sig{class: sr.Scenario.Class, rto: sr.RTOEstimate, rpo: "unknown"}
		if len(sr.Strategy) > 0 {
			k.action = sr.Strategy[0].Action
		}
		if sr.RPOEstimate != nil {
			k.rpo = sr.RPOEstimate.String()
		}
		if i, ok := at[k]; ok {
			out[i].Scenario.CIs = append(out[i].Scenario.CIs, sr.Scenario.CIs...)
			continue
		}
		at[k] = len(out)
		out = append(out, sr)
	}
	for i := range out {
		slices.Sort(out[i].Scenario.CIs)
	}
	return out
}

// worstFirst orders scenarios: targets missed first, then the longest
// recovery, then unknown or larger data loss.
func worstFirst(a, b ScenarioResilience) int {
	if c := cmp.Compare(misses(b), misses(a)); c != 0 {
		return c
	}
	if c := cmp.Compare(b.RTOEstimate, a.RTOEstimate); c != 0 {
		return c
	}
	return cmp.Compare(rpoRank(b.RPOEstimate), rpoRank(a.RPOEstimate))
}

func misses(s ScenarioResilience) int {
	n := 0
	if s.RTOMet != nil && !*s.RTOMet {
		n++
	}
	if s.RPOMet != nil && !*s.RPOMet {
		n++
	}
	return n
}

func rpoRank(d *orchestrator.Duration) orchestrator.Duration {
	if d == nil {
		return orchestrator.Duration(1 << 62)
	}
	return *d
}
