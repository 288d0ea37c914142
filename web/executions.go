package web

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// Who does what on the board, as the API's execution routes say: check
// runners perform steps, record writers pause, resume and abort, deciders
// decide. The API's deciders include executives, who read no execution:
// the UI answers an action with the board, so they decide in the API.
var (
	executionSteps    = orchestrator.CheckRunners
	executionControls = orchestrator.RecordWriters
	executionDecides  = []orchestrator.Role{orchestrator.RoleAdmin, orchestrator.RoleContinuityManager, orchestrator.RoleOperator}
)

// SSE timing: how often the stream looks for new timeline events when no
// change was announced (the announcements, execution.Watch, are what make
// the board live; the poll only covers a listener reconnecting), how often
// it proves it is alive, and how long one stream lasts before the browser
// reconnects (with Last-Event-ID, missing nothing).
const (
	execSSEPoll      = 2 * time.Second
	execSSEHeartbeat = 15 * time.Second
	execSSELifetime  = 10 * time.Minute
)

// execMaxForm bounds the form of one action: a note, a reason, links.
const execMaxForm = 64 << 10

// executionPages are the executions: the list, the live board, its
// server-sent events and its actions.
func (u *UI) executionPages() []page {
	pages := []page{
		{"GET /executions", orchestrator.RecordReaders, u.executions, "executions"},
		{"GET /executions/{id}", orchestrator.RecordReaders, u.executionBoard, ""},
		{"GET /executions/{id}/board", orchestrator.RecordReaders, u.executionBoard, ""},
		{"GET /executions/{id}/events", orchestrator.RecordReaders, u.executionEvents, ""},
	}
	for _, a := range []string{execution.ActComplete, execution.ActFail, execution.ActSkip, execution.ActRetry} {
		pages = append(pages, page{"POST /executions/{id}/steps/{step}/" + a, executionSteps, u.executionAction(a), ""})
	}
	for _, a := range []string{execution.ActApprove, execution.ActReject} {
		pages = append(pages, page{"POST /executions/{id}/steps/{step}/" + a, executionDecides, u.executionAction(a), ""})
	}
	for _, a := range []string{execution.CtlPause, execution.CtlResume, execution.CtlAbort} {
		pages = append(pages, page{"POST /executions/{id}/" + a, executionControls, u.executionAction(a), ""})
	}
	return pages
}

// execRow is an execution in the list.
type execRow struct {
	execution.Execution
	Started string
}

// execSection is a table of the list page and what it says when empty.
type execSection struct {
	Heading, Empty string
	Rows           []execRow
}

// executionsView is the list page's data.
type executionsView struct {
	Sections []execSection
	Next     string
}

// execRecentShown is how many ended executions a page of the list shows.
const execRecentShown = 30

