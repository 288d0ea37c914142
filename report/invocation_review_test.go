package report_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/report"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// The demo has no real invocation; the test invokes one.
const (
	invokedService = "taxpayer-reg"
	decisionTitle  = "Declare the disaster and fail over"
	slowFactor     = 3
)

// invokeDemo invokes taxpayer-reg's runbook, with a go/no-go decision
// added to it, the day before the demo's now: the continuity manager
// approves the decision, the operator does every other step in its
// estimate but the first restore, which takes three times it and recovers
// the data to 30 minutes before the failure point. Its review is written and
// closed, and a finding raised from it.
func invokeDemo(t *testing.T, pool *pgxpool.Pool) (execution.Execution, *drills.Service) {
	t.Helper()
	clock := orchestrator.NewManualClock(demoNow.Add(-30 * time.Hour))
	rt := orchestrator.Runtime{Clock: clock}
	rbs := runbooks.NewService(pool, rt, runbooks.Options{})
	engine := execution.NewService(pool, rt, rbs, execution.Options{})
	ds := drills.NewService(pool, rt, drills.Options{Runbooks: rbs, Executions: engine})
	admin := orchestrator.WithActor(t.Context(), orchestrator.Actor{Name: "li.ming", Role: orchestrator.RoleAdmin})
	manager := orchestrator.WithActor(t.Context(), orchestrator.Actor{Name: "zhang.wei", Role: orchestrator.RoleContinuityManager})
	operator := orchestrator.WithActor(t.Context(), orchestrator.Actor{Name: "wang.fang", Role: orchestrator.RoleOperator})

	l, err := rbs.List(admin, runbooks.Filter{Service: invokedService}, orchestrator.Page{Limit: 1})
	require.NoError(t, err)
	require.Len(t, l.Items, 1)
	id := strconv.FormatInt(l.Items[0].ID, 10)
	title, role, estimate, mandatory := decisionTitle, string(orchestrator.RoleContinuityManager), "15m", true
	_, err = rbs.AddStep(admin, id, runbooks.StepInput{Title: &title, OwnerRole: &role, Estimate: &estimate, Mandatory: &mandatory,
		Decision: json.RawMessage(`{"role":"continuity_manager"}`)})
	require.NoError(t, err)
	_, err = rbs.Approve(admin, id)
	require.NoError(t, err)

	failure := clock.Now().Add(-20 * time.Minute)
	ex, err := engine.Start(admin, execution.StartInput{Runbook: l.Items[0].ID, Mode: execution.ModeInvocation, FailurePoint: &failure,
		Scenario: json.RawMessage(`{"text":"dc-main lost power at 02:40; the registration database is down"}`), Note: "invoked by the duty manager"})
	require.NoError(t, err)
	// Steps waiting at once are worked on at once: each is done its time
	// after it became ready, and the earliest done goes next.
	done := map[string]time.Time{}
	slow := ""
	for ex.Status == execution.StatusRunning {
		next := -1
		for i, st := range ex.Steps {
			if st.Status != execution.StepWaiting {
				continue
			}
			if _, ok := done[st.ID]; !ok {
				step := time.Duration(st.Estimate)
				if slow == "" && strings.Contains(st.Title, "Restore") {
					slow, step = st.ID, slowFactor*step
				}
				done[st.ID] = clock.Now().Add(max(step, time.Minute))
			}
			if next < 0 || done[st.ID].Before(done[ex.Steps[next].ID]) {
				next = i
			}
		}
		require.GreaterOrEqual(t, next, 0, "a step waits for a person: %+v", ex.Steps)
		st := ex.Steps[next]
		clock.Set(done[st.ID])
		if st.Kind == execution.KindDecision {
			ex, err = engine.StepAction(manager, ex.ID, st.ID, execution.ActApprove, execution.ActionInput{Note: "go: dc-main will not be back today"})
			require.NoError(t, err)
			continue
		}
		in := execution.ActionInput{Note: "done as the runbook says"}
		if st.ID == slow {
			point := failure.Add(-30 * time.Minute)
			in.RecoveredAt = &point
		}
		ex, err = engine.StepAction(operator, ex.ID, st.ID, execution.ActComplete, in)
		require.NoError(t, err, "step %s", st.ID)
	}
	require.NotEmpty(t, slow, "the runbook restores data")
	require.Equal(t, execution.StatusSucceeded, ex.Status, "%+v", ex)

	_, err = ds.WriteInvocationReview(manager, ex.ID, drills.ReviewInput{Close: true, Report: drills.Report{
		Observations: []string{"paged at 02:45, bridge open at 02:55"},
		WentWell:     []string{"the call tree reached everyone in ten minutes"},
		ToImprove:    []string{"the restore took three times its estimate"},
		Actions:      []string{"move the registration database to replication with dc-dr"}}})
	require.NoError(t, err)
	finding := "Restore of the registration database is slow"
	_, err = ds.CreateFinding(manager, drills.FindingInput{Title: &finding, Execution: &ex.ID})
	require.NoError(t, err)
	return ex, ds
}

