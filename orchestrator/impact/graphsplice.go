package impact

import "slices"

// relink gives the new graph its edges: the relations of owners resolved
// from rels (by owner, then relation id), every other node's as in old.
// Rather than laying out all edges again, it splices: each array is copied
// from old in a few large blocks, with the owners' segments (and the
// in-lists of the nodes they point to) written fresh. Groups and failovers
// stay numbered as build numbers them — per node, in node order — so the
// result equals a fresh build.
func (s *Snapshot) relink(old *Graph, owners []int32, rels []relationRow) ([]repair, error) {
	g := s.Graph
	// Resolve the owners' relations into a scratch graph, which numbers
	// their groups and failovers from 0.
	scratch := &Graph{keys: g.keys}
	var (
		edges   []edge
		repairs []repair
		own     []ownEdge
		r       int
	)
	ownerEdges := make([]int, len(owners)+1) // owner i's edges are edges[ownerEdges[i]:ownerEdges[i+1]]
	ownerGroups := make([]int32, len(owners)+1)
	ownerFos := make([]int32, len(owners)+1)
	for i, n := range owners {
		own = own[:0]
		for ; r < len(rels) && rels[r].fromID == s.ciIDs[n]; r++ {
			to, ok := s.nodeOf(rels[r].toID)
			if !ok {
				return nil, errFullLoad
			}
			e := rels[r].Edge
			e.From, e.To = g.keys[n], g.keys[to]
			own = append(own, ownEdge{to: to, Edge: e})
		}
		var more []repair
		edges, more = scratch.resolveOwn(n, own, false, edges)
		repairs = append(repairs, more...)
		ownerEdges[i+1], ownerGroups[i+1], ownerFos[i+1] = len(edges), int32(len(scratch.groupMin)), int32(len(scratch.failovers))
	}
	if r < len(rels) {
		return nil, errFullLoad
	}
	sp := &splicer{old: old, g: g, owners: owners, edges: edges, ownerEdges: ownerEdges, scratch: scratch}
	sp.renumber(ownerGroups, ownerFos)
	sp.outgoing()
	sp.incoming()
	return repairs, nil
}

// span is a run [lo, hi) of an old array replaced by n new elements.
type span struct{ lo, hi, n int32 }

// spliceArray returns src with each span replaced: fill writes span i's
// new elements, and keep, when not nil, adjusts the elements copied.
func spliceArray[T any](src []T, spans []span, keep func([]T), fill func(i int, seg []T)) []T {
	size := int32(len(src))
	for _, sp := range spans {
		size += sp.n - (sp.hi - sp.lo)
	}
	dst := make([]T, size)
	var from, to int32
	copied := func(lo, hi int32) {
		n := int32(copy(dst[to:], src[lo:hi]))
		if keep != nil {
			keep(dst[to : to+n])
		}
		to += n
	}
	for i, sp := range spans {
		copied(from, sp.lo)
		fill(i, dst[to:to+sp.n])
		to += sp.n
		from = sp.hi
	}
	copied(from, int32(len(src)))
	return dst
}

// segmentSpans returns the spans of nodes' segments in a CSR whose starts
// are start (nodes past its end have empty segments at its end), each to
// be replaced by lens[i] elements.
func segmentSpans(start []int32, nodes []int32, lens []int32) []span {
	spans := make([]span, len(nodes))
	for i, n := range nodes {
		spans[i] = span{lo: startAt(start, n), hi: startAt(start, n+1), n: lens[i]}
	}
	return spans
}

// startAt returns start[n], or the end for a node added after start was
// laid out.
func startAt(start []int32, n int32) int32 {
	if int(n) >= len(start) {
		return start[len(start)-1]
	}
	return start[n]
}

