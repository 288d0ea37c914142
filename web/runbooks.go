package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
)

// runbookPages are the runbooks: list, a runbook, its versions, approval and
// exports. Who may do what is the API's: records readers read and export,
// records writers approve.
func (u *UI) runbookPages() []page {
	return []page{
		{"GET /runbooks", orchestrator.RecordReaders, u.runbookList, "runbooks"},
		{"GET /runbooks/{id}", orchestrator.RecordReaders, u.runbook, ""},
		{"GET /runbooks/{id}/export", orchestrator.RecordReaders, u.runbookExport, ""},
		{"POST /runbooks/{id}/approve", orchestrator.RecordWriters, u.approveRunbook, ""},
	}
}

// runbookPageSize is how many runbooks the list shows a page; with
// feasibility asked for, each costs a full read of the runbook, as in the
// API (maxFeasibilityPage).
const runbookPageSize = 50

var (
	runbookStatuses = []string{runbooks.StatusDraft, runbooks.StatusApproved, runbooks.StatusRetired}
	runbookStales   = []string{"yes", "no"}
)

// runbookRow is a runbook in the list with its staleness and, when asked
// for, its feasibility verdict.
type runbookRow struct {
	runbooks.Summary
	Stale   bool
	Flags   []string
	Verdict string
}

// runbooksView is the list page's data.
type runbooksView struct {
	Status, Stale    string
	Feasibility      bool
	Statuses, Stales []string
	Items            []runbookRow
	Next             string
}

// runbookList lists the runbooks with their staleness, filtered by status
// and staleness; the feasibility verdict is computed only when asked for.
func (u *UI) runbookList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	v := runbooksView{Status: q.Get("status"), Stale: q.Get("stale"), Feasibility: q.Get("feasibility") == "1",
		Statuses: runbookStatuses, Stales: runbookStales}
	if v.Status != "" && !slices.Contains(runbookStatuses, v.Status) {
		u.fail(w, r, orchestrator.Invalid("status", "must be draft, approved or retired"))
		return
	}
	if v.Stale != "" && !slices.Contains(runbookStales, v.Stale) {
		u.fail(w, r, orchestrator.Invalid("stale", "must be yes or no"))
		return
	}
	after := ""
	if a := q.Get("after"); a != "" {
		var err error
		if after, err = orchestrator.DecodeCursor(a); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	last, err := u.fillRunbooks(r, &v, after)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if last != "" {
		next := url.Values{"status": {v.Status}, "stale": {v.Stale}, "after": {orchestrator.EncodeCursor(last)}}
		if v.Feasibility {
			next.Set("feasibility", "1")
		}
		v.Next = "/runbooks?" + next.Encode()
	}
	u.render(w, r, http.StatusOK, "runbooks", v)
}

// fillRunbooks fills a page of runbooks passing the filters, reading on
// while the staleness filter drops runbooks, as the API's list does; it
// returns the id to continue after, "" on the last page.
func (u *UI) fillRunbooks(r *http.Request, v *runbooksView, after string) (string, error) {
	ctx := r.Context()
	for {
		l, err := u.svc.Runbooks.List(ctx, runbooks.Filter{Status: v.Status}, orchestrator.Page{Limit: runbookPageSize, After: after})
		if err != nil {
			return "", err
		}
		ids := make([]int64, len(l.Items))
		for i, sm := range l.Items {
			ids[i] = sm.ID
		}
		briefs, err := u.svc.Runbooks.RecentBriefs(ctx, ids, runbooks.BriefOptions{Staleness: true, Outline: true}, recentEnough)
		if err != nil {
			return "", err
		}
		for i, sm := range l.Items {
			row := runbookRow{Summary: sm}
			if b, ok := briefs[sm.ID]; ok {
				row.Stale, row.Flags = b.Staleness.Stale, b.Staleness.Flags
			}
			if v.Stale != "" && row.Stale != (v.Stale == "yes") {
				continue
			}
			if v.Feasibility {
				rb, err := u.svc.Runbooks.Get(ctx, strconv.FormatInt(sm.ID, 10))
				if err != nil {
					return "", err
				}
				row.Verdict = rb.Feasibility.Verdict
			}
			v.Items = append(v.Items, row)
			if len(v.Items) == runbookPageSize {
				if i < len(l.Items)-1 || l.Next != "" {
					return strconv.FormatInt(sm.ID, 10), nil
				}
				return "", nil
			}
		}
		if l.Next == "" {
			return "", nil
		}
		if after, err = orchestrator.DecodeCursor(l.Next); err != nil {
			return "", err
		}
	}
}

// runbookView is a runbook's page: the runbook with its front version (the
// draft if there is one), its history, the draft's changes against the
// version in force, what the role may do, and what was just done or
// refused.
type runbookView struct {
	runbooks.Runbook
	Versions      []runbooks.VersionSummary
	Diff          *runbooks.Diff
	Services      []runbookServiceCheck
	CanApprove    bool
	Notice, Error string
}

