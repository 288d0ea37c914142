package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/report"
)

// Executives read the report in every format and language, and write
// nothing; each answer matches the spec.
func TestExecutiveReportRoute(t *testing.T) {
	t.Parallel()
	e := setup(t)
	t.Cleanup(e.server.svc.Reports.Close)
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

	r = e.report("/api/v1/reports/executive?format=pdf&lang=zh-CN", orchestrator.RoleExecutive)
	if _, err := report.FindChromium(); err != nil {
		require.Equal(t, http.StatusServiceUnavailable, r.Status)
		require.Contains(t, string(r.Body), "chromium")
	} else {
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		require.Equal(t, "application/pdf", r.Header.Get("Content-Type"))
		require.Contains(t, r.Header.Get("Content-Disposition"), "bcdr-executive-")
		require.Contains(t, r.Header.Get("Content-Disposition"), "zh-CN.pdf")
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
		{"service=hr", "service"},
		{"drill=1", "drill"},
		{"colour=red", "colour"},
	} {
		r := e.do("GET", "/api/v1/reports/executive?"+tc.query, orchestrator.RoleExecutive, nil)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, "%s: %s", tc.query, r.Body)
		require.Contains(t, string(r.Body), `"field":"`+tc.field+`"`, tc.query)
	}
}

// The other reports answer on an empty organisation too, each refusing
// what its kind does not take; an unknown kind or subject is a 404.
func TestOtherReportsRoute(t *testing.T) {
	t.Parallel()
	e := setup(t)
	t.Cleanup(e.server.svc.Reports.Close)
	for _, path := range []string{"/bia", "/risk", "/annual-review", "/bia?lang=zh-CN", "/annual-review?format=json"} {
		r := e.do("GET", "/api/v1/reports"+path, orchestrator.RoleExecutive, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s: %s", path, r.Body)
	}
	for _, tc := range []struct {
		path   string
		status int
		field  string
	}{
		{"/bia?period=2026-01", http.StatusUnprocessableEntity, "period"},
		{"/after-action", http.StatusUnprocessableEntity, "drill"},
		{"/after-action?drill=x", http.StatusUnprocessableEntity, "drill"},
		{"/after-action?drill=999", http.StatusNotFound, ""},
		{"/invocation-review?execution=999", http.StatusNotFound, ""},
		{"/service", http.StatusUnprocessableEntity, "service"},
		{"/service?service=nobody", http.StatusNotFound, ""},
		{"/service?service=hr&drill=1", http.StatusUnprocessableEntity, "drill"},
		{"/annual-review?period=2026-01", http.StatusUnprocessableEntity, "period"},
		{"/weather", http.StatusNotFound, ""},
	} {
		r := e.do("GET", "/api/v1/reports"+tc.path, orchestrator.RoleExecutive, nil)
		require.Equal(t, tc.status, r.Status, "%s: %s", tc.path, r.Body)
		if tc.field != "" {
			require.Contains(t, string(r.Body), `"field":"`+tc.field+`"`, tc.path)
		}
	}
}

// A client that prefers not to wait gets 202 and a job; the job ends done
// with its report in the archive, whose body matches its SHA-256.
func TestReportJobAndArchive(t *testing.T) {
	t.Parallel()
	e := setup(t)
	t.Cleanup(e.server.svc.Reports.Close)

	r := e.send("GET", "/api/v1/reports/executive?format=json", orchestrator.RoleExecutive, "", nil, "Prefer", "respond-async")
	require.Equal(t, http.StatusAccepted, r.Status, "%s", r.Body)
	var job report.Job
	r.JSON(t, &job)
	require.Equal(t, fmt.Sprintf("/api/v1/reports/jobs/%d", job.ID), r.Header.Get("Location"))
	require.Equal(t, report.JobRunning, job.Status)
	require.Equal(t, report.KindExecutive, job.Request.Kind)

	location := r.Header.Get("Location")
	eventually.TrueWithin(t, 30*time.Second, func() bool {
		r = e.do("GET", location, orchestrator.RoleExecutive, nil)
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		r.JSON(t, &job)
		require.NotEqual(t, report.JobFailed, job.Status, job.Error)
		return job.Status == report.JobDone
	}, "the job ends")
	require.NotNil(t, job.ArchiveID)
	require.Equal(t, 1.0, job.Progress)

	r = e.do("GET", "/api/v1/reports/archive?kind=executive", orchestrator.RoleExecutive, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var list orchestrator.List[report.Archived]
	r.JSON(t, &list)
	require.Len(t, list.Items, 1)
	a := list.Items[0]
	require.Equal(t, *job.ArchiveID, a.ID)
	require.Equal(t, "executive", string(a.Kind))
	require.Equal(t, "json", a.Format)

	r = e.do("GET", fmt.Sprintf("/api/v1/reports/archive/%d/content", a.ID), orchestrator.RoleExecutive, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, a.SHA256, report.Digest(r.Body))
	require.Equal(t, `"`+a.SHA256+`"`, r.Header.Get("ETag"))
	require.True(t, strings.HasPrefix(r.Header.Get("Repr-Digest"), "sha-256=:"))

	// A body changed in the database is refused, never served as the report.
	_, err := e.pool.Exec(t.Context(), `UPDATE report_archive SET body = body || 'x'::bytea, size = size + 1 WHERE id = $1`, a.ID)
	require.NoError(t, err)
	r = e.do("GET", fmt.Sprintf("/api/v1/reports/archive/%d/content", a.ID), orchestrator.RoleExecutive, nil)
	require.Equal(t, http.StatusInternalServerError, r.Status, "%s", r.Body)

	for _, path := range []string{"/api/v1/reports/jobs/999999", "/api/v1/reports/archive/999999", "/api/v1/reports/archive/999999/content"} {
		require.Equal(t, http.StatusNotFound, e.do("GET", path, orchestrator.RoleExecutive, nil).Status, path)
	}
}

// report asks for a report as role and, when it is answered 202 (a cold
// browser under load can take longer than the wait), follows its job to
// the archived report.
func (e *testEnv) report(path string, role orchestrator.Role) *response {
	e.t.Helper()
	r := e.do("GET", path, role, nil)
	if r.Status != http.StatusAccepted {
		return r
	}
	location := r.Header.Get("Location")
	var job report.Job
	eventually.TrueWithin(e.t, 60*time.Second, func() bool {
		r = e.do("GET", location, role, nil)
		require.Equal(e.t, http.StatusOK, r.Status, "%s", r.Body)
		r.JSON(e.t, &job)
		return job.Status != report.JobRunning
	}, "the report job ends")
	require.Equal(e.t, report.JobDone, job.Status, job.Error)
	return e.do("GET", fmt.Sprintf("/api/v1/reports/archive/%d/content", *job.ArchiveID), role, nil)
}
