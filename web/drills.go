package web

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/directory"
)

// drillPages are the drills: the programme, a drill, the findings register.
// Who may do what is the API's: records writers start, complete and cancel
// drills and keep the register; an admin approves a full interruption.
func (u *UI) drillPages() []page {
	return []page{
		{"GET /drills", orchestrator.RecordReaders, u.drillList, "drills"},
		{"GET /drills/{id}", orchestrator.RecordReaders, u.drill, ""},
		{"POST /drills/{id}/start", orchestrator.RecordWriters, u.drillAction("started", u.startDrill), ""},
		{"POST /drills/{id}/complete", orchestrator.RecordWriters, u.drillAction("completed", u.completeDrill), ""},
		{"POST /drills/{id}/cancel", orchestrator.RecordWriters, u.drillAction("cancelled", u.cancelDrill), ""},
		{"POST /drills/{id}/approve", orchestrator.AdminRoles, u.drillAction("approved", u.approveDrill), ""},
		{"GET /findings", orchestrator.RecordReaders, u.findingList, "findings"},
		{"GET /findings/{id}", orchestrator.RecordReaders, u.finding, ""},
		{"POST /findings/{id}", orchestrator.RecordWriters, u.updateFinding, ""},
	}
}

// drillsView is the programme page's data: the year's drills by month.
type drillsView struct {
	Year      int
	Years     []int
	Programme *drills.Programme
	Months    []drillMonth
	Total     int
	ByStatus  map[string]int
	ByResult  map[string]int
	Statuses  []string
	Results   []string
}

// drillMonth is one month of the calendar and its drills, by planned start.
type drillMonth struct {
	Month  int
	Drills []drillRow
}

// drillRow is a drill with its result as a word key's value ("" unscored).
type drillRow struct {
	drills.Drill
	Result string
}

// result is a drill's result, "" before it is scored.
func result(d drills.Drill) string {
	if d.Result == nil {
		return ""
	}
	return *d.Result
}

var (
	drillStatuses = []string{drills.StatusPlanned, drills.StatusInProgress, drills.StatusCompleted, drills.StatusCancelled}
	drillResults  = []string{drills.ResultPass, drills.ResultPartial, drills.ResultFail}
)

// drillList shows the year's drill programme as a calendar by month.
func (u *UI) drillList(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := u.rt.Now().UTC()
	year := now.Year()
	if y := r.URL.Query().Get("year"); y != "" {
		var err error
		if year, err = strconv.Atoi(y); err != nil || year < 2000 || year > 2200 {
			u.fail(w, r, orchestrator.Invalid("year", "must be a year such as %d", now.Year()))
			return
		}
	}
	v := drillsView{Year: year, ByStatus: map[string]int{}, ByResult: map[string]int{}, Statuses: drillStatuses, Results: drillResults}
	for y := now.Year() - 3; y <= now.Year()+1; y++ {
		v.Years = append(v.Years, y)
	}
	if !slices.Contains(v.Years, year) {
		v.Years = append(v.Years, year)
		slices.Sort(v.Years)
	}
	p, err := u.svc.Drills.Programme(ctx, year)
	switch {
	case err == nil:
		v.Programme = &p
	case orchestrator.ErrorCode(err) != orchestrator.ENOTFOUND:
		u.fail(w, r, err)
		return
	}
	var all []drills.Drill
	err = orchestrator.EachPage(func(page orchestrator.Page) (orchestrator.List[drills.Drill], error) {
		return u.svc.Drills.List(ctx, drills.Filter{Year: year}, page)
	}, func(d drills.Drill) { all = append(all, d) })
	if err != nil {
		u.fail(w, r, err)
		return
	}
	slices.SortStableFunc(all, func(a, b drills.Drill) int { return a.PlannedStart.Compare(b.PlannedStart) })
	for _, d := range all {
		m := int(d.PlannedStart.UTC().Month())
		if n := len(v.Months); n == 0 || v.Months[n-1].Month != m {
			v.Months = append(v.Months, drillMonth{Month: m})
		}
		v.Months[len(v.Months)-1].Drills = append(v.Months[len(v.Months)-1].Drills, drillRow{Drill: d, Result: result(d)})
		v.ByStatus[d.Status]++
		v.ByResult[result(d)]++
	}
	v.Total = len(all)
	u.render(w, r, http.StatusOK, "drills", v)
}

