package impact

import (
	"cmp"
	"slices"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// Recovery actions: what a plan does about one down CI.
const (
	ActionFailover = "failover" // switch to a usable standby
	ActionRestore  = "restore"  // restore from a verified backup
	ActionRebuild  = "rebuild"
	ActionSupplier = "supplier"
	ActionManual   = "manual"
	// ActionRestart brings back a CI that did not fail itself once what it
	// needs is back.
	ActionRestart = "restart"
	// ActionVerifyService is the business service's end-to-end check.
	ActionVerifyService = "verify_service"
)

// Fixed estimates of the steps that are not a CI's own recovery; runbooks
// use the same ones, so that a scenario runbook's critical path is the
// plan's.
const (
	RepointEstimate       = orchestrator.Duration(10 * time.Minute)
	ServiceVerifyEstimate = orchestrator.Duration(30 * time.Minute)
)

// defaultEstimates stand in for a CI without a recorded recovery estimate.
var defaultEstimates = map[string]orchestrator.Duration{
	"failover": orchestrator.Duration(30 * time.Minute),
	"restore":  orchestrator.Duration(4 * time.Hour),
	"rebuild":  orchestrator.Duration(8 * time.Hour),
	"supplier": orchestrator.Duration(4 * time.Hour),
	"manual":   orchestrator.Duration(4 * time.Hour),
}

// DefaultEstimate is the estimate assumed for a CI of strategy that records
// none.
func DefaultEstimate(strategy string) orchestrator.Duration {
	if d, ok := defaultEstimates[strategy]; ok {
		return d
	}
	return defaultEstimates["manual"]
}

// VerifyEstimate is how long checking a CI after an action of length
// action takes: a tenth of it, 5 to 30 minutes, at least 15 for data.
func VerifyEstimate(dataBearing bool, action orchestrator.Duration) orchestrator.Duration {
	d := min(max(action/10, orchestrator.Duration(5*time.Minute)), orchestrator.Duration(30*time.Minute))
	if dataBearing {
		d = max(d, orchestrator.Duration(15*time.Minute))
	}
	return orchestrator.Duration(time.Duration(d).Round(time.Minute))
}

// RecoveryFacts is what a recovery plan knows of each CI beyond the graph.
type RecoveryFacts struct {
	// Estimate is a CI's recorded recovery estimate, 0 when none.
	Estimate func(n int32) orchestrator.Duration
	// Strategy is a CI's recorded recovery strategy.
	Strategy func(n int32) string
	// DataBearing reports whether a CI holds data.
	DataBearing func(n int32) bool
	// Backup returns, at the failure point, the age of the CI's newest
	// verified backup (verified false when there is none) and whether the
	// CI has a backup target at all. Nil means nothing is known of backups.
	Backup func(n int32) (age orchestrator.Duration, verified, hasTarget bool)
}

// PlanAction is what a plan does about one CI.
type PlanAction struct {
	CI     string `json:"ci"`
	Action string `json:"action"`
	// Standby is the CI failed over to; Via the standbys passed through
	// on the way when nearer ones are down too.
	Standby string   `json:"standby,omitempty"`
	Via     []string `json:"via,omitempty"`
	// Estimate is the action's own time, without what it waits for.
	Estimate orchestrator.Duration `json:"estimate"`
	// Repoint is the time to tell dependents of a manual failover (DNS,
	// GSLB, connection strings); Verify the check after the action.
	Repoint orchestrator.Duration `json:"repoint,omitempty"`
	Verify  orchestrator.Duration `json:"verify"`
	// Finish is when the CI is back and verified, from the start.
	Finish orchestrator.Duration `json:"finish"`
	// Assumed says the estimate is a default: the CMDB records none.
	Assumed bool `json:"assumed,omitempty"`
	// RPO is the data this action loses; nil when unknown or not data.
	RPO *orchestrator.Duration `json:"rpo,omitempty"`
	// After lists the CIs whose recovery this one waits for.
	After []string `json:"after,omitempty"`
}

// PlanStep is one step of a plan's critical path.
type PlanStep struct {
	Kind     string                `json:"kind"`
	CI       string                `json:"ci"`
	Standby  string                `json:"standby,omitempty"`
	Estimate orchestrator.Duration `json:"estimate"`
	Finish   orchestrator.Duration `json:"finish"`
}

// Plan is the recovery of one business service in one scenario.
type Plan struct {
	// Actions lists every CI the recovery acts on, in the order they can
	// run (dependencies first), the service's verification last.
	Actions []PlanAction `json:"actions"`
	// RTO is the critical path to the service's verification.
	RTO orchestrator.Duration `json:"rto_estimate"`
	// RPO is the most data any action loses; nil when unknown.
	RPO          *orchestrator.Duration `json:"rpo_estimate"`
	CriticalPath []PlanStep             `json:"critical_path"`
	// Standbys are the CIs failed over to.
	Standbys []string `json:"standbys"`
	// Notes say what the plan had to assume or could not know.
	Notes []string `json:"notes"`
}

// nodePlan is the chosen recovery of one down CI in the current scenario.
type nodePlan struct {
	action   string
	standby  int32 // for a failover
	via      []int32
	own      orchestrator.Duration // the action itself
	repoint  orchestrator.Duration
	verify   orchestrator.Duration
	finish   orchestrator.Duration
	assumed  bool
	rpo      orchestrator.Duration
	rpoKnown bool
	rpoSet   bool // the action loses data (known or not)
	deps     []int32
	crit     int32 // the dep finishing last, -1 for none
	why      string
}

// planner computes recovery plans over one graph. Its arrays are sized for
// the graph and stamped with epochs, so scenario after scenario reuses them
// without clearing. Not safe for concurrent use: one per goroutine.
type planner struct {
	g     *Graph
	facts RecoveryFacts

	memberEp []uint32 // node is in the neighbourhood questions are limited to
	mEpoch   uint32
	all      bool // no limit: every node is a member
	// The members' dependents among the members, CSR by local index
	// (slot): a node with thousands of dependents elsewhere costs nothing.
	slot                     []int32
	members                  []int32
	inStart, inFrom, inGroup []int32

	downEp, failEp, corruptEp, planEp, activeEp []uint32
	epoch                                       uint32
	gmark                                       []uint32
	gdown                                       []int32
	plans                                       []nodePlan
	queue                                       []int32
	seenEp                                      []uint32 // brief's walk
	seenEpoch                                   uint32
	// standing maps a standby to the CIs it stands in for.
	standing map[int32][]int32
}

// newPlanner returns a planner for g, reusing one a finished question
// released; release it when done.
func newPlanner(g *Graph, facts RecoveryFacts) *planner {
	if p, ok := g.planners.Get().(*planner); ok {
		p.facts = facts
		return p
	}
	n := g.Len()
	return &planner{g: g, facts: facts, memberEp: make([]uint32, n),
		downEp: make([]uint32, n), failEp: make([]uint32, n), corruptEp: make([]uint32, n),
		planEp: make([]uint32, n), activeEp: make([]uint32, n), plans: make([]nodePlan, n), slot: make([]int32, n),
		seenEp: make([]uint32, n),
		gmark:  make([]uint32, len(g.groupMin)), gdown: make([]int32, len(g.groupMin)), standing: g.standingFor()}
}

// release returns p to its graph's pool.
func (p *planner) release() {
	p.facts = RecoveryFacts{}
	p.g.planners.Put(p)
}

// standingFor maps every standby to the CIs that fail over to it, computed
// once per graph.
func (g *Graph) standingFor() map[int32][]int32 {
	g.standingOnce.Do(func() {
		g.standing = map[int32][]int32{}
		for n := int32(0); int(n) < g.Len(); n++ {
			for i := g.passStart[n]; i < g.passStart[n+1]; i++ {
				if IsStandby(edgeTypes[g.passType[i]]) {
					g.standing[g.passTo[i]] = append(g.standing[g.passTo[i]], n)
				}
			}
		}
	})
	return g.standing
}

// promotions lists the down CIs whose standbys y needs: a standby
// application that needs a replica database needs that database failed
// over (the replica promoted) before it can serve.
func (p *planner) promotions(y int32) []int32 {
	g := p.g
	var out []int32
	for i := g.outStart[y]; i < g.outStart[y+1]; i++ {
		for _, src := range p.standing[g.outTo[i]] {
			if p.down(src) && !slices.Contains(out, src) {
				out = append(out, src)
			}
		}
	}
	return out
}

// plan returns the recovery of n in the current scenario, nil when n is up
// (or is already being planned further up a dependency cycle, which then
// counts it once).
func (p *planner) plan(n int32) *nodePlan {
	if !p.down(n) {
		return nil
	}
	if p.planEp[n] == p.epoch {
		return &p.plans[n]
	}
	if p.activeEp[n] == p.epoch {
		return nil
	}
	p.activeEp[n] = p.epoch
	np := p.inPlace(n)
	if !p.corrupt(n) && p.g.Class(n) != ClassBusinessService {
		if fo, ok := p.failover(n); ok && (p.failed(n) || fo.finish < np.finish) {
			np = fo
		}
	}
	p.activeEp[n] = 0
	p.plans[n] = np
	p.planEp[n] = p.epoch
	return &p.plans[n]
}

// failover finds the nearest usable standby of n: up in the scenario,
// reached through standbys that are down themselves. A failover loses the
// lag of every hop (none for sync replication) and takes the last hop's
// estimate.
func (p *planner) failover(n int32) (nodePlan, bool) {
	g := p.g
	if !g.hasStandby(n) {
		return nodePlan{}, false
	}
	type hop struct {
		node     int32
		prev     int
		lag      orchestrator.Duration
		lagKnown bool
		fo       Failover
	}
	hops := []hop{{node: n, prev: -1, lagKnown: true}}
	seen := map[int32]bool{n: true}
	for i := 0; i < len(hops); i++ {
		h := hops[i]
		if i > 0 && !p.down(h.node) && p.member(h.node) {
			np := nodePlan{action: ActionFailover, standby: h.node, crit: -1, rpoSet: p.facts.DataBearing(n)}
			for j := h.prev; j > 0; j = hops[j].prev {
				np.via = append(np.via, hops[j].node)
			}
			slices.Reverse(np.via)
			switch {
			case h.fo.Estimate != nil:
				np.own = *h.fo.Estimate
			case p.facts.Strategy(h.node) == "failover" && p.facts.Estimate(h.node) > 0:
				np.own = p.facts.Estimate(h.node)
			default:
				np.own, np.assumed = DefaultEstimate("failover"), true
			}
			if h.fo.Activation != "automatic" && g.inStart[n+1] > g.inStart[n] {
				np.repoint = RepointEstimate
			}
			np.verify = VerifyEstimate(p.facts.DataBearing(n), np.own)
			var longest orchestrator.Duration
			for _, d := range p.promotions(h.node) {
				if dp := p.plan(d); dp != nil {
					np.deps = append(np.deps, d)
					if np.crit < 0 || dp.finish > longest {
						longest, np.crit = dp.finish, d
					}
				}
			}
			np.finish = longest + np.own + np.repoint + np.verify
			np.rpo, np.rpoKnown = h.lag, h.lagKnown
			return np, true
		}
		if p.corrupt(h.node) {
			continue
		}
		for _, s := range g.Standbys(h.node) {
			if seen[s.Node] {
				continue
			}
			seen[s.Node] = true
			next := hop{node: s.Node, prev: i, fo: s.Failover, lag: h.lag, lagKnown: h.lagKnown}
			switch {
			case s.Replication == "sync":
			case s.Lag != nil:
				next.lag += *s.Lag
			default:
				next.lagKnown = false
			}
			hops = append(hops, next)
		}
	}
	return nodePlan{}, false
}

// inPlace recovers n where it is: after what it needs, by its own action
// when it failed (restore from a verified backup when it can, else its
// strategy) or a restart when it only went down with its dependencies.
func (p *planner) inPlace(n int32) nodePlan {
	np := nodePlan{standby: -1, crit: -1}
	np.deps = p.needed(n)
	var longest orchestrator.Duration
	for _, d := range np.deps {
		if dp := p.plan(d); dp != nil && (np.crit < 0 || dp.finish > longest) {
			longest, np.crit = dp.finish, d
		}
	}
	data := p.facts.DataBearing(n)
	switch {
	case p.g.Class(n) == ClassBusinessService:
		np.action, np.own = ActionVerifyService, ServiceVerifyEstimate
	case !p.failed(n):
		np.action = ActionRestart
		np.verify = VerifyEstimate(data, 0)
	default:
		p.ownAction(n, &np)
		np.verify = VerifyEstimate(data, np.own)
	}
	np.finish = longest + np.own + np.verify
	return np
}

// ownAction picks what a failed CI does by itself: a restore when it holds
// data and a verified backup taken before the failure is reachable, else
// its recorded strategy (a failover or restore strategy with nothing to
// use becomes a rebuild).
func (p *planner) ownAction(n int32, np *nodePlan) {
	data := p.facts.DataBearing(n)
	strategy := p.facts.Strategy(n)
	var age orchestrator.Duration
	verified, hasTarget := false, false
	if p.facts.Backup != nil {
		age, verified, hasTarget = p.facts.Backup(n)
	}
	repoUp := p.backupReachable(n)
	np.rpoSet = data
	switch {
	case data && verified && repoUp:
		np.action, np.rpo, np.rpoKnown = ActionRestore, age, true
	case data && hasTarget && !verified:
		np.why = "no verified backup"
	case data && !repoUp:
		np.why = "its backup repository is lost too"
	case data:
		np.why = "no backup target"
	}
	if np.action == "" {
		switch strategy {
		case "rebuild", "supplier", "manual":
			np.action = strategy
		default:
			np.action = ActionRebuild
		}
	}
	est := p.facts.Estimate(n)
	if est == 0 {
		est, np.assumed = DefaultEstimate(np.action), true
	}
	np.own = est
}

// backupReachable reports whether some backup repository of n is up, or n
// names none (its backup target is then all there is to go on).
func (p *planner) backupReachable(n int32) bool {
	repos := p.g.Targets(n, BackedUpBy)
	if len(repos) == 0 {
		return true
	}
	return slices.ContainsFunc(repos, func(r int32) bool { return !p.down(r) })
}

// needed lists the down CIs n waits for: its down ordinary dependencies
// and, of each group the scenario broke, as many down members as it lacks,
// quickest to recover first.
func (p *planner) needed(n int32) []int32 {
	g := p.g
	lo, hi := g.outStart[n], g.outStart[n+1]
	var out []int32
	var groups []int32
	for i := lo; i < hi; i++ {
		y := g.outTo[i]
		if !p.down(y) {
			continue
		}
		if gr := g.outGroup[i]; gr >= 0 {
			if !slices.Contains(groups, gr) {
				groups = append(groups, gr)
			}
			continue
		}
		if !slices.Contains(out, y) {
			out = append(out, y)
		}
	}
	for _, gr := range groups {
		var members []int32
		up := int32(0)
		for i := lo; i < hi; i++ {
			if g.outGroup[i] != gr {
				continue
			}
			if p.down(g.outTo[i]) {
				members = append(members, g.outTo[i])
			} else {
				up++
			}
		}
		k := int(g.groupMin[gr] - up)
		if k <= 0 {
			continue
		}
		finish := func(m int32) orchestrator.Duration {
			if mp := p.plan(m); mp != nil {
				return mp.finish
			}
			return 0
		}
		// Quickest back first; among equals, the one quicker to rebuild
		// should it come to that.
		slices.SortFunc(members, func(a, b int32) int {
			if c := cmp.Compare(finish(a), finish(b)); c != 0 {
				return c
			}
			if c := cmp.Compare(p.facts.Estimate(a), p.facts.Estimate(b)); c != 0 {
				return c
			}
			return cmp.Compare(g.Key(a), g.Key(b))
		})
		out = append(out, members[:min(k, len(members))]...)
	}
	return out
}
