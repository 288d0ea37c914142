package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// A drill of a service's draft runbook, driven step by step through the
// API: the board, a person's actions, the roles, the timeline and its
// event stream.
func TestExecutionThroughTheAPI(t *testing.T) {
	env := setup(t)
	const cm, op, admin = orchestrator.RoleContinuityManager, orchestrator.RoleOperator, orchestrator.RoleAdmin
	require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/cis", admin,
		map[string]any{"key": "payroll", "name": "Payroll", "class": "business_service"}).Status)
	resp := env.do("POST", "/api/v1/runbooks", cm, map[string]any{"service": "payroll"})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	var rb struct {
		ID int64 `json:"id"`
	}
	resp.JSON(t, &rb)

	// Bad input names the field; an invocation needs an approved version.
	resp = env.do("POST", "/api/v1/executions", cm, map[string]any{"runbook": rb.ID, "mode": "rehearsal"})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	require.Contains(t, string(resp.Body), `"field":"mode"`)
	resp = env.do("POST", "/api/v1/executions", cm, map[string]any{"runbook": rb.ID, "mode": "invocation"})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	require.Contains(t, string(resp.Body), "has no approved version")
	require.Equal(t, http.StatusForbidden, env.do("POST", "/api/v1/executions", op, map[string]any{"runbook": rb.ID, "mode": "drill"}).Status)

	resp = env.do("POST", "/api/v1/executions", cm, map[string]any{"runbook": rb.ID, "mode": "drill", "note": "spring drill",
		"scenario": map[string]any{"failed": []string{"payroll"}}})
	require.Equal(t, http.StatusCreated, resp.Status, string(resp.Body))
	var ex execution.Execution
	resp.JSON(t, &ex)
	require.Equal(t, fmt.Sprintf("/api/v1/executions/%d", ex.ID), resp.Header.Get("Location"))
	require.NotEmpty(t, ex.Steps)
	base := fmt.Sprintf("/api/v1/executions/%d", ex.ID)

	// Attachments are text files with safe names, kept with the step.
	var first string
	for _, st := range ex.Steps {
		if st.Status == execution.StepWaiting {
			first = st.ID
			break
		}
	}
	for _, bad := range []map[string]any{
		{"name": "../etc/passwd", "content": "x"},
		{"name": "log.txt", "content": "a\x00b"},
		{"name": "big.txt", "content": strings.Repeat("x", 65<<10)},
	} {
		resp = env.do("POST", base+"/steps/"+first+"/complete", op, map[string]any{"attachments": []any{bad}})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%v", bad["name"])
		require.Contains(t, string(resp.Body), `"field":"attachments[0].`)
	}
	resp = env.do("POST", base+"/steps/"+first+"/complete", op, map[string]any{"note": "done",
		"attachments": []any{map[string]any{"name": "restore-log.txt", "content": "pg_restore: done\n"}}})
	require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
	resp.JSON(t, &ex)
	var attached execution.AttachmentRef
	for _, st := range ex.Steps {
		if st.ID == first {
			require.Len(t, st.Attachments, 1)
			attached = st.Attachments[0]
		}
	}
	require.Equal(t, "restore-log.txt", attached.Name)
	resp = env.do("GET", fmt.Sprintf("%s/attachments/%d", base, attached.ID), orchestrator.RoleAuditor, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	require.Equal(t, "pg_restore: done\n", string(resp.Body))
	require.Equal(t, `attachment; filename=restore-log.txt`, resp.Header.Get("Content-Disposition"))
	require.Equal(t, http.StatusNotFound, env.do("GET", base+"/attachments/999", op, nil).Status)

	// Operators do the steps, one waiting step at a time, until it is done.
	for range len(ex.Steps) + 1 {
		if ex.Status != execution.StatusRunning {
			break
		}
		for _, st := range ex.Steps {
			if st.Status == execution.StepWaiting {
				resp = env.do("POST", base+"/steps/"+st.ID+"/complete", op, map[string]any{"note": "done", "evidence": []string{"https://wiki.example/drill"}})
				require.Equal(t, http.StatusOK, resp.Status, string(resp.Body))
				again := env.do("POST", base+"/steps/"+st.ID+"/complete", op, map[string]any{})
				require.Equal(t, http.StatusConflict, again.Status, "a step is completed once")
				resp.JSON(t, &ex)
				break
			}
		}
	}
	require.Equal(t, execution.StatusSucceeded, ex.Status)
	require.Len(t, ex.Services, 1)
	require.Equal(t, "payroll", ex.Services[0].Service)
	require.NotNil(t, ex.Services[0].RTOAchieved, "measured at the service's verification")

	resp = env.do("GET", base, orchestrator.RoleAuditor, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	// The runbook's feasibility now uses what the steps took.
	var after struct {
		Feasibility struct {
			MeasuredSteps int `json:"measured_steps"`
		} `json:"feasibility"`
	}
	env.do("GET", fmt.Sprintf("/api/v1/runbooks/%d", rb.ID), cm, nil).JSON(t, &after)
	require.Equal(t, len(ex.Steps), after.Feasibility.MeasuredSteps)
	require.Equal(t, http.StatusForbidden, env.do("GET", base, orchestrator.RoleExecutive, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/executions/999999", cm, nil).Status)
	resp = env.do("GET", "/api/v1/executions?mode=drill&status=succeeded", op, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	require.Contains(t, string(resp.Body), `"spring drill"`)
	require.Equal(t, http.StatusUnprocessableEntity, env.do("GET", "/api/v1/executions?colour=red", op, nil).Status)

	var timeline struct {
		Items []execution.Event `json:"items"`
	}
	resp = env.do("GET", base+"/timeline", op, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	resp.JSON(t, &timeline)
	require.Equal(t, "execution_started", timeline.Items[0].Type)
	require.Equal(t, "execution_succeeded", timeline.Items[len(timeline.Items)-1].Type)

	// The event stream replays the timeline and ends with the execution;
	// Last-Event-ID resumes after what a client saw.
	stream := func(lastID string) string {
		req := httptest.NewRequest("GET", base+"/events", nil)
		req.Header.Set("Authorization", "Bearer "+env.tokens[op])
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		rec := httptest.NewRecorder()
		env.server.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, "text/event-stream", rec.Header().Get("Content-Type"))
		return rec.Body.String()
	}
	all := stream("")
	require.Equal(t, len(timeline.Items), strings.Count(all, "\nevent: "))
	require.True(t, strings.HasPrefix(all, fmt.Sprintf("id: %d\nevent: execution_started\ndata: {", timeline.Items[0].ID)))
	rest := stream(fmt.Sprint(timeline.Items[len(timeline.Items)-2].ID))
	require.Equal(t, 1, strings.Count(rest, "\nevent: "))
	require.Contains(t, rest, "event: execution_succeeded")

	// Ended executions take no more actions.
	resp = env.do("POST", base+"/abort", cm, map[string]any{"reason": "too late"})
	require.Equal(t, http.StatusConflict, resp.Status)
	resp = env.do("POST", base+"/abort", cm, map[string]any{})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "an abort needs a reason")
}
