package web

import (
	"bytes"
	"net/http"
	"net/url"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// biaPages are the BIA editor of a service: read as the API's BIA is read,
// saved (the API's PUT) and approved by records writers. Deriving figures
// writes nothing, but only the editor asks for it.
func (u *UI) biaPages() []page {
	return []page{
		{"GET /services/{key}/bia", orchestrator.RecordReaders, u.bia, ""},
		{"POST /services/{key}/bia", orchestrator.RecordWriters, u.saveBIA, ""},
		{"POST /services/{key}/bia/derive", orchestrator.RecordWriters, u.deriveBIA, ""},
		{"POST /services/{key}/bia/approve", orchestrator.RecordWriters, u.approveBIA, ""},
	}
}

// biaView is the editor's page: the grid of the version shown (the newest,
// or an older one asked for with ?version=), the figures derived from it,
// the versions, what the role may do, and what was just done or refused.
type biaView struct {
	Service  string
	Currency string
	Level    int
	Times    []orchestrator.Duration
	Input    *biaInput
	Derived  biaDerived
	Shown    *impact.BIA
	Versions []impact.BIA
	// Old is set when an older version than the newest is shown.
	Old bool
	// Outside counts ratings at categories or time points the settings no
	// longer have: the grid does not show them and a save drops them.
	Outside       int
	CanEdit       bool
	CanApprove    bool
	NextVersion   int
	Notice, Error string
}

// biaDerived are the figures impact derives from the grid as it stands,
// and what impact would refuse in it.
type biaDerived struct {
	Level        int
	MTPD         *orchestrator.Duration
	SuggestedRTO *orchestrator.Duration
	// Tier is that of the RTO entered (nil while it cannot be read);
	// SuggestedTier that of the suggested RTO.
	Tier, SuggestedTier *int
	Problems            []biaProblem
}

// bia shows the editor of a service's BIA: inputs for records writers, the
// grid as text for everyone else.
func (u *UI) bia(w http.ResponseWriter, r *http.Request) {
	notice := ""
	switch r.URL.Query().Get("done") {
	case "saved":
		notice = "bia_done_saved"
	case "approved":
		notice = "bia_done_approved"
	}
	u.biaPage(w, r, http.StatusOK, nil, notice, "")
}

// biaPage draws the editor with in (nil: the stored version's form), a
// notice (a word key) or a refusal.
func (u *UI) biaPage(w http.ResponseWriter, r *http.Request, status int, in *biaInput, notice, refused string) {
	ctx, key, words := r.Context(), r.PathValue("key"), words(language(r))
	settings, err := u.svc.Impact.Settings(ctx)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	versions, err := u.svc.Impact.BIAVersions(ctx, key)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := biaView{Service: key, Currency: settings.Currency, Level: settings.IntolerableLevel, Times: settings.TimePoints,
		Versions: versions, Notice: notice, Error: refused, NextVersion: 1}
	if len(versions) > 0 {
		v.Shown = &versions[0]
		v.NextVersion = versions[0].Version + 1
		if versions[0].Status == impact.StatusDraft {
			v.NextVersion = versions[0].Version
		}
	}
	if n := r.URL.Query().Get("version"); n != "" && in == nil {
		b, err := u.svc.Impact.BIAVersion(ctx, key, n)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		v.Old = b.Version != versions[0].Version
		v.Shown = &b
	}
	writer := actor(ctx).Role.Allowed(orchestrator.RecordWriters)
	v.CanEdit = writer && !v.Old
	v.CanApprove = writer && !v.Old && v.Shown != nil && v.Shown.Status == impact.StatusDraft
	switch {
	case in != nil:
		v.Input = in
	case v.Shown != nil:
		v.Input, v.Outside = biaInputOf(settings, v.Shown.Assessment, words)
	default:
		v.Input = newBIAInput(settings, words)
	}
	v.Derived = derive(settings, v.Input, words)
	if len(v.Input.Problems) > 0 {
		// The summary above the form already names them.
		v.Derived.Problems = nil
	}
	u.render(w, r, status, "bia", v)
}

// derive is what impact derives from the form as it stands, with what
// impact's validation would refuse; text that cannot be read is the
// problem then.
func derive(s impact.Settings, in *biaInput, w func(string) string) biaDerived {
	probe := *in
	probe.Errs, probe.Problems = map[string]string{}, nil
	a, cells, ok := probe.assessment(w)
	d := impact.Derive(s, a)
	out := biaDerived{Level: s.IntolerableLevel, MTPD: d.MTPD, SuggestedRTO: d.SuggestedRTO}
	if _, bad := probe.Errs["rto"]; !bad {
		out.Tier = &d.Tier
	}
	if d.SuggestedRTO != nil {
		t := impact.Tier(s, *d.SuggestedRTO)
		out.SuggestedTier = &t
	}
	if ok {
		probe.attach(impact.Validate(s, a), cells, w)
	}
	out.Problems = probe.Problems
	return out
}

// deriveBIA answers the derived figures of the posted grid, as htmx swaps
// them in while the grid is edited.
func (u *UI) deriveBIA(w http.ResponseWriter, r *http.Request) {
	form, ok := u.biaForm(w, r)
	if !ok {
		return
	}
	settings, err := u.svc.Impact.Settings(r.Context())
	if err != nil {
		u.fail(w, r, err)
		return
	}
	lang := language(r)
	d := derive(settings, biaInputFrom(settings, form, words(lang)), words(lang))
	v := view{Lang: lang, Path: r.URL.RequestURI(), Actor: actor(r.Context()), Data: biaView{Derived: d}, words: words(lang)}
	var buf bytes.Buffer
	if err := u.pages["bia"].ExecuteTemplate(&buf, "bia-derived", v); err != nil {
		u.log.Error("render derived BIA figures", "err", err.Error())
		http.Error(w, "the figures could not be drawn", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// biaForm reads a posted form of bounded size; a form too large or
// malformed is answered here.
func (u *UI) biaForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, biaMaxForm)
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, orchestrator.Invalid("form", "could not be read: %v", err))
		return nil, false
	}
	return r.PostForm, true
}

