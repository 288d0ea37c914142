package report

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/backup"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/runbooks/execution"
	"golang.org/x/sync/errgroup"
)

// ReadinessSummary is the organisation's readiness and its monthly trend.
type ReadinessSummary struct {
	Score    float64 `json:"score"`
	Status   string  `json:"status"`
	Services int     `json:"services"`
	Counts   Counts  `json:"counts"`
	// Trend is the last point of each of the 12 months up to the period's,
	// oldest first; months without a point are left out.
	Trend []TrendPoint `json:"trend"`
}

// TrendPoint is the readiness at the end of one month.
type TrendPoint struct {
	Month string  `json:"month"`
	Score float64 `json:"score"`
}

// TierStatus counts one tier's services by status.
type TierStatus struct {
	Tier     string `json:"tier"`
	Ready    int    `json:"ready"`
	AtRisk   int    `json:"at_risk"`
	NotReady int    `json:"not_ready"`
}

// Fix is one thing to fix and what fixing it adds to the organisation's
// score: the points it costs every service it touches, weighed by tier.
type Fix struct {
	Reason    string   `json:"reason"`
	Link      string   `json:"link"`
	Component string   `json:"component"`
	Services  []string `json:"services"`
	Points    int      `json:"points"`
	Gain      float64  `json:"gain"`
}

// WorstScenario is the disruption that would cost most.
type WorstScenario struct {
	Scenario  impact.Disruption `json:"scenario"`
	Services  []ScenarioLoss    `json:"services"`
	TotalLoss float64           `json:"total_loss"`
	Currency  string            `json:"currency"`
}

// ScenarioLoss is one service a scenario takes down, for how long and at
// what cost.
type ScenarioLoss struct {
	Service string                `json:"service"`
	Outage  orchestrator.Duration `json:"outage"`
	Loss    float64               `json:"loss"`
}

// RTORow is one critical service's RTO: the target of its approved BIA,
// the estimate of its worst scenario and what its last drill achieved.
type RTORow struct {
	Service  string                 `json:"service"`
	Tier     int                    `json:"tier"`
	Target   orchestrator.Duration  `json:"target"`
	Estimate *orchestrator.Duration `json:"estimate"`
	Achieved *orchestrator.Duration `json:"achieved"`
	Drill    *int64                 `json:"drill"`
}

// RPOSection is the RPO state of every data-bearing CI a service needs.
type RPOSection struct {
	Counts map[string]int `json:"counts"`
	Items  []RPORow       `json:"items"`
}

// RPORow is one data-bearing CI against the RPO rolled down to it.
type RPORow struct {
	CI       string                 `json:"ci"`
	Required *orchestrator.Duration `json:"required"`
	Age      *orchestrator.Duration `json:"age"`
	State    orchestrator.RPOState  `json:"state"`
}

// DrillSection is the year's drill programme: coverage and results.
type DrillSection struct {
	Year      int                    `json:"year"`
	Coverage  drills.CoverageSummary `json:"coverage"`
	Completed int                    `json:"completed"`
	Results   map[string]int         `json:"results"`
	Overdue   []string               `json:"overdue_services"`
}

// FindingSection counts the open findings by age.
type FindingSection struct {
	Open    int         `json:"open"`
	Overdue int         `json:"overdue"`
	ByAge   []AgeBucket `json:"by_age"`
}

// AgeBucket counts open findings raised within an age range.
type AgeBucket struct {
	Label   string `json:"label"`
	Open    int    `json:"open"`
	Overdue int    `json:"overdue"`
}

// RiskSection is the heat map and the risks that cost most a year.
type RiskSection struct {
	Heatmap  impact.Heatmap `json:"heatmap"`
	Top      []RiskRow      `json:"top"`
	Currency string         `json:"currency"`
}

// RiskRow is one risk by its annualised loss expectancy.
type RiskRow struct {
	ID            int64   `json:"id"`
	Title         string  `json:"title"`
	ResidualScore int     `json:"residual_score"`
	ALE           float64 `json:"ale"`
}

// SLASection is the availability of every service under an SLA.
type SLASection struct {
	Items []SLARow `json:"items"`
}

