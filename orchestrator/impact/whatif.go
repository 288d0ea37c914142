package impact

import "slices"

// Result is the outcome of a what-if: every down node and, for each, the
// node whose failure brought it down. It does not refer back to the graph's
// working memory, so it may be kept.
type Result struct {
	// Down lists every down node in ascending index order.
	Down []int32
	// Cause is parallel to Down: the down node each went down because of,
	// -1 for a node that failed itself.
	Cause []int32
}

// WhatIf computes which nodes are down when the failed nodes fail. A node
// is down if it failed, if it needs a down node outside any redundancy
// group, or if one of its groups has fewer than min_up members up. The set
// is grown from the failures by a worklist, so each node and relation is
// looked at once and cycles terminate; a node going down decrements its
// dependents' group counts instead of rescanning their groups. Indices
// outside the graph are ignored.
func (g *Graph) WhatIf(failed []int32) Result {
	s := g.acquire()
	defer g.release(s)
	for _, f := range failed {
		if g.valid(f) {
			s.visit(f, -1)
		}
	}
	ep := s.epoch
	for head := 0; head < len(s.queue); head++ {
		x := s.queue[head]
		for e := g.inStart[x]; e < g.inStart[x+1]; e++ {
			d := g.inFrom[e]
			if s.mark[d] == ep {
				continue
			}
			if gr := g.inGroup[e]; gr >= 0 {
				if s.gmark[gr] != ep {
					s.gmark[gr] = ep
					s.gdown[gr] = 0
				}
				s.gdown[gr]++
				if g.groupSize[gr]-s.gdown[gr] >= g.groupMin[gr] {
					continue
				}
			}
			s.visit(d, x)
		}
	}
	return g.result(s)
}

// result copies the down set out of scratch, sorted so lookups can binary
// search. A large down set is collected by scanning the marks, which is
// linear, instead of sorting.
func (g *Graph) result(s *scratch) Result {
	k := len(s.queue)
	down := make([]int32, 0, k)
	if k > len(g.keys)/32 {
		for n, m := range s.mark {
			if m == s.epoch {
				down = append(down, int32(n))
			}
		}
	} else {
		down = append(down, s.queue...)
		slices.Sort(down)
	}
	cause := make([]int32, k)
	for i, n := range down {
		cause[i] = s.parent[n]
	}
	return Result{Down: down, Cause: cause}
}

// IsDown reports whether n is down.
func (r Result) IsDown(n int32) bool {
	_, ok := slices.BinarySearch(r.Down, n)
	return ok
}

// CauseOf returns the node n went down because of; ok is false when n is
// up or failed itself.
func (r Result) CauseOf(n int32) (cause int32, ok bool) {
	i, found := slices.BinarySearch(r.Down, n)
	if !found || r.Cause[i] < 0 {
		return -1, false
	}
	return r.Cause[i], true
}

// PathNodes follows causes from n back to a failed node: n first, the
// failed node last. It is nil when n is up.
func (r Result) PathNodes(n int32) []int32 {
	if !r.IsDown(n) {
		return nil
	}
	path := []int32{n}
	// Causes are assigned before the caused node is queued, so the chain
	// cannot loop; the bound only guards against a hand-made Result.
	for len(path) <= len(r.Down) {
		c, ok := r.CauseOf(path[len(path)-1])
		if !ok {
			break
		}
		path = append(path, c)
	}
	return path
}

// Path is PathNodes as CI keys: the explanation of why n is down.
func (g *Graph) Path(r Result, n int32) []string {
	nodes := r.PathNodes(n)
	if nodes == nil {
		return nil
	}
	keys := make([]string, len(nodes))
	for i, p := range nodes {
		keys[i] = g.keys[p]
	}
	return keys
}
