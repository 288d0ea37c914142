package impact

import (
	"cmp"
	"slices"

	"github.com/bcdr/bcdr/orchestrator"
)

// Target is what a business service's approved BIA requires of it.
type Target struct {
	RTO orchestrator.Duration
	RPO orchestrator.Duration
}

// Requirement is what a CI must meet because of the business services that
// need it. RTOFrom and RPOFrom are the services that set each figure, -1
// when no service with a target needs the CI; the two may differ.
type Requirement struct {
	RTO     orchestrator.Duration
	RTOFrom int32
	RPO     orchestrator.Duration
	RPOFrom int32
}

// HasRTO reports whether some service requires an RTO of this CI.
func (r Requirement) HasRTO() bool { return r.RTOFrom >= 0 }

// HasRPO reports whether some service requires an RPO of this CI.
func (r Requirement) HasRPO() bool { return r.RPOFrom >= 0 }

// RollDown gives every node its required RTO and RPO: the minimum over the
// services in targets that depend on it through propagating relations,
// the service itself included. The result is indexed by node.
//
// Each figure is computed in its own pass, visiting services from the
// tightest target up and never expanding a node already assigned: a
// service processed earlier had a tighter or equal target, and everything
// reachable from a node it reached was reached by it too, so the node's
// value and whole downstream are final. Each node and relation is thus
// expanded once per figure. Ties go to the service with the smaller key.
func (g *Graph) RollDown(targets map[int32]Target) []Requirement {
	services := make([]int32, 0, len(targets))
	for n := range targets {
		if g.valid(n) {
			services = append(services, n)
		}
	}
	rtoFrom := g.rollOne(services, func(n int32) orchestrator.Duration { return targets[n].RTO })
	rpoFrom := g.rollOne(services, func(n int32) orchestrator.Duration { return targets[n].RPO })
	out := make([]Requirement, len(g.keys))
	for n := range out {
		r := Requirement{RTOFrom: rtoFrom[n], RPOFrom: rpoFrom[n]}
		if r.RTOFrom >= 0 {
			r.RTO = targets[r.RTOFrom].RTO
		}
		if r.RPOFrom >= 0 {
			r.RPO = targets[r.RPOFrom].RPO
		}
		out[n] = r
	}
	return out
}

// rollOne spreads one figure and returns, per node, the service that sets
// it (-1 for none).
func (g *Graph) rollOne(services []int32, value func(int32) orchestrator.Duration) []int32 {
	order := slices.Clone(services)
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp.Compare(value(a), value(b)); c != 0 {
			return c
		}
		return cmp.Compare(g.keys[a], g.keys[b])
	})
	from := make([]int32, len(g.keys))
	for i := range from {
		from[i] = -1
	}
	var queue []int32
	for _, svc := range order {
		if from[svc] >= 0 {
			continue
		}
		from[svc] = svc
		queue = append(queue[:0], svc)
		for head := 0; head < len(queue); head++ {
			x := queue[head]
			for _, y := range g.outTo[g.outStart[x]:g.outStart[x+1]] {
				if from[y] < 0 {
					from[y] = svc
					queue = append(queue, y)
				}
			}
		}
	}
	return from
}
