package impact

import (
	"slices"

	"github.com/bcdr/bcdr/orchestrator"
)

// result writes the plan of target (down in the current scenario) out:
// every action reachable from it through what each waits for, the critical
// path and the data lost.
func (p *planner) result(target int32) Plan {
	g := p.g
	out := Plan{Actions: []PlanAction{}, CriticalPath: []PlanStep{}, Standbys: []string{}, Notes: []string{}}
	tp := p.plan(target)
	if tp == nil {
		return out
	}
	out.RTO = tp.finish
	var order []int32
	seen := map[int32]bool{}
	var visit func(n int32)
	visit = func(n int32) {
		if seen[n] {
			return
		}
		seen[n] = true
		np := p.plan(n)
		if np == nil {
			return
		}
		for _, d := range np.deps {
			visit(d)
		}
		order = append(order, n)
	}
	visit(target)
	var rpo orchestrator.Duration
	rpoKnown := true
	for _, n := range order {
		np := p.plan(n)
		a := PlanAction{CI: g.Key(n), Action: np.action, Estimate: np.own, Repoint: np.repoint, Verify: np.verify,
			Finish: np.finish, Assumed: np.assumed}
		if np.action == ActionFailover {
			a.Standby = g.Key(np.standby)
			out.Standbys = append(out.Standbys, a.Standby)
			for _, v := range np.via {
				a.Via = append(a.Via, g.Key(v))
			}
		}
		for _, d := range np.deps {
			if p.plan(d) != nil {
				a.After = append(a.After, g.Key(d))
			}
		}
		if np.rpoSet {
			if np.rpoKnown {
				r := np.rpo
				a.RPO = &r
				rpo = max(rpo, r)
			} else {
				rpoKnown = false
				out.Notes = append(out.Notes, rpoNote(g.Key(n), np))
			}
		}
		if np.assumed {
			out.Notes = append(out.Notes, g.Key(n)+": no recovery estimate recorded; assumed "+np.own.String())
		}
		out.Actions = append(out.Actions, a)
	}
	if rpoKnown {
		out.RPO = &rpo
	}
	slices.Sort(out.Standbys)
	out.Standbys = slices.Compact(out.Standbys)
	out.CriticalPath = p.criticalPath(target)
	return out
}

func rpoNote(key string, np *nodePlan) string {
	switch {
	case np.action == ActionFailover:
		return key + ": data lost on failover unknown (no lag or replication mode recorded)"
	case np.why != "":
		return key + ": data lost unknown: " + np.why
	}
	return key + ": data lost unknown"
}

// criticalPath follows the dependency finishing last from target back and
// lists the steps first to last.
func (p *planner) criticalPath(target int32) []PlanStep {
	g := p.g
	var chain []int32
	for n := target; n >= 0 && len(chain) <= g.Len(); {
		np := p.plan(n)
		if np == nil {
			break
		}
		chain = append(chain, n)
		n = np.crit
	}
	slices.Reverse(chain)
	var steps []PlanStep
	var at orchestrator.Duration
	add := func(kind string, n int32, standby string, d orchestrator.Duration) {
		if d == 0 && kind != ActionRestart {
			return
		}
		at += d
		steps = append(steps, PlanStep{Kind: kind, CI: g.Key(n), Standby: standby, Estimate: d, Finish: at})
	}
	for _, n := range chain {
		np := p.plan(n)
		at = np.finish - np.own - np.repoint - np.verify
		standby := ""
		if np.action == ActionFailover {
			standby = g.Key(np.standby)
		}
		if np.action != ActionRestart {
			add(np.action, n, standby, np.own)
		}
		add("repoint", n, standby, np.repoint)
		add("verify", n, standby, np.verify)
	}
	if steps == nil {
		steps = []PlanStep{}
	}
	return steps
}

// brief is what result says of target's plan in the current scenario, for
// summaries, without writing the plan out: the RTO, the RPO (known false
// when unknown) and the first action that is neither a restart nor the
// service's verification ("" when none).
func (p *planner) brief(target int32) (rto, rpo orchestrator.Duration, rpoKnown bool, first string) {
	tp := p.plan(target)
	if tp == nil {
		return 0, 0, true, ""
	}
	p.seenEpoch++
	if p.seenEpoch == 0 {
		clear(p.seenEp)
		p.seenEpoch = 1
	}
	rpoKnown = true
	var visit func(n int32)
	visit = func(n int32) {
		if p.seenEp[n] == p.seenEpoch {
			return
		}
		p.seenEp[n] = p.seenEpoch
		np := p.plan(n)
		if np == nil {
			return
		}
		for _, d := range np.deps {
			visit(d)
		}
		if first == "" && np.action != ActionRestart && np.action != ActionVerifyService {
			first = np.action
		}
		if np.rpoSet {
			if np.rpoKnown {
				rpo = max(rpo, np.rpo)
			} else {
				rpoKnown = false
			}
		}
	}
	visit(target)
	return tp.finish, rpo, rpoKnown, first
}
