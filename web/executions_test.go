package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// startDrill starts, as starter, a drill of the demo's first runbook
// (version: its approved one, or the one given) with the automations off:
// its manual steps without dependencies wait for a person.
func startDrill(t *testing.T, e *env, starter string, version *int) execution.Execution {
	t.Helper()
	ctx := orchestrator.WithActor(t.Context(), orchestrator.Actor{Name: starter, Role: orchestrator.RoleContinuityManager})
	ex, err := e.wired.Executions.Start(ctx, execution.StartInput{Runbook: 1, Version: version, Mode: execution.ModeDrill,
		Automations: execution.AutomationsOff, Note: "web test drill"})
	require.NoError(t, err)
	require.Equal(t, execution.StepWaiting, ex.Steps[0].Status)
	return ex
}

// stepStatus is the status the board shows step id in.
func stepStatus(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<tr id="step-` + id + `" data-status="([a-z_]+)"`).FindStringSubmatch(body)
	require.NotNil(t, m, "the board lists step %s", id)
	return m[1]
}

// htmxPost posts form as htmx does: the answer is the board alone.
func htmxPost(t *testing.T, p *person, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.e.srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.e.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("HX-Request", "true")
	resp, err := p.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// An operator completes a manual step from the board: without htmx the
// form redirects back to the board, which shows the step done and the
// steps after it; with htmx the answer is the board alone. Refusals show
// the service's message on the board with its status.
func TestExecutionBoardCompletesStep(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ex := startDrill(t, e, "lead", nil)
	board := fmt.Sprintf("/executions/%d", ex.ID)
	op := e.signIn("op", orchestrator.RoleOperator)

	status, body := op.get("/executions")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `href="`+board+`"`)
	require.Contains(t, body, `href="/executions" aria-current="page"`, "the menu entry")
	require.Less(t, strings.Index(body, `href="`+board+`"`), strings.Index(body, "Recent"), "running executions come first")

	status, body = op.get(board)
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "waiting", stepStatus(t, body, "s1"))
	require.Equal(t, "blocked", stepStatus(t, body, "s2"))
	require.Contains(t, body, `action="`+board+`/steps/s1/complete"`)
	require.NotContains(t, body, `action="`+board+`/steps/s2/complete"`, "a blocked step cannot be completed")
	require.NotContains(t, body, `/steps/s1/skip"`, "every demo step is mandatory: only an admin skips one")
	require.NotContains(t, body, board+"/pause", "operators do not pause executions")
	require.Contains(t, body, `<svg`)
	require.Contains(t, body, `data-events="`+board+`/events?after=`)
	require.Contains(t, body, `hx-confirm="Mark this step failed?"`, "failing a step asks first")

	status, body = op.post(board+"/steps/s1/complete", url.Values{"note": {"site confirmed <script>alert(1)</script>"},
		"evidence": {"https://tickets.example/DR-1\n"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "succeeded", stepStatus(t, body, "s1"))
	require.Equal(t, "waiting", stepStatus(t, body, "s2"), "the step after it is ready")
	require.Contains(t, body, "site confirmed &lt;script&gt;")
	require.Contains(t, body, `href="https://tickets.example/DR-1"`)
	got, err := e.wired.Executions.Get(t.Context(), ex.ID)
	require.NoError(t, err)
	require.Equal(t, "op", got.Steps[0].DoneBy)

	resp, body := htmxPost(t, op, board+"/steps/s2/complete", url.Values{})
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.True(t, strings.HasPrefix(strings.TrimSpace(body), `<div id="board"`), "htmx gets the board alone")
	require.Equal(t, "succeeded", stepStatus(t, body, "s2"))

	resp, body = htmxPost(t, op, board+"/steps/s1/complete", url.Values{})
	require.Equal(t, http.StatusConflict, resp.StatusCode)
	require.Equal(t, "1", resp.Header.Get("X-Bcdr-Board"), "board.js swaps a refusal's board in")
	require.Contains(t, body, "step s1 is succeeded, not waiting for a person to do it")

	for _, c := range []struct {
		path   string
		form   url.Values
		status int
		says   string
	}{
		{board + "/steps/s3/fail", url.Values{}, http.StatusUnprocessableEntity, "reason: is required to fail"},
		{board + "/steps/s3/complete", url.Values{"recovered_at": {"yesterday"}}, http.StatusUnprocessableEntity, "recovered_at: must be a date and time"},
		{board + "/steps/s3/complete", url.Values{"evidence": {"javascript:alert(1)"}}, http.StatusUnprocessableEntity, "evidence[0]: must be an http or https link"},
		{board + "/steps/s3/complete", url.Values{"note": {strings.Repeat("x", 70<<10)}}, http.StatusRequestEntityTooLarge, "the form is larger than 64 KiB"},
		{board + "/steps/s3/complete", url.Values{"note": {"caf\xe9"}}, http.StatusUnprocessableEntity, "note: must be text (UTF-8, no NUL)"},
		{board + "/steps/s3/fail", url.Values{"reason": {"a\x00b"}}, http.StatusUnprocessableEntity, "reason: must be text (UTF-8, no NUL)"},
		{board + "/steps/s3/complete", url.Values{"note": {"'; DROP TABLE execution_steps; --"}, "evidence": {"../../etc/passwd"}},
			http.StatusUnprocessableEntity, "evidence[0]: must be an http or https link"},
		{board + "/steps/s99/complete", url.Values{}, http.StatusNotFound, "s99"},
		{board + "/steps/..%2F..%2Fetc/complete", url.Values{}, http.StatusNotFound, ""},
		{"/executions/x'%20OR%201=1/steps/s3/complete", url.Values{}, http.StatusNotFound, ""},
		{"/executions/999999/steps/s3/complete", url.Values{}, http.StatusNotFound, "execution 999999 not found"},
	} {
		status, body := op.post(c.path, c.form)
		require.Equal(t, c.status, status, "%s: %s", c.path, body)
		require.Contains(t, body, c.says, c.path)
	}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+board+"/steps/s3/complete", strings.NewReader("note=%zz"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err = op.client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnprocessableEntity, resp.StatusCode, "a malformed form")
	got, err = e.wired.Executions.Get(t.Context(), ex.ID)
	require.NoError(t, err)
	require.Equal(t, execution.StepWaiting, got.Steps[2].Status, "nothing refused was written")

	status, body = op.get(board + "/board")
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, body, "<html")
	status, _ = op.get("/executions/0")
	require.Equal(t, http.StatusNotFound, status)
	status, _ = op.get("/executions?after=bogus")
	require.Equal(t, http.StatusUnprocessableEntity, status)

	zh := e.signIn("操作员", orchestrator.RoleOperator)
	_, _ = zh.post("/lang", url.Values{"lang": {langZH}, "next": {board}})
	_, body = zh.get(board)
	for _, w := range []string{"恢复步骤", "待办", "完成", "依赖关系图", "演练"} {
		require.Contains(t, body, w)
	}
}

// Executives read no execution: the board, its events and its actions
// are refused. Auditors read the board without a button, and a form they
// post anyway is refused.
func TestExecutionBoardByRole(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ex := startDrill(t, e, "lead", nil)
	board := fmt.Sprintf("/executions/%d", ex.ID)

	cfo := e.signIn("cfo", orchestrator.RoleExecutive)
	for _, path := range []string{"/executions", board, board + "/board", board + "/events"} {
		status, _ := cfo.get(path)
		require.Equal(t, http.StatusForbidden, status, path)
	}
	_, body := cfo.get("/")
	require.NotContains(t, body, `href="/executions"`)
	for _, a := range []string{"/steps/s1/complete", "/steps/s1/approve", "/pause", "/abort"} {
		status, _ := cfo.post(board+a, url.Values{"reason": {"because"}})
		require.Equal(t, http.StatusForbidden, status, a)
	}

	auditor := e.signIn("auditor", orchestrator.RoleAuditor)
	status, body := auditor.get(board)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "waiting", stepStatus(t, body, "s1"))
	require.NotContains(t, body, "<form method=\"post\" action=\""+board, "no action for an auditor")
	require.NotContains(t, body, "<details")
	for _, a := range []string{"/steps/s1/complete", "/steps/s1/fail", "/steps/s1/skip", "/steps/s1/approve", "/pause", "/abort"} {
		status, _ := auditor.post(board+a, url.Values{"reason": {"because"}})
		require.Equal(t, http.StatusForbidden, status, a)
	}
	got, err := e.wired.Executions.Get(t.Context(), ex.ID)
	require.NoError(t, err)
	require.Equal(t, execution.StepWaiting, got.Steps[0].Status)
	require.Equal(t, execution.StatusRunning, got.Status)

	admin := e.signIn("admin", orchestrator.RoleAdmin)
	_, body = admin.get(board)
	require.Contains(t, body, `action="`+board+`/steps/s1/skip"`, "an admin may skip a mandatory step")
	require.Contains(t, body, `action="`+board+`/pause"`)
	require.Contains(t, body, `action="`+board+`/abort"`)
}

