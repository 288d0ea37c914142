package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/report"
)

func TestReadinessAPI(t *testing.T) {
	env := setup(t)
	env.approvedService("pay")

	// Executives read readiness and its history, and write nothing.
	resp := env.do("GET", "/api/v1/readiness", orchestrator.RoleExecutive, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var org report.Organisation
	resp.JSON(t, &org)
	require.Equal(t, 1, org.Services)
	require.Len(t, org.Items, 1)
	pay := org.Items[0]
	require.Equal(t, "pay", pay.Service)
	require.Nil(t, pay.Tier, "no approved BIA, no tier")
	require.Equal(t, report.StatusNotReady, pay.Status)
	require.Equal(t, map[string]int{"unassessed": 1}, org.Counts.ByTier)
	require.Equal(t, 1, org.Counts.ByStatus[report.StatusNotReady])
	require.Equal(t, float64(pay.Score), org.Score)

	resp = env.do("GET", "/api/v1/services/pay/readiness", orchestrator.RoleExecutive, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var one report.ServiceReadiness
	resp.JSON(t, &one)
	require.Equal(t, pay, one)
	lost := map[string]int{}
	for _, c := range one.Components {
		for _, l := range c.Lost {
			lost[c.Name] += l.Points
		}
	}
	require.Equal(t, 10, lost[report.ComponentBIA])
	require.Equal(t, 20, lost[report.ComponentRTO])
	require.Equal(t, 20, lost[report.ComponentRPO])
	require.Zero(t, lost[report.ComponentRunbook], "the runbook is approved and fresh")

	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/services/nope/readiness", orchestrator.RoleExecutive, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/services/pay-db/readiness", orchestrator.RoleAuditor, nil).Status,
		"a CI that is no business service")

	resp = env.do("GET", "/api/v1/readiness?status=ready", orchestrator.RoleAuditor, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &org)
	require.Empty(t, org.Items)
	require.Equal(t, 1, org.Services, "filters narrow the items, not the organisation")
	resp = env.do("GET", "/api/v1/readiness?status=not_ready", orchestrator.RoleAuditor, nil)
	resp.JSON(t, &org)
	require.Len(t, org.Items, 1)

	for query, field := range map[string]string{
		"status=great": "status", "tier=5": "tier", "tier=one": "tier", "colour=red": "colour",
		"status=' OR 1=1 --": "status",
	} {
		resp := env.do("GET", "/api/v1/readiness?"+encodeQuery(query), orchestrator.RoleExecutive, nil)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s: %s", query, resp.Body)
		require.Equal(t, []string{field}, resp.fields(t), query)
	}
	for query, field := range map[string]string{"from=yesterday": "from", "to=2026-13-01": "to", "from=2026-02-01&to=2026-01-01": "from"} {
		resp := env.do("GET", "/api/v1/readiness/history?"+query, orchestrator.RoleExecutive, nil)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s: %s", query, resp.Body)
		require.Equal(t, []string{field}, resp.fields(t), query)
	}

	// The scheduled job stores one point a day; the history serves it.
	_, err := env.server.svc.Report.Snapshot(t.Context())
	require.NoError(t, err)
	_, err = env.server.svc.Report.Snapshot(t.Context())
	require.NoError(t, err)
	resp = env.do("GET", "/api/v1/readiness/history", orchestrator.RoleExecutive, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var history struct{ Items []report.HistoryPoint }
	resp.JSON(t, &history)
	require.Len(t, history.Items, 1, "one point per day")
	require.Equal(t, report.SourceScheduler, history.Items[0].Source)
	require.Equal(t, 1, history.Items[0].Counts.ByStatus[report.StatusNotReady])

	// Executives change nothing readiness is made of.
	for _, w := range []struct{ method, path string }{
		{"PUT", "/api/v1/services/pay/bia"}, {"POST", "/api/v1/services/pay/bia/approve"}, {"POST", "/api/v1/runbooks"},
		{"POST", "/api/v1/drills"}, {"POST", "/api/v1/findings"}, {"POST", "/api/v1/schedules"},
	} {
		require.Equal(t, http.StatusForbidden, env.do(w.method, w.path, orchestrator.RoleExecutive, map[string]any{}).Status, "%s %s", w.method, w.path)
	}
	for _, r := range env.server.Routes() {
		if strings.Contains(r.Path, "readiness") {
			require.Equal(t, "GET", r.Method, r.Path)
			require.Contains(t, r.Roles, orchestrator.RoleExecutive, r.Path)
		}
	}
}

// encodeQuery escapes the value of a one-parameter query.
func encodeQuery(q string) string {
	k, v, _ := strings.Cut(q, "=")
	return k + "=" + url.QueryEscape(v)
}
