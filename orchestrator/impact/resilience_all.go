package impact

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// ScenarioBrief names a scenario and how a service fares in it.
type ScenarioBrief struct {
	Scenario    Disruption             `json:"scenario"`
	RTOEstimate orchestrator.Duration  `json:"rto_estimate"`
	RPOEstimate *orchestrator.Duration `json:"rpo_estimate"`
	RTOMet      *bool                  `json:"rto_met"`
	RPOMet      *bool                  `json:"rpo_met"`
}

// ServiceResilienceSummary is one service's worst scenario for RTO and for
// RPO. MeetsBoth is null without an approved BIA or while a data loss is
// unknown.
type ServiceResilienceSummary struct {
	Service   string                 `json:"service"`
	RTO       *orchestrator.Duration `json:"rto"`
	RPO       *orchestrator.Duration `json:"rpo"`
	Scenarios int                    `json:"scenarios"`
	WorstRTO  *ScenarioBrief         `json:"worst_rto"`
	WorstRPO  *ScenarioBrief         `json:"worst_rpo"`
	// RTOMisses and RPOMisses count the scenarios missing each target.
	RTOMisses int   `json:"rto_misses"`
	RPOMisses int   `json:"rpo_misses"`
	MeetsBoth *bool `json:"meets_both"`
}

// ResilienceCounts counts services: those meeting RTO and RPO in every
// scenario, those missing either, and those that cannot be judged (no
// approved BIA, or a data loss unknown).
type ResilienceCounts struct {
	Services    int `json:"services"`
	MeetingBoth int `json:"meeting_both"`
	MissingRTO  int `json:"missing_rto"`
	MissingRPO  int `json:"missing_rpo"`
	Unknown     int `json:"unknown"`
}

// ResilienceSummary is the organisation's resilience: every business
// service's worst scenarios, and counts.
type ResilienceSummary struct {
	Services    []ServiceResilienceSummary `json:"services"`
	Counts      ResilienceCounts           `json:"counts"`
	EvaluatedAt time.Time                  `json:"evaluated_at"`
}

// ResilienceAll evaluates every scenario of every business service, on as
// many goroutines as there are processors, each with its own planner.
func (s *Service) ResilienceAll(ctx context.Context) (ResilienceSummary, error) {
	rc, err := s.loadRecoveryContext(ctx, nil)
	if err != nil {
		return ResilienceSummary{}, err
	}
	return rc.all(ctx)
}

// all evaluates every business service, in parallel.
func (rc *recoveryContext) all(ctx context.Context) (ResilienceSummary, error) {
	services := rc.snap.Graph.OfClass(ClassBusinessService)
	out := ResilienceSummary{Services: make([]ServiceResilienceSummary, len(services)), EvaluatedAt: rc.now.UTC()}
	workers := min(runtime.GOMAXPROCS(0), max(len(services), 1))
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := newPlanner(rc.snap.Graph, rc.facts)
			defer p.release()
			for {
				next.Lock()
				k := i
				i++
				next.Unlock()
				if k >= len(services) || ctx.Err() != nil {
					return
				}
				out.Services[k] = rc.summary(p, services[k])
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return ResilienceSummary{}, err
	}
	slices.SortFunc(out.Services, func(a, b ServiceResilienceSummary) int { return cmp.Compare(a.Service, b.Service) })
	for _, sv := range out.Services {
		c := &out.Counts
		c.Services++
		switch {
		case sv.MeetsBoth == nil:
			c.Unknown++
		case *sv.MeetsBoth:
			c.MeetingBoth++
		}
		if sv.RTOMisses > 0 {
			c.MissingRTO++
		}
		if sv.RPOMisses > 0 {
			c.MissingRPO++
		}
	}
	return out, nil
}

// summarise keeps a service's worst scenario for RTO (longest recovery)
// and for RPO (unknown, else most data lost).
func summarise(r ServiceResilience) ServiceResilienceSummary {
	out := ServiceResilienceSummary{Service: r.Service, RTO: r.RTO, RPO: r.RPO, Scenarios: len(r.Scenarios)}
	brief := func(sr ScenarioResilience) *ScenarioBrief {
		return &ScenarioBrief{Scenario: sr.Scenario, RTOEstimate: sr.RTOEstimate, RPOEstimate: sr.RPOEstimate, RTOMet: sr.RTOMet, RPOMet: sr.RPOMet}
	}
	for _, sr := range r.Scenarios {
		if sr.RTOMet != nil && !*sr.RTOMet {
			out.RTOMisses++
		}
		if sr.RPOMet != nil && !*sr.RPOMet {
			out.RPOMisses++
		}
		if out.WorstRTO == nil || sr.RTOEstimate > out.WorstRTO.RTOEstimate {
			out.WorstRTO = brief(sr)
		}
		if out.WorstRPO == nil || rpoRank(sr.RPOEstimate) > rpoRank(out.WorstRPO.RPOEstimate) {
			out.WorstRPO = brief(sr)
		}
	}
	if r.RTO == nil {
		return out
	}
	meets, unknown := true, false
	for _, sr := range r.Scenarios {
		switch {
		case sr.RTOMet != nil && !*sr.RTOMet, sr.RPOMet != nil && !*sr.RPOMet:
			meets = false
		case sr.RPOMet == nil:
			unknown = true
		}
	}
	if meets && unknown {
		return out
	}
	out.MeetsBoth = &meets
	return out
}