// spliceStarts returns the starts of a CSR of size nodes after nodes'
// segments are replaced as spans say.
func spliceStarts(start []int32, size int, nodes []int32, spans []span) []int32 {
	out := make([]int32, size+1)
	var shift int32
	k := 0
	for n := range int32(size) {
		out[n] = startAt(start, n) + shift
		if k < len(nodes) && nodes[k] == n {
			shift += spans[k].n - (spans[k].hi - spans[k].lo)
			k++
		}
	}
	out[size] = startAt(start, int32(size)) + shift
	return out
}

// splicer rewrites the edge arrays of g from old for one relink.
type splicer struct {
	old, g     *Graph
	owners     []int32
	edges      []edge // the owners' resolved edges, numbered in scratch
	ownerEdges []int
	scratch    *Graph
	// groupBase and foBase are where each owner's groups and failovers
	// start in g; groupMap and foMap renumber the others' (nil: unchanged).
	groupBase, foBase []int32
	groupMap, foMap   *renumbering
	// sameActive: no owner's propagating edges changed.
	sameActive bool
}

// renumber splices the owners' groups and failovers into g's, where build
// would number them, and prepares renumbering everyone else's.
func (sp *splicer) renumber(ownerGroups, ownerFos []int32) {
	old, g := sp.old, sp.g
	groupSpans, foSpans := make([]span, len(sp.owners)), make([]span, len(sp.owners))
	for i, n := range sp.owners {
		groupSpans[i] = ownedRange(old.outStart, old.outGroup, n, int32(len(old.groupMin)))
		groupSpans[i].n = ownerGroups[i+1] - ownerGroups[i]
		foSpans[i] = ownedRange(old.passStart, old.passFo, n, int32(len(old.failovers)))
		foSpans[i].n = ownerFos[i+1] - ownerFos[i]
	}
	var groupShift, foShift bool
	sp.groupBase, groupShift = spanBases(groupSpans)
	sp.foBase, foShift = spanBases(foSpans)
	g.groupMin = spliceArray(old.groupMin, groupSpans, nil, func(i int, seg []int32) {
		copy(seg, sp.scratch.groupMin[ownerGroups[i]:ownerGroups[i+1]])
	})
	g.groupSize = spliceArray(old.groupSize, groupSpans, nil, func(i int, seg []int32) {
		copy(seg, sp.scratch.groupSize[ownerGroups[i]:ownerGroups[i+1]])
	})
	g.failovers = spliceArray(old.failovers, foSpans, nil, func(i int, seg []Failover) {
		copy(seg, sp.scratch.failovers[ownerFos[i]:ownerFos[i+1]])
	})
	if groupShift {
		sp.groupMap = newRenumbering(groupSpans)
	}
	if foShift {
		sp.foMap = newRenumbering(foSpans)
	}
	// The owners' own numbers, from scratch's to g's.
	for i := range sp.owners {
		for j := sp.ownerEdges[i]; j < sp.ownerEdges[i+1]; j++ {
			e := &sp.edges[j]
			if e.group >= 0 {
				e.group += sp.groupBase[i] - ownerGroups[i]
			}
			if e.fo >= 0 {
				e.fo += sp.foBase[i] - ownerFos[i]
			}
		}
	}
}

// ownedRange returns the ids (groups or failovers) node n owns, from the
// ids of its segment in a CSR: a node's ids are contiguous and in node
// order, so a node with none owns the empty range before the next id.
func ownedRange(start, ids []int32, n int32, total int32) span {
	lo, hi := startAt(start, n), startAt(start, n+1)
	first, last := int32(-1), int32(-1)
	for _, id := range ids[lo:hi] {
		if id >= 0 && (first < 0 || id < first) {
			first = id
		}
		last = max(last, id)
	}
	if first >= 0 {
		return span{lo: first, hi: last + 1}
	}
	for _, id := range ids[hi:] {
		if id >= 0 {
			return span{lo: id, hi: id}
		}
	}
	return span{lo: total, hi: total}
}