// SLARow is one service's availability in the period and the month before.
type SLARow struct {
	Service  string   `json:"service"`
	SLA      string   `json:"sla"`
	Target   *float64 `json:"target"`
	Achieved *float64 `json:"achieved"`
	Previous *float64 `json:"previous"`
	Met      *bool    `json:"met"`
}

// IncidentSection lists the period's major incidents.
type IncidentSection struct {
	Items         []IncidentRow `json:"items"`
	PreviousCount int           `json:"previous_count"`
}

// IncidentRow is one major incident.
type IncidentRow struct {
	ID                int64      `json:"id"`
	Title             string     `json:"title"`
	Priority          string     `json:"priority"`
	Services          []string   `json:"services"`
	OpenedAt          time.Time  `json:"opened_at"`
	RestoredAt        *time.Time `json:"restored_at"`
	ContinuityInvoked bool       `json:"continuity_invoked"`
}

// DeploymentSection counts the releases deployed in the period.
type DeploymentSection struct {
	Count         int          `json:"count"`
	PreviousCount int          `json:"previous_count"`
	Items         []ReleaseRow `json:"items"`
}

// ReleaseRow is one deployed release.
type ReleaseRow struct {
	ID         int64     `json:"id"`
	Version    string    `json:"version"`
	Title      string    `json:"title"`
	DeployedAt time.Time `json:"deployed_at"`
}

// InvocationSection lists the continuity plans invoked in the period.
type InvocationSection struct {
	Items []InvocationRow `json:"items"`
}

// InvocationRow is one invocation of a runbook.
type InvocationRow struct {
	ID        int64                 `json:"id"`
	Runbook   int64                 `json:"runbook"`
	Title     string                `json:"title"`
	Status    string                `json:"status"`
	StartedAt time.Time             `json:"started_at"`
	Elapsed   orchestrator.Duration `json:"elapsed"`
}

// listLimit bounds the rows a section lists (counts are always complete).
const listLimit = 25

// rpoSection judges every data-bearing CI a business service depends on
// against the smallest RPO of those services, by its newest verified
// backup.
func (e *Reports) rpoSection(ctx context.Context, rep *ExecutiveReport, now time.Time) (RPOSection, error) {
	sec := RPOSection{Counts: map[string]int{}, Items: []RPORow{}}
	snap, err := e.r.opts.Impact.Graphs().Current(ctx)
	if err != nil {
		return sec, err
	}
	verified := map[string]*time.Time{}
	if e.r.opts.Backups != nil {
		if verified, err = e.r.opts.Backups.VerifiedBackups(ctx, now); err != nil {
			return sec, err
		}
	}
	g := snap.Graph
	required := map[string]*orchestrator.Duration{}
	for _, n := range g.OfClass(impact.ClassBusinessService) {
		b, approved := rep.bias[g.Key(n)]
		for _, d := range g.Dependencies(n).Nodes {
			if d == n || !snap.DataBearing(d) {
				continue
			}
			key := g.Key(d)
			cur, seen := required[key]
			if !seen {
				required[key] = nil
			}
			if approved && (cur == nil || b.RPO < *cur) {
				rpo := b.RPO
				required[key] = &rpo
			}
		}
	}
	for key, req := range required {
		row := RPORow{CI: key, Required: req, State: orchestrator.RPOUnknown}
		if at := verified[key]; at != nil {
			age := orchestrator.Duration(now.Sub(*at).Truncate(time.Minute))
			row.Age = &age
			if req != nil {
				a := time.Duration(age)
				row.State = backup.Classify(&a, *req)
			}
		}
		sec.Counts[string(row.State)]++
		sec.Items = append(sec.Items, row)
	}
	rank := map[orchestrator.RPOState]int{orchestrator.RPOBreached: 0, orchestrator.RPOAtRisk: 1, orchestrator.RPOUnknown: 2, orchestrator.RPOCompliant: 3}
	slices.SortFunc(sec.Items, func(a, b RPORow) int {
		return cmp.Or(cmp.Compare(rank[a.State], rank[b.State]), strings.Compare(a.CI, b.CI))
	})
	return sec, nil
}

