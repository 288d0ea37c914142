package impact

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/bcdr/bcdr/orchestrator"
)

// outage is an outage duration and how it was obtained.
type outage struct {
	d   orchestrator.Duration
	how string
}

// ServiceImpact is one business service a what-if takes down.
type ServiceImpact struct {
	Key string `json:"key"`
	// Path explains why: CI keys from the service to a failed CI, the
	// service first.
	Path []string `json:"path"`
	// Ratings, Loss and the breach flags come from the approved BIA in
	// force (BIAVersion); without one the ratings are null and the loss 0.
	Ratings      map[string]int        `json:"ratings"`
	Loss         float64               `json:"loss"`
	RTOBreached  bool                  `json:"rto_breached"`
	MTPDBreached bool                  `json:"mtpd_breached"`
	Outage       orchestrator.Duration `json:"outage"`
	OutageHow    string                `json:"outage_how"`
	BIAVersion   *int                  `json:"bia_version"`
	// Recovery is what the scenario's recovery plan can do for the
	// service: failing over where a standby stands.
	Recovery *ServiceRecovery `json:"recovery"`
}

// ServiceRecovery is a down service's recovery in a what-if: the plan's
// strategy, the standbys it fails over to, how long it takes and whether
// that holds against the approved BIA (null without one), with the loss at
// that estimated outage beside the loss at the outage asked about.
type ServiceRecovery struct {
	Strategy       []PlanAction           `json:"strategy"`
	Standbys       []string               `json:"standbys"`
	Estimate       orchestrator.Duration  `json:"estimate"`
	RPOEstimate    *orchestrator.Duration `json:"rpo_estimate"`
	RTOMet         *bool                  `json:"rto_met"`
	MTPDMet        *bool                  `json:"mtpd_met"`
	LossAtEstimate float64                `json:"loss_at_estimate"`
	CriticalPath   []PlanStep             `json:"critical_path"`
	Notes          []string               `json:"notes"`
}

// WhatIfAnswer is everything a what-if takes down, what it costs and the
// order to recover in.
type WhatIfAnswer struct {
	// Failed are the CIs that fail by themselves, in key order.
	Failed []string `json:"failed"`
	// Down is every CI down, failed ones included, in key order.
	Down []string `json:"down"`
	// Services are the business services down, costliest first.
	Services  []ServiceImpact `json:"services"`
	TotalLoss float64         `json:"total_loss"`
	Currency  string          `json:"currency"`
	// RecoveryOrder lists every down CI, each after the CIs it needs and,
	// among those free to go, the one serving the tightest RTO first.
	RecoveryOrder []string `json:"recovery_order"`
}

// WhatIf answers a scenario over the current graph.
func (s *Service) WhatIf(ctx context.Context, sc Scenario) (WhatIfAnswer, error) {
	snap, err := s.graphs.Current(ctx)
	if err != nil {
		return WhatIfAnswer{}, err
	}
	failed, fixed, err := s.resolveScenario(ctx, snap, sc)
	if err != nil {
		return WhatIfAnswer{}, err
	}
	g := snap.Graph
	r := g.WhatIf(failed)
	impacts, total, err := s.price(ctx, snap, r, fixed)
	if err != nil {
		return WhatIfAnswer{}, err
	}
	byKey, err := approvedTargets(ctx, s.pool)
	if err != nil {
		return WhatIfAnswer{}, err
	}
	req := snap.requirementsOf(r.Down, targetsOf(snap, byKey))
	order := g.RecoveryOrder(r.Down, func(n int32) (orchestrator.Duration, bool) { return req(n).RTO, req(n).HasRTO() })
	settings, err := loadSettings(ctx, s.pool)
	if err != nil {
		return WhatIfAnswer{}, err
	}
	return WhatIfAnswer{
		Failed: sortedKeys(g, failed), Down: sortedKeys(g, r.Down), Services: impacts, TotalLoss: total,
		Currency: settings.Currency, RecoveryOrder: keyList(g, order),
	}, nil
}

func keyList(g *Graph, ns []int32) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = g.Key(n)
	}
	return out
}