// Only an admin skips a mandatory step: anyone else is told so by the
// service, on the board.
func TestExecutionSkipMandatory(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ex := startDrill(t, e, "lead", nil)
	board := fmt.Sprintf("/executions/%d", ex.ID)
	for _, role := range []orchestrator.Role{orchestrator.RoleOperator, orchestrator.RoleContinuityManager} {
		p := e.signIn("skipper-"+string(role), role)
		status, body := p.post(board+"/steps/s1/skip", url.Values{"reason": {"not in this drill"}})
		require.Equal(t, http.StatusForbidden, status, role)
		require.Contains(t, body, "step s1 is mandatory: only an admin may skip it", role)
		require.Contains(t, body, `role="alert"`)
		require.Equal(t, "waiting", stepStatus(t, body, "s1"))
	}
	admin := e.signIn("admin", orchestrator.RoleAdmin)
	status, body := admin.post(board+"/steps/s1/skip", url.Values{})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "reason: is required to skip")
	status, body = admin.post(board+"/steps/s1/skip", url.Values{"reason": {"the site is not part of this drill"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "skipped", stepStatus(t, body, "s1"))
}

// A decision is taken by someone with its role who did not start the
// execution: the board offers it only to them, and the service's refusal
// of anyone else is shown.
func TestExecutionDecision(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := orchestrator.WithActor(t.Context(), orchestrator.Actor{Name: "lead", Role: orchestrator.RoleContinuityManager})
	rb, err := e.wired.Runbooks.UpdateStep(ctx, "1", "s1", runbooks.StepInput{Decision: json.RawMessage(`{"role":"operator"}`)})
	require.NoError(t, err)
	require.NotNil(t, rb.DraftVersion)

	ex := startDrill(t, e, "op-lead", rb.DraftVersion)
	board := fmt.Sprintf("/executions/%d", ex.ID)
	starter := e.signIn("op-lead", orchestrator.RoleOperator)
	_, body := starter.get(board)
	require.NotContains(t, body, board+"/steps/s1/approve")
	require.Contains(t, body, "You started this execution")
	status, body := starter.post(board+"/steps/s1/approve", url.Values{})
	require.Equal(t, http.StatusForbidden, status)
	require.Contains(t, body, "decision s1 must be taken by someone other than op-lead, who started the execution")

	cm := e.signIn("cm", orchestrator.RoleContinuityManager)
	_, body = cm.get(board)
	require.NotContains(t, body, board+"/steps/s1/approve", "the decision is for operators")
	status, body = cm.post(board+"/steps/s1/approve", url.Values{})
	require.Equal(t, http.StatusForbidden, status)
	require.Contains(t, body, "decision s1 is for the role operator")

	op := e.signIn("op", orchestrator.RoleOperator)
	_, body = op.get(board)
	require.Contains(t, body, `action="`+board+`/steps/s1/approve"`)
	require.Contains(t, body, `hx-confirm="Reject this decision?"`)
	require.NotContains(t, body, board+"/steps/s1/complete", "a decision is approved, not completed")
	status, body = op.post(board+"/steps/s1/reject", url.Values{})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "reason: is required to reject")
	status, body = op.post(board+"/steps/s1/approve", url.Values{"note": {"go"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "succeeded", stepStatus(t, body, "s1"))

	other := startDrill(t, e, "op-lead", rb.DraftVersion)
	status, body = op.post(fmt.Sprintf("/executions/%d/steps/s1/reject", other.ID), url.Values{"reason": {"no go"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Equal(t, "rejected", stepStatus(t, body, "s1"))
	require.Contains(t, body, `id="execution-status">aborted`, "a rejection without a branch stops the execution")
}

// Continuity managers pause, resume and abort; operators do not.
func TestExecutionControls(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ex := startDrill(t, e, "lead", nil)
	board := fmt.Sprintf("/executions/%d", ex.ID)
	op := e.signIn("op", orchestrator.RoleOperator)
	status, _ := op.post(board+"/pause", url.Values{})
	require.Equal(t, http.StatusForbidden, status)

	cm := e.signIn("cm", orchestrator.RoleContinuityManager)
	status, body := cm.post(board+"/pause", url.Values{"reason": {"waiting for the supplier"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `id="execution-status">paused`)
	require.Contains(t, body, `action="`+board+`/resume"`)
	status, body = cm.post(board+"/pause", url.Values{})
	require.Equal(t, http.StatusConflict, status)
	require.Contains(t, body, "is paused and cannot pause")
	status, body = cm.post(board+"/resume", url.Values{})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `id="execution-status">running`)
	require.Contains(t, body, `hx-confirm="Abort the whole execution?`)
	status, body = cm.post(board+"/abort", url.Values{})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "reason: is required to abort")
	status, body = cm.post(board+"/abort", url.Values{"reason": {"drill called off"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `id="execution-status">aborted`)
	require.Equal(t, "cancelled", stepStatus(t, body, "s1"))
	require.NotContains(t, body, "<details", "an aborted execution offers nothing")
	require.NotContains(t, body, `id="live"`, "and does not follow events")
}

// sseEvent is one event read from a stream, and when it arrived.
type sseEvent struct {
	ID, Type string
	At       time.Time
}

// openEvents opens path's event stream as p and reads it until ctx ends.
func openEvents(t *testing.T, ctx context.Context, p *person, path, lastID string) <-chan sseEvent {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.e.srv.URL+path, nil)
	require.NoError(t, err)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := p.client.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	out := make(chan sseEvent, 16)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		var ev sseEvent
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "" && ev.Type != "":
				ev.At = time.Now()
				out <- ev
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.ID = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				ev.Type = strings.TrimPrefix(line, "event: ")
			}
		}
	}()
	return out
}

// next is the next event of the stream, within a deadline.
func next(t *testing.T, events <-chan sseEvent, within time.Duration) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-events:
		require.True(t, ok, "the stream ended")
		return ev
	case <-time.After(within):
		require.FailNow(t, "no event within "+within.String())
	}
	return sseEvent{}
}

// The board's stream tells another browser of a step completed within
// two seconds, resumes from Last-Event-ID, and ends with the execution.
func TestExecutionEvents(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ex := startDrill(t, e, "lead", nil)
	board := fmt.Sprintf("/executions/%d", ex.ID)
	watcher := e.signIn("auditor", orchestrator.RoleAuditor)
	op := e.signIn("op", orchestrator.RoleOperator)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	events := openEvents(t, ctx, watcher, board+"/events", "")

	// Latency of each completion: from its POST answered (the step was
	// committed before) and from its POST sent, an upper bound.
	var answered, sent []time.Duration
	for _, step := range []string{"s1", "s54", "s56", "s58", "s2"} {
		start := time.Now()
		resp, body := htmxPost(t, op, board+"/steps/"+step+"/complete", url.Values{"note": {"done"}})
		done := time.Now()
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
		ev := next(t, events, 2*time.Second)
		require.Equal(t, "change", ev.Type)
		answered, sent = append(answered, ev.At.Sub(done)), append(sent, ev.At.Sub(start))
	}
	ms := func(ds []time.Duration) string {
		return fmt.Sprintf("min %v max %v", slices.Min(ds).Round(time.Millisecond), slices.Max(ds).Round(time.Millisecond))
	}
	t.Logf("SSE latency, step completion → event received: after the POST answered %s; after it was sent %s", ms(answered), ms(sent))

	resumed := openEvents(t, ctx, watcher, board+"/events", "1")
	require.Equal(t, "change", next(t, resumed, 2*time.Second).Type, "events after Last-Event-ID are told at once")

	cm := e.signIn("cm", orchestrator.RoleContinuityManager)
	status, _ := cm.post(board+"/abort", url.Values{"reason": {"drill called off"}})
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "change", next(t, events, 2*time.Second).Type)
	require.Equal(t, "end", next(t, events, 2*time.Second).Type)
	select {
	case _, open := <-events:
		require.False(t, open, "the stream ends with the execution")
	case <-time.After(2 * time.Second):
		require.FailNow(t, "the stream did not end")
	}

	status, _ = watcher.get("/executions/999999/events")
	require.Equal(t, http.StatusNotFound, status)
}

