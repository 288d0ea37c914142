package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
)

// AnnualReview is the year's review of the continuity plans (年度审查) and
// the service improvement summary (服务改进汇总表), whatever its format.
type AnnualReview struct {
	Year        int       `json:"year"`
	Lang        string    `json:"lang"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	GeneratedAt time.Time `json:"generated_at"`
	// AsOf is when the open and overdue figures are judged: the year's
	// end, or the report's generation while the year runs.
	AsOf         time.Time          `json:"as_of"`
	Reviews      PlanReviews        `json:"reviews"`
	Drills       AnnualDrills       `json:"drills"`
	Improvements ImprovementSummary `json:"improvements"`
}

// Review states of an approved runbook in the year.
const (
	ReviewStateReviewed = "reviewed"
	ReviewStateOverdue  = "overdue"
	ReviewStateDue      = "due"
	ReviewStateNotDue   = "not_due"
)

// reviewStates lists the states, the ones wanting attention first.
var reviewStates = []string{ReviewStateOverdue, ReviewStateDue, ReviewStateReviewed, ReviewStateNotDue}

// PlanReviews is every approved runbook and its annual review: done in the
// year, overdue (12 months after its approval or last review passed without
// one), due later in the year, or not due before the year ends.
type PlanReviews struct {
	Runbooks int            `json:"runbooks"`
	ByState  map[string]int `json:"by_state"`
	// ByOutcome counts the year's reviews by outcome: fit, update_needed,
	// retire.
	ByOutcome map[string]int     `json:"by_outcome"`
	Items     []RunbookReviewRow `json:"items"`
}

// RunbookReviewRow is one approved runbook's review in the year.
type RunbookReviewRow struct {
	Runbook    int64     `json:"runbook"`
	Title      string    `json:"title"`
	Service    string    `json:"service"`
	Version    int       `json:"version"`
	ApprovedAt time.Time `json:"approved_at"`
	State      string    `json:"state"`
	// DueAt is 12 months after the approval or the last review.
	DueAt time.Time `json:"due_at"`
	// Review is the review done in the year, with its outcome and actions;
	// nil when none was.
	Review *runbooks.Review `json:"review"`
	// Flags are the runbook's staleness flags now.
	Flags []string `json:"flags"`
}

// AnnualDrills is the year's drills: planned, by status and result, and the
// coverage of the drills the policy requires, by tier.
type AnnualDrills struct {
	Planned   int                    `json:"planned"`
	ByStatus  map[string]int         `json:"by_status"`
	Completed int                    `json:"completed"`
	Results   map[string]int         `json:"results"`
	Coverage  drills.CoverageSummary `json:"coverage"`
	ByTier    []TierCoverage         `json:"by_tier"`
	Items     []AnnualDrillRow       `json:"items"`
}

// TierCoverage is how far one tier's services had the drills the policy
// requires of them.
type TierCoverage struct {
	Tier     int                `json:"tier"`
	Required drills.Requirement `json:"required"`
	Services int                `json:"services"`
	Met      int                `json:"met"`
	Overdue  int                `json:"overdue"`
}

// AnnualDrillRow is one drill of the year.
type AnnualDrillRow struct {
	ID           int64      `json:"id"`
	Title        string     `json:"title"`
	Type         string     `json:"type"`
	Services     []string   `json:"services"`
	Status       string     `json:"status"`
	PlannedStart time.Time  `json:"planned_start"`
	CompletedAt  *time.Time `json:"completed_at"`
	Result       *string    `json:"result"`
	Retest       bool       `json:"retest"`
}

// ImprovementSummary is the improvement register over the year (服务改进汇总表):
// the findings opened and closed (verified) in it, those open and overdue
// at AsOf, by source and severity, and the open ones listed.
type ImprovementSummary struct {
	Opened     int            `json:"opened"`
	Closed     int            `json:"closed"`
	Open       int            `json:"open"`
	Overdue    int            `json:"overdue"`
	BySource   []FindingCount `json:"by_source"`
	BySeverity []FindingCount `json:"by_severity"`
	// OpenItems are the findings open at AsOf: overdue first, then by
	// severity and due date.
	OpenItems []FindingRow `json:"open_items"`
}

// FindingCount counts the findings of one source or severity.
type FindingCount struct {
	Key     string `json:"key"`
	Opened  int    `json:"opened"`
	Closed  int    `json:"closed"`
	Open    int    `json:"open"`
	Overdue int    `json:"overdue"`
}

// FindingRow is one finding of the register.
type FindingRow struct {
	ID       int64      `json:"id"`
	Title    string     `json:"title"`
	Source   string     `json:"source"`
	Severity string     `json:"severity"`
	Services []string   `json:"services"`
	Owner    string     `json:"owner"`
	Due      *time.Time `json:"due"`
	Status   string     `json:"status"`
	Overdue  bool       `json:"overdue"`
}

// annualReview gathers the annual review of the year [from, to).
func (e *Reports) annualReview(ctx context.Context, q Request, from, to time.Time) (any, htmlPage, error) {
	now := e.r.rt.Now().UTC()
	rep := &AnnualReview{Year: from.Year(), Lang: q.Lang, From: from, To: to, GeneratedAt: now, AsOf: to}
	if now.Before(to) {
		rep.AsOf = now
	}
	eg, gctx := errgroup.WithContext(ctx)
	eg.Go(func() (err error) { rep.Reviews, err = e.planReviews(gctx, from, to, now); return err })
	eg.Go(func() (err error) { rep.Drills, err = e.annualDrills(gctx, from.Year()); return err })
	eg.Go(func() (err error) { rep.Improvements, err = e.improvements(gctx, from, rep.AsOf); return err })
	if err := eg.Wait(); err != nil {
		return nil, nil, fmt.Errorf("gather annual review %s: %w", q.Period, err)
	}
	return rep, rep.document(), nil
}

// planReviews judges the annual review of every approved runbook, read as
// briefs with their staleness (whose review detail is the due rule).
func (e *Reports) planReviews(ctx context.Context, from, to, now time.Time) (PlanReviews, error) {
	sec := PlanReviews{ByState: map[string]int{}, ByOutcome: map[string]int{}, Items: []RunbookReviewRow{}}
	for _, st := range reviewStates {
		sec.ByState[st] = 0
	}
	for _, o := range []string{runbooks.ReviewFit, runbooks.ReviewUpdateNeeded, runbooks.ReviewRetire} {
		sec.ByOutcome[o] = 0
	}
	ids, err := e.approvedRunbookIDs(ctx)
	if err != nil || len(ids) == 0 {
		return sec, err
	}
	briefs, err := e.r.opts.Runbooks.Briefs(ctx, ids, runbooks.BriefOptions{Staleness: true, Outline: true})
	if err != nil {
		return sec, err
	}
	for _, id := range ids {
		b, ok := briefs[id]
		if !ok || b.Status != runbooks.StatusApproved || b.Version.Approval == nil {
			continue
		}
		row := reviewRow(b, from, to, now)
		sec.Runbooks++
		sec.ByState[row.State]++
		if row.Review != nil {
			sec.ByOutcome[row.Review.Outcome]++
		}
		sec.Items = append(sec.Items, row)
	}
	slices.SortStableFunc(sec.Items, func(a, b RunbookReviewRow) int {
		return cmp.Or(cmp.Compare(slices.Index(reviewStates, a.State), slices.Index(reviewStates, b.State)),
			a.DueAt.Compare(b.DueAt), cmp.Compare(a.Runbook, b.Runbook))
	})
	return sec, nil
}

// reviewRow judges one approved runbook's review in the year [from, to) at
// now: reviewed when its latest review falls in the year, else overdue when
// the review fell due before the year's end or now, whichever is first,
// due when it falls due later in the year, else not due.
func reviewRow(b runbooks.Brief, from, to, now time.Time) RunbookReviewRow {
	v := b.Version
	row := RunbookReviewRow{Runbook: b.ID, Title: b.Title, Service: b.Scope.Service, Version: v.Number,
		ApprovedAt: v.Approval.At, Flags: b.Staleness.Flags, State: ReviewStateNotDue}
	if row.Flags == nil {
		row.Flags = []string{}
	}
	if r := b.Staleness.Review; r != nil {
		row.DueAt = r.DueAt
	} else {
		row.DueAt = v.Approval.At.AddDate(1, 0, 0)
	}
	end := to
	if now.Before(to) {
		end = now
	}
	switch lr := v.LastReview; {
	case lr != nil && !lr.At.Before(from) && lr.At.Before(to):
		row.State, row.Review = ReviewStateReviewed, lr
	case row.DueAt.Before(end):
		row.State = ReviewStateOverdue
	case row.DueAt.Before(to):
		row.State = ReviewStateDue
	}
	return row
}

// approvedRunbookIDs are the ids of every approved runbook.
func (e *Reports) approvedRunbookIDs(ctx context.Context) ([]int64, error) {
	var ids []int64
	list := func(p orchestrator.Page) (orchestrator.List[runbooks.Summary], error) {
		return e.r.opts.Runbooks.List(ctx, runbooks.Filter{Status: runbooks.StatusApproved}, p)
	}
	err := orchestrator.EachPage(list, func(sm runbooks.Summary) { ids = append(ids, sm.ID) })
	return ids, err
}

// annualDrills counts the drills planned in the year by status and result
// and the policy's coverage by tier.
func (e *Reports) annualDrills(ctx context.Context, year int) (AnnualDrills, error) {
	sec := AnnualDrills{ByStatus: map[string]int{}, Results: map[string]int{}, ByTier: []TierCoverage{}, Items: []AnnualDrillRow{}}
	for _, st := range drillStatuses {
		sec.ByStatus[st] = 0
	}
	for _, r := range []string{drills.ResultPass, drills.ResultPartial, drills.ResultFail} {
		sec.Results[r] = 0
	}
	// The drill programme knows no year outside 2000–2200: such a year
	// had no required drills to cover.
	cov, err := e.r.opts.Drills.Coverage(ctx, year)
	switch {
	case orchestrator.ErrorCode(err) == orchestrator.EINVALID:
	case err != nil:
		return sec, err
	default:
		sec.Coverage = cov.Summary
		sec.ByTier = tierCoverage(cov.Services)
	}
	list := func(p orchestrator.Page) (orchestrator.List[drills.Drill], error) {
		return e.r.opts.Drills.List(ctx, drills.Filter{Year: year}, p)
	}
	err = orchestrator.EachPage(list, func(d drills.Drill) {
		sec.Planned++
		sec.ByStatus[d.Status]++
		if d.Status == drills.StatusCompleted {
			sec.Completed++
			if d.Result != nil {
				sec.Results[*d.Result]++
			}
		}
		sec.Items = append(sec.Items, AnnualDrillRow{ID: d.ID, Title: d.Title, Type: d.Type, Services: d.Services, Status: d.Status,
			PlannedStart: d.PlannedStart, CompletedAt: d.CompletedAt, Result: d.Result, Retest: d.Retest})
	})
	if err != nil {
		return sec, err
	}
	slices.SortStableFunc(sec.Items, func(a, b AnnualDrillRow) int { return a.PlannedStart.Compare(b.PlannedStart) })
	return sec, nil
}

// drillStatuses are a drill's statuses in the order of its life.
var drillStatuses = []string{drills.StatusPlanned, drills.StatusInProgress, drills.StatusCompleted, drills.StatusCancelled}

// tierCoverage sums the services' coverage by tier, tier 0 first.
func tierCoverage(services []drills.ServiceCoverage) []TierCoverage {
	byTier := map[int]*TierCoverage{}
	for _, s := range services {
		t, ok := byTier[s.Tier]
		if !ok {
			t = &TierCoverage{Tier: s.Tier, Required: s.Required}
			byTier[s.Tier] = t
		}
		t.Services++
		if s.Met {
			t.Met++
		}
		if len(s.Overdue) > 0 {
			t.Overdue++
		}
	}
	out := make([]TierCoverage, 0, len(byTier))
	for _, t := range byTier {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b TierCoverage) int { return cmp.Compare(a.Tier, b.Tier) })
	return out
}

// improvements reads the whole register and sums it over the year from
// from to asOf: what was opened and verified in it, and what stood open
// and overdue at asOf.
func (e *Reports) improvements(ctx context.Context, from, asOf time.Time) (ImprovementSummary, error) {
	sec := ImprovementSummary{OpenItems: []FindingRow{}}
	bySource, bySeverity := map[string]*FindingCount{}, map[string]*FindingCount{}
	for _, s := range drills.Sources {
		bySource[s] = &FindingCount{Key: s}
	}
	for _, s := range drills.Severities {
		bySeverity[s] = &FindingCount{Key: s}
	}
	count := func(f drills.Finding, add func(c *FindingCount)) {
		for _, by := range []struct {
			m   map[string]*FindingCount
			key string
		}{{bySource, f.Source}, {bySeverity, f.Severity}} {
			if by.m[by.key] == nil {
				by.m[by.key] = &FindingCount{Key: by.key}
			}
			add(by.m[by.key])
		}
	}
	list := func(p orchestrator.Page) (orchestrator.List[drills.Finding], error) {
		return e.r.opts.Drills.Findings(ctx, drills.FindingFilter{}, p)
	}
	err := orchestrator.EachPage(list, func(f drills.Finding) {
		if !f.CreatedAt.Before(from) && f.CreatedAt.Before(asOf) {
			sec.Opened++
			count(f, func(c *FindingCount) { c.Opened++ })
		}
		if f.VerifiedAt != nil && !f.VerifiedAt.Before(from) && f.VerifiedAt.Before(asOf) {
			sec.Closed++
			count(f, func(c *FindingCount) { c.Closed++ })
		}
		row, open := findingAt(f, asOf)
		if !open {
			return
		}
		sec.Open++
		count(f, func(c *FindingCount) { c.Open++ })
		if row.Overdue {
			sec.Overdue++
			count(f, func(c *FindingCount) { c.Overdue++ })
		}
		sec.OpenItems = append(sec.OpenItems, row)
	})
	if err != nil {
		return sec, err
	}
	sec.BySource, sec.BySeverity = counted(bySource, drills.Sources), counted(bySeverity, drills.Severities)
	sortFindings(sec.OpenItems)
	return sec, nil
}

// findingAt is finding f as it stood at asOf, and whether it was open
// then: raised before and not verified by then. It was overdue if its due
// day had passed before it was resolved.
func findingAt(f drills.Finding, asOf time.Time) (FindingRow, bool) {
	row := FindingRow{ID: f.ID, Title: f.Title, Source: f.Source, Severity: f.Severity, Services: f.Services, Owner: f.Owner, Status: f.Status}
	if row.Services == nil {
		row.Services = []string{}
	}
	if f.DueDate != nil && !f.DueDate.IsZero() {
		due := f.DueDate.Time()
		row.Due = &due
		today := asOf.UTC().Truncate(24 * time.Hour)
		row.Overdue = due.Before(today) && (f.ResolvedAt == nil || !f.ResolvedAt.Before(asOf))
	}
	open := f.CreatedAt.Before(asOf) && (f.VerifiedAt == nil || !f.VerifiedAt.Before(asOf))
	return row, open
}

// counted lists the counts in order, then any key not in it.
func counted(m map[string]*FindingCount, order []string) []FindingCount {
	out := make([]FindingCount, 0, len(m))
	for _, k := range order {
		out = append(out, *m[k])
		delete(m, k)
	}
	rest := make([]FindingCount, 0, len(m))
	for _, c := range m {
		rest = append(rest, *c)
	}
	slices.SortFunc(rest, func(a, b FindingCount) int { return strings.Compare(a.Key, b.Key) })
	return append(out, rest...)
}

// sortFindings puts overdue findings first, then by severity, due date and
// id.
func sortFindings(rows []FindingRow) {
	due := func(r FindingRow) time.Time {
		if r.Due == nil {
			return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		return *r.Due
	}
	slices.SortStableFunc(rows, func(a, b FindingRow) int {
		over := func(r FindingRow) int {
			if r.Overdue {
				return 0
			}
			return 1
		}
		return cmp.Or(cmp.Compare(over(a), over(b)),
			cmp.Compare(slices.Index(drills.Severities, a.Severity), slices.Index(drills.Severities, b.Severity)),
			due(a).Compare(due(b)), cmp.Compare(a.ID, b.ID))
	})
}