// spanBases returns where each span's new elements start after splicing,
// and whether any element after a span moves.
func spanBases(spans []span) ([]int32, bool) {
	bases := make([]int32, len(spans))
	var shift int32
	for i, sp := range spans {
		bases[i] = sp.lo + shift
		shift += sp.n - (sp.hi - sp.lo)
	}
	return bases, slices.ContainsFunc(spans, func(sp span) bool { return sp.n != sp.hi-sp.lo })
}

// renumbering moves old ids, outside the spans, to where splicing the
// spans puts them; -1 stays -1. A nil renumbering changes nothing.
type renumbering struct{ ends, shifts []int32 }

func newRenumbering(spans []span) *renumbering {
	r := &renumbering{ends: make([]int32, len(spans)), shifts: make([]int32, len(spans))}
	var shift int32
	for i, sp := range spans {
		shift += sp.n - (sp.hi - sp.lo)
		r.ends[i], r.shifts[i] = sp.hi, shift
	}
	return r
}

// id returns where id moves.
func (r *renumbering) id(id int32) int32 {
	if r == nil || id < 0 {
		return id
	}
	// The spans ending at or before id moved it.
	k, _ := slices.BinarySearch(r.ends, id+1)
	if k == 0 {
		return id
	}
	return id + r.shifts[k-1]
}

// apply moves every id in ids.
func (r *renumbering) apply(ids []int32) {
	for j, id := range ids {
		ids[j] = r.id(id)
	}
}

// keep returns apply for spliceArray, nil when nothing moves.
func (r *renumbering) keep() func([]int32) {
	if r == nil {
		return nil
	}
	return r.apply
}

// outgoing splices the owners' edges into the outward CSRs, propagating
// and passive.
func (sp *splicer) outgoing() {
	old, g := sp.old, sp.g
	var active, passive [][]edge
	outLens, passLens := make([]int32, len(sp.owners)), make([]int32, len(sp.owners))
	for i := range sp.owners {
		var a, p []edge
		for _, e := range sp.edges[sp.ownerEdges[i]:sp.ownerEdges[i+1]] {
			if e.typ < firstPassive {
				a = append(a, e)
			} else {
				p = append(p, e)
			}
		}
		active, passive = append(active, a), append(passive, p)
		outLens[i], passLens[i] = int32(len(a)), int32(len(p))
	}
	size := len(g.keys)
	// Arrays no owner's edges changed are shared, not copied: a new
	// dependency leaves the passive ones alone, a new backup the others.
	sp.sameActive = sp.groupMap == nil && size == old.Len() && sp.unchanged(active, func(n int32) []edge {
		var out []edge
		for i := old.outStart[n]; i < old.outStart[n+1]; i++ {
			out = append(out, edge{from: n, to: old.outTo[i], group: old.outGroup[i], typ: old.outType[i], fo: -1})
		}
		return out
	})
	samePassive := sp.foMap == nil && size == old.Len() && sp.unchanged(passive, func(n int32) []edge {
		var out []edge
		for i := old.passStart[n]; i < old.passStart[n+1]; i++ {
			out = append(out, edge{from: n, to: old.passTo[i], group: -1, typ: old.passType[i], fo: old.passFo[i]})
		}
		return out
	})
	if sp.sameActive {
		g.outStart, g.outTo, g.outGroup, g.outType = old.outStart, old.outTo, old.outGroup, old.outType
	} else {
		sp.spliceActive(active, outLens)
	}
	if samePassive {
		g.passStart, g.passTo, g.passType, g.passFo = old.passStart, old.passTo, old.passType, old.passFo
	} else {
		sp.splicePassive(passive, passLens)
	}
}

// unchanged reports whether every owner's new edges equal its old ones.
func (sp *splicer) unchanged(edges [][]edge, old func(int32) []edge) bool {
	for i, n := range sp.owners {
		if !slices.Equal(edges[i], old(n)) {
			return false
		}
	}
	return true
}

