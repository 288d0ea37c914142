package report

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/backup"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// ContinuitySection is the service's business continuity (业务连续性) as
// the report was generated: its readiness with every lost point, the
// targets of its approved BIA, its runbooks, its last and next drills, the
// RPO state of its data, its open findings, and the invocations of its
// plans in the period, and what it depends on.
type ContinuitySection struct {
	Readiness   ServiceReadiness `json:"readiness"`
	BIA         *BIATargets      `json:"bia"`
	Runbooks    []ServiceRunbook `json:"runbooks"`
	LastDrill   *ServiceDrill    `json:"last_drill"`
	NextDrill   *ServiceDrill    `json:"next_drill"`
	RPO         []RPORow         `json:"rpo"`
	Findings    []FindingRow     `json:"findings"`
	Invocations []InvocationRow  `json:"invocations"`
	// Dependencies is the service's dependency closure, drawn as a chart.
	Dependencies DependencyView `json:"dependencies"`
}

// BIATargets are the targets of the service's approved BIA.
type BIATargets struct {
	Version    int                    `json:"version"`
	Tier       int                    `json:"tier"`
	RTO        orchestrator.Duration  `json:"rto"`
	RPO        orchestrator.Duration  `json:"rpo"`
	WRT        orchestrator.Duration  `json:"wrt"`
	MTPD       *orchestrator.Duration `json:"mtpd"`
	ApprovedAt *time.Time             `json:"approved_at"`
}

// ServiceRunbook is one runbook recovering the service, with its
// staleness when approved.
type ServiceRunbook struct {
	ID         int64      `json:"id"`
	Title      string     `json:"title"`
	Status     string     `json:"status"`
	Version    int        `json:"version"`
	ApprovedAt *time.Time `json:"approved_at"`
	Stale      bool       `json:"stale"`
	Flags      []string   `json:"flags"`
	ReviewDue  *time.Time `json:"review_due"`
}

// ServiceDrill is a drill of the service and, once completed, its result
// and why.
type ServiceDrill struct {
	ID           int64                  `json:"id"`
	Title        string                 `json:"title"`
	Type         string                 `json:"type"`
	PlannedStart time.Time              `json:"planned_start"`
	CompletedAt  *time.Time             `json:"completed_at"`
	Result       *string                `json:"result"`
	Reasons      []string               `json:"reasons"`
	RTOAchieved  *orchestrator.Duration `json:"rto_achieved"`
}

// continuity gathers the service's continuity section.
func (e *Reports) continuity(ctx context.Context, snap *impact.Snapshot, key string, from, to, now time.Time) (ContinuitySection, error) {
	sec := ContinuitySection{Runbooks: []ServiceRunbook{}, RPO: []RPORow{}, Findings: []FindingRow{}, Invocations: []InvocationRow{}}
	eg, gctx := errgroup.WithContext(ctx)
	eg.Go(func() (err error) { sec.Readiness, err = e.r.ServiceReadiness(gctx, key); return err })
	eg.Go(func() error {
		bias, err := e.r.opts.Impact.ApprovedBIAs(gctx, []string{key})
		if err != nil {
			return err
		}
		var rpo *orchestrator.Duration
		if b, ok := bias[key]; ok {
			sec.BIA = &BIATargets{Version: b.Version, Tier: b.Tier, RTO: b.RTO, RPO: b.RPO, WRT: b.WRT, MTPD: b.MTPD, ApprovedAt: b.ApprovedAt}
			rpo = &b.RPO
		}
		sec.RPO, err = e.serviceRPO(gctx, snap, key, rpo, now)
		return err
	})
	eg.Go(func() (err error) { sec.Runbooks, err = e.serviceRunbooks(gctx, key); return err })
	eg.Go(func() (err error) { sec.LastDrill, sec.NextDrill, err = e.serviceDrills(gctx, key); return err })
	eg.Go(func() error {
		list := func(p orchestrator.Page) (orchestrator.List[drills.Finding], error) {
			return e.r.opts.Drills.Findings(gctx, drills.FindingFilter{Service: key, Open: true}, p)
		}
		return orchestrator.EachPage(list, func(f drills.Finding) {
			if row, open := findingAt(f, now); open {
				sec.Findings = append(sec.Findings, row)
			}
		})
	})
	eg.Go(func() (err error) { sec.Invocations, err = e.serviceInvocations(gctx, key, from, to); return err })
	eg.Go(func() (err error) { sec.Dependencies, err = e.r.Dependencies(gctx, key); return err })
	if err := eg.Wait(); err != nil {
		return sec, err
	}
	sortFindings(sec.Findings)
	return sec, nil
}

