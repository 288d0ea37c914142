package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/report"
)

// Executives read the report in every format and language, and write
// nothing; each answer matches the spec.
func TestExecutiveReportRoute(t *testing.T) {
	t.Parallel()
	e := setup(t)
	t.Cleanup(e.server.svc.Executive.Close)
	period := time.Now().UTC().Format("2006-01")

	r := e.do("GET", "/api/v1/reports/executive?format=json&period="+period, orchestrator.RoleExecutive, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var body map[string]json.RawMessage
	r.JSON(t, &body)
	for _, k := range []string{"readiness", "tiers", "top_fixes", "worst_scenario", "rto", "rpo", "drills", "findings", "risks",
		"sla", "major_incidents", "deployments", "invocations"} {
		require.Contains(t, body, k)
	}

	for _, lang := range []string{"en", "zh-CN"} {
		r = e.do("GET", "/api/v1/reports/executive?lang="+lang, orchestrator.RoleExecutive, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/html"))
		require.NotContains(t, strings.ToLower(string(r.Body)), "<script")
	}

	r = e.do("GET", "/api/v1/reports/executive?format=pdf&lang=zh-CN", orchestrator.RoleExecutive, nil)
	if _, err := report.FindChromium(); err != nil {
		require.Equal(t, http.StatusServiceUnavailable, r.Status)
		require.Contains(t, string(r.Body), "chromium")
	} else {
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, "application/pdf", r.Header.Get("Content-Type"))
		require.Contains(t, r.Header.Get("Content-Disposition"), "bcdr-executive-")
		require.True(t, strings.HasPrefix(string(r.Body), "%PDF-"))
	}

	// An executive changes nothing: writes are refused before any handler.
	for _, w := range []struct{ method, path string }{
		{"POST", "/api/v1/risks"}, {"POST", "/api/v1/drills"}, {"POST", "/api/v1/findings"},
	} {
		r = e.do(w.method, w.path, orchestrator.RoleExecutive, map[string]any{})
		require.Equal(t, http.StatusForbidden, r.Status, "%s %s", w.method, w.path)
	}
}

// A bad period, format or language is a 422 naming the field.
func TestExecutiveReportBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, tc := range []struct{ query, field string }{
		{"period=2026-13", "period"},
		{"period=2026-1", "period"},
		{"period=..%2F..%2Fetc%2Fpasswd", "period"},
		{"period=2026-01%27%20OR%201%3D1", "period"},
		{"period=9999-12", "period"},
		{"period=0001-01", "period"},
		{"format=docx", "format"},
		{"format=PDF", "format"},
		{"lang=fr", "lang"},
		{"lang=%FF%FE", "lang"},
		{"lang=en%0A", "lang"},
	} {
		r := e.do("GET", "/api/v1/reports/executive?"+tc.query, orchestrator.RoleExecutive, nil)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", tc.query, r.Body)
		require.Contains(t, string(r.Body), `"field":"`+tc.field+`"`, tc.query)
	}
}
