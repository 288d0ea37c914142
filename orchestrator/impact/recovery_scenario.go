package impact

// limit restricts the following scenarios to nodes (nil: the whole graph).
// Exact for any node whose dependency closure lies within nodes.
func (p *planner) limit(nodes []int32) {
	p.all = nodes == nil
	p.mEpoch++
	if p.mEpoch == 0 {
		clear(p.memberEp)
		p.mEpoch = 1
	}
	p.members = append(p.members[:0], nodes...)
	for i, n := range nodes {
		p.memberEp[n] = p.mEpoch
		p.slot[n] = int32(i)
	}
	if p.all {
		return
	}
	g, k := p.g, len(nodes)
	p.inStart = append(p.inStart[:0], make([]int32, k+1)...)
	for _, n := range nodes {
		for e := g.outStart[n]; e < g.outStart[n+1]; e++ {
			if y := g.outTo[e]; p.member(y) {
				p.inStart[p.slot[y]+1]++
			}
		}
	}
	for i := range k {
		p.inStart[i+1] += p.inStart[i]
	}
	total := p.inStart[k]
	p.inFrom = append(p.inFrom[:0], make([]int32, total)...)
	p.inGroup = append(p.inGroup[:0], make([]int32, total)...)
	pos := append(p.queue[:0], p.inStart[:k]...)
	for _, n := range nodes {
		for e := g.outStart[n]; e < g.outStart[n+1]; e++ {
			if y := g.outTo[e]; p.member(y) {
				at := pos[p.slot[y]]
				p.inFrom[at], p.inGroup[at] = n, g.outGroup[e]
				pos[p.slot[y]]++
			}
		}
	}
	p.queue = pos[:0]
}

// dependents returns the dependents of x that count and their groups.
func (p *planner) dependents(x int32) ([]int32, []int32) {
	if p.all {
		g := p.g
		return g.inFrom[g.inStart[x]:g.inStart[x+1]], g.inGroup[g.inStart[x]:g.inStart[x+1]]
	}
	i := p.slot[x]
	return p.inFrom[p.inStart[i]:p.inStart[i+1]], p.inGroup[p.inStart[i]:p.inStart[i+1]]
}

func (p *planner) member(n int32) bool { return p.all || p.memberEp[n] == p.mEpoch }
func (p *planner) down(n int32) bool   { return p.downEp[n] == p.epoch }
func (p *planner) failed(n int32) bool { return p.failEp[n] == p.epoch }
func (p *planner) corrupt(n int32) bool {
	return p.corruptEp[n] == p.epoch
}

// scenario starts a new scenario: failed fail by themselves, corrupt (a
// subset) have corrupted data. It propagates failure as WhatIf does, within
// the members.
func (p *planner) scenario(failed, corrupt []int32) {
	p.epoch++
	if p.epoch == 0 {
		for _, a := range [][]uint32{p.downEp, p.failEp, p.corruptEp, p.planEp, p.activeEp, p.gmark} {
			clear(a)
		}
		p.epoch = 1
	}
	ep, g := p.epoch, p.g
	p.queue = p.queue[:0]
	for _, c := range corrupt {
		p.corruptEp[c] = ep
	}
	for _, f := range failed {
		if p.member(f) && p.downEp[f] != ep {
			p.failEp[f], p.downEp[f] = ep, ep
			p.queue = append(p.queue, f)
		}
	}
	for head := 0; head < len(p.queue); head++ {
		from, groups := p.dependents(p.queue[head])
		for e, d := range from {
			if p.downEp[d] == ep {
				continue
			}
			if gr := groups[e]; gr >= 0 {
				if p.gmark[gr] != ep {
					p.gmark[gr], p.gdown[gr] = ep, 0
				}
				p.gdown[gr]++
				if g.groupSize[gr]-p.gdown[gr] >= g.groupMin[gr] {
					continue
				}
			}
			p.downEp[d] = ep
			p.queue = append(p.queue, d)
		}
	}
}
