package web

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
)

// runbookOf is the demo's runbook of service.
func runbookOf(t *testing.T, e *env, service string) runbooks.Runbook {
	t.Helper()
	l, err := e.wired.Runbooks.List(asManager(), runbooks.Filter{Service: service}, orchestrator.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, l.Items, 1, service)
	rb, err := e.wired.Runbooks.Get(asManager(), strconv.FormatInt(l.Items[0].ID, 10))
	require.NoError(t, err)
	return rb
}

// runbookLinks counts the runbooks a list page shows.
var runbookLinks = regexp.MustCompile(`href="/runbooks/\d+"`)

// The list shows every runbook of the demo with its service, status and
// version in force; the filters partition it.
func TestRunbookList(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cm := e.signIn("zhao.min", orchestrator.RoleContinuityManager)
	rb := runbookOf(t, e, "taxpayer-reg")

	status, body := cm.get("/runbooks")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, fmt.Sprintf(`<a href="/runbooks/%d">%s</a>`, rb.ID, esc(rb.Title)))
	require.Contains(t, body, `<a href="/services/taxpayer-reg">taxpayer-reg</a>`)
	require.Contains(t, body, fmt.Sprintf("v%d", *rb.ApprovedVersion))
	all := len(runbookLinks.FindAllString(body, -1))
	require.Equal(t, 30, all)

	_, stale := cm.get("/runbooks?stale=yes")
	_, current := cm.get("/runbooks?stale=no")
	require.Equal(t, all, len(runbookLinks.FindAllString(stale, -1))+len(runbookLinks.FindAllString(current, -1)))

	status, body = cm.get("/runbooks?status=draft")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "No runbook matches.")

	status, body = cm.get("/runbooks?feasibility=1&status=approved")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "Feasibility")
	require.Contains(t, body, "badge rb-"+rb.Feasibility.Verdict)

	for message, bad := range map[string]string{
		"must be draft, approved or retired": "?status=%27%3B+DROP+TABLE+runbooks", "must be yes or no": "?stale=maybe", "cursor": "?after=not-a-cursor",
	} {
		status, body = cm.get("/runbooks" + bad)
		require.Equal(t, http.StatusUnprocessableEntity, status, bad)
		require.Contains(t, body, message, bad)
	}
}

// A runbook's page shows its steps in order, its feasibility, its versions
// and exports; the exports are served through the session.
func TestRunbookPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	op := e.signIn("li.wei", orchestrator.RoleOperator)
	rb := runbookOf(t, e, "taxpayer-reg")
	path := fmt.Sprintf("/runbooks/%d", rb.ID)

	status, body := op.get(path)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, esc(rb.Title))
	require.NotEmpty(t, rb.Version.Steps)
	last := -1
	for _, s := range rb.Version.Steps {
		at := regexp.MustCompile(`<td>` + regexp.QuoteMeta(s.ID) + `</td><td>` + regexp.QuoteMeta(esc(s.Title))).FindStringIndex(body)
		require.NotNil(t, at, "step %s %s", s.ID, s.Title)
		require.Greater(t, at[0], last, "steps in order")
		last = at[0]
	}
	require.Contains(t, body, "Versions")
	require.Contains(t, body, fmt.Sprintf("<td>v%d</td>", *rb.ApprovedVersion))
	require.Contains(t, body, "Estimated recovery")
	require.Contains(t, body, rb.Feasibility.EstimatedRecovery.String())
	require.NotContains(t, body, "/approve", "operators do not approve")

	resp, err := op.client.Get(e.srv.URL + path + "/export?format=md")
	require.NoError(t, err)
	md, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/markdown")
	require.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")
	require.Contains(t, string(md), rb.Version.Steps[0].Title)

	resp, err = op.client.Get(e.srv.URL + path + "/export")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, reportPolicy, resp.Header.Get("Content-Security-Policy"))

	for _, bad := range []string{path + "/export?format=exe", path + "/export?version=..%2F..%2Fetc"} {
		status, _ = op.get(bad)
		require.Contains(t, []int{http.StatusUnprocessableEntity, http.StatusNotFound}, status, bad)
	}
	for _, bad := range []string{"/runbooks/999999", "/runbooks/..%2Fetc", "/runbooks/0"} {
		status, _ = op.get(bad)
		require.Equal(t, http.StatusNotFound, status, bad)
	}
}

// Executives do not read runbooks; auditors read them but may not approve.
func TestRunbookRoles(t *testing.T) {
	t.Parallel()
	e := setup(t)
	rb := runbookOf(t, e, "taxpayer-reg")
	path := fmt.Sprintf("/runbooks/%d", rb.ID)
	_, err := e.wired.Runbooks.Regenerate(asManager(), strconv.FormatInt(rb.ID, 10))
	require.NoError(t, err)

	ex := e.signIn("wang.fang", orchestrator.RoleExecutive)
	status, _ := ex.get("/runbooks")
	require.Equal(t, http.StatusForbidden, status)
	status, _ = ex.get(path)
	require.Equal(t, http.StatusForbidden, status)
	_, body := ex.get("/")
	require.NotContains(t, body, `href="/runbooks"`)

	au := e.signIn("chen.jie", orchestrator.RoleAuditor)
	status, body = au.get(path)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "Draft against the version in force")
	require.NotContains(t, body, path+"/approve")
	status, _ = au.post(path+"/approve", nil)
	require.Equal(t, http.StatusForbidden, status)
	after, err := e.wired.Runbooks.Get(asManager(), strconv.FormatInt(rb.ID, 10))
	require.NoError(t, err)
	require.NotNil(t, after.DraftVersion, "the auditor's approval did nothing")
}

// A continuity manager approves a regenerated draft from the page; asked
// again, the page shows the service's refusal with its status.
func TestRunbookApprove(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cm := e.signIn("zhao.min", orchestrator.RoleContinuityManager)
	rb := runbookOf(t, e, "taxpayer-reg")
	path := fmt.Sprintf("/runbooks/%d", rb.ID)

	status, body := cm.post(path+"/approve", nil)
	require.Equal(t, http.StatusConflict, status)
	require.Contains(t, body, "Not done:")
	require.Contains(t, body, "has no draft to approve")
	require.Contains(t, body, esc(rb.Title), "the refusal is shown on the runbook's page")

	_, err := e.wired.Runbooks.Regenerate(asManager(), strconv.FormatInt(rb.ID, 10))
	require.NoError(t, err)
	_, body = cm.get(path)
	draft := *rb.ApprovedVersion + 1
	require.Contains(t, body, path+"/approve")
	require.Contains(t, body, `hx-confirm="`)
	require.Contains(t, body, fmt.Sprintf("Approve draft v%d", draft))

	status, body = cm.post(path+"/approve", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The draft is approved and in force.")
	after, err := e.wired.Runbooks.Get(asManager(), strconv.FormatInt(rb.ID, 10))
	require.NoError(t, err)
	require.Equal(t, draft, *after.ApprovedVersion)
	require.Equal(t, "zhao.min", after.Version.Approval.By)
	require.Contains(t, body, fmt.Sprintf("<td>v%d</td><td><span class=\"badge rb-superseded\">", *rb.ApprovedVersion))
}