// drillView is a drill's page: the drill as its after-action report sees
// it, what the signed-in role may do with it, and what was just done or
// refused.
type drillView struct {
	drills.AfterAction
	Result               string
	Targets              []drillTarget
	Sections             []findingSection
	CanWrite, CanApprove bool
	Notice, Error        string
}

// drillTarget is a service's recovery in a drill against its targets;
// each Met is "yes", "no" or "" when not measured.
type drillTarget struct {
	drills.ServiceOutcome
	RTOMet, RPOMet string
}

// findingSection is a list of findings under a heading (a word key; none
// for the findings the drill raised).
type findingSection struct {
	Heading string
	Items   []drills.Finding
}

// met says whether a target was met, in a word key's terms.
func met(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "yes"
	}
	return "no"
}

// drill shows one drill: scenario, scope, people, objectives, result and
// reasons, recovery against targets, findings, timeline and actions.
func (u *UI) drill(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		u.notFound(w, r)
		return
	}
	notice := ""
	if done := r.URL.Query().Get("done"); slices.Contains([]string{"started", "completed", "cancelled", "approved"}, done) {
		notice = "drill_done_" + done
	}
	u.drillPage(w, r, id, http.StatusOK, notice, "")
}

// drillPage draws drill id's page with a notice (a word key) or an error.
func (u *UI) drillPage(w http.ResponseWriter, r *http.Request, id int64, status int, notice, problem string) {
	a, err := u.svc.Drills.AfterAction(r.Context(), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	role := actor(r.Context()).Role
	v := drillView{AfterAction: a, Result: result(a.Drill), Notice: notice, Error: problem, Sections: []findingSection{{Items: a.Findings}},
		CanWrite: role.Allowed(orchestrator.RecordWriters), CanApprove: role.Allowed(orchestrator.AdminRoles)}
	if len(a.Verified) > 0 {
		v.Sections = append(v.Sections, findingSection{Heading: "drill_verified", Items: a.Verified})
	}
	if o := a.Drill.Outcome; o != nil {
		for _, so := range o.Services {
			v.Targets = append(v.Targets, drillTarget{ServiceOutcome: so, RTOMet: met(so.RTOMet), RPOMet: met(so.RPOMet)})
		}
	}
	u.render(w, r, status, "drill", v)
}

// drillAction answers a drill action's form: on success back to the drill
// with what was done; refused, the drill page with the service's reason.
func (u *UI) drillAction(done string, act func(ctx context.Context, id int64, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := pathID(r)
		if !ok {
			u.notFound(w, r)
			return
		}
		err := act(r.Context(), id, r)
		if status, refused := refusal(err); refused {
			u.drillPage(w, r, id, refusedStatus(w, r, status), "", err.Error())
			return
		}
		if err != nil {
			u.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/drills/"+strconv.FormatInt(id, 10)+"?done="+done, http.StatusSeeOther)
	}
}

func (u *UI) startDrill(ctx context.Context, id int64, r *http.Request) error {
	in := drills.StartInput{Note: strings.TrimSpace(r.PostFormValue("note"))}
	if fp := strings.TrimSpace(r.PostFormValue("failure_point")); fp != "" {
		t, err := time.Parse("2006-01-02T15:04", fp)
		if err != nil {
			return orchestrator.Invalid("failure_point", "must be a date and time such as 2026-03-03T08:50 (UTC)")
		}
		in.FailurePoint = &t
	}
	_, err := u.svc.Drills.Start(ctx, id, in)
	return err
}

func (u *UI) completeDrill(ctx context.Context, id int64, r *http.Request) error {
	rep := drills.Report{Observations: lines(r, "observations"), WentWell: lines(r, "went_well"), ToImprove: lines(r, "to_improve"),
		Recommendations: lines(r, "recommendations"), Actions: lines(r, "actions")}
	in := drills.CompleteInput{}
	if len(rep.Observations)+len(rep.WentWell)+len(rep.ToImprove)+len(rep.Recommendations)+len(rep.Actions) > 0 {
		in.Report = &rep
	}
	_, err := u.svc.Drills.Complete(ctx, id, in)
	return err
}

func (u *UI) cancelDrill(ctx context.Context, id int64, r *http.Request) error {
	_, err := u.svc.Drills.Cancel(ctx, id, r.PostFormValue("reason"))
	return err
}

func (u *UI) approveDrill(ctx context.Context, id int64, _ *http.Request) error {
	_, err := u.svc.Drills.Approve(ctx, id)
	return err
}

// lines are a text area's non-blank lines, one item each.
func lines(r *http.Request, field string) []string {
	var out []string
	for _, l := range strings.Split(r.PostFormValue(field), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// pathID is the record id in the path, if it is one.
func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// refusal is the status of an action the services refused as invalid or
// conflicting, which the page shows in place; any other error is not one.
func refusal(err error) (int, bool) {
	switch orchestrator.ErrorCode(err) {
	case orchestrator.EINVALID:
		return http.StatusUnprocessableEntity, true
	case orchestrator.ECONFLICT:
		return http.StatusConflict, true
	}
	return 0, false
}

// refusedStatus is the status a refusal is answered with: its own, except
// to htmx, which swaps only successful answers, so that the page with the
// reason replaces the form that was refused (and the address stays the
// page's, not the action's).
func refusedStatus(w http.ResponseWriter, r *http.Request, status int) int {
	if r.Header.Get("HX-Request") != "true" {
		return status
	}
	w.Header().Set("HX-Push-Url", "false")
	return http.StatusOK
}

// findingShows are the register's views: open (not verified), overdue, or
// every finding.
var findingShows = []string{"open", "overdue", "all"}

// findingsView is the register's page.
type findingsView struct {
	Show, Source, Severity, Status, Service string
	Shows, Sources, Severities, Statuses    []string
	Items                                   []drills.Finding
	Next                                    string
}

// findingPageSize is how many findings the register shows a page.
const findingPageSize = 100

// findingList shows the improvement register (服务改进汇总表), filtered.
func (u *UI) findingList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := findingsView{Show: cmp.Or(q.Get("show"), "open"), Source: q.Get("source"), Severity: q.Get("severity"),
		Status: q.Get("status"), Service: strings.TrimSpace(q.Get("service")),
		Shows: findingShows, Sources: drills.Sources, Severities: drills.Severities, Statuses: drills.FindingStatuses}
	if !slices.Contains(findingShows, v.Show) {
		u.fail(w, r, orchestrator.Invalid("show", "must be open, overdue or all"))
		return
	}
	page := orchestrator.Page{Limit: findingPageSize}
	if after := q.Get("after"); after != "" {
		var err error
		if page.After, err = orchestrator.DecodeCursor(after); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	f := drills.FindingFilter{Status: v.Status, Source: v.Source, Severity: v.Severity, Service: v.Service,
		Open: v.Show == "open", Overdue: v.Show == "overdue"}
	l, err := u.svc.Drills.Findings(r.Context(), f, page)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v.Items = l.Items
	if l.Next != "" {
		next := url.Values{"show": {v.Show}, "source": {v.Source}, "severity": {v.Severity}, "status": {v.Status},
			"service": {v.Service}, "after": {l.Next}}
		v.Next = "/findings?" + next.Encode()
	}
	u.render(w, r, http.StatusOK, "findings", v)
}

// findingView is one finding's page and its update form.
type findingView struct {
	Finding       drills.Finding
	Statuses      []string
	CanWrite      bool
	Notice, Error string
}

// finding shows one finding with, for records writers, its update form.
func (u *UI) finding(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		u.notFound(w, r)
		return
	}
	notice := ""
	if r.URL.Query().Get("done") == "saved" {
		notice = "finding_saved"
	}
	u.findingPage(w, r, id, http.StatusOK, notice, "")
}

func (u *UI) findingPage(w http.ResponseWriter, r *http.Request, id int64, status int, notice, problem string) {
	f, err := u.svc.Drills.Finding(r.Context(), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, status, "finding", findingView{Finding: f, Statuses: drills.FindingStatuses, Notice: notice, Error: problem,
		CanWrite: actor(r.Context()).Role.Allowed(orchestrator.RecordWriters)})
}

// updateFinding changes a finding's owner, due date, status and
// resolution, as the API's PATCH does; the service refuses what it may not
// do (verifying by hand a finding that waits for a retest), and the page
// says why.
func (u *UI) updateFinding(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		u.notFound(w, r)
		return
	}
	owner, status, resolution := r.PostFormValue("owner"), r.PostFormValue("status"), r.PostFormValue("resolution")
	in := drills.FindingInput{Owner: &owner, Status: &status, Resolution: &resolution}
	var err error
	if due := strings.TrimSpace(r.PostFormValue("due_date")); due != "" {
		var d directory.Date
		if d, err = directory.ParseDate(due); err != nil {
			err = orchestrator.Invalid("due_date", "must be a date such as 2026-12-31")
		}
		in.DueDate = &d
	}
	if err == nil {
		_, err = u.svc.Drills.UpdateFinding(r.Context(), id, in)
	}
	if code, refused := refusal(err); refused {
		u.findingPage(w, r, id, refusedStatus(w, r, code), "", err.Error())
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/findings/"+strconv.FormatInt(id, 10)+"?done=saved", http.StatusSeeOther)
}

// drillsWords are the words of these pages: the source documents' terms
// (演练, 演练计划, 演练记录, 服务改进汇总表, 整改, 逾期, 复测).
var drillsWords = map[string]map[string]string{
	langEN: {
		"drills": "Drills", "findings": "Findings",
		"drill_programme": "Drill programme", "drill_year": "Year", "drill_programme_status": "Programme",
		"drill_prog_draft": "draft, not approved", "drill_prog_approved": "approved",
		"drill_no_programme": "No drill programme for this year; the drills planned outside one are listed.",
		"drill_no_drills":    "No drill is planned in this year.", "drill_in_year": "Drills in the year",
		"drill_planned": "Planned", "drill_title": "Drill", "drill_type": "Type", "drill_scope": "Scope", "drill_result": "Result",
		"drill_retest": "retest", "drill_month_1": "January", "drill_month_2": "February", "drill_month_3": "March",
		"drill_month_4": "April", "drill_month_5": "May", "drill_month_6": "June", "drill_month_7": "July", "drill_month_8": "August",
		"drill_month_9": "September", "drill_month_10": "October", "drill_month_11": "November", "drill_month_12": "December",
		"drill_type_tabletop": "Tabletop", "drill_type_walkthrough": "Walkthrough", "drill_type_simulation": "Simulation",
		"drill_type_technical": "Technical", "drill_type_full_interruption": "Full interruption",
		"drill_status_planned": "Planned", "drill_status_in_progress": "In progress", "drill_status_completed": "Completed",
		"drill_status_cancelled": "Cancelled", "drill_result_pass": "Pass", "drill_result_partial": "Partial", "drill_result_fail": "Fail",
		"drill_scenario": "Scenario", "drill_services": "Services", "drill_runbooks": "Runbooks", "drill_participants": "Participants",
		"drill_objectives": "Objectives", "drill_criteria": "Other success criteria", "drill_started_at": "Started",
		"drill_completed_at": "Completed", "drill_approved": "Approved", "drill_reasons": "Why this result",
		"drill_unscored": "Not scored yet: a drill is scored when it completes.", "drill_targets": "Recovery against targets",
		"drill_rto_target": "RTO target", "drill_rto_achieved": "RTO achieved", "drill_rpo_target": "RPO target",
		"drill_rpo_achieved": "RPO achieved", "drill_yes": "yes", "drill_no": "no", "drill_missed": "Mandatory steps not done",
		"drill_overran": "Steps that overran their estimate", "drill_step": "Step", "drill_estimate": "Estimate", "drill_elapsed": "Took",
		"drill_findings": "Findings raised", "drill_verified": "Earlier findings this drill verified",
		"drill_no_findings": "No finding raised.", "drill_executions": "Executions", "drill_execution_board": "Execution board",
		"drill_timeline": "Timeline", "drill_actor": "Who", "drill_event": "What", "drill_actions": "Actions",
		"drill_start": "Start the drill", "drill_confirm_start": "Start this drill now? Its executions start at once.",
		"drill_note": "Note", "drill_failure_point": "Failure point (UTC, optional)", "drill_complete": "Complete and score",
		"drill_confirm_complete": "Complete and score this drill? A finding is raised for every miss.",
		"drill_report_help":      "One item per line; left empty, the report keeps what it has.",
		"drill_observations":     "Observations", "drill_went_well": "What went well", "drill_to_improve": "What to improve",
		"drill_recommendations": "Recommendations", "drill_agreed": "Actions agreed", "drill_cancel": "Cancel the drill",
		"drill_cancel_reason": "Why", "drill_confirm_cancel": "Cancel this drill? Its executions are aborted.",
		"drill_approve": "Approve the full interruption", "drill_confirm_approve": "Approve this full interruption drill?",
		"drill_done_started": "The drill started.", "drill_done_completed": "The drill was completed and scored.",
		"drill_done_cancelled": "The drill was cancelled.", "drill_done_approved": "The full interruption is approved.",
		"drill_refused":    "Not done:",
		"finding_register": "Improvement register", "finding_help": "Every finding from drills, model gaps, audits and reviews until it is verified. A finding that needs a retest closes only when a later drill of its scope passes.",
		"finding_show": "Show", "finding_show_open": "Open", "finding_show_overdue": "Overdue", "finding_show_all": "All",
		"finding_source": "Source", "finding_severity": "Severity", "finding_status": "Status", "finding_service": "Service",
		"finding_any": "Any", "finding_title": "Finding", "finding_owner": "Owner", "finding_due": "Due",
		"finding_retest": "Retest needed", "finding_from": "From drill", "finding_overdue": "overdue",
		"finding_none": "No finding matches.", "finding_more": "More findings",
		"finding_sev_critical": "Critical", "finding_sev_high": "High", "finding_sev_medium": "Medium", "finding_sev_low": "Low",
		"finding_src_drill": "Drill", "finding_src_model_gap": "Model gap", "finding_src_audit": "Audit",
		"finding_src_incident_review": "Incident review", "finding_src_invocation_review": "Invocation review",
		"finding_status_open": "Open", "finding_status_in_progress": "In progress", "finding_status_resolved": "Resolved",
		"finding_status_verified": "Verified", "finding_description": "Description", "finding_resolution": "Resolution",
		"finding_cis": "CIs", "finding_raised": "Raised", "finding_verified_by": "Verified by drill", "finding_update": "Update",
		"finding_save": "Save", "finding_saved": "Saved.",
		"finding_retest_help":     "This finding needs a retest: it is verified only when a later drill of its scope passes.",
		"finding_resolution_help": "Say how it was resolved before marking it resolved.",
	},
	langZH: {
		"drills": "演练", "findings": "服务改进",
		"drill_programme": "演练计划", "drill_year": "年度", "drill_programme_status": "演练计划",
		"drill_prog_draft": "草案，未批准", "drill_prog_approved": "已批准",
		"drill_no_programme": "本年度没有演练计划；以下为计划外安排的演练。",
		"drill_no_drills":    "本年度没有安排演练。", "drill_in_year": "本年度演练",
		"drill_planned": "计划日期", "drill_title": "演练", "drill_type": "演练类型", "drill_scope": "范围", "drill_result": "结果",
		"drill_retest": "复测", "drill_month_1": "1月", "drill_month_2": "2月", "drill_month_3": "3月",
		"drill_month_4": "4月", "drill_month_5": "5月", "drill_month_6": "6月", "drill_month_7": "7月", "drill_month_8": "8月",
		"drill_month_9": "9月", "drill_month_10": "10月", "drill_month_11": "11月", "drill_month_12": "12月",
		"drill_type_tabletop": "桌面演练", "drill_type_walkthrough": "走查演练", "drill_type_simulation": "模拟演练",
		"drill_type_technical": "技术演练", "drill_type_full_interruption": "全面中断演练",
		"drill_status_planned": "已计划", "drill_status_in_progress": "进行中", "drill_status_completed": "已完成",
		"drill_status_cancelled": "已取消", "drill_result_pass": "通过", "drill_result_partial": "部分通过", "drill_result_fail": "未通过",
		"drill_scenario": "场景", "drill_services": "业务服务", "drill_runbooks": "恢复手册", "drill_participants": "参与人员",
		"drill_objectives": "演练目标", "drill_criteria": "其他成功标准", "drill_started_at": "开始时间",
		"drill_completed_at": "完成时间", "drill_approved": "批准", "drill_reasons": "评定原因",
		"drill_unscored": "尚未评定：演练完成后评定结果。", "drill_targets": "恢复目标达成情况",
		"drill_rto_target": "RTO 目标", "drill_rto_achieved": "实际恢复时间", "drill_rpo_target": "RPO 目标",
		"drill_rpo_achieved": "实际数据丢失", "drill_yes": "是", "drill_no": "否", "drill_missed": "未完成的必要步骤",
		"drill_overran": "超出预计时长的步骤", "drill_step": "步骤", "drill_estimate": "预计用时", "drill_elapsed": "实际用时",
		"drill_findings": "登记的整改项", "drill_verified": "本次演练验证关闭的此前整改项",
		"drill_no_findings": "未登记整改项。", "drill_executions": "执行", "drill_execution_board": "执行看板",
		"drill_timeline": "时间线", "drill_actor": "人员", "drill_event": "事项", "drill_actions": "操作",
		"drill_start": "开始演练", "drill_confirm_start": "现在开始本次演练？其执行将立即开始。",
		"drill_note": "备注", "drill_failure_point": "故障时间点（UTC，可选）", "drill_complete": "完成并评定",
		"drill_confirm_complete": "完成并评定本次演练？每项未达成的目标都将登记整改项。",
		"drill_report_help":      "每行一项；留空则保留已有内容。",
		"drill_observations":     "观察", "drill_went_well": "做得好的", "drill_to_improve": "需要改进的",
		"drill_recommendations": "建议", "drill_agreed": "行动", "drill_cancel": "取消演练",
		"drill_cancel_reason": "取消原因", "drill_confirm_cancel": "取消本次演练？其执行将被中止。",
		"drill_approve": "批准全面中断演练", "drill_confirm_approve": "批准本次全面中断演练？",
		"drill_done_started": "演练已开始。", "drill_done_completed": "演练已完成并评定。",
		"drill_done_cancelled": "演练已取消。", "drill_done_approved": "全面中断演练已批准。",
		"drill_refused":    "未执行：",
		"finding_register": "服务改进汇总表", "finding_help": "来自演练、模型差距、审计和回顾的全部整改项，直至验证关闭。需要复测的整改项只有在其范围的后续演练通过后才关闭。",
		"finding_show": "显示", "finding_show_open": "未关闭", "finding_show_overdue": "已逾期", "finding_show_all": "全部",
		"finding_source": "来源", "finding_severity": "严重程度", "finding_status": "状态", "finding_service": "服务",
		"finding_any": "不限", "finding_title": "整改项", "finding_owner": "责任人", "finding_due": "到期日",
		"finding_retest": "需复测", "finding_from": "来源演练", "finding_overdue": "已逾期",
		"finding_none": "没有符合条件的整改项。", "finding_more": "更多整改项",
		"finding_sev_critical": "严重", "finding_sev_high": "高", "finding_sev_medium": "中", "finding_sev_low": "低",
		"finding_src_drill": "演练", "finding_src_model_gap": "模型差距", "finding_src_audit": "审计",
		"finding_src_incident_review": "事件回顾", "finding_src_invocation_review": "计划启动回顾",
		"finding_status_open": "未处理", "finding_status_in_progress": "整改中", "finding_status_resolved": "已整改",
		"finding_status_verified": "已验证", "finding_description": "描述", "finding_resolution": "整改措施",
		"finding_cis": "配置项", "finding_raised": "登记时间", "finding_verified_by": "验证演练", "finding_update": "更新整改项",
		"finding_save": "保存", "finding_saved": "已保存。",
		"finding_retest_help":     "此整改项需要复测：只有在其范围的后续演练通过后才验证关闭。",
		"finding_resolution_help": "标记为已整改前请说明整改措施。",
	},
}