// saveBIA writes the draft as the API's PUT does. A form that cannot be
// read, or that impact refuses, is shown again with every field at fault
// named, and nothing is written.
func (u *UI) saveBIA(w http.ResponseWriter, r *http.Request) {
	form, ok := u.biaForm(w, r)
	if !ok {
		return
	}
	ctx, key, words := r.Context(), r.PathValue("key"), words(language(r))
	settings, err := u.svc.Impact.Settings(ctx)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	in := biaInputFrom(settings, form, words)
	a, cells, ok := in.assessment(words)
	if !ok {
		u.biaPage(w, r, http.StatusUnprocessableEntity, in, "", "")
		return
	}
	_, err = u.svc.Impact.SaveBIA(ctx, key, a)
	if orchestrator.ErrorCode(err) == orchestrator.EINVALID {
		in.attach(err, cells, words)
		u.biaPage(w, r, http.StatusUnprocessableEntity, in, "", "")
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/services/"+url.PathEscape(key)+"/bia?done=saved", http.StatusSeeOther)
}

// approveBIA puts the draft in force; impact refuses when there is no
// draft or it no longer passes the settings, and the page says why.
func (u *UI) approveBIA(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	_, err := u.svc.Impact.ApproveBIA(r.Context(), key)
	if status, refused := refusal(err); refused {
		u.biaPage(w, r, refusedStatus(w, r, status), nil, "", err.Error())
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/services/"+url.PathEscape(key)+"/bia?done=approved", http.StatusSeeOther)
}

// biaWords are the words of the BIA editor and of the service page's BIA,
// resilience, requirements and backups, in the source documents' terms
// (业务影响分析, 最大可容忍中断时间 MTPD, 恢复时间目标 RTO, 恢复点目标 RPO, 等级).
var biaWords = map[string]map[string]string{
	langEN: {
		"bia_title":             "Business impact analysis",
		"bia_edit":              "Edit the BIA",
		"bia_open":              "Open the BIA",
		"bia_current":           "Newest version",
		"bia_approved_version":  "Version in force",
		"bia_none":              "No BIA yet.",
		"bia_none_approved":     "No version approved yet.",
		"bia_status_draft":      "Draft",
		"bia_status_approved":   "Approved",
		"bia_mtpd":              "Maximum tolerable period of disruption (MTPD)",
		"bia_rto":               "Recovery time objective (RTO)",
		"bia_rpo":               "Recovery point objective (RPO)",
		"bia_wrt":               "Work recovery time (WRT)",
		"bia_mbco":              "Minimum business continuity objective (MBCO, %)",
		"bia_tier":              "Tier",
		"bia_suggested_rto":     "Suggested RTO (MTPD − WRT)",
		"bia_suggested_tier":    "Tier at the suggested RTO",
		"bia_no_mtpd":           "none: no category reaches the intolerable level",
		"bia_no_suggestion":     "none: no MTPD, or the WRT uses it up",
		"bia_derived":           "Derived as you edit",
		"bia_problems":          "What saving would refuse:",
		"bia_grid":              "Impact over time",
		"bia_grid_help":         "Rate each impact category after an outage of each length, 0 none to 4 severe. A rating holds from its time point on and may not fall as the outage lengthens; the first time point at the intolerable level (%d) is the MTPD.",
		"bia_category":          "Impact category",
		"bia_outage":            "Outage",
		"bia_rating":            "rating",
		"bia_amount":            "cumulative loss",
		"bia_justification":     "justification",
		"bia_justifications":    "Justifications of the ratings",
		"bia_cell":              "%s at %s",
		"bia_not_rated":         "not rated",
		"bia_rating_0":          "0 none",
		"bia_rating_1":          "1 minor",
		"bia_rating_2":          "2 moderate",
		"bia_rating_3":          "3 major",
		"bia_rating_4":          "4 severe",
		"bia_cat_financial":     "Financial",
		"bia_cat_operational":   "Operational",
		"bia_cat_customer":      "Customer",
		"bia_cat_regulatory":    "Regulatory",
		"bia_cat_reputational":  "Reputational",
		"bia_targets":           "Recovery targets",
		"bia_context":           "Critical periods, records, people and suppliers",
		"bia_critical_periods":  "Critical periods",
		"bia_vital_records":     "Vital records",
		"bia_people":            "People",
		"bia_suppliers":         "Suppliers",
		"bia_one_a_line":        "One a line.",
		"bia_save":              "Save draft",
		"bia_save_new":          "Saving starts draft v%d; the version in force stays in force until the draft is approved.",
		"bia_save_draft":        "Saving replaces draft v%d.",
		"bia_approve":           "Approve draft",
		"bia_confirm_approve":   "Approve this draft and put it in force? Its RTO and RPO become the service's targets.",
		"bia_done_saved":        "The draft is saved.",
		"bia_done_approved":     "The draft is approved and in force.",
		"bia_refused":           "Not done:",
		"bia_not_saved":         "Not saved, nothing was written. Correct these fields:",
		"bia_outside":           "%d ratings are at categories or time points the settings no longer have; they are not shown and saving drops them.",
		"bia_versions":          "Versions",
		"bia_version":           "Version",
		"bia_updated":           "Last saved",
		"bia_approval":          "Approved",
		"bia_view":              "View",
		"bia_viewing_old":       "This is version %d, not the newest; it cannot be edited.",
		"bia_back_newest":       "Back to the newest version",
		"bia_intolerable":       "intolerable",
		"svc_resilience":        "Resilience by scenario",
		"svc_resilience_help":   "Every disruption that can take the service down, worst first, with the recovery the organisation can perform and whether it meets the approved RTO and RPO.",
		"svc_scenario":          "Scenario",
		"svc_recovery":          "Recovery",
		"svc_rto_estimate":      "Achievable RTO",
		"svc_rpo_estimate":      "Achievable RPO",
		"svc_rto_met":           "RTO met",
		"svc_rpo_met":           "RPO met",
		"svc_yes":               "yes",
		"svc_no":                "no",
		"svc_unknown":           "unknown",
		"svc_no_scenarios":      "No scenario takes this service down.",
		"svc_sc_ci_failure":     "Failure of",
		"svc_sc_site_loss":      "Loss of site",
		"svc_sc_supplier_loss":  "Loss of supplier",
		"svc_sc_region_loss":    "Loss of region",
		"svc_sc_corruption":     "Corruption or ransomware of",
		"svc_action_failover":   "fail over",
		"svc_action_restore":    "restore from backup",
		"svc_action_rebuild":    "rebuild",
		"svc_action_supplier":   "supplier recovers",
		"svc_action_manual":     "manual recovery",
		"svc_nothing_to_do":     "restart only",
		"svc_requirements":      "Requirements on the CIs it needs",
		"svc_requirements_help": "Every CI this service needs, with the RTO and RPO it must meet: the tightest among the approved BIAs of the services that need it.",
		"svc_ci":                "CI",
		"svc_class":             "Class",
		"svc_required_rto":      "Required RTO",
		"svc_required_rpo":      "Required RPO",
		"svc_set_by":            "set by",
		"svc_no_requirements":   "This service needs no other CI.",
		"svc_backups":           "Backups",
		"svc_backups_help":      "The backup targets of this service and of the CIs it needs, with their last check and RPO status.",
		"svc_no_backups":        "No backup target covers this service or the CIs it needs.",
	},
	langZH: {
		"bia_title":             "业务影响分析",
		"bia_edit":              "编辑业务影响分析",
		"bia_open":              "打开业务影响分析",
		"bia_current":           "最新版本",
		"bia_approved_version":  "现行版本",
		"bia_none":              "尚无业务影响分析。",
		"bia_none_approved":     "尚无已批准的版本。",
		"bia_status_draft":      "草稿",
		"bia_status_approved":   "已批准",
		"bia_mtpd":              "最大可容忍中断时间 MTPD",
		"bia_rto":               "恢复时间目标 RTO",
		"bia_rpo":               "恢复点目标 RPO",
		"bia_wrt":               "工作恢复时间 WRT",
		"bia_mbco":              "最低业务连续性目标 MBCO（%）",
		"bia_tier":              "等级",
		"bia_suggested_rto":     "建议 RTO（MTPD − WRT）",
		"bia_suggested_tier":    "按建议 RTO 的等级",
		"bia_no_mtpd":           "无：没有影响类别达到不可容忍级别",
		"bia_no_suggestion":     "无：没有 MTPD，或工作恢复时间已将其用尽",
		"bia_derived":           "随编辑自动计算",
		"bia_problems":          "保存时将被拒绝的问题：",
		"bia_grid":              "影响随时间的变化",
		"bia_grid_help":         "按中断持续时长评估各影响类别的影响，0 无影响至 4 严重。评级自其时间点起持续有效，且不得随中断延长而降低；首次达到不可容忍级别（%d）的时间点即为最大可容忍中断时间 MTPD。",
		"bia_category":          "影响类别",
		"bia_outage":            "中断时长",
		"bia_rating":            "评级",
		"bia_amount":            "累计损失",
		"bia_justification":     "依据",
		"bia_justifications":    "评级依据",
		"bia_cell":              "%s，中断 %s",
		"bia_not_rated":         "未评级",
		"bia_rating_0":          "0 无",
		"bia_rating_1":          "1 轻微",
		"bia_rating_2":          "2 中等",
		"bia_rating_3":          "3 重大",
		"bia_rating_4":          "4 严重",
		"bia_cat_financial":     "财务",
		"bia_cat_operational":   "运营",
		"bia_cat_customer":      "客户",
		"bia_cat_regulatory":    "监管合规",
		"bia_cat_reputational":  "声誉",
		"bia_targets":           "恢复目标",
		"bia_context":           "关键时期、重要记录、人员与供应商",
		"bia_critical_periods":  "关键时期",
		"bia_vital_records":     "重要记录",
		"bia_people":            "关键人员",
		"bia_suppliers":         "供应商",
		"bia_one_a_line":        "每行一项。",
		"bia_save":              "保存草稿",
		"bia_save_new":          "保存将创建草稿 v%d；在草稿批准之前，现行版本继续有效。",
		"bia_save_draft":        "保存将覆盖草稿 v%d。",
		"bia_approve":           "批准草稿",
		"bia_confirm_approve":   "批准此草稿并使其生效？其 RTO 与 RPO 将成为该服务的目标。",
		"bia_done_saved":        "草稿已保存。",
		"bia_done_approved":     "草稿已批准并生效。",
		"bia_refused":           "未执行：",
		"bia_not_saved":         "未保存，未写入任何内容。请更正以下字段：",
		"bia_outside":           "有 %d 项评级所在的影响类别或时间点已不在现行设置中；此处不显示，保存时将被删除。",
		"bia_versions":          "版本历史",
		"bia_version":           "版本",
		"bia_updated":           "最近保存",
		"bia_approval":          "批准",
		"bia_view":              "查看",
		"bia_viewing_old":       "这是版本 %d，并非最新版本，不可编辑。",
		"bia_back_newest":       "返回最新版本",
		"bia_intolerable":       "不可容忍",
		"svc_resilience":        "各场景下的恢复能力",
		"svc_resilience_help":   "可能导致该服务中断的每一种场景（最严重的在前），组织能够执行的恢复，以及能否满足已批准的 RTO 与 RPO。",
		"svc_scenario":          "场景",
		"svc_recovery":          "恢复方式",
		"svc_rto_estimate":      "可达 RTO",
		"svc_rpo_estimate":      "可达 RPO",
		"svc_rto_met":           "满足 RTO",
		"svc_rpo_met":           "满足 RPO",
		"svc_yes":               "是",
		"svc_no":                "否",
		"svc_unknown":           "未知",
		"svc_no_scenarios":      "没有场景会导致该服务中断。",
		"svc_sc_ci_failure":     "故障：",
		"svc_sc_site_loss":      "站点丢失：",
		"svc_sc_supplier_loss":  "供应商丢失：",
		"svc_sc_region_loss":    "区域丢失：",
		"svc_sc_corruption":     "数据损坏或勒索软件：",
		"svc_action_failover":   "切换",
		"svc_action_restore":    "从备份恢复",
		"svc_action_rebuild":    "重建",
		"svc_action_supplier":   "由供应商恢复",
		"svc_action_manual":     "手动恢复",
		"svc_nothing_to_do":     "仅需重启",
		"svc_requirements":      "所依赖配置项的恢复要求",
		"svc_requirements_help": "该服务所依赖的每个配置项及其须达到的 RTO 与 RPO：取依赖它的各服务已批准业务影响分析中最严格者。",
		"svc_ci":                "配置项",
		"svc_class":             "类别",
		"svc_required_rto":      "要求的 RTO",
		"svc_required_rpo":      "要求的 RPO",
		"svc_set_by":            "来自",
		"svc_no_requirements":   "该服务不依赖其他配置项。",
		"svc_backups":           "备份",
		"svc_backups_help":      "该服务及其所依赖配置项的备份目标，以及最近一次检查与 RPO 状态。",
		"svc_no_backups":        "该服务及其所依赖的配置项没有备份目标。",
	},
}