// drillSection is the year's coverage and results.
func (e *Reports) drillSection(ctx context.Context, year int) (DrillSection, error) {
	sec := DrillSection{Year: year, Results: map[string]int{}, Overdue: []string{}}
	cov, err := e.r.opts.Drills.Coverage(ctx, year)
	if err != nil {
		return sec, err
	}
	sec.Coverage = cov.Summary
	for _, s := range cov.Services {
		if len(s.Overdue) > 0 {
			sec.Overdue = append(sec.Overdue, s.Service)
		}
	}
	page := orchestrator.Page{Limit: batch}
	for {
		l, err := e.r.opts.Drills.List(ctx, drills.Filter{Year: year, Status: drills.StatusCompleted}, page)
		if err != nil {
			return sec, err
		}
		for _, d := range l.Items {
			sec.Completed++
			if d.Result != nil {
				sec.Results[*d.Result]++
			}
		}
		if l.Next == "" {
			return sec, nil
		}
		if page.After, err = orchestrator.DecodeCursor(l.Next); err != nil {
			return sec, err
		}
	}
}

// ageBuckets are the ages open findings are counted by, in days.
var ageBuckets = []struct {
	label string
	upTo  int
}{{"0-30", 30}, {"31-90", 90}, {"91-180", 180}, {"181+", 1 << 30}}

// findingSection counts the open findings by age.
func (e *Reports) findingSection(ctx context.Context, now time.Time) (FindingSection, error) {
	sec := FindingSection{ByAge: make([]AgeBucket, len(ageBuckets))}
	for i, b := range ageBuckets {
		sec.ByAge[i].Label = b.label
	}
	page := orchestrator.Page{Limit: batch}
	for {
		l, err := e.r.opts.Drills.Findings(ctx, drills.FindingFilter{Open: true}, page)
		if err != nil {
			return sec, err
		}
		for _, f := range l.Items {
			days := int(now.Sub(f.CreatedAt).Hours() / 24)
			i := slices.IndexFunc(ageBuckets, func(b struct {
				label string
				upTo  int
			}) bool {
				return days <= b.upTo
			})
			sec.Open++
			sec.ByAge[i].Open++
			if f.Overdue {
				sec.Overdue++
				sec.ByAge[i].Overdue++
			}
		}
		if l.Next == "" {
			return sec, nil
		}
		if page.After, err = orchestrator.DecodeCursor(l.Next); err != nil {
			return sec, err
		}
	}
}

// riskSection is the heat map and the five risks of largest ALE.
func (e *Reports) riskSection(ctx context.Context) (RiskSection, error) {
	sec := RiskSection{Top: []RiskRow{}}
	var err error
	if sec.Heatmap, err = e.r.opts.Impact.Heatmap(ctx); err != nil {
		return sec, err
	}
	var all []impact.Risk
	page := orchestrator.Page{Limit: batch}
	for {
		l, err := e.r.opts.Impact.ListRisks(ctx, impact.RiskFilter{}, page)
		if err != nil {
			return sec, err
		}
		all = append(all, l.Items...)
		if l.Next == "" {
			break
		}
		if page.After, err = orchestrator.DecodeCursor(l.Next); err != nil {
			return sec, err
		}
	}
	slices.SortStableFunc(all, func(a, b impact.Risk) int { return cmp.Compare(b.Quantification.ALE, a.Quantification.ALE) })
	for _, r := range all[:min(5, len(all))] {
		sec.Currency = r.Quantification.Currency
		sec.Top = append(sec.Top, RiskRow{ID: r.ID, Title: r.Title, ResidualScore: r.ResidualScore, ALE: r.Quantification.ALE})
	}
	return sec, nil
}

