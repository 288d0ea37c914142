package report

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// Page one of the executive report: services by tier and status, the
// fixes worth most, the RTO rows, the 12-month trend and the worst
// scenario priced.

// summarise derives page one's tiers and fixes, and the RTO rows, from
// what Build read.
func (rep *ExecutiveReport) summarise() {
	org := rep.readiness
	rep.Readiness.Score, rep.Readiness.Status = org.Score, org.Status
	rep.Readiness.Services, rep.Readiness.Counts = org.Services, org.Counts
	rep.Tiers = tierStatuses(org.Items)
	rep.TopFixes = topFixes(org.Items, 5)
	rep.RTO = rep.rtoRows()
}

func tierStatuses(items []ServiceReadiness) []TierStatus {
	rows := map[string]*TierStatus{}
	for _, r := range items {
		name := tierName(r.Tier)
		t := rows[name]
		if t == nil {
			t = &TierStatus{Tier: name}
			rows[name] = t
		}
		switch r.Status {
		case StatusReady:
			t.Ready++
		case StatusAtRisk:
			t.AtRisk++
		default:
			t.NotReady++
		}
	}
	out := []TierStatus{}
	for _, name := range []string{"0", "1", "2", "3", "4", "unassessed"} {
		if t := rows[name]; t != nil {
			out = append(out, *t)
		}
	}
	return out
}

// topFixes groups every lost point by the thing to fix and keeps the n
// that add most to the organisation's tier-weighted score.
func topFixes(items []ServiceReadiness, n int) []Fix {
	var weights float64
	for _, r := range items {
		weights += float64(weight(r.Tier))
	}
	byKey := map[string]*Fix{}
	var order []string
	for _, r := range items {
		for _, c := range r.Components {
			for _, l := range c.Lost {
				key := l.Link
				if key == "" {
					key = r.Service + "|" + l.Reason
				}
				f := byKey[key]
				if f == nil {
					f = &Fix{Reason: l.Reason, Link: l.Link, Component: c.Name, Services: []string{}}
					byKey[key] = f
					order = append(order, key)
				}
				if !slices.Contains(f.Services, r.Service) {
					f.Services = append(f.Services, r.Service)
				}
				f.Points += l.Points
				if weights > 0 {
					f.Gain += float64(l.Points*weight(r.Tier)) / weights
				}
			}
		}
	}
	out := make([]Fix, 0, len(order))
	for _, k := range order {
		f := byKey[k]
		f.Gain = float64(int(f.Gain*10+0.5)) / 10
		out = append(out, *f)
	}
	slices.SortStableFunc(out, func(a, b Fix) int { return cmp.Or(cmp.Compare(b.Gain, a.Gain), cmp.Compare(b.Points, a.Points)) })
	return out[:min(n, len(out))]
}

// rtoRows are the tier 0–1 services with an approved BIA.
func (rep *ExecutiveReport) rtoRows() []RTORow {
	out := []RTORow{}
	for key, b := range rep.bias {
		if b.Tier > 1 {
			continue
		}
		row := RTORow{Service: key, Tier: b.Tier, Target: b.RTO}
		if r, ok := rep.resilience[key]; ok && r.WorstRTO != nil {
			est := r.WorstRTO.RTOEstimate
			row.Estimate = &est
		}
		row.Achieved, row.Drill = lastAchieved(rep.completed, key)
		out = append(out, row)
	}
	slices.SortFunc(out, func(a, b RTORow) int {
		return cmp.Or(cmp.Compare(a.Tier, b.Tier), strings.Compare(a.Service, b.Service))
	})
	return out
}

// lastAchieved is the RTO the newest completed drill measured for service.
func lastAchieved(completed []drills.Drill, service string) (*orchestrator.Duration, *int64) {
	for _, d := range completed {
		if d.Outcome == nil {
			continue
		}
		for _, so := range d.Outcome.Services {
			if so.Service == service && so.RTOAchieved != nil {
				id := d.ID
				return so.RTOAchieved, &id
			}
		}
	}
	return nil, nil
}

// RecentTrend is Trend up to the end of the current month, made at most
// maxAge ago (see Service.Recent).
func (e *Reports) RecentTrend(ctx context.Context, maxAge time.Duration) ([]TrendPoint, error) {
	now := e.r.rt.Now().UTC()
	return e.trend.Get(ctx, struct{}{}, maxAge, func(ctx context.Context) ([]TrendPoint, error) {
		return e.Trend(ctx, time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC))
	})
}

