package impact

import (
	"cmp"
	"slices"
)

// Cycles returns the dependency cycles of the graph: every strongly
// connected component of more than one CI along propagating relations.
// Each cycle lists its members in key order, and the cycles are ordered by
// their first key. Cycles are legal (what-if and recovery order handle
// them) but usually a modelling mistake worth a look.
func (g *Graph) Cycles() [][]int32 {
	n := len(g.keys)
	nodes := make([]int32, n)
	for i := range nodes {
		nodes[i] = int32(i)
	}
	// The whole graph as the orderer's local graph: local index = node.
	o := &orderer{g: g, nodes: nodes, start: g.outStart, adj: g.outTo}
	o.components()
	members := make([][]int32, o.comps)
	for v, c := range o.comp {
		members[c] = append(members[c], int32(v))
	}
	var out [][]int32
	for _, m := range members {
		if len(m) < 2 {
			continue
		}
		slices.SortFunc(m, func(a, b int32) int { return cmp.Compare(g.keys[a], g.keys[b]) })
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b []int32) int { return cmp.Compare(g.keys[a[0]], g.keys[b[0]]) })
	return out
}
