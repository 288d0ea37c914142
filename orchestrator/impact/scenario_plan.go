package impact

import (
	"context"
	"slices"
	"strings"
)

// ScenarioPlan is the recovery of everything a scenario takes down, for
// every business service it hits: each CI acted on once, as scenario
// runbooks lay it out.
type ScenarioPlan struct {
	// Actions lists every CI acted on, dependencies first: the union of
	// the services' plans, which agree on every shared CI.
	Actions []PlanAction `json:"actions"`
	// Services maps each business service down to its own plan.
	Services map[string]Plan `json:"services"`
}

// PlanScenario plans the recovery from the failure of the CIs with keys
// failed (unknown keys are ignored; callers check them against their own
// graph) over the current graph, with the backups verified by now.
func (s *Service) PlanScenario(ctx context.Context, failed []string) (ScenarioPlan, error) {
	snap, err := s.graphs.Current(ctx)
	if err != nil {
		return ScenarioPlan{}, err
	}
	facts, err := s.recoveryFacts(ctx, snap)
	if err != nil {
		return ScenarioPlan{}, err
	}
	g := snap.Graph
	var nodes []int32
	for _, k := range failed {
		if n, ok := g.Index(k); ok {
			nodes = append(nodes, n)
		}
	}
	return PlanFailures(g, facts, nodes), nil
}

// PlanFailures plans, over g, the recovery from the failure of the failed
// nodes for every business service they take down.
func PlanFailures(g *Graph, facts RecoveryFacts, failed []int32) ScenarioPlan {
	p := newPlanner(g, facts)
	defer p.release()
	p.limit(nil)
	p.scenario(failed, nil)
	return p.scenarioPlan()
}

// scenarioPlan collects the plans of every business service down in the
// current scenario.
func (p *planner) scenarioPlan() ScenarioPlan {
	out := ScenarioPlan{Actions: []PlanAction{}, Services: map[string]Plan{}}
	seen := map[string]bool{}
	var services []int32
	for _, n := range p.queue {
		if p.g.Class(n) == ClassBusinessService {
			services = append(services, n)
		}
	}
	slices.SortFunc(services, func(a, b int32) int { return strings.Compare(p.g.Key(a), p.g.Key(b)) })
	for _, n := range services {
		plan := p.result(n)
		out.Services[p.g.Key(n)] = plan
		for _, a := range plan.Actions {
			if !seen[a.CI] {
				seen[a.CI] = true
				out.Actions = append(out.Actions, a)
			}
		}
	}
	return out
}

// recoveryFacts are a snapshot's recovery facts with the backups verified
// by now.
func (s *Service) recoveryFacts(ctx context.Context, snap *Snapshot) (RecoveryFacts, error) {
	facts := RecoveryFacts{Estimate: snap.Estimate, Strategy: snap.Strategy, DataBearing: snap.DataBearing}
	if s.evidence == nil {
		return facts, nil
	}
	now := s.rt.Now()
	backups, err := s.evidence.VerifiedBackups(ctx, now)
	if err != nil {
		return RecoveryFacts{}, err
	}
	facts.Backup = backupFacts(snap.Graph, backups, now)
	return facts, nil
}
