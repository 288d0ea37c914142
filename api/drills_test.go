package api

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// A simulation drill planned, started, performed, completed and reported
// through the API, with the roles of each step, the improvement register,
// a retest waiver and an invocation's review.
func TestDrillThroughTheAPI(t *testing.T) {
	env := setup(t)
	const cm, op, admin, exec, aud = orchestrator.RoleContinuityManager, orchestrator.RoleOperator, orchestrator.RoleAdmin,
		orchestrator.RoleExecutive, orchestrator.RoleAuditor
	require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/cis", admin,
		map[string]any{"key": "payroll", "name": "Payroll", "class": "business_service"}).Status)
	var rb runbooks.Runbook
	env.do("POST", "/api/v1/runbooks", cm, map[string]any{"service": "payroll"}).JSON(t, &rb)
	rbPath := fmt.Sprintf("/api/v1/runbooks/%d", rb.ID)
	require.Equal(t, http.StatusOK, env.do("POST", rbPath+"/approve", cm, nil).Status)

	// Bad input names each field.
	resp := env.do("POST", "/api/v1/drills", cm, map[string]any{"title": "", "type": "rehearsal", "services": []string{"nowhere"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, string(resp.Body))
	require.Contains(t, string(resp.Body), `"field":"services[0]"`)
	resp = env.do("POST", "/api/v1/drills", cm, map[string]any{"title": "", "type": "rehearsal", "services": []string{"payroll"}})
	for _, field := range []string{"title", "type", "planned_start"} {
		require.Contains(t, string(resp.Body), fmt.Sprintf(`"field":%q`, field))
	}
	resp = env.do("POST", "/api/v1/drills", cm, map[string]any{"title": "Flood", "type": "tabletop", "services": []string{"payroll"},
		"planned_start": time.Now().UTC().Format(time.RFC3339), "scenario": map[string]any{"kind": "risk", "ref": "999", "text": "flood"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, string(resp.Body))
	require.Contains(t, string(resp.Body), `"field":"scenario.ref"`)
	plan := map[string]any{"title": "Payroll restore drill", "type": "simulation", "services": []string{"payroll"},
		"planned_start": time.Now().UTC().Format(time.RFC3339), "criteria": map[string]any{"rto": map[string]string{"payroll": "4h"}},
		"participants": []map[string]string{{"name": "wang.fang", "role": "operator"}}}
	require.Equal(t, http.StatusForbidden, env.do("POST", "/api/v1/drills", op, plan).Status)
	resp = env.do("POST", "/api/v1/drills", cm, plan)
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	var d drills.Drill
	resp.JSON(t, &d)
	require.Equal(t, []int64{rb.ID}, d.Runbooks)
	base := fmt.Sprintf("/api/v1/drills/%d", d.ID)
	require.Equal(t, base, resp.Header.Get("Location"))
	require.Equal(t, http.StatusForbidden, env.do("GET", "/api/v1/drills", exec, nil).Status, "executives read reports, not records")

	require.Equal(t, http.StatusConflict, env.do("POST", base+"/approve", admin, nil).Status, "only full interruptions need approval")
	require.Equal(t, http.StatusForbidden, env.do("POST", base+"/start", op, map[string]any{}).Status)
	resp = env.do("POST", base+"/start", cm, map[string]any{"note": "spring"})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	resp.JSON(t, &d)
	require.Len(t, d.Executions, 1)
	require.Equal(t, http.StatusConflict, env.do("POST", base+"/start", cm, map[string]any{}).Status)

	var ex execution.Execution
	env.do("GET", fmt.Sprintf("/api/v1/executions/%d", d.Executions[0]), op, nil).JSON(t, &ex)
	require.Equal(t, execution.AutomationsOff, ex.Automations, "a simulation runs no automation")
	for range len(ex.Steps) {
		for _, st := range ex.Steps {
			if st.Status == execution.StepWaiting {
				resp := env.do("POST", fmt.Sprintf("/api/v1/executions/%d/steps/%s/complete", ex.ID, st.ID), op, map[string]any{"note": "done"})
				require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
				resp.JSON(t, &ex)
				break
			}
		}
	}
	require.Equal(t, execution.StatusSucceeded, ex.Status)
	resp = env.do("POST", base+"/events", op, map[string]any{"type": "note", "detail": "the lab VPN was slow"})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	require.Equal(t, http.StatusUnprocessableEntity, env.do("POST", base+"/events", op, map[string]any{"type": "walked", "step": "x"}).Status)
	resp = env.do("POST", base+"/hotwash", exec, map[string]any{"answers": map[string]string{"went_well": "clear roles", "roles_clear": "9"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	require.Contains(t, string(resp.Body), `"field":"answers.roles_clear"`)
	require.Equal(t, http.StatusOK, env.do("POST", base+"/hotwash", exec, map[string]any{"answers": map[string]string{"went_well": "clear roles", "roles_clear": "4"}}).Status)

	resp = env.do("POST", base+"/complete", cm, map[string]any{"report": map[string]any{"observations": []string{"restore took half its estimate"}}})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	resp.JSON(t, &d)
	require.Equal(t, drills.ResultPass, *d.Result, "%+v", d.Outcome)

	var report drills.AfterAction
	env.do("GET", base+"/report", exec, nil).JSON(t, &report)
	require.Len(t, report.Hotwash, 1)
	require.Len(t, report.Execution, 1)
	resp = env.do("GET", base+"/report?format=markdown", aud, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/markdown")
	require.Contains(t, string(resp.Body), "restore took half its estimate")
	var timeline struct {
		Items []drills.Event `json:"items"`
	}
	env.do("GET", base+"/timeline", aud, nil).JSON(t, &timeline)
	require.Equal(t, drills.EventStarted, timeline.Items[0].Type)

	// The improvement register.
	resp = env.do("POST", "/api/v1/findings", cm, map[string]any{"title": "Call tree lists a leaver", "severity": "urgent", "services": []string{"nowhere"}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	require.Contains(t, string(resp.Body), `"field":"severity"`)
	require.Contains(t, string(resp.Body), `"field":"services[0]"`)
	resp = env.do("POST", "/api/v1/findings", cm, map[string]any{"title": "Call tree lists a leaver", "severity": "low", "owner": "li.na",
		"services": []string{"payroll"}, "due_date": time.Now().AddDate(0, 0, -1).Format(time.DateOnly)})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	var f drills.Finding
	resp.JSON(t, &f)
	require.Equal(t, drills.SourceAudit, f.Source)
	require.True(t, f.Overdue)
	var page struct {
		Items []drills.Finding `json:"items"`
	}
	env.do("GET", "/api/v1/findings?overdue=true", aud, nil).JSON(t, &page)
	require.Len(t, page.Items, 1)
	fPath := fmt.Sprintf("/api/v1/findings/%d", f.ID)
	resp = env.do("PATCH", fPath, cm, map[string]any{"status": "resolved"})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	require.Contains(t, string(resp.Body), `"field":"resolution"`)
	resp = env.do("PATCH", fPath, cm, map[string]any{"status": "resolved", "resolution": "call tree updated"})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	resp.JSON(t, &f)
	require.False(t, f.Overdue, "a resolved finding is not overdue")
	require.Equal(t, http.StatusOK, env.do("PATCH", fPath, cm, map[string]any{"status": "verified"}).Status, "no retest needed: a person verifies it")
	require.Equal(t, http.StatusUnprocessableEntity, env.do("GET", "/api/v1/findings?status=closed", cm, nil).Status)

	var gaps drills.FromGapsResult
	resp = env.do("POST", "/api/v1/findings/from-gaps", cm, map[string]any{"kinds": []string{"no_approved_bia"}})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	resp.JSON(t, &gaps)
	require.Equal(t, 1, gaps.Opened, "payroll has no approved BIA: %+v", gaps.Findings)
	env.do("POST", "/api/v1/findings/from-gaps", cm, map[string]any{"kinds": []string{"no_approved_bia"}}).JSON(t, &gaps)
	require.Equal(t, 0, gaps.Opened)
	require.Equal(t, 1, gaps.Existing)

	// A waiver is an admin's, with a reason.
	require.Equal(t, http.StatusForbidden, env.do("POST", rbPath+"/waive-retest", cm, map[string]any{"reason": "no change of substance"}).Status)
	require.Equal(t, http.StatusOK, env.do("POST", rbPath+"/waive-retest", admin, map[string]any{"reason": "no change of substance"}).Status)
	env.do("GET", rbPath, aud, nil).JSON(t, &rb)
	require.Equal(t, runbooks.ProvenByWaiver, rb.Staleness.RetestRequired.ProvenBy)

	// Every invocation has a review; a drill's execution has its report.
	require.Equal(t, http.StatusNotFound, env.do("GET", fmt.Sprintf("/api/v1/executions/%d/review", ex.ID), cm, nil).Status)
	env.do("POST", "/api/v1/executions", cm, map[string]any{"runbook": rb.ID, "mode": "invocation"}).JSON(t, &ex)
	review := fmt.Sprintf("/api/v1/executions/%d/review", ex.ID)
	var r drills.InvocationReview
	env.do("GET", review, aud, nil).JSON(t, &r)
	require.Equal(t, drills.ReviewOpen, r.Status)
	require.Equal(t, http.StatusConflict, env.do("PUT", review, cm, map[string]any{"report": map[string]any{}, "close": true}).Status, "still running")
	resp = env.do("PUT", review, cm, map[string]any{"report": map[string]any{"observations": []string{"paged at 03:10"}}})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	resp = env.do("POST", "/api/v1/findings", cm, map[string]any{"title": "Paging took 40 minutes", "execution": ex.ID})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	env.do("GET", review, aud, nil).JSON(t, &r)
	require.Equal(t, []string{"paged at 03:10"}, r.Report.Observations)
	require.Len(t, r.Findings, 1)
	require.Equal(t, drills.SourceInvocationReview, r.Findings[0].Source)
}
