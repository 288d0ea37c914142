package report

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// Formats and languages of the executive report.
const (
	FormatJSON = "json"
	FormatHTML = "html"
	FormatPDF  = "pdf"
	LangEN     = "en"
	LangZH     = "zh-CN"
)

// Formats lists the report formats; Langs its languages.
var (
	Formats = []string{FormatJSON, FormatHTML, FormatPDF}
	Langs   = []string{LangEN, LangZH}
)

// ExecutiveOptions are what the executive report reads beyond readiness.
type ExecutiveOptions struct {
	ITSM       *itsm.Store
	Executions *execution.Service
	// PDF prints the HTML; nil means PDF is unavailable.
	PDF *Printer
}

// Executive builds the executive recovery status report.
type Executive struct {
	r    *Service
	opts ExecutiveOptions
}

// NewExecutive returns the executive report over readiness r.
func NewExecutive(r *Service, opts ExecutiveOptions) *Executive {
	return &Executive{r: r, opts: opts}
}

// Close stops the browser the PDFs are printed with, if one runs.
func (e *Executive) Close() { e.opts.PDF.Close() }

// Request asks for one report.
type Request struct {
	// Period is a month, YYYY-MM; empty is the current month.
	Period string
	Format string
	Lang   string
}

var periodPattern = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

// Validate checks the request's fields, defaulting the empty ones, and
// returns the period's bounds [from, to).
func (q *Request) Validate(now time.Time) (from, to time.Time, err error) {
	var v orchestrator.Validation
	if q.Format == "" {
		q.Format = FormatHTML
	}
	if q.Lang == "" {
		q.Lang = LangEN
	}
	if q.Period == "" {
		q.Period = now.UTC().Format("2006-01")
	}
	if !slices.Contains(Formats, q.Format) {
		v.Add("format", "must be one of json, html, pdf")
	}
	if !slices.Contains(Langs, q.Lang) {
		v.Add("lang", "must be one of en, zh-CN")
	}
	if !periodPattern.MatchString(q.Period) {
		v.Add("period", "must be a month written YYYY-MM")
	} else {
		from, _ = time.Parse("2006-01", q.Period)
		to = from.AddDate(0, 1, 0)
		switch {
		case from.After(now):
			v.Add("period", "must not be a month in the future")
		case from.Year() < 1970:
			v.Add("period", "must be a month from 1970-01 on")
		}
	}
	return from, to, v.Err()
}

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

// Build gathers the report for the validated request q.
func (e *Executive) Build(ctx context.Context, q Request) (*ExecutiveReport, error) {
	now := e.r.rt.Now().UTC()
	from, to, err := q.Validate(now)
	if err != nil {
		return nil, err
	}
	rep := &ExecutiveReport{Period: q.Period, Lang: q.Lang, From: from, To: to, GeneratedAt: now}
	eg, gctx := errgroup.WithContext(ctx)
	eg.Go(func() (err error) { rep.readiness, err = e.r.Readiness(gctx, Filter{}); return err })
	eg.Go(func() (err error) { rep.bias, err = e.r.opts.Impact.ApprovedBIAs(gctx, nil); return err })
	eg.Go(func() error {
		all, err := e.r.opts.Impact.ResilienceAll(gctx)
		rep.resilience = make(map[string]impact.ServiceResilienceSummary, len(all.Services))
		for _, s := range all.Services {
			rep.resilience[s.Service] = s
		}
		return err
	})
	eg.Go(func() (err error) { rep.completed, err = e.completedDrills(gctx); return err })
	eg.Go(func() (err error) { rep.Readiness.Trend, err = e.trend(gctx, to); return err })
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
func (e *Executive) completedDrills(ctx context.Context) ([]drills.Drill, error) {
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
