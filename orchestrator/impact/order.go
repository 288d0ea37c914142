package impact

import (
	"cmp"
	"container/heap"
	"slices"

	"github.com/bcdr/bcdr/orchestrator"
)

// RecoveryOrder orders the down nodes for recovery: every node after the
// down nodes it depends on, and among nodes free to go next the one serving
// the tightest RTO first (nodes without one last), then by key. Nodes on a
// dependency cycle cannot precede one another, so each cycle (strongly
// connected component) is recovered as a block, its members by RTO and key.
// Every distinct valid node of down appears exactly once. rto reports the
// required RTO of a node, typically from RollDown.
func (g *Graph) RecoveryOrder(down []int32, rto func(int32) (orchestrator.Duration, bool)) []int32 {
	s := g.acquire()
	defer g.release(s)
	for _, n := range down {
		if g.valid(n) && s.visit(n, -1) {
			s.slot[n] = int32(len(s.queue) - 1)
		}
	}
	nodes := append([]int32(nil), s.queue...)
	o := &orderer{g: g, nodes: nodes, rank: make([]rank, len(nodes))}
	for i, n := range nodes {
		d, ok := rto(n)
		o.rank[i] = rank{rto: d, has: ok, key: g.keys[n]}
	}
	o.localEdges(s)
	o.components()
	return o.emit()
}

// rank is the tie-break of a node or component: tighter RTO, then key.
type rank struct {
	rto orchestrator.Duration
	has bool
	key string
}

func (a rank) compare(b rank) int {
	if a.has != b.has {
		if a.has {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(a.rto, b.rto); c != 0 {
		return c
	}
	return cmp.Compare(a.key, b.key)
}

// orderer works on the subgraph induced by the down nodes, renumbered
// 0..k-1 so every array is sized to the question, not the CMDB.
type orderer struct {
	g          *Graph
	nodes      []int32
	rank       []rank
	start, adj []int32 // local CSR: i needs adj[start[i]:start[i+1]]
	comp       []int32 // component of each local node
	comps      int
}

func (o *orderer) localEdges(s *scratch) {
	g := o.g
	o.start = make([]int32, len(o.nodes)+1)
	for i, n := range o.nodes {
		for _, y := range g.outTo[g.outStart[n]:g.outStart[n+1]] {
			if s.mark[y] == s.epoch {
				o.adj = append(o.adj, s.slot[y])
			}
		}
		o.start[i+1] = int32(len(o.adj))
	}
}

// components labels strongly connected components with Tarjan's algorithm,
// iteratively so a long dependency chain cannot overflow the stack.
func (o *orderer) components() {
	k := len(o.nodes)
	index, low := make([]int32, k), make([]int32, k) // index 0 = unvisited
	onStack := make([]bool, k)
	o.comp = make([]int32, k)
	var stack []int32
	type frame struct{ v, e int32 }
	var calls []frame
	next := int32(0)
	enter := func(v int32) {
		next++
		index[v], low[v] = next, next
		stack = append(stack, v)
		onStack[v] = true
		calls = append(calls, frame{v, o.start[v]})
	}
	for root := range int32(k) {
		if index[root] != 0 {
			continue
		}
		enter(root)
		for len(calls) > 0 {
			f := &calls[len(calls)-1]
			if f.e < o.start[f.v+1] {
				w := o.adj[f.e]
				f.e++
				if index[w] == 0 {
					enter(w)
				} else if onStack[w] {
					low[f.v] = min(low[f.v], index[w])
				}
				continue
			}
			v := f.v
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				p := calls[len(calls)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] == index[v] {
				for {
					w := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					onStack[w] = false
					o.comp[w] = int32(o.comps)
					if w == v {
						break
					}
				}
				o.comps++
			}
		}
	}
}

// emit runs Kahn's algorithm over the components: a component becomes ready
// once every component it needs is recovered, and the best-ranked ready one
// goes next.
func (o *orderer) emit() []int32 {
	members := make([][]int32, o.comps)
	best := make([]rank, o.comps)
	for i := range o.nodes {
		c := o.comp[i]
		if len(members[c]) == 0 || o.rank[i].compare(best[c]) < 0 {
			best[c] = o.rank[i]
		}
		members[c] = append(members[c], int32(i))
	}
	// waiting counts unrecovered needs; unblocks lists who waits on whom.
	waiting := make([]int32, o.comps)
	unblocks := make([][]int32, o.comps)
	for i := range o.nodes {
		for _, j := range o.adj[o.start[i]:o.start[i+1]] {
			if ci, cj := o.comp[i], o.comp[j]; ci != cj {
				waiting[ci]++
				unblocks[cj] = append(unblocks[cj], ci)
			}
		}
	}
	ready := &compHeap{best: best}
	for c := range int32(o.comps) {
		if waiting[c] == 0 {
			ready.items = append(ready.items, c)
		}
	}
	heap.Init(ready)
	out := make([]int32, 0, len(o.nodes))
	for ready.Len() > 0 {
		c := heap.Pop(ready).(int32)
		ms := members[c]
		slices.SortFunc(ms, func(a, b int32) int { return o.rank[a].compare(o.rank[b]) })
		for _, m := range ms {
			out = append(out, o.nodes[m])
		}
		for _, d := range unblocks[c] {
			if waiting[d]--; waiting[d] == 0 {
				heap.Push(ready, d)
			}
		}
	}
	return out
}

// compHeap is a min-heap of ready components by rank.
type compHeap struct {
	items []int32
	best  []rank
}

func (h *compHeap) Len() int           { return len(h.items) }
func (h *compHeap) Less(i, j int) bool { return h.best[h.items[i]].compare(h.best[h.items[j]]) < 0 }
func (h *compHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *compHeap) Push(x any)         { h.items = append(h.items, x.(int32)) }
func (h *compHeap) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}