// A real invocation's review has the invocation, the recovery against its
// RTO and RPO, the steps (the slow restore overran), the decision taken,
// the written review and its finding, in both languages, in HTML that
// stands alone and in print; a drill's execution is refused.
func TestInvocationReviewDemo(t *testing.T) {
	t.Parallel()
	e, pool := seedDemo(t)
	ctx := t.Context()
	ex, ds := invokeDemo(t, pool)
	inv := func(id int64, format, lang string) report.Request {
		return report.Request{Kind: report.KindInvocationReview, Subject: strconv.FormatInt(id, 10), Format: format, Lang: lang}
	}

	var rep report.InvocationReviewReport
	out := renderTimed(t, e, inv(ex.ID, report.FormatJSON, report.LangEN))
	require.NoError(t, json.Unmarshal(out.Body, &rep))
	require.Equal(t, ex.ID, rep.Execution.ID)
	require.Equal(t, execution.ModeInvocation, rep.Execution.Mode)
	require.Equal(t, drills.ReviewClosed, rep.Status)
	require.Equal(t, []string{"the call tree reached everyone in ten minutes"}, rep.Report.WentWell)
	require.Len(t, rep.Findings, 1)
	require.Equal(t, drills.SourceInvocationReview, rep.Findings[0].Source)
	require.NotEmpty(t, rep.Timeline)
	require.NotEmpty(t, rep.Overran, "the slow restore overran")
	var rec *report.InvocationRecovery
	for i := range rep.Recovery {
		if rep.Recovery[i].Service == invokedService {
			rec = &rep.Recovery[i]
		}
	}
	require.NotNil(t, rec, "%+v", rep.Recovery)
	require.NotNil(t, rec.RTO)
	require.NotNil(t, rec.RTOAchieved)
	require.NotNil(t, rec.RPO, "the RPO comes from the approved BIA")
	require.Equal(t, 30*time.Minute, time.Duration(*rec.RPOAchieved), "recovered to 30 minutes before the failure point")
	require.NotNil(t, rec.RPOMet)

	for _, tc := range []struct {
		lang string
		want []string
	}{
		{report.LangEN, []string{"Invocation review: " + ex.Title, decisionTitle, "approved", "go: dc-main will not be back today", "li.ming", "dc-main lost power",
			"the restore took three times its estimate", "Steps that overran their estimate", "Restore of the registration database is slow",
			"RTO target against achieved (hours)", invokedService, "closed"}},
		{report.LangZH, []string{"连续性计划启动复盘：" + ex.Title, decisionTitle, "批准", "启动原因", "超出预计用时的步骤", "需要改进的",
			"服务改进", "RTO 目标与实际（小时）", "恢复时间目标 RTO", invokedService, "已关闭"}},
	} {
		html := string(renderTimed(t, e, inv(ex.ID, report.FormatHTML, tc.lang)).Body)
		assertSelfContained(t, html)
		require.Contains(t, html, "<svg")
		for _, w := range tc.want {
			require.Contains(t, html, w, tc.lang)
		}
	}
	checkPDF(t, e, inv(ex.ID, "", ""), map[string][]string{
		report.LangEN: {"Invocation review", invokedService, decisionTitle},
		report.LangZH: {"连续性计划启动复盘", invokedService, "批准"},
	})

	// A drill's execution has its drill's after-action report instead.
	drilled := completedOnly(demoDrills(t, pool, invokedService))
	require.NotEmpty(t, drilled[0].Executions)
	drillEx := drilled[0].Executions[0]
	_, want := ds.InvocationReview(ctx, drillEx)
	require.Error(t, want)
	_, err := e.Render(ctx, inv(drillEx, report.FormatHTML, report.LangEN), nil)
	require.Equal(t, orchestrator.ErrorCode(want), orchestrator.ErrorCode(err))
	require.Contains(t, orchestrator.ErrorMessage(err), "is a drill, not an invocation")

	_, err = e.Render(ctx, inv(999999, report.FormatPDF, report.LangZH), nil)
	require.Equal(t, orchestrator.ENOTFOUND, orchestrator.ErrorCode(err))
	require.Contains(t, orchestrator.ErrorMessage(err), "execution 999999")
	for _, subject := range []string{"", "0", "1.5", "../1"} {
		_, err = e.Render(ctx, report.Request{Kind: report.KindInvocationReview, Subject: subject}, nil)
		require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err), subject)
		require.Equal(t, "execution", orchestrator.ErrorFields(err)[0].Field)
	}
}

// An invocation still running is reviewed as it stands: no end, its
// review open and not yet written.
func TestInvocationReviewRunning(t *testing.T) {
	t.Parallel()
	e, pool := seedDemo(t)
	rt := orchestrator.Runtime{Clock: orchestrator.NewManualClock(demoNow.Add(-time.Hour))}
	rbs := runbooks.NewService(pool, rt, runbooks.Options{})
	engine := execution.NewService(pool, rt, rbs, execution.Options{})
	admin := orchestrator.WithActor(t.Context(), orchestrator.Actor{Name: "li.ming", Role: orchestrator.RoleAdmin})
	l, err := rbs.List(admin, runbooks.Filter{Service: "declaration"}, orchestrator.Page{Limit: 1})
	require.NoError(t, err)
	require.Len(t, l.Items, 1)
	ex, err := engine.Start(admin, execution.StartInput{Runbook: l.Items[0].ID, Mode: execution.ModeInvocation})
	require.NoError(t, err)

	q := report.Request{Kind: report.KindInvocationReview, Subject: strconv.FormatInt(ex.ID, 10), Format: report.FormatHTML}
	for lang, want := range map[string][]string{
		report.LangEN: {"Nobody has written the review yet", "running", "No finding was raised.", "The runbook asked for no decision."},
		report.LangZH: {"尚未编写复盘", "进行中", "未登记整改项。", "该预案无需决策。"},
	} {
		q.Lang = lang
		html := string(renderTimed(t, e, q).Body)
		assertSelfContained(t, html)
		for _, w := range want {
			require.Contains(t, html, w, lang)
		}
	}
}