// executions lists running (or paused) executions first, then the rest.
func (u *UI) executions(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	page := orchestrator.Page{Limit: execRecentShown}
	if after := r.URL.Query().Get("after"); after != "" {
		var err error
		if page.After, err = orchestrator.DecodeCursor(after); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	var active []execution.Execution
	for _, st := range []string{execution.StatusRunning, execution.StatusPaused} {
		l, err := u.svc.Executions.List(ctx, execution.Filter{Status: st}, orchestrator.Page{Limit: orchestrator.MaxPageLimit})
		if err != nil {
			u.fail(w, r, err)
			return
		}
		active = append(active, l.Items...)
	}
	slices.SortFunc(active, func(a, b execution.Execution) int { return cmp.Compare(b.ID, a.ID) })
	recent, err := u.svc.Executions.List(ctx, execution.Filter{}, page)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := executionsView{Next: recent.Next}
	if page.After == "" {
		v.Sections = append(v.Sections, execSection{Heading: "ex_active", Empty: "no_executions", Rows: execRows(active)})
	}
	recent.Items = slices.DeleteFunc(recent.Items, func(ex execution.Execution) bool {
		return ex.Status == execution.StatusRunning || ex.Status == execution.StatusPaused
	})
	v.Sections = append(v.Sections, execSection{Heading: "ex_recent", Empty: "nothing", Rows: execRows(recent.Items)})
	u.render(w, r, http.StatusOK, "executions", v)
}

func execRows(items []execution.Execution) []execRow {
	out := make([]execRow, len(items))
	for i, ex := range items {
		out[i] = execRow{Execution: ex, Started: execStamp(&ex.StartedAt)}
	}
	return out
}

// execStamp is a time as the pages show it, in UTC.
func execStamp(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// execBoardView is the live board's data.
type execBoardView struct {
	Ex execution.Execution
	// After: the event stream starts after it, read before the board.
	After                        int64
	Live                         bool
	Started, Finished, Projected string
	Estimate                     orchestrator.Duration
	Counts                       []statusCount
	Services                     []execServiceView
	Steps                        []execStepView
	Graph                        execGraph
	Pause, Resume, Abort         bool
	// Error is the service's answer to an action it refused.
	Error string
}

// execServiceView is a service in scope; Met names whether its RTO was met.
type execServiceView struct {
	execution.ServiceMeasure
	ProjectedAt, Met string
}

// execStepView is a step and the actions the viewer may take on it now.
type execStepView struct {
	execution.Step
	Complete, Fail, Skip, Retry, Decide bool
	// Starter: the viewer could decide but started the execution.
	Starter bool
}

// newExecBoard is ex's board for a: the actions a's role and the states allow.
func newExecBoard(ex execution.Execution, a orchestrator.Actor) execBoardView {
	v := execBoardView{Ex: ex, Live: ex.Status != execution.StatusSucceeded && ex.Status != execution.StatusAborted,
		Started: execStamp(&ex.StartedAt), Finished: execStamp(ex.FinishedAt), Projected: execStamp(ex.Projected),
		Estimate: ex.Elapsed + ex.Remaining, Graph: execLayout(ex.Steps)}
	for _, st := range []string{execution.StepWaiting, execution.StepPending, execution.StepRunning, execution.StepBlocked,
		execution.StepSucceeded, execution.StepFailed, execution.StepGaveUp, execution.StepSkipped, execution.StepRejected,
		execution.StepBypassed, execution.StepCancelled} {
		if n := ex.Counts[st]; n > 0 {
			v.Counts = append(v.Counts, statusCount{Status: st, Count: n})
		}
	}
	for _, m := range ex.Services {
		sv := execServiceView{ServiceMeasure: m, ProjectedAt: execStamp(m.Projected)}
		if m.RTOMet != nil {
			sv.Met = map[bool]string{true: "ex_met", false: "ex_missed"}[*m.RTOMet]
		}
		v.Services = append(v.Services, sv)
	}
	control := a.Role.Allowed(executionControls)
	v.Pause = control && ex.Status == execution.StatusRunning
	v.Resume = control && ex.Status == execution.StatusPaused
	v.Abort = control && v.Live // running, paused or failed
	steps, decides := v.Live && a.Role.Allowed(executionSteps), v.Live && a.Role.Allowed(executionDecides)
	for _, st := range ex.Steps {
		s := execStepView{Step: st}
		failed := st.Status == execution.StepFailed || st.Status == execution.StepGaveUp
		waiting := st.Status == execution.StepWaiting
		if st.Kind == execution.KindDecision {
			mayDecide := decides && waiting && (a.Role == st.Decision.Role || a.Role == orchestrator.RoleAdmin)
			s.Decide, s.Starter = mayDecide && a.Name != ex.StartedBy, mayDecide && a.Name == ex.StartedBy
		} else {
			s.Complete, s.Fail = steps && waiting, steps && waiting
		}
		s.Retry = steps && failed
		open := waiting || st.Status == execution.StepBlocked || st.Status == execution.StepPending
		s.Skip = steps && (failed || open) && (!st.Mandatory || a.Role == orchestrator.RoleAdmin)
		v.Steps = append(v.Steps, s)
	}
	return v
}

// execID is the {id} of the path, or 0.
func execID(r *http.Request) int64 {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0
	}
	return id
}

// executionBoard draws the live board: the whole page, or at
// /executions/{id}/board the board alone, which htmx swaps in when the
// event stream says the execution changed.
func (u *UI) executionBoard(w http.ResponseWriter, r *http.Request) {
	id := execID(r)
	if id == 0 {
		u.notFound(w, r)
		return
	}
	// The page reads the timeline before the board, so that its stream
	// reports whatever happens after; at worst the board is drawn twice.
	fragment := strings.HasSuffix(r.URL.Path, "/board")
	var after int64
	var err error
	if !fragment {
		after, err = u.execLastEvent(r, id, 0)
	}
	var ex execution.Execution
	if err == nil {
		ex, err = u.svc.Executions.Get(r.Context(), id)
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := newExecBoard(ex, actor(r.Context()))
	v.After = after
	if fragment {
		u.renderExecBoard(w, r, http.StatusOK, v)
		return
	}
	u.render(w, r, http.StatusOK, "execution", v)
}

// renderExecBoard writes the board alone, as htmx swaps it in.
func (u *UI) renderExecBoard(w http.ResponseWriter, r *http.Request, status int, data execBoardView) {
	lang := language(r)
	v := view{Lang: lang, Path: r.URL.RequestURI(), Actor: actor(r.Context()), Data: data, words: words(lang)}
	var buf bytes.Buffer
	if err := u.pages["execution"].ExecuteTemplate(&buf, "board", v); err != nil {
		u.log.Error("render board", "err", err.Error())
		http.Error(w, "the board could not be drawn", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// board.js lets htmx swap in a refused action's board, which says why.
	h.Set("X-Bcdr-Board", "1")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// executionAction takes a step action or an execution control from a
// form, as the API takes it from JSON: with htmx it answers the board
// after it, without it a redirect back to the board. A refusal is shown
// on the board with the service's message and status.
func (u *UI) executionAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id := execID(r)
		if id == 0 {
			u.notFound(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, execMaxForm)
		in, err := execActionInput(r)
		var ex execution.Execution
		if err == nil {
			switch action {
			case execution.CtlPause, execution.CtlResume, execution.CtlAbort:
				ex, err = u.svc.Executions.Control(ctx, id, action, in)
			default:
				ex, err = u.svc.Executions.StepAction(ctx, id, r.PathValue("step"), action, in)
			}
		}
		htmx := r.Header.Get("HX-Request") == "true"
		if err == nil && !htmx {
			http.Redirect(w, r, fmt.Sprintf("/executions/%d", id), http.StatusSeeOther)
			return
		}
		status, refused := http.StatusOK, ""
		if err != nil {
			if status = execRefusals[orchestrator.ErrorCode(err)]; status == 0 {
				u.fail(w, r, err)
				return
			}
			refused = err.Error()
			if ex, err = u.svc.Executions.Get(ctx, id); err != nil {
				u.fail(w, r, err)
				return
			}
		}
		v := newExecBoard(ex, actor(ctx))
		v.Error = refused
		if htmx {
			u.renderExecBoard(w, r, status, v)
			return
		}
		if v.After, err = u.execLastEvent(r, id, 0); err != nil {
			u.fail(w, r, err)
			return
		}
		u.render(w, r, status, "execution", v)
	}
}

// execRefusals are the statuses of the refusals a person can act on:
// the board shows them with the service's message.
var execRefusals = map[string]int{
	orchestrator.EINVALID: http.StatusUnprocessableEntity, orchestrator.ECONFLICT: http.StatusConflict,
	orchestrator.EFORBIDDEN: http.StatusForbidden, orchestrator.ENOTFOUND: http.StatusNotFound,
	orchestrator.ETOOLARGE: http.StatusRequestEntityTooLarge,
}

// execActionInput reads an action's form: note, reason, evidence links (one
// a line) and the point in time the data was recovered to (UTC).
func execActionInput(r *http.Request) (execution.ActionInput, error) {
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return execution.ActionInput{}, orchestrator.Errorf(orchestrator.ETOOLARGE, "the form is larger than %d KiB", execMaxForm>>10)
		}
		return execution.ActionInput{}, orchestrator.Errorf(orchestrator.EINVALID, "the form could not be read: %v", err)
	}
	var v orchestrator.Validation
	for _, f := range []string{"note", "reason", "evidence", "recovered_at"} {
		if s := r.PostFormValue(f); !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			v.Add(f, "must be text (UTF-8, no NUL)")
		}
	}
	if err := v.Err(); err != nil {
		return execution.ActionInput{}, err
	}
	in := execution.ActionInput{Note: r.PostFormValue("note"), Reason: r.PostFormValue("reason")}
	for _, line := range strings.Split(r.PostFormValue("evidence"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			in.Evidence = append(in.Evidence, line)
		}
	}
	if at := strings.TrimSpace(r.PostFormValue("recovered_at")); at != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", at, time.UTC)
		if err != nil {
			return in, orchestrator.Invalid("recovered_at", "must be a date and time such as 2026-11-21T08:30 (UTC)")
		}
		in.RecoveredAt = &t
	}
	return in, nil
}