// runbookServiceCheck is a service's targets against its recovery, with
// whether the RTO and the MTPD are met as "yes", "no" or "" (not known).
type runbookServiceCheck struct {
	runbooks.ServiceCheck
	RTOMet, MTPDMet string
}

// runbook shows one runbook.
func (u *UI) runbook(w http.ResponseWriter, r *http.Request) {
	notice := ""
	if r.URL.Query().Get("done") == "approved" {
		notice = "runbook_done_approved"
	}
	u.runbookPage(w, r, http.StatusOK, notice, "")
}

// runbookPage draws the runbook in the path with a notice (a word key) or
// an error.
func (u *UI) runbookPage(w http.ResponseWriter, r *http.Request, status int, notice, problem string) {
	ctx, id := r.Context(), r.PathValue("id")
	rb, err := u.svc.Runbooks.Recent(ctx, id, recentEnough)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	vs, err := u.svc.Runbooks.Versions(ctx, id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	slices.Reverse(vs)
	v := runbookView{Runbook: rb, Versions: vs, Notice: notice, Error: problem,
		CanApprove: actor(ctx).Role.Allowed(orchestrator.RecordWriters)}
	for _, sc := range rb.Feasibility.Services {
		v.Services = append(v.Services, runbookServiceCheck{ServiceCheck: sc, RTOMet: met(sc.RTOFeasible), MTPDMet: met(sc.WithinMTPD)})
	}
	if rb.ApprovedVersion != nil && rb.DraftVersion != nil {
		d, err := u.svc.Runbooks.Diff(ctx, id, strconv.Itoa(*rb.ApprovedVersion), strconv.Itoa(*rb.DraftVersion))
		if err != nil {
			u.fail(w, r, err)
			return
		}
		v.Diff = &d
	}
	u.render(w, r, status, "runbook", v)
}

// approveRunbook puts the draft in force; the service refuses when there
// is nothing to approve or the draft is not sound, and the page says why.
func (u *UI) approveRunbook(w http.ResponseWriter, r *http.Request) {
	rb, err := u.svc.Runbooks.Approve(r.Context(), r.PathValue("id"))
	if status, refused := refusal(err); refused {
		u.runbookPage(w, r, refusedStatus(w, r, status), "", err.Error())
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/runbooks/"+strconv.FormatInt(rb.ID, 10)+"?done=approved", http.StatusSeeOther)
}

// runbookExport answers the runbook as the API's export does (HTML or
// Markdown, of the approved version unless ?version= names one), through
// the browser's session: the HTML is self-contained, so it is served
// under the report policy, and Markdown is a download.
func (u *UI) runbookExport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = runbooks.FormatHTML
	}
	if format != runbooks.FormatHTML && format != runbooks.FormatMarkdown {
		u.fail(w, r, orchestrator.Invalid("format", "must be html or md"))
		return
	}
	doc, err := u.svc.Runbooks.Document(r.Context(), r.PathValue("id"), q.Get("version"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	body, err := runbooks.Render(doc, format)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	serveReport(w, format, runbooks.ContentType(format), fmt.Sprintf("runbook-%d-v%d.%s", doc.ID, doc.Version.Number, format), body)
}

// runbooksWords are the words of these pages (恢复手册, 现行版本, 年度审查, 复测).
var runbooksWords = map[string]map[string]string{
	langEN: {
		"runbooks":                     "Runbooks",
		"runbook_any":                  "Any",
		"runbook_status_draft":         "Draft",
		"runbook_status_approved":      "Approved",
		"runbook_status_retired":       "Retired",
		"runbook_status_superseded":    "Superseded",
		"runbook_stale":                "Stale",
		"runbook_stale_yes":            "Stale",
		"runbook_stale_no":             "Current",
		"runbook_show_feasibility":     "Show feasibility (slower)",
		"runbook_title":                "Runbook",
		"runbook_approved_version":     "Version in force",
		"runbook_draft_version":        "Draft",
		"runbook_staleness":            "Staleness",
		"runbook_verdict":              "Feasibility",
		"runbook_scenario":             "Scenario",
		"runbook_flag_retest_required": "Retest required",
		"runbook_flag_review_due":      "Review due",
		"runbook_flag_scope_changed":   "Scope changed",
		"runbook_current":              "Current",
		"runbook_verdict_feasible":     "Feasible",
		"runbook_verdict_infeasible":   "Not feasible",
		"runbook_verdict_unknown":      "Unknown",
		"runbook_more":                 "More runbooks",
		"runbook_none":                 "No runbook matches.",
		"runbook_done_approved":        "The draft is approved and in force.",
		"runbook_refused":              "Not done:",
		"runbook_scope":                "Scope",
		"runbook_none_approved":        "No version approved yet.",
		"runbook_exports":              "Export",
		"runbook_confirm_approve":      "Approve this draft and put it in force? The version in force now will be superseded.",
		"runbook_approve":              "Approve draft",
		"runbook_proven_since":         "proven since",
		"runbook_failed_drill":         "Drill not passed:",
		"runbook_review_last":          "last approved or reviewed",
		"runbook_review_due_at":        "review due",
		"runbook_cis_added":            "CIs added",
		"runbook_cis_removed":          "CIs removed",
		"runbook_relations_added":      "relations added",
		"runbook_relations_removed":    "relations removed",
		"runbook_feasibility":          "Feasibility",
		"runbook_estimated_recovery":   "Estimated recovery",
		"runbook_rto":                  "RTO",
		"runbook_services":             "Recovery against RTO by service",
		"runbook_recovered_at":         "Recovered at",
		"runbook_rto_met":              "RTO met",
		"runbook_yes":                  "yes",
		"runbook_no":                   "no",
		"runbook_gaps":                 "Gaps",
		"runbook_steps":                "Steps",
		"runbook_step":                 "Step",
		"runbook_owner_role":           "Owner role",
		"runbook_estimate":             "Estimate",
		"runbook_depends_on":           "Depends on",
		"runbook_mandatory":            "Mandatory",
		"runbook_mode":                 "Automated or manual",
		"runbook_decision":             "Decision by",
		"runbook_automated":            "automated",
		"runbook_manual":               "manual",
		"runbook_on_reject":            "on rejection:",
		"runbook_diff":                 "Draft against the version in force:",
		"runbook_step_added":           "Step added",
		"runbook_step_removed":         "Step removed",
		"runbook_step_changed":         "Step changed",
		"runbook_order_changed":        "The order of the steps changed.",
		"runbook_no_changes":           "No change.",
		"runbook_versions":             "Versions",
		"runbook_version":              "Version",
		"runbook_created":              "Created",
		"runbook_approval":             "Approved",
		"runbook_review":               "Last review",
	},
	langZH: {
		"runbooks":                     "恢复手册",
		"runbook_any":                  "不限",
		"runbook_status_draft":         "草稿",
		"runbook_status_approved":      "已批准",
		"runbook_status_retired":       "已停用",
		"runbook_status_superseded":    "已被取代",
		"runbook_stale":                "是否过时",
		"runbook_stale_yes":            "已过时",
		"runbook_stale_no":             "有效",
		"runbook_show_feasibility":     "显示可行性（较慢）",
		"runbook_title":                "恢复手册",
		"runbook_approved_version":     "现行版本",
		"runbook_draft_version":        "草稿版本",
		"runbook_staleness":            "时效性",
		"runbook_verdict":              "可行性",
		"runbook_scenario":             "场景",
		"runbook_flag_retest_required": "需要复测",
		"runbook_flag_review_due":      "年度审查到期",
		"runbook_flag_scope_changed":   "范围已变更",
		"runbook_current":              "有效",
		"runbook_verdict_feasible":     "可行",
		"runbook_verdict_infeasible":   "不可行",
		"runbook_verdict_unknown":      "未知",
		"runbook_more":                 "更多恢复手册",
		"runbook_none":                 "没有符合条件的恢复手册。",
		"runbook_done_approved":        "草稿已批准并生效。",
		"runbook_refused":              "未执行：",
		"runbook_scope":                "范围",
		"runbook_none_approved":        "尚无已批准的版本。",
		"runbook_exports":              "导出",
		"runbook_confirm_approve":      "批准此草稿并使其生效？现行版本将被取代。",
		"runbook_approve":              "批准草稿",
		"runbook_proven_since":         "验证自",
		"runbook_failed_drill":         "未通过的演练：",
		"runbook_review_last":          "上次批准或审查",
		"runbook_review_due_at":        "审查到期",
		"runbook_cis_added":            "新增配置项",
		"runbook_cis_removed":          "移除配置项",
		"runbook_relations_added":      "新增关系",
		"runbook_relations_removed":    "移除关系",
		"runbook_feasibility":          "可行性",
		"runbook_estimated_recovery":   "预计恢复时间",
		"runbook_rto":                  "RTO",
		"runbook_services":             "各服务恢复时间与 RTO 对比",
		"runbook_recovered_at":         "恢复时间点",
		"runbook_rto_met":              "满足 RTO",
		"runbook_yes":                  "是",
		"runbook_no":                   "否",
		"runbook_gaps":                 "差距",
		"runbook_steps":                "步骤",
		"runbook_step":                 "步骤",
		"runbook_owner_role":           "负责角色",
		"runbook_estimate":             "预计用时",
		"runbook_depends_on":           "依赖",
		"runbook_mandatory":            "必要",
		"runbook_mode":                 "自动或手动",
		"runbook_decision":             "决策角色",
		"runbook_automated":            "自动",
		"runbook_manual":               "手动",
		"runbook_on_reject":            "否决时转到：",
		"runbook_diff":                 "草稿与现行版本对比：",
		"runbook_step_added":           "新增步骤",
		"runbook_step_removed":         "删除步骤",
		"runbook_step_changed":         "修改步骤",
		"runbook_order_changed":        "步骤顺序已调整。",
		"runbook_no_changes":           "没有变化。",
		"runbook_versions":             "版本历史",
		"runbook_version":              "版本",
		"runbook_created":              "创建",
		"runbook_approval":             "批准",
		"runbook_review":               "最近审查",
	},
}
