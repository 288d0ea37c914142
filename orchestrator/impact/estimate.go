package impact

import "github.com/bcdr/bcdr/orchestrator"

// Estimator estimates how long down CIs take to recover after a what-if,
// from each CI's own recovery estimate. A CI can only be recovered once
// what brought it down is back, so its estimate is its own plus the
// longest estimate among the down CIs it actually needs: an ordinary
// dependency, or a member of a redundancy group the failure broke (a group
// that kept min_up members up is not waited for). This is the critical
// path of a recovery that works on independent CIs in parallel. Results are
// memoised, so estimating every down service costs one pass over the down
// CIs. Not safe for concurrent use.
type Estimator struct {
	g      *Graph
	r      Result
	weight func(int32) orchestrator.Duration
	memo   map[int32]orchestrator.Duration
	active map[int32]bool
	counts map[int32]int32
}

// NewEstimator prepares estimates for the down CIs of r; weight gives a
// CI's own recovery estimate.
func (g *Graph) NewEstimator(r Result, weight func(int32) orchestrator.Duration) *Estimator {
	return &Estimator{g: g, r: r, weight: weight, memo: map[int32]orchestrator.Duration{},
		active: map[int32]bool{}, counts: map[int32]int32{}}
}

// Estimate returns the estimated recovery time of n, 0 when n is up. On a
// dependency cycle a CI already on the current chain counts nothing, so
// every member of the cycle is counted once.
func (e *Estimator) Estimate(n int32) orchestrator.Duration {
	if !e.g.valid(n) || !e.r.IsDown(n) {
		return 0
	}
	if d, ok := e.memo[n]; ok {
		return d
	}
	if e.active[n] {
		return 0
	}
	e.active[n] = true
	var longest orchestrator.Duration
	for _, y := range e.needed(n) {
		longest = max(longest, e.Estimate(y))
	}
	delete(e.active, n)
	d := e.weight(n) + longest
	e.memo[n] = d
	return d
}

// needed lists the down CIs n waits for: its ordinary dependencies that are
// down and the down members of its broken groups.
func (e *Estimator) needed(n int32) []int32 {
	g := e.g
	lo, hi := g.outStart[n], g.outStart[n+1]
	clear(e.counts)
	for i := lo; i < hi; i++ {
		if gr := g.outGroup[i]; gr >= 0 && e.r.IsDown(g.outTo[i]) {
			e.counts[gr]++
		}
	}
	var out []int32
	for i := lo; i < hi; i++ {
		y := g.outTo[i]
		if !e.r.IsDown(y) {
			continue
		}
		if gr := g.outGroup[i]; gr >= 0 && g.groupSize[gr]-e.counts[gr] >= g.groupMin[gr] {
			continue
		}
		out = append(out, y)
	}
	return out
}
