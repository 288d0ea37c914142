package web

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/report"
)

// Pages answer by role as the API does; signing out ends the session; a
// form posted from another site is refused; every answer carries the
// security headers.
func TestPagesByRole(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cm := e.signIn("cm", orchestrator.RoleContinuityManager)
	for _, path := range []string{"/", "/services", "/services/taxpayer-reg", "/reports", "/reports/view/bia"} {
		status, body := cm.get(path)
		require.Equal(t, http.StatusOK, status, "%s: %s", path, body)
	}
	org, err := e.wired.Report.Readiness(t.Context(), report.Filter{})
	require.NoError(t, err)
	_, body := cm.get("/")
	for id, n := range map[string]int{"attn-stale": org.Attention.StaleRunbooks, "attn-rpo": org.Attention.RPOBreached,
		"attn-findings": org.Attention.OverdueFindings, "attn-drills": org.Attention.DrillsDue} {
		require.Contains(t, body, fmt.Sprintf(`id="%s">%d<`, id, n), "the dashboard counts what needs attention")
	}
	require.Contains(t, body, `href="/findings?show=overdue"`)

	status, _ := cm.get("/services/nobody")
	require.Equal(t, http.StatusNotFound, status)

	exec := e.signIn("cfo", orchestrator.RoleExecutive)
	status, body = exec.get("/")
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, body, `href="/services"`, "no menu entry to a page the role may not open")
	status, _ = exec.get("/services")
	require.Equal(t, http.StatusForbidden, status)

	resp, err := http.Get(e.srv.URL + "/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "/login", resp.Request.URL.Path, "anonymous visitors are sent to sign in")
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "script-src 'self'")
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))

	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/logout", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err = cm.client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "a cross-site form post is refused")

	status, _ = cm.post("/logout", url.Values{})
	require.Equal(t, http.StatusOK, status)
	_, body = cm.get("/")
	require.Contains(t, body, `name="token"`, "signed out: back to the sign-in page")
}
