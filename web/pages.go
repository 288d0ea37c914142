package web

import (
	"cmp"
	"context"
	"html/template"
	"net/http"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/backup"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/report"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// dashboardPages is the dashboard.
func (u *UI) dashboardPages() []page {
	return []page{{"GET /{$}", orchestrator.ReportReaders, u.dashboard, "dashboard"}}
}

// servicePages are the business services and their readiness.
func (u *UI) servicePages() []page {
	return []page{
		{"GET /services", orchestrator.RecordReaders, u.services, "services"},
		{"GET /services/{key}", orchestrator.RecordReaders, u.service, ""},
	}
}

// recentEnough is how old the readiness a page shows may be: the people
// looking at the dashboard at once share one scoring of the organisation
// (the API's /readiness always scores afresh).
const recentEnough = 5 * time.Second

// attentionShown is how many of the lowest-scoring services the dashboard
// lists.
const attentionShown = 10

// dashboardView is the dashboard's data.
type dashboardView struct {
	Org        report.Organisation
	Trend      template.HTML
	Statuses   []statusCount
	Attention  []attention
	Executions []execution.Execution
	// ShowExecutions: the role reads executions (executives do not).
	ShowExecutions bool
}

type statusCount struct {
	Status string
	Count  int
}

// attention is a service that scores low and the first thing to fix.
type attention struct {
	Service report.ServiceReadiness
	Reason  string
}

// dashboard shows the organisation's readiness and trend, services by
// status, the services that need attention most and active executions.
func (u *UI) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	org, err := u.svc.Report.Recent(ctx, report.Filter{}, recentEnough)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	trend, err := u.svc.Reports.RecentTrend(ctx, recentEnough)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := dashboardView{Org: org}
	if len(trend) > 0 {
		v.Trend = report.TrendChart(trend, words(language(r))("trend"))
	}
	for _, st := range report.Statuses {
		v.Statuses = append(v.Statuses, statusCount{Status: st, Count: org.Counts.ByStatus[st]})
	}
	items := slices.Clone(org.Items)
	slices.SortStableFunc(items, func(a, b report.ServiceReadiness) int { return cmp.Compare(a.Score, b.Score) })
	for _, it := range items[:min(len(items), attentionShown)] {
		if it.Status == report.StatusReady {
			break
		}
		v.Attention = append(v.Attention, attention{Service: it, Reason: firstLoss(it)})
	}
	if actor(ctx).Role.Allowed(orchestrator.RecordReaders) {
		v.ShowExecutions = true
		l, err := u.svc.Executions.List(ctx, execution.Filter{Status: execution.StatusRunning}, orchestrator.Page{Limit: 20})
		if err != nil {
			u.fail(w, r, err)
			return
		}
		v.Executions = l.Items
	}
	u.render(w, r, http.StatusOK, "dashboard", v)
}

// firstLoss is the reason of a service's largest loss of points.
func firstLoss(s report.ServiceReadiness) string {
	best, reason := 0, ""
	for _, c := range s.Components {
		for _, l := range c.Lost {
			if l.Points > best {
				best, reason = l.Points, l.Reason
			}
		}
	}
	return reason
}

// servicesView is the services page's data.
type servicesView struct {
	Org      report.Organisation
	Status   string
	Statuses []string
}

// services lists every business service with its readiness, filtered by
// status.
func (u *UI) services(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	if status != "" && !slices.Contains(report.Statuses, status) {
		status = ""
	}
	org, err := u.svc.Report.Recent(r.Context(), report.Filter{Status: status}, recentEnough)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "services", servicesView{Org: org, Status: status, Statuses: report.Statuses})
}

// serviceView is a service's page: its readiness, its BIA (the newest
// version and the one in force), every scenario that can take it down with
// the recovery it allows, what the CIs it needs must meet, and the backups
// of its data.
type serviceView struct {
	report.ServiceReadiness
	Current, Approved *impact.BIA
	Resilience        impact.ServiceResilience
	Scenarios         []serviceScenario
	Requirements      []serviceRequirement
	Backups           []targetRow
	CanEditBIA        bool
}

// serviceScenario is a scenario that takes the service down with whether
// its recovery meets the RTO and the RPO, as "yes", "no" or "" (not known).
type serviceScenario struct {
	impact.ScenarioResilience
	RTOMet, RPOMet string
}

// serviceRequirement is a CI the service needs and the RTO and RPO it must
// meet, with the other service that sets each when it is not this one.
type serviceRequirement struct {
	impact.ClosureItem
	RTO, RPO         *orchestrator.Duration
	RTOFrom, RPOFrom string
}

// service shows one service: readiness with every point lost and its
// reason, BIA, resilience, requirements and backups. The reads are
// independent, so they run at once; each is one batch, never a read per
// row.
func (u *UI) service(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	v := serviceView{CanEditBIA: actor(r.Context()).Role.Allowed(orchestrator.RecordWriters)}
	g, ctx := errgroup.WithContext(r.Context())
	g.Go(func() (err error) {
		v.ServiceReadiness, err = u.svc.Report.ServiceReadiness(ctx, key)
		return err
	})
	g.Go(func() error {
		versions, err := u.svc.Impact.BIAVersions(ctx, key)
		for i := range versions {
			if v.Current == nil {
				v.Current = &versions[i]
			}
			if versions[i].Status == impact.StatusApproved {
				v.Approved = &versions[i]
				break
			}
		}
		return err
	})
	g.Go(func() (err error) {
		v.Resilience, err = u.svc.Impact.Resilience(ctx, key)
		return err
	})
	g.Go(func() (err error) {
		v.Requirements, v.Backups, err = u.serviceNeeds(ctx, key)
		return err
	})
	if err := g.Wait(); err != nil {
		u.fail(w, r, err)
		return
	}
	for _, sc := range v.Resilience.Scenarios {
		v.Scenarios = append(v.Scenarios, serviceScenario{ScenarioResilience: sc, RTOMet: met(sc.RTOMet), RPOMet: met(sc.RPOMet)})
	}
	u.render(w, r, http.StatusOK, "service", v)
}

// serviceNeeds reads what the CIs the service needs must meet and the
// backup targets of the service and those CIs with their RPO status.
func (u *UI) serviceNeeds(ctx context.Context, key string) ([]serviceRequirement, []targetRow, error) {
	deps, err := u.svc.Impact.Dependencies(ctx, key)
	if err != nil {
		return nil, nil, err
	}
	keys, needed := []string{key}, map[string]bool{key: true}
	for _, it := range deps.Items {
		keys, needed[it.Key] = append(keys, it.Key), true
	}
	reqs, err := u.svc.Impact.RequirementsOf(ctx, keys)
	if err != nil {
		return nil, nil, err
	}
	out := make([]serviceRequirement, 0, len(deps.Items))
	for _, it := range deps.Items {
		req := reqs[it.Key]
		row := serviceRequirement{ClosureItem: it, RTO: req.RTO, RPO: req.RPO}
		if req.RTOService != nil && *req.RTOService != key {
			row.RTOFrom = *req.RTOService
		}
		if req.RPOService != nil && *req.RPOService != key {
			row.RPOFrom = *req.RPOService
		}
		out = append(out, row)
	}
	var targets []backup.Target
	err = orchestrator.EachPage(func(page orchestrator.Page) (orchestrator.List[backup.Target], error) {
		return u.svc.Backups.List(ctx, backup.Filter{}, page)
	}, func(t backup.Target) {
		if needed[t.CI] {
			targets = append(targets, t)
		}
	})
	if err != nil {
		return nil, nil, err
	}
	rows, err := u.targetRows(ctx, targets)
	return out, rows, err
}