// Every status, mode and kind the board names has its words: the
// templates ask for them by a computed key the word test cannot see.
func TestExecutionWordsForEveryState(t *testing.T) {
	t.Parallel()
	keys := []string{"ex_mode_" + execution.ModeDrill, "ex_mode_" + execution.ModeInvocation}
	for _, s := range []string{execution.StatusRunning, execution.StatusPaused, execution.StatusSucceeded, execution.StatusFailed, execution.StatusAborted} {
		keys = append(keys, "ex_es_"+s)
	}
	for _, s := range []string{execution.StepBlocked, execution.StepWaiting, execution.StepPending, execution.StepRunning, execution.StepSucceeded,
		execution.StepFailed, execution.StepGaveUp, execution.StepSkipped, execution.StepRejected, execution.StepBypassed, execution.StepCancelled} {
		keys = append(keys, "ex_st_"+s)
	}
	for _, k := range []string{execution.KindAutomated, execution.KindManual, execution.KindDecision} {
		keys = append(keys, "ex_k_"+k)
	}
	for _, k := range keys {
		for _, lang := range languages {
			require.Contains(t, dictionary[lang], k, lang)
		}
	}
}

// The graph puts each step one column after its latest dependency, one
// arrow per dependency, and survives what a valid runbook never has.
func TestExecutionGraphLayout(t *testing.T) {
	t.Parallel()
	step := func(id string, deps ...string) execution.Step {
		return execution.Step{ID: id, Title: id, DependsOn: deps}
	}
	col := func(x int) int { return (x - execGraphPad) / (execBoxW + execGapX) }
	for _, c := range []struct {
		name    string
		steps   []execution.Step
		columns []int
		edges   int
	}{
		{"empty", nil, nil, 0},
		{"chain", []execution.Step{step("s1"), step("s2", "s1"), step("s3", "s2")}, []int{0, 1, 2}, 2},
		{"diamond", []execution.Step{step("s1"), step("s2", "s1"), step("s3", "s1"), step("s4", "s2", "s3")}, []int{0, 1, 1, 2}, 4},
		{"longest path wins", []execution.Step{step("s1"), step("s2", "s1"), step("s3", "s1", "s2")}, []int{0, 1, 2}, 3},
		{"unknown dependency", []execution.Step{step("s1", "s9")}, []int{0}, 0},
		{"cycle", []execution.Step{step("s1", "s2"), step("s2", "s1")}, []int{2, 1}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := execLayout(c.steps)
			var columns []int
			for _, b := range g.Boxes {
				columns = append(columns, col(b.X))
				require.LessOrEqual(t, b.X+execBoxW, g.Width)
				require.LessOrEqual(t, b.Y+execBoxH, g.Height)
			}
			require.Equal(t, c.columns, columns)
			require.Len(t, g.Edges, c.edges)
		})
	}
	require.Equal(t, "验证 Verify 虚拟化…", execClip("验证 Verify 虚拟化主机 Hypervisor host 02", 20))
	require.Equal(t, "short", execClip("short", 20))
}