// serviceRPO judges each data-bearing CI the service needs against its
// RPO (nil: it has no approved BIA) by its newest verified backup, as its
// readiness does.
func (e *Reports) serviceRPO(ctx context.Context, snap *impact.Snapshot, key string, rpo *orchestrator.Duration, now time.Time) ([]RPORow, error) {
	out := []RPORow{}
	g := snap.Graph
	n, ok := g.Index(key)
	if !ok {
		return out, nil
	}
	verified := map[string]*time.Time{}
	if e.r.opts.Backups != nil {
		var err error
		if verified, err = e.r.opts.Backups.VerifiedBackups(ctx, now); err != nil {
			return nil, err
		}
	}
	for _, d := range g.Dependencies(n).Nodes {
		if d == n || !snap.DataBearing(d) {
			continue
		}
		row := RPORow{CI: g.Key(d), Required: rpo, State: orchestrator.RPOUnknown}
		if at := verified[row.CI]; at != nil {
			age := orchestrator.Duration(max(0, now.Sub(*at)).Truncate(time.Minute))
			row.Age = &age
			if rpo != nil {
				a := time.Duration(age)
				row.State = backup.Classify(&a, *rpo)
			}
		}
		out = append(out, row)
	}
	rank := map[orchestrator.RPOState]int{orchestrator.RPOBreached: 0, orchestrator.RPOAtRisk: 1, orchestrator.RPOUnknown: 2, orchestrator.RPOCompliant: 3}
	slices.SortFunc(out, func(a, b RPORow) int {
		return cmp.Or(cmp.Compare(rank[a.State], rank[b.State]), strings.Compare(a.CI, b.CI))
	})
	return out, nil
}

// serviceRunbooks are the runbooks of the service not retired, with the
// staleness of the approved ones.
func (e *Reports) serviceRunbooks(ctx context.Context, key string) ([]ServiceRunbook, error) {
	out := []ServiceRunbook{}
	var ids []int64
	list := func(p orchestrator.Page) (orchestrator.List[runbooks.Summary], error) {
		return e.r.opts.Runbooks.List(ctx, runbooks.Filter{Service: key}, p)
	}
	err := orchestrator.EachPage(list, func(sm runbooks.Summary) {
		if sm.Status != runbooks.StatusRetired {
			ids = append(ids, sm.ID)
		}
	})
	if err != nil || len(ids) == 0 {
		return out, err
	}
	briefs, err := e.r.opts.Runbooks.Briefs(ctx, ids, runbooks.BriefOptions{Staleness: true, Outline: true})
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		b, ok := briefs[id]
		if !ok {
			continue
		}
		rb := ServiceRunbook{ID: id, Title: b.Title, Status: b.Status, Version: b.Version.Number, Stale: b.Staleness.Stale, Flags: b.Staleness.Flags}
		if rb.Flags == nil {
			rb.Flags = []string{}
		}
		if a := b.Version.Approval; a != nil && b.Status == runbooks.StatusApproved {
			rb.ApprovedAt = &a.At
		}
		if r := b.Staleness.Review; r != nil {
			rb.ReviewDue = &r.DueAt
		}
		out = append(out, rb)
	}
	return out, nil
}

// serviceDrills are the service's last completed drill and its next
// planned one (the earliest still planned, overdue or not); nil when none.
func (e *Reports) serviceDrills(ctx context.Context, key string) (last, next *ServiceDrill, err error) {
	list := func(p orchestrator.Page) (orchestrator.List[drills.Drill], error) {
		return e.r.opts.Drills.List(ctx, drills.Filter{Service: key}, p)
	}
	var done, planned *drills.Drill
	err = orchestrator.EachPage(list, func(d drills.Drill) {
		switch {
		case d.Status == drills.StatusCompleted && d.CompletedAt != nil:
			if done == nil || d.CompletedAt.After(*done.CompletedAt) {
				done = &d
			}
		case d.Status == drills.StatusPlanned:
			if planned == nil || d.PlannedStart.Before(planned.PlannedStart) {
				planned = &d
			}
		}
	})
	if err != nil {
		return nil, nil, err
	}
	return serviceDrill(done, key), serviceDrill(planned, key), nil
}

// serviceDrill is drill d as the service's report shows it.
func serviceDrill(d *drills.Drill, key string) *ServiceDrill {
	if d == nil {
		return nil
	}
	sd := &ServiceDrill{ID: d.ID, Title: d.Title, Type: d.Type, PlannedStart: d.PlannedStart, CompletedAt: d.CompletedAt,
		Result: d.Result, Reasons: []string{}}
	if o := d.Outcome; o != nil {
		sd.Reasons = append(sd.Reasons, o.Reasons...)
		for _, s := range o.Services {
			if s.Service == key {
				sd.RTOAchieved = s.RTOAchieved
			}
		}
	}
	return sd
}

// serviceInvocations lists the invocations started in the period of a
// runbook whose scope covers the service; executions come newest first,
// so the walk stops before the period.
func (e *Reports) serviceInvocations(ctx context.Context, key string, from, to time.Time) ([]InvocationRow, error) {
	out := []InvocationRow{}
	if e.opts.Executions == nil {
		return out, nil
	}
	page := orchestrator.Page{Limit: 200}
	for {
		l, err := e.opts.Executions.List(ctx, execution.Filter{Mode: execution.ModeInvocation}, page)
		if err != nil {
			return nil, err
		}
		for _, x := range l.Items {
			if x.StartedAt.Before(from) {
				return out, nil
			}
			covers := slices.ContainsFunc(x.Services, func(m execution.ServiceMeasure) bool { return m.Service == key })
			if x.StartedAt.Before(to) && covers {
				out = append(out, InvocationRow{ID: x.ID, Runbook: x.Runbook, Title: x.Title, Status: x.Status, StartedAt: x.StartedAt, Elapsed: x.Elapsed})
			}
		}
		if l.Next == "" {
			return out, nil
		}
		if page.After, err = orchestrator.DecodeCursor(l.Next); err != nil {
			return nil, err
		}
	}
}
