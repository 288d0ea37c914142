package web

import (
	"cmp"
	"html/template"
	"net/http"
	"slices"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
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

// service shows one service's readiness: each component and every point
// lost with its reason.
func (u *UI) service(w http.ResponseWriter, r *http.Request) {
	s, err := u.svc.Report.ServiceReadiness(r.Context(), r.PathValue("key"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "service", s)
}
