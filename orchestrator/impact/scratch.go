package impact

// scratch is per-query working memory sized for one graph. Queries take one
// from the graph's pool so a what-if allocates almost nothing and never
// clears 100k-entry arrays: a node or group counts as marked only when its
// stamp equals the current epoch, and bumping the epoch unmarks everything.
type scratch struct {
	epoch  uint32
	mark   []uint32 // per node: epoch when visited
	parent []int32  // per node: who it was reached from
	slot   []int32  // per node: a query-specific number (depth, local index)
	gmark  []uint32 // per group: epoch when gdown was last reset
	gdown  []int32  // per group: members down in this query
	queue  []int32
}

// acquire returns scratch with nothing marked.
func (g *Graph) acquire() *scratch {
	s, _ := g.scratch.Get().(*scratch)
	if s == nil {
		n, groups := len(g.keys), len(g.groupMin)
		s = &scratch{
			mark: make([]uint32, n), parent: make([]int32, n), slot: make([]int32, n),
			gmark: make([]uint32, groups), gdown: make([]int32, groups),
		}
	}
	s.epoch++
	if s.epoch == 0 {
		// After 2^32 queries stamps would alias; start over from clean arrays.
		clear(s.mark)
		clear(s.gmark)
		s.epoch = 1
	}
	s.queue = s.queue[:0]
	return s
}

func (g *Graph) release(s *scratch) { g.scratch.Put(s) }

// visit marks n and queues it, reporting whether it was new.
func (s *scratch) visit(n, parent int32) bool {
	if s.mark[n] == s.epoch {
		return false
	}
	s.mark[n] = s.epoch
	s.parent[n] = parent
	s.queue = append(s.queue, n)
	return true
}