// slaSection measures every service under an SLA in the period and the
// month before.
func (e *Reports) slaSection(ctx context.Context, rep *ExecutiveReport, from, to time.Time) (SLASection, error) {
	sec := SLASection{Items: []SLARow{}}
	now := rep.GeneratedAt
	if to.After(now) {
		to = now
	}
	if !to.After(from) {
		return sec, nil
	}
	// Each service's figures are a few queries; several services are
	// measured at once, each into its own place, so the order stays the
	// readiness order.
	rows := make([]*SLARow, len(rep.readiness.Items))
	eg, ctx := errgroup.WithContext(ctx)
	eg.SetLimit(slaReaders)
	for i, r := range rep.readiness.Items {
		eg.Go(func() error {
			a, err := itsm.ServiceAvailability(ctx, e.r.pool, r.Service, from, to, itsm.AvailabilityOptions{})
			if err != nil || a.SLA == nil {
				return err
			}
			row := SLARow{Service: r.Service, SLA: a.SLA.Name, Target: a.Target, Achieved: a.Achieved, Met: a.Met}
			if p, err := itsm.ServiceAvailability(ctx, e.r.pool, r.Service, from.AddDate(0, -1, 0), from, itsm.AvailabilityOptions{}); err == nil {
				row.Previous = p.Achieved
			}
			rows[i] = &row
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return sec, err
	}
	for _, row := range rows {
		if row != nil {
			sec.Items = append(sec.Items, *row)
		}
	}
	return sec, nil
}

// slaReaders is how many services' availability the SLA section measures
// at once.
const slaReaders = 4

// incidentSection lists the period's major incidents and counts the
// previous month's.
func (e *Reports) incidentSection(ctx context.Context, from, to time.Time) (IncidentSection, error) {
	sec := IncidentSection{Items: []IncidentRow{}}
	if e.opts.ITSM == nil {
		return sec, nil
	}
	major := true
	l, err := e.opts.ITSM.ListIncidents(ctx, itsm.IncidentFilter{Major: &major, OpenedAfter: from, OpenedBefore: to}, orchestrator.Page{Limit: batch})
	if err != nil {
		return sec, err
	}
	for _, i := range l.Items {
		sec.Items = append(sec.Items, IncidentRow{ID: i.ID, Title: i.Title, Priority: i.Priority, Services: i.AffectedServices,
			OpenedAt: i.OpenedAt, RestoredAt: i.RestoredAt, ContinuityInvoked: i.ContinuityInvoked})
	}
	prev, err := e.opts.ITSM.ListIncidents(ctx, itsm.IncidentFilter{Major: &major, OpenedAfter: from.AddDate(0, -1, 0), OpenedBefore: from}, orchestrator.Page{Limit: batch})
	if err != nil {
		return sec, err
	}
	sec.PreviousCount = len(prev.Items)
	return sec, nil
}

// deploymentSection lists the releases deployed in the period.
func (e *Reports) deploymentSection(ctx context.Context, from, to time.Time) (DeploymentSection, error) {
	sec := DeploymentSection{Items: []ReleaseRow{}}
	if e.opts.ITSM == nil {
		return sec, nil
	}
	l, err := e.opts.ITSM.ListReleases(ctx, itsm.ReleaseFilter{DeployedAfter: from, DeployedBefore: to}, orchestrator.Page{Limit: batch})
	if err != nil {
		return sec, err
	}
	sec.Count = len(l.Items)
	for _, r := range l.Items {
		if r.DeployedAt != nil && len(sec.Items) < listLimit {
			sec.Items = append(sec.Items, ReleaseRow{ID: r.ID, Version: r.Version, Title: r.Title, DeployedAt: *r.DeployedAt})
		}
	}
	prev, err := e.opts.ITSM.ListReleases(ctx, itsm.ReleaseFilter{DeployedAfter: from.AddDate(0, -1, 0), DeployedBefore: from}, orchestrator.Page{Limit: batch})
	if err != nil {
		return sec, err
	}
	sec.PreviousCount = len(prev.Items)
	return sec, nil
}

// invocationSection lists the runbook invocations started in the period;
// executions come newest first, so the walk stops before the period.
func (e *Reports) invocationSection(ctx context.Context, from, to time.Time) (InvocationSection, error) {
	sec := InvocationSection{Items: []InvocationRow{}}
	if e.opts.Executions == nil {
		return sec, nil
	}
	page := orchestrator.Page{Limit: 200}
	for {
		l, err := e.opts.Executions.List(ctx, execution.Filter{Mode: execution.ModeInvocation}, page)
		if err != nil {
			return sec, err
		}
		for _, x := range l.Items {
			if x.StartedAt.Before(from) {
				return sec, nil
			}
			if x.StartedAt.Before(to) {
				sec.Items = append(sec.Items, InvocationRow{ID: x.ID, Runbook: x.Runbook, Title: x.Title, Status: x.Status, StartedAt: x.StartedAt, Elapsed: x.Elapsed})
			}
		}
		if l.Next == "" {
			return sec, nil
		}
		if page.After, err = orchestrator.DecodeCursor(l.Next); err != nil {
			return sec, err
		}
	}
}