func sortedKeys(g *Graph, ns []int32) []string {
	out := keyList(g, ns)
	slices.Sort(out)
	return out
}

// price evaluates every business service down in r with its approved BIA,
// for the fixed outage or, without one, its estimated recovery time.
func (s *Service) price(ctx context.Context, snap *Snapshot, r Result, fixed *outage) ([]ServiceImpact, float64, error) {
	g := snap.Graph
	var down []int32
	var keys []string
	for _, n := range r.Down {
		if g.Class(n) == ClassBusinessService {
			down = append(down, n)
			keys = append(keys, g.Key(n))
		}
	}
	impacts := make([]ServiceImpact, 0, len(down))
	if len(down) == 0 {
		return impacts, 0, nil
	}
	bias, err := approvedBIAs(ctx, s.pool, keys)
	if err != nil {
		return nil, 0, err
	}
	est := g.NewEstimator(r, snap.Estimate)
	plans, err := s.recoveryPlans(ctx, snap, r, down)
	if err != nil {
		return nil, 0, err
	}
	total := 0.0
	for _, n := range down {
		key := g.Key(n)
		b, has := bias[key]
		o := fixed
		if o == nil {
			o = estimatedOutage(est.Estimate(n), b, has)
		}
		si := ServiceImpact{Key: key, Path: g.Path(r, n), Outage: o.d, OutageHow: o.how}
		if has {
			l := b.At(o.d)
			version := b.Version
			si.BIAVersion, si.Ratings, si.Loss = &version, l.Ratings, l.Loss
			si.RTOBreached, si.MTPDBreached = l.RTOBreached, l.MTPDBreached
		}
		si.Recovery = recoveryOf(plans[n], b, has)
		total += si.Loss
		impacts = append(impacts, si)
	}
	slices.SortFunc(impacts, func(a, b ServiceImpact) int {
		if c := cmp.Compare(b.Loss, a.Loss); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return impacts, total, nil
}

// estimatedOutage is how long a service is expected to be out without a
// measured duration: its estimated recovery time, else its RTO.
func estimatedOutage(est orchestrator.Duration, b BIA, has bool) *outage {
	switch {
	case est > 0:
		return &outage{d: est, how: fmt.Sprintf("estimated recovery time %s (longest chain of CI recovery estimates)", est)}
	case has:
		return &outage{d: b.RTO, how: fmt.Sprintf("no recovery estimates recorded; assumed the RTO %s", b.RTO)}
	}
	return &outage{how: "no recovery estimates recorded and no approved BIA"}
}

// recoveryPlans plans the recovery of every down service in the what-if's
// scenario (its failed CIs), over the whole graph.
func (s *Service) recoveryPlans(ctx context.Context, snap *Snapshot, r Result, services []int32) (map[int32]Plan, error) {
	facts, err := s.recoveryFacts(ctx, snap)
	if err != nil {
		return nil, err
	}
	var failed []int32
	for i, n := range r.Down {
		if r.Cause[i] < 0 {
			failed = append(failed, n)
		}
	}
	p := newPlanner(snap.Graph, facts)
	defer p.release()
	p.limit(nil)
	p.scenario(failed, nil)
	out := make(map[int32]Plan, len(services))
	for _, n := range services {
		out[n] = p.result(n)
	}
	return out, nil
}

// recoveryOf judges a plan against the service's approved BIA.
func recoveryOf(plan Plan, b BIA, has bool) *ServiceRecovery {
	sr := describe(plan, Disruption{}, b, has)
	out := &ServiceRecovery{Strategy: sr.Strategy, Standbys: plan.Standbys, Estimate: plan.RTO, RPOEstimate: plan.RPO,
		RTOMet: sr.RTOMet, CriticalPath: plan.CriticalPath, Notes: plan.Notes}
	if has {
		out.LossAtEstimate = b.At(plan.RTO).Loss
		if b.MTPD != nil {
			ok := plan.RTO+b.WRT <= *b.MTPD
			out.MTPDMet = &ok
		}
	}
	return out
}
