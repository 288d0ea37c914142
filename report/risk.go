package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// RiskReport is the risk assessment report's content (风险评估报告): the
// register's size and distribution, its inherent and residual heat maps,
// the risks that cost most a year, every risk, and the risks that lack an
// owner, a treatment or a timely review.
type RiskReport struct {
	GeneratedAt time.Time      `json:"generated_at"`
	Currency    string         `json:"currency"`
	Summary     RiskSummary    `json:"summary"`
	Heatmap     impact.Heatmap `json:"heatmap"`
	// Top are the risks of largest annualised loss expectancy, largest
	// first, with the services each takes down.
	Top []RiskTop `json:"top"`
	// Register is every risk, highest residual score first.
	Register  []RiskEntry     `json:"register"`
	Attention []RiskAttention `json:"attention"`
}

// RiskSummary is the register's size and distribution.
type RiskSummary struct {
	Total       int            `json:"total"`
	ByThreat    map[string]int `json:"by_threat"`
	ByTreatment map[string]int `json:"by_treatment"`
	// Inherent and Residual count the risks by level: "high" (score 15 and
	// above), "medium" (8 to 14) and "low", the heat map's colours.
	Inherent map[string]int `json:"inherent"`
	Residual map[string]int `json:"residual"`
	// TotalALE is the register's annualised loss expectancy.
	TotalALE      float64 `json:"total_ale"`
	ReviewOverdue int     `json:"review_overdue"`
	NoOwner       int     `json:"no_owner"`
	NoTreatment   int     `json:"no_treatment"`
}

// RiskEntry is one risk of the register.
type RiskEntry struct {
	ID                 int64    `json:"id"`
	ExternalID         string   `json:"external_id"`
	Title              string   `json:"title"`
	Threat             string   `json:"threat"`
	Likelihood         int      `json:"likelihood"`
	Impact             int      `json:"impact"`
	InherentScore      int      `json:"inherent_score"`
	ResidualLikelihood int      `json:"residual_likelihood"`
	ResidualImpact     int      `json:"residual_impact"`
	ResidualScore      int      `json:"residual_score"`
	Controls           int      `json:"controls"`
	ARO                float64  `json:"aro"`
	SLE                float64  `json:"sle"`
	ALE                float64  `json:"ale"`
	Owner              string   `json:"owner"`
	Treatment          string   `json:"treatment"`
	ReviewDate         *string  `json:"review_date"`
	ReviewOverdue      bool     `json:"review_overdue"`
	Services           []string `json:"services"`
}

// RiskTop is one of the costliest risks: how its ALE is made and the
// services it takes down, priced by their BIAs or, without one, not.
type RiskTop struct {
	ID       int64                `json:"id"`
	Title    string               `json:"title"`
	ARO      float64              `json:"aro"`
	SLE      float64              `json:"sle"`
	ALE      float64              `json:"ale"`
	ALEHow   string               `json:"ale_how"`
	Services []impact.ServiceLoss `json:"services"`
	Unpriced []string             `json:"unpriced"`
}

// Reasons a risk needs attention.
const (
	RiskNoOwner       = "no_owner"
	RiskNoTreatment   = "no_treatment"
	RiskReviewOverdue = "review_overdue"
	RiskNoReview      = "no_review_date"
)

// RiskAttention is a risk that lacks something the register needs.
type RiskAttention struct {
	ID      int64    `json:"id"`
	Title   string   `json:"title"`
	Reasons []string `json:"reasons"`
}

// Risk levels by score, as the heat map colours them.
const (
	RiskHigh   = "high"
	RiskMedium = "medium"
	RiskLow    = "low"
)

// riskTopCount is how many risks the report ranks by ALE.
const riskTopCount = 10

// riskReport gathers the risk assessment report as of now.
func (e *Reports) riskReport(ctx context.Context, q Request, _, _ time.Time) (any, htmlPage, error) {
	rep, err := e.gatherRisks(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("gather risk report: %w", err)
	}
	return rep, rep.document(q.Lang), nil
}

// gatherRisks reads the heat map, the whole register, quantified, and the
// settings' currency, in parallel.
func (e *Reports) gatherRisks(ctx context.Context) (*RiskReport, error) {
	rep := &RiskReport{GeneratedAt: e.r.rt.Now().UTC(), Top: []RiskTop{}, Register: []RiskEntry{}, Attention: []RiskAttention{}}
	var risks []impact.Risk
	eg, gctx := errgroup.WithContext(ctx)
	eg.Go(func() (err error) { rep.Heatmap, err = e.r.opts.Impact.Heatmap(gctx); return err })
	eg.Go(func() (err error) { risks, err = e.riskRegister(gctx); return err })
	eg.Go(func() error {
		s, err := e.r.opts.Impact.Settings(gctx)
		rep.Currency = s.Currency
		return err
	})
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	rep.fill(risks)
	return rep, nil
}