// summary is summarise(rc.service(p, n)) without writing every plan out:
// each scenario is judged from the planner's brief, and only the worst are
// described.
func (rc *recoveryContext) summary(p *planner, n int32) ServiceResilienceSummary {
	g := rc.snap.Graph
	key := g.Key(n)
	out := ServiceResilienceSummary{Service: key}
	b, hasBIA := rc.bias[key]
	if hasBIA {
		rto, rpo := b.RTO, b.RPO
		out.RTO, out.RPO = &rto, &rpo
	}
	// Alike CI failures make one entry, as in a service's list.
	type sig struct {
		class, action string
		rto, rpo      orchestrator.Duration
		rpoKnown      bool
	}
	merged := map[sig]*[]string{}
	var worstRTO, worstRPO *[]string // the CIs merged into each worst entry
	unknown, meets := false, true
	closure := g.Dependencies(n).Nodes
	members := rc.neighbourhood(closure)
	p.limit(members)
	rc.scenarios(closure, members, p.member, func(sc scenarioCase) {
		p.scenario(sc.failed, sc.corrupt)
		if !p.down(n) {
			return
		}
		rto, rpo, rpoKnown, first := p.brief(n)
		var cis *[]string
		if sc.typ == DisruptionCI {
			k := sig{class: g.Class(sc.node), action: first, rto: rto, rpo: rpo, rpoKnown: rpoKnown}
			if list, ok := merged[k]; ok {
				*list = append(*list, g.Key(sc.node))
				return
			}
			cis = &[]string{g.Key(sc.node)}
			merged[k] = cis
		}
		out.Scenarios++
		var rtoMet, rpoMet *bool
		if hasBIA {
			m := rto <= b.RTO
			rtoMet = &m
			if rpoKnown {
				r := rpo <= b.RPO
				rpoMet = &r
			}
		}
		if rtoMet != nil && !*rtoMet {
			out.RTOMisses++
			meets = false
		}
		switch {
		case rpoMet != nil && !*rpoMet:
			out.RPOMisses++
			meets = false
		case rpoMet == nil:
			unknown = true
		}
		var rpoPtr *orchestrator.Duration
		if rpoKnown {
			rpoPtr = &rpo
		}
		cand := &ScenarioBrief{RTOEstimate: rto, RPOEstimate: rpoPtr, RTOMet: rtoMet, RPOMet: rpoMet}
		// Among equals the first in a service's worst-first list wins.
		if w := out.WorstRTO; w == nil || rto > w.RTOEstimate || rto == w.RTOEstimate && worseBrief(cand, w) {
			cand.Scenario = sc.disruption(g)
			out.WorstRTO, worstRTO = cand, cis
		}
		if w := out.WorstRPO; w == nil || rpoRank(rpoPtr) > rpoRank(w.RPOEstimate) || rpoRank(rpoPtr) == rpoRank(w.RPOEstimate) && worseBrief(cand, w) {
			c := *cand
			c.Scenario = sc.disruption(g)
			out.WorstRPO, worstRPO = &c, cis
		}
	})
	for _, w := range []struct {
		brief *ScenarioBrief
		cis   *[]string
	}{{out.WorstRTO, worstRTO}, {out.WorstRPO, worstRPO}} {
		if w.brief != nil && w.cis != nil {
			w.brief.Scenario.CIs = slices.Sorted(slices.Values(*w.cis))
		}
	}
	if hasBIA && !(meets && unknown) {
		out.MeetsBoth = &meets
	}
	return out
}

// worseBrief orders scenarios as worstFirst does.
func worseBrief(a, b *ScenarioBrief) bool {
	return worstFirst(ScenarioResilience{RTOEstimate: a.RTOEstimate, RPOEstimate: a.RPOEstimate, RTOMet: a.RTOMet, RPOMet: a.RPOMet},
		ScenarioResilience{RTOEstimate: b.RTOEstimate, RPOEstimate: b.RPOEstimate, RTOMet: b.RTOMet, RPOMet: b.RPOMet}) < 0
}