// execLastEvent is the last timeline event of execution id after after.
func (u *UI) execLastEvent(r *http.Request, id, after int64) (int64, error) {
	for {
		events, err := u.svc.Executions.Events(r.Context(), id, after, orchestrator.MaxPageLimit)
		if err != nil {
			return after, err
		}
		if len(events) > 0 {
			after = events[len(events)-1].ID
		}
		if len(events) < orchestrator.MaxPageLimit {
			return after, nil
		}
	}
}

// executionEvents streams server-sent events to the board: "change" when
// the timeline grew past Last-Event-ID or ?after= (default: now), "end"
// once the execution ended for good. With no in-process notifier, it polls
// the timeline (one indexed query); the board reads itself on each event.
func (u *UI) executionEvents(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), execSSELifetime)
	defer context.AfterFunc(u.closing, cancel)()
	defer cancel()
	id := execID(r)
	if id == 0 {
		u.notFound(w, r)
		return
	}
	ended, err := u.svc.Executions.Ended(ctx, id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	from := r.Header.Get("Last-Event-ID")
	if from == "" {
		from = r.URL.Query().Get("after")
	}
	after, perr := strconv.ParseInt(from, 10, 64)
	if perr != nil || after < 0 {
		if after, err = u.execLastEvent(r, id, 0); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // a proxy in front must not hold events back
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	send := func(format string, args ...any) bool {
		_, err := fmt.Fprintf(w, format, args...)
		return err == nil && rc.Flush() == nil
	}
	if !send("retry: 2000\n\n") {
		return
	}
	changed := u.svc.Executions.Watch(ctx, id)
	poll, beat := time.NewTicker(execSSEPoll), time.NewTicker(execSSEHeartbeat)
	defer func() { poll.Stop(); beat.Stop() }()
	for {
		events, err := u.svc.Executions.Events(ctx, id, after, orchestrator.MaxPageLimit)
		switch {
		case err != nil:
			return
		case len(events) > 0:
			after = events[len(events)-1].ID
			if !send("id: %d\nevent: change\ndata: %d\n\n", after, after) {
				return
			}
			if ended, err = u.svc.Executions.Ended(ctx, id); err != nil {
				return
			}
		case ended:
			send("id: %d\nevent: end\ndata: %d\n\n", after, after)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			if !send(": alive\n\n") {
				return
			}
		case <-changed:
		case <-poll.C:
		}
	}
}

// Sizes of the dependency graph, in pixels.
const (
	execBoxW, execBoxH, execGapX, execGapY, execGraphPad = 168, 44, 36, 10, 8
	// execLabelWidth is the columns of a title a box shows (CJK count two).
	execLabelWidth = 28
)

// execGraph is the steps drawn as boxes in dependency layers, left to right,
// with an arrow from each step to each step that waits for it.
type execGraph struct {
	Width, Height, BoxW, BoxH, StatusX int
	Boxes                              []execGraphBox
	Edges                              []string // SVG path data
}

// execGraphBox is one step in the graph.
type execGraphBox struct {
	X, Y                     int
	ID, Label, Title, Status string
	Critical                 bool
}

// execLayout places each step in the layer after its latest dependency.
func execLayout(steps []execution.Step) execGraph {
	index := make(map[string]int, len(steps))
	for i, st := range steps {
		index[st.ID] = i
	}
	layer := make([]int, len(steps))
	state := make([]int8, len(steps)) // 0 new, 1 visiting, 2 placed
	var place func(i int) int
	place = func(i int) int {
		if state[i] != 0 {
			return layer[i] // a cycle (never in a valid runbook) stops here
		}
		state[i] = 1
		for _, d := range steps[i].DependsOn {
			if j, ok := index[d]; ok {
				layer[i] = max(layer[i], place(j)+1)
			}
		}
		state[i] = 2
		return layer[i]
	}
	g := execGraph{BoxW: execBoxW, BoxH: execBoxH, StatusX: execBoxW - 6}
	rows := map[int]int{}
	for i, st := range steps {
		l := place(i)
		x, y := execGraphPad+l*(execBoxW+execGapX), execGraphPad+rows[l]*(execBoxH+execGapY)
		rows[l]++
		g.Boxes = append(g.Boxes, execGraphBox{X: x, Y: y, ID: st.ID, Label: execClip(st.Title, execLabelWidth), Title: st.Title,
			Status: st.Status, Critical: st.Critical})
		g.Width = max(g.Width, x+execBoxW+execGraphPad)
		g.Height = max(g.Height, y+execBoxH+execGraphPad)
	}
	for i, st := range steps {
		for _, d := range st.DependsOn {
			j, ok := index[d]
			if !ok {
				continue
			}
			from, to := g.Boxes[j], g.Boxes[i]
			x1, y1, x2, y2 := from.X+execBoxW, from.Y+execBoxH/2, to.X, to.Y+execBoxH/2
			mid := (x1 + x2) / 2
			g.Edges = append(g.Edges, fmt.Sprintf("M%d %dC%d %d %d %d %d %d", x1, y1, mid, y1, mid, y2, x2, y2))
		}
	}
	return g
}

// execClip shortens s to width columns, a CJK character counting two.
func execClip(s string, width int) string {
	cols := 0
	for i, r := range s {
		w := 1
		if r >= 0x2E80 {
			w = 2
		}
		if cols+w > width-1 {
			return strings.TrimSpace(s[:i]) + "…"
		}
		cols += w
	}
	return s
}

// executionsWords are the words of these pages, in the terms of the
// source documents and the reports (执行, 演练, 步骤, 决策, 批准, 否决).
var executionsWords = map[string]map[string]string{
	langEN: {
		"ex_list": "Executions", "ex_list_help": "Runbook executions: invocations of the continuity plan and drills, running ones first.",
		"ex_active": "Running now", "ex_recent": "Recent", "ex_older": "Older executions", "ex_open": "Open the board",
		"ex_execution": "Execution", "ex_version": "version", "ex_started_by": "Started by", "ex_elapsed": "Elapsed",
		"ex_estimate_total": "Estimated total", "ex_remaining": "Remaining (critical path)", "ex_projected": "Projected completion",
		"ex_finished": "Finished", "ex_reason": "Why", "ex_note": "Note", "ex_live": "The board updates by itself as steps change.", "ex_mode_drill": "drill", "ex_mode_invocation": "invocation",
		"ex_es_running": "running", "ex_es_paused": "paused", "ex_es_succeeded": "succeeded", "ex_es_failed": "failed", "ex_es_aborted": "aborted",
		"ex_st_blocked": "blocked", "ex_st_waiting": "waiting", "ex_st_pending": "queued", "ex_st_running": "running",
		"ex_st_succeeded": "done", "ex_st_failed": "failed", "ex_st_gave_up": "gave up", "ex_st_skipped": "skipped",
		"ex_st_rejected": "rejected", "ex_st_bypassed": "bypassed", "ex_st_cancelled": "cancelled", "ex_k_automated": "automated", "ex_k_manual": "manual", "ex_k_decision": "decision",
		"ex_services": "Services and their recovery targets", "ex_rto": "RTO", "ex_projected_recovery": "Projected recovery",
		"ex_rto_at_risk": "RTO at risk", "ex_rto_achieved": "Recovery time achieved", "ex_rpo_achieved": "Data loss achieved",
		"ex_met": "met", "ex_missed": "missed", "ex_on_track": "on track",
		"ex_steps": "Steps", "ex_step": "Step", "ex_owner": "Owner role", "ex_estimate": "Estimate / elapsed",
		"ex_depends": "Depends on", "ex_done_by": "Done by", "ex_mandatory": "mandatory", "ex_overdue": "over its estimate",
		"ex_critical": "on the critical path", "ex_actions": "Actions", "ex_decider": "Decided by the role",
		"ex_graph": "Dependency graph", "ex_graph_help": "Each step in the column after the steps it waits for; the table below says the same in words.",
		"ex_complete": "Complete", "ex_fail": "Fail", "ex_skip": "Skip", "ex_retry": "Retry", "ex_approve": "Approve", "ex_reject": "Reject",
		"ex_pause": "Pause", "ex_resume": "Resume", "ex_abort": "Abort", "ex_control": "Control the execution",
		"ex_what_done": "What was done (optional)", "ex_why_required": "Why (required)", "ex_why": "Why (optional)",
		"ex_evidence": "Evidence links, one a line (optional)", "ex_recovered_at": "Data recovered to, UTC (restore steps)",
		"ex_confirm_fail": "Mark this step failed?", "ex_confirm_skip": "Skip this step?", "ex_confirm_reject": "Reject this decision?",
		"ex_confirm_abort": "Abort the whole execution? Steps not yet started will not run.",
		"ex_refused":       "Not done", "ex_starter": "You started this execution: someone else with the role decides.",
	},
	langZH: {
		"ex_list": "执行", "ex_list_help": "恢复预案的执行：连续性计划启动与演练，进行中的在前。",
		"ex_active": "正在进行", "ex_recent": "最近的执行", "ex_older": "更早的执行", "ex_open": "打开看板",
		"ex_execution": "执行", "ex_version": "版本", "ex_started_by": "发起人", "ex_elapsed": "已用时间",
		"ex_estimate_total": "预计总用时", "ex_remaining": "剩余用时（关键路径）", "ex_projected": "预计完成时间",
		"ex_finished": "结束时间", "ex_reason": "原因", "ex_note": "备注", "ex_live": "步骤状态变化时，看板自动更新。", "ex_mode_drill": "演练", "ex_mode_invocation": "连续性计划启动",
		"ex_es_running": "进行中", "ex_es_paused": "已暂停", "ex_es_succeeded": "成功", "ex_es_failed": "失败", "ex_es_aborted": "已中止",
		"ex_st_blocked": "未就绪", "ex_st_waiting": "待办", "ex_st_pending": "排队", "ex_st_running": "执行中",
		"ex_st_succeeded": "完成", "ex_st_failed": "失败", "ex_st_gave_up": "放弃", "ex_st_skipped": "跳过",
		"ex_st_rejected": "否决", "ex_st_bypassed": "略过", "ex_st_cancelled": "取消", "ex_k_automated": "自动", "ex_k_manual": "人工", "ex_k_decision": "决策",
		"ex_services": "服务与恢复目标", "ex_rto": "RTO", "ex_projected_recovery": "预计恢复时间",
		"ex_rto_at_risk": "RTO 有超标风险", "ex_rto_achieved": "实际恢复时间", "ex_rpo_achieved": "实际数据丢失",
		"ex_met": "达成", "ex_missed": "未达成", "ex_on_track": "按计划",
		"ex_steps": "恢复步骤", "ex_step": "步骤", "ex_owner": "负责角色", "ex_estimate": "预计用时 / 实际用时",
		"ex_depends": "依赖", "ex_done_by": "执行人", "ex_mandatory": "必要", "ex_overdue": "超出预计用时",
		"ex_critical": "关键路径", "ex_actions": "操作", "ex_decider": "决策角色",
		"ex_graph": "依赖关系图", "ex_graph_help": "每个步骤位于其所依赖步骤的右侧一列；下表以文字列出相同内容。",
		"ex_complete": "完成", "ex_fail": "标记失败", "ex_skip": "跳过", "ex_retry": "重试", "ex_approve": "批准", "ex_reject": "否决",
		"ex_pause": "暂停", "ex_resume": "继续", "ex_abort": "中止", "ex_control": "执行控制",
		"ex_what_done": "完成情况（选填）", "ex_why_required": "原因（必填）", "ex_why": "原因（选填）",
		"ex_evidence": "证据链接，每行一个（选填）", "ex_recovered_at": "数据恢复至（UTC，还原步骤填写）",
		"ex_confirm_fail": "确定将此步骤标记为失败？", "ex_confirm_skip": "确定跳过此步骤？", "ex_confirm_reject": "确定否决此决策？",
		"ex_confirm_abort": "确定中止整个执行？尚未开始的步骤将不再执行。",
		"ex_refused":       "未执行", "ex_starter": "此执行由您发起：须由具备该角色的其他人决策。",
	},
}