// riskRegister pages through the whole register, each risk quantified.
func (e *Reports) riskRegister(ctx context.Context) ([]impact.Risk, error) {
	var out []impact.Risk
	err := orchestrator.EachPage(func(page orchestrator.Page) (orchestrator.List[impact.Risk], error) {
		return e.r.opts.Impact.ListRisks(ctx, impact.RiskFilter{}, page)
	}, func(r impact.Risk) { out = append(out, r) })
	return out, err
}

// fill summarises the risks, ranks them and lists those needing
// attention.
func (rep *RiskReport) fill(risks []impact.Risk) {
	s := RiskSummary{Total: len(risks), ByThreat: map[string]int{}, ByTreatment: map[string]int{},
		Inherent: map[string]int{RiskHigh: 0, RiskMedium: 0, RiskLow: 0}, Residual: map[string]int{RiskHigh: 0, RiskMedium: 0, RiskLow: 0}}
	for _, r := range risks {
		s.ByThreat[r.Threat]++
		s.ByTreatment[r.Treatment]++
		s.Inherent[riskLevel(r.InherentScore)]++
		s.Residual[riskLevel(r.ResidualScore)]++
		s.TotalALE += r.Quantification.ALE
		if r.Quantification.Currency != "" {
			rep.Currency = r.Quantification.Currency
		}
		rep.Register = append(rep.Register, riskEntry(r))
		if a := riskAttention(r); len(a.Reasons) > 0 {
			rep.Attention = append(rep.Attention, a)
			for _, reason := range a.Reasons {
				switch reason {
				case RiskNoOwner:
					s.NoOwner++
				case RiskNoTreatment:
					s.NoTreatment++
				case RiskReviewOverdue:
					s.ReviewOverdue++
				}
			}
		}
	}
	rep.Summary = s
	slices.SortStableFunc(rep.Register, func(a, b RiskEntry) int {
		return cmp.Or(cmp.Compare(b.ResidualScore, a.ResidualScore), cmp.Compare(b.InherentScore, a.InherentScore), cmp.Compare(b.ALE, a.ALE))
	})
	byALE := slices.Clone(risks)
	slices.SortStableFunc(byALE, func(a, b impact.Risk) int { return cmp.Compare(b.Quantification.ALE, a.Quantification.ALE) })
	for _, r := range byALE[:min(riskTopCount, len(byALE))] {
		q := r.Quantification
		top := RiskTop{ID: r.ID, Title: r.Title, ARO: q.ARO, SLE: q.SLE, ALE: q.ALE, ALEHow: q.ALEHow,
			Services: append([]impact.ServiceLoss{}, q.Services...), Unpriced: append([]string{}, q.Unpriced...)}
		rep.Top = append(rep.Top, top)
	}
}

// riskEntry is a risk as the register lists it; its services are every
// one its scope takes down, priced or not.
func riskEntry(r impact.Risk) RiskEntry {
	q := r.Quantification
	services := []string{}
	for _, s := range q.Services {
		services = append(services, s.Service)
	}
	services = append(services, q.Unpriced...)
	return RiskEntry{ID: r.ID, ExternalID: r.ExternalID, Title: r.Title, Threat: r.Threat,
		Likelihood: r.Likelihood, Impact: r.Impact, InherentScore: r.InherentScore,
		ResidualLikelihood: r.ResidualLikelihood, ResidualImpact: r.ResidualImpact, ResidualScore: r.ResidualScore,
		Controls: len(r.Controls), ARO: q.ARO, SLE: q.SLE, ALE: q.ALE, Owner: r.Owner, Treatment: r.Treatment,
		ReviewDate: r.ReviewDate, ReviewOverdue: r.ReviewOverdue, Services: services}
}

// riskAttention lists what the risk lacks: an owner, a treatment, a review
// date or a review held on time.
func riskAttention(r impact.Risk) RiskAttention {
	a := RiskAttention{ID: r.ID, Title: r.Title, Reasons: []string{}}
	if r.Owner == "" {
		a.Reasons = append(a.Reasons, RiskNoOwner)
	}
	if !slices.Contains(impact.Treatments, r.Treatment) {
		a.Reasons = append(a.Reasons, RiskNoTreatment)
	}
	switch {
	case r.ReviewDate == nil:
		a.Reasons = append(a.Reasons, RiskNoReview)
	case r.ReviewOverdue:
		a.Reasons = append(a.Reasons, RiskReviewOverdue)
	}
	return a
}

// riskLevel is a likelihood × impact score's level, by the heat map's
// bands.
func riskLevel(score int) string {
	switch {
	case score >= 15:
		return RiskHigh
	case score >= 8:
		return RiskMedium
	}
	return RiskLow
}
