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

// rollDownTo returns the requirements of nodes alone, equal to RollDown's
// for them, and the number of CIs it had to consider: only the nodes and
// their ancestors can set them, so the roll-down runs over those alone,
// which for a few CIs is a small part of the graph.
func (g *Graph) rollDownTo(nodes []int32, targets map[int32]Target) (map[int32]Requirement, int) {
	s := g.acquire()
	defer g.release(s)
	for _, n := range nodes {
		if g.valid(n) {
			s.visit(n, -1)
		}
	}
	for head := 0; head < len(s.queue); head++ {
		x := s.queue[head]
		for _, p := range g.inFrom[g.inStart[x]:g.inStart[x+1]] {
			s.visit(p, x)
		}
	}
	var services []int32
	for _, n := range s.queue {
		if _, ok := targets[n]; ok {
			services = append(services, n)
		}
	}
	out := make(map[int32]Requirement, len(nodes))
	for i, value := range []func(int32) orchestrator.Duration{
		func(n int32) orchestrator.Duration { return targets[n].RTO },
		func(n int32) orchestrator.Duration { return targets[n].RPO },
	} {
		for _, n := range s.queue {
			s.slot[n] = -1
		}
		g.spread(g.byTarget(services, value), s.slot, s)
		for _, n := range nodes {
			if !g.valid(n) {
				continue
			}
			r := out[n]
			if i == 0 {
				r.RTOFrom = s.slot[n]
				if r.RTOFrom >= 0 {
					r.RTO = targets[r.RTOFrom].RTO
				}
			} else {
				r.RPOFrom = s.slot[n]
				if r.RPOFrom >= 0 {
					r.RPO = targets[r.RPOFrom].RPO
				}
			}
			out[n] = r
		}
	}
	return out, len(s.queue)
}

// rollOne spreads one figure and returns, per node, the service that sets
// it (-1 for none).
func (g *Graph) rollOne(services []int32, value func(int32) orchestrator.Duration) []int32 {
	from := make([]int32, len(g.keys))
	for i := range from {
		from[i] = -1
	}
	g.spread(g.byTarget(services, value), from, nil)
	return from
}

// byTarget orders services from the tightest target up, ties by key.
func (g *Graph) byTarget(services []int32, value func(int32) orchestrator.Duration) []int32 {
	order := slices.Clone(services)
	slices.SortFunc(order, func(a, b int32) int {
		if c := cmp.Compare(value(a), value(b)); c != 0 {
			return c
		}
		return cmp.Compare(g.keys[a], g.keys[b])
	})
	return order
}

// spread gives every unassigned node (from -1) reachable from a service
// the first service in order that reaches it. With within set, it stays
// among the nodes within has marked.
func (g *Graph) spread(order []int32, from []int32, within *scratch) {
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
				if from[y] < 0 && (within == nil || within.mark[y] == within.epoch) {
					from[y] = svc
					queue = append(queue, y)
				}
			}
		}
	}
}
