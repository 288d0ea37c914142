package impact

import (
	"context"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/itsm"
)

// HistoryWindow is how far back incident history counts towards a risk's
// ARO and expected outage.
const HistoryWindow = 2 * year

// RiskQuantification is a risk in money with how each figure was
// obtained, computed from the current CMDB, approved BIAs and incident
// history.
type RiskQuantification struct {
	Quantification
	Currency string `json:"currency"`
	// Window is the incident history considered; Incidents how many of its
	// incidents match the threat and scope.
	Window    orchestrator.Duration `json:"window"`
	Incidents int                   `json:"incidents"`
	// Outage is the median duration of the matching incidents, null when
	// there are none and each service is assumed out for its estimated
	// recovery time instead.
	Outage    *orchestrator.Duration `json:"outage"`
	OutageHow string                 `json:"outage_how"`
	// Services are the services the scope takes down that have an approved
	// BIA; Unpriced those without one, which add nothing to the SLE.
	Services []ServiceLoss `json:"services"`
	Unpriced []string      `json:"unpriced"`
	// MissingScope lists scope entries that no longer match anything.
	MissingScope Scope `json:"missing_scope"`
}

// riskHistory is what incident history says about a risk.
type riskHistory struct {
	count  int
	outage *outage
}

// history counts the incidents of the risk's threat affecting the failed
// CIs over the window, and their median duration when any was restored.
func (s *Service) history(ctx context.Context, snap *Snapshot, risk Risk, failed []int32) (riskHistory, error) {
	if len(failed) == 0 {
		// No keys would match every incident of the threat.
		return riskHistory{}, nil
	}
	now := s.rt.Now()
	incidents, err := itsm.MatchingIncidents(ctx, s.pool, risk.Threat, keyList(snap.Graph, failed), now.Add(-HistoryWindow), now)
	if err != nil {
		return riskHistory{}, err
	}
	h := riskHistory{count: len(incidents)}
	var durations []time.Duration
	for _, inc := range incidents {
		if inc.Restored {
			durations = append(durations, time.Duration(inc.Duration))
		}
	}
	if len(durations) > 0 {
		d, how := ExpectedOutage(durations, 0)
		h.outage = &outage{d: d, how: how}
	}
	return h, nil
}

// quantifyAll fills in the quantification of each risk over one snapshot.
func (s *Service) quantifyAll(ctx context.Context, risks []Risk) error {
	if len(risks) == 0 {
		return nil
	}
	snap, err := s.graphs.Current(ctx)
	if err != nil {
		return err
	}
	settings, err := loadSettings(ctx, s.pool)
	if err != nil {
		return err
	}
	for i := range risks {
		q, err := s.quantify(ctx, snap, risks[i])
		if err != nil {
			return err
		}
		q.Currency = settings.Currency
		risks[i].Quantification = q
	}
	return nil
}

// quantify applies DESIGN.md: ARO from matching incidents or likelihood,
// SLE from the BIA loss of every service the scope takes down, ALE = ARO ×
// SLE.
func (s *Service) quantify(ctx context.Context, snap *Snapshot, risk Risk) (RiskQuantification, error) {
	rs, err := resolveScope(ctx, s.pool, snap, risk.Scope, [3]string{"cis", "sites", "suppliers"})
	if err != nil {
		return RiskQuantification{}, err
	}
	failed := rs.failed()
	h, err := s.history(ctx, snap, risk, failed)
	if err != nil {
		return RiskQuantification{}, err
	}
	aro, aroHow := ARO(h.count, time.Duration(HistoryWindow), risk.Likelihood)
	impacts, _, err := s.price(ctx, snap, snap.Graph.WhatIf(failed), h.outage)
	if err != nil {
		return RiskQuantification{}, err
	}
	q := RiskQuantification{Window: orchestrator.Duration(HistoryWindow), Incidents: h.count,
		Services: []ServiceLoss{}, Unpriced: []string{},
		MissingScope: Scope{CIs: orNone(rs.missing["cis"]), Sites: orNone(rs.missing["sites"]), Suppliers: orNone(rs.missing["suppliers"])}}
	if h.outage != nil {
		q.Outage, q.OutageHow = &h.outage.d, h.outage.how
	} else {
		q.OutageHow = "no restored matching incident; each service is out for its estimated recovery time"
	}
	for _, si := range impacts {
		if si.BIAVersion == nil {
			q.Unpriced = append(q.Unpriced, si.Key)
			continue
		}
		q.Services = append(q.Services, ServiceLoss{Service: si.Key, Outage: si.Outage, Loss: si.Loss})
	}
	sle, sleHow := SLE(q.Services)
	q.Quantification = Quantify(aro, aroHow, sle, sleHow)
	return q, nil
}

func orNone(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