// Trend is the last readiness point of each of the 12 months up to to.
func (e *Reports) Trend(ctx context.Context, to time.Time) ([]TrendPoint, error) {
	end := to.AddDate(0, 0, -1)
	points, err := e.r.History(ctx, to.AddDate(-1, 0, 0), end)
	if err != nil {
		return nil, err
	}
	out := []TrendPoint{}
	for _, p := range points {
		month := p.Day[:7]
		if n := len(out); n > 0 && out[n-1].Month == month {
			out[n-1].Score = p.Score
			continue
		}
		out = append(out, TrendPoint{Month: month, Score: p.Score})
	}
	return out, nil
}

// scenarioCandidates bounds the scenarios priced to find the worst.
const scenarioCandidates = 12

// worstScenario prices the scenarios that are some service's worst (for
// RTO) and keeps the costliest: every service the scenario takes down, at
// its estimated recovery time, by its approved BIA's loss curve.
func (e *Reports) worstScenario(ctx context.Context, rep *ExecutiveReport) (*WorstScenario, error) {
	type candidate struct {
		d        impact.Disruption
		services []string
	}
	byKey := map[string]*candidate{}
	for _, s := range rep.resilience {
		if s.WorstRTO == nil {
			continue
		}
		d := s.WorstRTO.Scenario
		key := d.Type + "|" + strings.Join(d.CIs, ",") + "|" + d.Site + "|" + d.Supplier + "|" + d.Region + "|" + d.Class
		c := byKey[key]
		if c == nil {
			c = &candidate{d: d}
			byKey[key] = c
		}
		c.services = append(c.services, s.Service)
	}
	cands := make([]*candidate, 0, len(byKey))
	for _, c := range byKey {
		slices.Sort(c.services)
		cands = append(cands, c)
	}
	slices.SortFunc(cands, func(a, b *candidate) int {
		return cmp.Or(cmp.Compare(len(b.services), len(a.services)), strings.Compare(a.services[0], b.services[0]))
	})
	var worst *WorstScenario
	for _, c := range cands[:min(len(cands), scenarioCandidates)] {
		w, err := e.priceScenario(ctx, rep, c.d, c.services)
		if err != nil {
			return nil, err
		}
		if worst == nil || w.TotalLoss > worst.TotalLoss {
			worst = w
		}
	}
	return worst, nil
}

// priceScenario asks the what-if model what d takes down and costs; the
// scenarios it cannot express (a region, a corruption) are priced over
// the services whose worst scenario d is.
func (e *Reports) priceScenario(ctx context.Context, rep *ExecutiveReport, d impact.Disruption, services []string) (*WorstScenario, error) {
	var sc impact.Scenario
	switch d.Type {
	case impact.DisruptionCI:
		sc.Failed = d.CIs
	case impact.DisruptionSite:
		sc.Site = d.Site
	case impact.DisruptionSupplier:
		sc.Supplier = d.Supplier
	}
	w := &WorstScenario{Scenario: d, Services: []ScenarioLoss{}}
	if len(sc.Failed) > 0 || sc.Site != "" || sc.Supplier != "" {
		a, err := e.r.opts.Impact.WhatIf(ctx, sc)
		if err != nil {
			return nil, err
		}
		w.Currency, w.TotalLoss = a.Currency, a.TotalLoss
		for _, s := range a.Services {
			w.Services = append(w.Services, ScenarioLoss{Service: s.Key, Outage: s.Outage, Loss: s.Loss})
		}
		return w, nil
	}
	for _, key := range services {
		b, ok := rep.bias[key]
		r := rep.resilience[key]
		if !ok || r.WorstRTO == nil {
			continue
		}
		l := b.At(r.WorstRTO.RTOEstimate)
		w.Currency = l.Currency
		w.TotalLoss += l.Loss
		w.Services = append(w.Services, ScenarioLoss{Service: key, Outage: r.WorstRTO.RTOEstimate, Loss: l.Loss})
	}
	slices.SortFunc(w.Services, func(a, b ScenarioLoss) int { return cmp.Compare(b.Loss, a.Loss) })
	return w, nil
}