// spliceActive lays out the propagating edges with the owners' replaced.
func (sp *splicer) spliceActive(active [][]edge, outLens []int32) {
	old, g := sp.old, sp.g
	spans := segmentSpans(old.outStart, sp.owners, outLens)
	g.outStart = spliceStarts(old.outStart, len(g.keys), sp.owners, spans)
	g.outTo = spliceArray(old.outTo, spans, nil, func(i int, seg []int32) {
		for j, e := range active[i] {
			seg[j] = e.to
		}
	})
	g.outGroup = spliceArray(old.outGroup, spans, sp.groupMap.keep(), func(i int, seg []int32) {
		for j, e := range active[i] {
			seg[j] = e.group
		}
	})
	g.outType = spliceArray(old.outType, spans, nil, func(i int, seg []uint8) {
		for j, e := range active[i] {
			seg[j] = e.typ
		}
	})
}

// splicePassive lays out the passive edges with the owners' replaced.
func (sp *splicer) splicePassive(passive [][]edge, passLens []int32) {
	old, g := sp.old, sp.g
	spans := segmentSpans(old.passStart, sp.owners, passLens)
	g.passStart = spliceStarts(old.passStart, len(g.keys), sp.owners, spans)
	g.passTo = spliceArray(old.passTo, spans, nil, func(i int, seg []int32) {
		for j, e := range passive[i] {
			seg[j] = e.to
		}
	})
	g.passType = spliceArray(old.passType, spans, nil, func(i int, seg []uint8) {
		for j, e := range passive[i] {
			seg[j] = e.typ
		}
	})
	g.passFo = spliceArray(old.passFo, spans, sp.foMap.keep(), func(i int, seg []int32) {
		for j, e := range passive[i] {
			seg[j] = e.fo
		}
	})
}

// incoming rewrites the in-lists of every node an owner pointed to before
// or points to now; each in-list stays ordered by From node, and by
// relation within one From, as link lays it out.
func (sp *splicer) incoming() {
	old, g := sp.old, sp.g
	if sp.sameActive {
		g.inStart, g.inFrom, g.inGroup = old.inStart, old.inFrom, old.inGroup
		return
	}
	type entry struct{ from, group int32 }
	fresh := map[int32][]entry{}
	for _, e := range sp.edges {
		if e.typ < firstPassive {
			fresh[e.to] = append(fresh[e.to], entry{e.from, e.group})
		}
	}
	for _, n := range sp.owners {
		if int(n) < old.Len() {
			for _, t := range old.outTo[old.outStart[n]:old.outStart[n+1]] {
				if _, ok := fresh[t]; !ok {
					fresh[t] = nil
				}
			}
		}
	}
	touched := make([]int32, 0, len(fresh))
	for t := range fresh {
		touched = append(touched, t)
	}
	slices.Sort(touched)
	lists := make([][]entry, len(touched))
	lens := make([]int32, len(touched))
	for i, t := range touched {
		add := fresh[t]
		var list []entry
		lo, hi := startAt(old.inStart, t), startAt(old.inStart, t+1)
		for j := lo; j < hi; j++ {
			from := old.inFrom[j]
			if _, owner := slices.BinarySearch(sp.owners, from); owner {
				continue
			}
			for len(add) > 0 && add[0].from < from {
				list, add = append(list, add[0]), add[1:]
			}
			list = append(list, entry{from, sp.groupMap.id(old.inGroup[j])})
		}
		lists[i] = append(list, add...)
		lens[i] = int32(len(lists[i]))
	}
	spans := segmentSpans(old.inStart, touched, lens)
	g.inStart = spliceStarts(old.inStart, len(g.keys), touched, spans)
	g.inFrom = spliceArray(old.inFrom, spans, nil, func(i int, seg []int32) {
		for j, e := range lists[i] {
			seg[j] = e.from
		}
	})
	g.inGroup = spliceArray(old.inGroup, spans, sp.groupMap.keep(), func(i int, seg []int32) {
		for j, e := range lists[i] {
			seg[j] = e.group
		}
	})
}
