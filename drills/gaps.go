package drills

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// gapSeverity ranks the model's gap kinds as findings.
var gapSeverity = map[string]string{
	impact.GapExceedsMTPD: "critical", impact.GapSupplierRTO: "high", impact.GapSupplierRPO: "high",
	impact.GapNoBackup: "high", impact.GapNoBIA: "medium", impact.GapCMDBAnomaly: "low",
}

// FromGapsInput says which of the model's gaps become findings.
type FromGapsInput struct {
	// Kinds are the gap kinds to take [every kind].
	Kinds []string `json:"kinds"`
	// Resilience also takes, per service, the worst scenario that breaks
	// its RTO or RPO in the resilience model [true].
	Resilience *bool `json:"resilience"`
}

// FromGapsResult says what the call raised.
type FromGapsResult struct {
	Opened   int       `json:"opened"`
	Existing int       `json:"existing"`
	Findings []Finding `json:"findings"`
}

// FromGaps turns the gaps of the impact model (GET /gaps) and the
// scenarios the resilience model says break a target into findings of
// source model_gap, in one transaction; a gap already in the register is
// not raised twice.
func (s *Service) FromGaps(ctx context.Context, in FromGapsInput) (FromGapsResult, error) {
	for i, k := range in.Kinds {
		if !slices.Contains(impact.GapKinds, k) {
			return FromGapsResult{}, orchestrator.Invalid(fmt.Sprintf("kinds[%d]", i), "must be one of %s", strings.Join(impact.GapKinds, ", "))
		}
	}
	gaps, err := s.opts.Impact.Gaps(ctx, "")
	if err != nil {
		return FromGapsResult{}, err
	}
	var raise []Finding
	for _, g := range gaps.Items {
		if len(in.Kinds) > 0 && !slices.Contains(in.Kinds, g.Kind) {
			continue
		}
		origin := "gap/" + g.Kind + "/" + g.Subject
		if g.CI != "" {
			origin += "/" + g.CI
		}
		f := modelFinding(origin, gapSeverity[g.Kind], g.Message, g.Services)
		f.Description = fmt.Sprintf("Gap %s in the impact model: %s", g.Kind, g.Message)
		if g.CI != "" {
			f.CIs = []string{g.CI}
		}
		raise = append(raise, f)
	}
	if in.Resilience == nil || *in.Resilience {
		misses, err := s.resilienceMisses(ctx)
		if err != nil {
			return FromGapsResult{}, err
		}
		raise = append(raise, misses...)
	}
	var out FromGapsResult
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		out = FromGapsResult{Findings: []Finding{}}
		for _, f := range raise {
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM findings WHERE origin = $1)`, f.Origin).Scan(&exists); err != nil {
				return fmt.Errorf("find finding %s: %w", *f.Origin, err)
			}
			id, err := s.insertFinding(ctx, tx, f)
			if err != nil {
				return err
			}
			if exists {
				out.Existing++
			} else {
				out.Opened++
			}
			got, err := s.getFinding(ctx, tx, id, false)
			if err != nil {
				return err
			}
			out.Findings = append(out.Findings, got)
		}
		return nil
	})
	return out, err
}

// resilienceMisses is a finding per service and target (RTO, RPO) that a
// scenario of the resilience model misses: the worst scenario that misses
// it. The organisation's summary names each service's worst scenario,
// which may be one whose data loss is unknown; a service that misses a
// target in some other scenario is then read in full.
func (s *Service) resilienceMisses(ctx context.Context) ([]Finding, error) {
	res, err := s.opts.Impact.ResilienceAll(ctx)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, svc := range res.Services {
		rto, rpo := missed(svc.WorstRTO, func(b *impact.ScenarioBrief) *bool { return b.RTOMet }),
			missed(svc.WorstRPO, func(b *impact.ScenarioBrief) *bool { return b.RPOMet })
		if (rto == nil && svc.RTOMisses > 0) || (rpo == nil && svc.RPOMisses > 0) {
			full, err := s.opts.Impact.Resilience(ctx, svc.Service)
			if err != nil {
				return nil, err
			}
			for _, sc := range full.Scenarios { // worst first
				b := &impact.ScenarioBrief{Scenario: sc.Scenario, RTOEstimate: sc.RTOEstimate, RPOEstimate: sc.RPOEstimate, RTOMet: sc.RTOMet, RPOMet: sc.RPOMet}
				if rto == nil && sc.RTOMet != nil && !*sc.RTOMet {
					rto = b
				}
				if rpo == nil && sc.RPOMet != nil && !*sc.RPOMet {
					rpo = b
				}
			}
		}
		for _, m := range []struct {
			name string
			b    *impact.ScenarioBrief
		}{{"rto", rto}, {"rpo", rpo}} {
			name, b := m.name, m.b
			if b == nil {
				continue
			}
			sc := describe(b.Scenario)
			title := fmt.Sprintf("%s cannot meet its %s when %s", svc.Service, strings.ToUpper(name), sc)
			f := modelFinding("resilience/"+name+"/"+svc.Service, "high", title, []string{svc.Service})
			f.Description = fmt.Sprintf("The resilience model estimates recovery in %s", b.RTOEstimate)
			if b.RPOEstimate != nil {
				f.Description += fmt.Sprintf(" losing %s of data", *b.RPOEstimate)
			}
			f.Description += fmt.Sprintf(" when %s; the approved BIA requires RTO %s, RPO %s.", sc, durationText(svc.RTO), durationText(svc.RPO))
			f.CIs = b.Scenario.CIs
			out = append(out, f)
		}
	}
	return out, nil
}

// missed returns b when it misses its target as met says, else nil.
func missed(b *impact.ScenarioBrief, met func(*impact.ScenarioBrief) *bool) *impact.ScenarioBrief {
	if b == nil || met(b) == nil || *met(b) {
		return nil
	}
	return b
}

// modelFinding is a finding raised from the model.
func modelFinding(origin, severity, title string, services []string) Finding {
	if services == nil {
		services = []string{}
	}
	return Finding{Source: SourceModelGap, Severity: severity, Title: orchestrator.Excerpt(title, maxTitle), Status: FindingOpen,
		Services: services, Runbooks: []int64{}, CIs: []string{}, Origin: &origin}
}

// describe says what a disruption is, in words.
func describe(d impact.Disruption) string {
	switch {
	case d.Site != "":
		return "site " + d.Site + " is lost"
	case d.Supplier != "":
		return "supplier " + d.Supplier + " is lost"
	case d.Region != "":
		return "region " + d.Region + " is lost"
	case len(d.CIs) > 0:
		return d.Type + " of " + strings.Join(d.CIs, ", ")
	}
	return d.Type
}

// durationText writes an optional duration.
func durationText(d *orchestrator.Duration) string {
	if d == nil {
		return "unset"
	}
	return d.String()
}
