package report

import (
	"context"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// ExecutiveReport is the report's content, whatever its format.
type ExecutiveReport struct {
	Period      string    `json:"period"`
	Lang        string    `json:"lang"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	GeneratedAt time.Time `json:"generated_at"`
	Currency    string    `json:"currency"`

	Readiness      ReadinessSummary  `json:"readiness"`
	Tiers          []TierStatus      `json:"tiers"`
	TopFixes       []Fix             `json:"top_fixes"`
	WorstScenario  *WorstScenario    `json:"worst_scenario"`
	RTO            []RTORow          `json:"rto"`
	RPO            RPOSection        `json:"rpo"`
	Drills         DrillSection      `json:"drills"`
	Findings       FindingSection    `json:"findings"`
	Risks          RiskSection       `json:"risks"`
	SLA            SLASection        `json:"sla"`
	MajorIncidents IncidentSection   `json:"major_incidents"`
	Deployments    DeploymentSection `json:"deployments"`
	Invocations    InvocationSection `json:"invocations"`
	Notes          []string          `json:"notes"`
	readiness      Organisation      `json:"-"`
	resilience     map[string]impact.ServiceResilienceSummary
	bias           map[string]impact.BIA
	completed      []drills.Drill
}

// Executive gathers the executive report asked for.
func (e *Reports) Executive(ctx context.Context, q Request) (*ExecutiveReport, error) {
	q.Kind = KindExecutive
	from, to, err := q.Validate(e.r.rt.Now().UTC())
	if err != nil {
		return nil, err
	}
	return e.executive(ctx, q, from, to)
}

// executive gathers the executive report for the validated request q.
func (e *Reports) executive(ctx context.Context, q Request, from, to time.Time) (*ExecutiveReport, error) {
	now := e.r.rt.Now().UTC()
	rep := &ExecutiveReport{Period: q.Period, Lang: q.Lang, From: from, To: to, GeneratedAt: now}
	eg, gctx := errgroup.WithContext(ctx)
	// Readiness reads the resilience model; the report reads it from there.
	eg.Go(func() error {
		org, in, err := e.r.readiness(gctx, Filter{})
		if err == nil {
			rep.readiness, rep.resilience = org, in.resilience
		}
		return err
	})
	eg.Go(func() (err error) { rep.bias, err = e.r.opts.Impact.ApprovedBIAs(gctx, nil); return err })
	eg.Go(func() (err error) { rep.completed, err = e.completedDrills(gctx); return err })
	eg.Go(func() (err error) { rep.Readiness.Trend, err = e.Trend(gctx, to); return err })
	eg.Go(func() (err error) { rep.Drills, err = e.drillSection(gctx, from.Year()); return err })
	eg.Go(func() (err error) { rep.Findings, err = e.findingSection(gctx, now); return err })
	eg.Go(func() (err error) { rep.Risks, err = e.riskSection(gctx); return err })
	eg.Go(func() (err error) { rep.MajorIncidents, err = e.incidentSection(gctx, from, to); return err })
	eg.Go(func() (err error) { rep.Deployments, err = e.deploymentSection(gctx, from, to); return err })
	eg.Go(func() (err error) { rep.Invocations, err = e.invocationSection(gctx, from, to); return err })
	if err := eg.Wait(); err != nil {
		return nil, fmt.Errorf("gather executive report %s: %w", q.Period, err)
	}
	// What follows needs the readiness, BIAs and resilience read above.
	rep.summarise()
	eg, gctx = errgroup.WithContext(ctx)
	eg.Go(func() (err error) { rep.WorstScenario, err = e.worstScenario(gctx, rep); return err })
	eg.Go(func() (err error) { rep.RPO, err = e.rpoSection(gctx, rep, now); return err })
	eg.Go(func() (err error) { rep.SLA, err = e.slaSection(gctx, rep, from, to); return err })
	if err := eg.Wait(); err != nil {
		return nil, fmt.Errorf("gather executive report %s: %w", q.Period, err)
	}
	if rep.WorstScenario != nil {
		rep.Currency = rep.WorstScenario.Currency
	}
	if rep.Currency == "" {
		rep.Currency = rep.Risks.Currency
	}
	return rep, nil
}

// completedDrills are every completed drill, newest first.
func (e *Reports) completedDrills(ctx context.Context) ([]drills.Drill, error) {
	var out []drills.Drill
	page := orchestrator.Page{Limit: batch}
	for {
		l, err := e.r.opts.Drills.List(ctx, drills.Filter{Status: drills.StatusCompleted}, page)
		if err != nil {
			return nil, err
		}
		out = append(out, l.Items...)
		if l.Next == "" {
			break
		}
		if page.After, err = orchestrator.DecodeCursor(l.Next); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b drills.Drill) int {
		if a.CompletedAt == nil || b.CompletedAt == nil {
			return 0
		}
		return b.CompletedAt.Compare(*a.CompletedAt)
	})
	return out, nil
}
