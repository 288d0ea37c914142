package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
)

// Who may do what on the settings page: everyone who reads records reads
// the settings, as the API lets them (GET /settings/bia, /drills/policy,
// /schedules); each form is for the roles the API gives its writes.
var (
	settingsPageRoles   = orchestrator.RecordReaders
	settingsBIARoles    = within(orchestrator.AdminRoles, settingsPageRoles)
	settingsPolicyRoles = within(orchestrator.RecordWriters, settingsPageRoles)
	settingsToggleRoles = within(orchestrator.RecordWriters, settingsPageRoles)
)

// settingsPages are settings and channel editing.
func (u *UI) settingsPages() []page {
	return append([]page{
		{"GET /settings", settingsPageRoles, u.settings, "settings"},
		{"POST /settings/bia", settingsBIARoles, u.saveBIASettings, ""},
		{"POST /settings/drill-policy", settingsPolicyRoles, u.saveDrillPolicy, ""},
		{"POST /settings/schedules/{id}", settingsToggleRoles, u.toggleSchedule, ""},
	}, u.channelPages()...)
}

// settingsSchedulesShown is how many schedules the page lists; the API
// pages further.
const settingsSchedulesShown = 100

// settingsView is the settings page: the forms the actor may use, the
// values they show (what is stored, or what was just refused), and the
// outcome of what was just done.
type settingsView struct {
	CanEditBIA, CanEditPolicy, CanToggle bool
	BIA                                  biaForm
	Policy                               []policyRow
	DrillTypes                           []string
	Schedules                            []scheduleRow
	Currency                             string
	// Refused names the form whose input was refused ("bia", "policy" or
	// "schedules"), and Problems say why, field by field.
	Refused  string
	Problems []orchestrator.FieldError
	Error    string
	Notice   string
}

// FieldProblems are the problems of the refused form's field and of its
// items (field[i]).
func (v settingsView) FieldProblems(form, field string) []orchestrator.FieldError {
	if v.Refused != form {
		return nil
	}
	var out []orchestrator.FieldError
	for _, p := range v.Problems {
		if p.Field == field || strings.HasPrefix(p.Field, field+"[") || strings.HasPrefix(p.Field, field+".") {
			out = append(out, p)
		}
	}
	return out
}

// biaForm is the BIA settings as the form writes them: lists one per
// field, separated by commas.
type biaForm struct {
	Categories, TimePoints, TierBounds, Intolerable, Currency string
}

func biaFormOf(s impact.Settings) biaForm {
	return biaForm{Categories: strings.Join(s.Categories, ", "), TimePoints: joinDurations(s.TimePoints),
		TierBounds: joinDurations(s.TierBounds), Intolerable: strconv.Itoa(s.IntolerableLevel), Currency: s.Currency}
}

func joinDurations(ds []orchestrator.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.String()
	}
	return strings.Join(parts, ", ")
}

// policyRow is one tier's drill policy as the form writes it.
type policyRow struct {
	Tier          int
	Type, PerYear string
	UpdatedBy     string
}

// scheduleRow is a schedule and how its latest run went.
type scheduleRow struct {
	scheduler.Schedule
	Last *scheduler.Run
}

// settings shows the BIA settings, the drill policy and the schedules.
func (u *UI) settings(w http.ResponseWriter, r *http.Request) {
	v := settingsView{}
	switch r.URL.Query().Get("done") {
	case "bia":
		v.Notice = "settings_bia_saved"
	case "policy":
		v.Notice = "settings_policy_saved"
	case "schedule":
		v.Notice = "settings_schedule_saved"
	}
	u.settingsPage(w, r, http.StatusOK, v)
}

// settingsPage fills what v does not hold yet and draws it.
func (u *UI) settingsPage(w http.ResponseWriter, r *http.Request, status int, v settingsView) {
	if err := u.fillSettings(r.Context(), &v); err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, status, "settings", v)
}

func (u *UI) fillSettings(ctx context.Context, v *settingsView) error {
	role := actor(ctx).Role
	v.CanEditBIA, v.CanEditPolicy, v.CanToggle = role.Allowed(settingsBIARoles), role.Allowed(settingsPolicyRoles), role.Allowed(settingsToggleRoles)
	v.DrillTypes = drills.Types
	s, err := u.svc.Impact.Settings(ctx)
	if err != nil {
		return err
	}
	v.Currency = s.Currency
	if v.Refused != "bia" {
		v.BIA = biaFormOf(s)
	}
	if v.Refused != "policy" {
		ps, err := u.svc.Drills.Policies(ctx)
		if err != nil {
			return err
		}
		v.Policy = nil
		for _, p := range ps {
			v.Policy = append(v.Policy, policyRow{Tier: p.Tier, Type: p.Type, PerYear: strconv.Itoa(p.PerYear), UpdatedBy: p.UpdatedBy})
		}
	}
	l, err := u.svc.Schedules.List(ctx, scheduler.Filter{}, orchestrator.Page{Limit: settingsSchedulesShown})
	if err != nil {
		return err
	}
	for _, sc := range l.Items {
		row := scheduleRow{Schedule: sc}
		runs, err := u.svc.Schedules.Runs(ctx, sc.ID, scheduler.RunFilter{}, orchestrator.Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(runs.Items) > 0 {
			row.Last = &runs.Items[0]
		}
		v.Schedules = append(v.Schedules, row)
	}
	return nil
}

// refuse draws the page with the refused form's input and the reasons,
// or fails when err is not a refusal.
func (u *UI) refuseSettings(w http.ResponseWriter, r *http.Request, err error, v settingsView) {
	code, refused := refusal(err)
	if !refused {
		u.fail(w, r, err)
		return
	}
	if v.Problems = orchestrator.ErrorFields(err); len(v.Problems) == 0 {
		v.Error = err.Error()
	}
	u.settingsPage(w, r, refusedStatus(w, r, code), v)
}

// saveBIASettings replaces the BIA settings with the form's, as PUT
// /settings/bia does; a value that cannot be read or is invalid is refused
// naming its field, and nothing is saved.
func (u *UI) saveBIASettings(w http.ResponseWriter, r *http.Request) {
	f := biaForm{Categories: r.PostFormValue("categories"), TimePoints: r.PostFormValue("time_points"),
		TierBounds: r.PostFormValue("tier_bounds"), Intolerable: r.PostFormValue("intolerable_level"),
		Currency: r.PostFormValue("currency")}
	in, err := f.settings()
	if err == nil {
		_, err = u.svc.Impact.ReplaceSettings(r.Context(), in)
	}
	if err != nil {
		u.refuseSettings(w, r, err, settingsView{Refused: "bia", BIA: f})
		return
	}
	http.Redirect(w, r, "/settings?done=bia#bia", http.StatusSeeOther)
}

// settings reads the form; what cannot be read is reported by field, and
// impact validates the rest.
func (f biaForm) settings() (impact.Settings, error) {
	var v orchestrator.Validation
	s := impact.Settings{Categories: splitList(f.Categories), Currency: strings.TrimSpace(f.Currency)}
	s.TimePoints = durations(&v, "time_points", f.TimePoints)
	s.TierBounds = durations(&v, "tier_bounds", f.TierBounds)
	n, err := strconv.Atoi(strings.TrimSpace(f.Intolerable))
	if err != nil {
		v.Add("intolerable_level", "must be a whole number between 1 and %d", impact.MaxRating)
	}
	s.IntolerableLevel = n
	return s, v.Err()
}

// splitList reads a comma- or line-separated list, blanks left out.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' || r == '，' }) {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// durations reads a list of durations, naming field[i] for one that
// cannot be read.
func durations(v *orchestrator.Validation, field, s string) []orchestrator.Duration {
	var out []orchestrator.Duration
	for i, part := range splitList(s) {
		d, err := orchestrator.ParseDuration(part)
		if err != nil {
			v.Add(fmt.Sprintf("%s[%d]", field, i), "%q is not %s", part, orchestrator.DurationHint)
			continue
		}
		out = append(out, d)
	}
	return out
}

// saveDrillPolicy sets every tier's drill type and drills per year, as PUT
// /drills/policy does.
func (u *UI) saveDrillPolicy(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, orchestrator.Invalid("form", "cannot be read"))
		return
	}
	var (
		rows []policyRow
		in   []drills.PolicyInput
		v    orchestrator.Validation
	)
	for i, tierText := range r.PostForm["tier"] {
		tier, err := strconv.Atoi(tierText)
		if err != nil {
			v.Add(fmt.Sprintf("tiers[%d].tier", i), "must be a tier number")
			continue
		}
		typ, perYear := r.PostFormValue(fmt.Sprintf("type_%d", tier)), r.PostFormValue(fmt.Sprintf("per_year_%d", tier))
		rows = append(rows, policyRow{Tier: tier, Type: typ, PerYear: perYear})
		n, err := strconv.Atoi(strings.TrimSpace(perYear))
		if err != nil {
			v.Add(fmt.Sprintf("tiers[%d].per_year", i), "must be a whole number")
			continue
		}
		in = append(in, drills.PolicyInput{Tier: &tier, Type: typ, PerYear: &n})
	}
	err := v.Err()
	if err == nil {
		_, err = u.svc.Drills.SetPolicies(r.Context(), in)
	}
	if err != nil {
		u.refuseSettings(w, r, err, settingsView{Refused: "policy", Policy: rows})
		return
	}
	http.Redirect(w, r, "/settings?done=policy#policy", http.StatusSeeOther)
}

// ProblemsOfTier are the refused drill policy's problems of row i.
func (v settingsView) ProblemsOfTier(i int) []orchestrator.FieldError {
	return v.FieldProblems("policy", fmt.Sprintf("tiers[%d]", i))
}

// toggleSchedule enables or disables a schedule, as PATCH /schedules/{id}
// with enabled does.
func (u *UI) toggleSchedule(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		u.notFound(w, r)
		return
	}
	var enabled bool
	switch r.PostFormValue("enabled") {
	case "true":
		enabled = true
	case "false":
	default:
		u.refuseSettings(w, r, orchestrator.Invalid("enabled", "must be true or false"), settingsView{Refused: "schedules"})
		return
	}
	if _, err := u.svc.Schedules.Update(r.Context(), id, scheduler.Input{Enabled: &enabled}); err != nil {
		u.refuseSettings(w, r, err, settingsView{Refused: "schedules"})
		return
	}
	http.Redirect(w, r, "/settings?done=schedule#schedules", http.StatusSeeOther)
}

// settingsWords are the words of settings and channel editing.
var settingsWords = merge(settingsPageWords, channelWords)

var settingsPageWords = map[string]map[string]string{
	langEN: {
		"settings": "Settings", "settings_refused": "Not saved:", "settings_nothing_saved": "nothing was changed. Correct the fields below.",
		"settings_bia":              "Business impact analysis",
		"settings_bia_help":         "What every BIA is rated against. Versions already approved keep the settings they were approved with.",
		"settings_categories":       "Impact categories",
		"settings_categories_help":  "Separated by commas: lower-case letters, digits or _, e.g. financial, operational, regulatory.",
		"settings_time_points":      "Time horizons",
		"settings_time_points_help": "Outage durations impacts are rated at, ascending, separated by commas: e.g. 1h, 4h, 24h, 3d.",
		"settings_intolerable":      "Intolerable impact level",
		"settings_intolerable_help": "The rating (1 to 4) at which an outage becomes intolerable: the first time horizon reaching it is the MTPD.",
		"settings_tier_bounds":      "Tier thresholds (RTO)",
		"settings_tier_bounds_help": "The longest RTO of tier 0, 1, 2, … ascending, separated by commas; a longer RTO is the next tier.",
		"settings_currency":         "Currency",
		"settings_currency_help":    "The ISO 4217 code loss amounts are in, e.g. EUR or CNY.",
		"settings_save_bia":         "Save the BIA settings",
		"settings_bia_saved":        "The BIA settings were saved.",
		"settings_policy":           "Drill policy",
		"settings_policy_help":      "How each tier's services are drilled and how often a year; the programme is proposed from it.",
		"settings_drill_type":       "Drill type",
		"settings_per_year":         "Drills per year",
		"settings_updated_by":       "Changed by",
		"settings_save_policy":      "Save the drill policy",
		"settings_policy_saved":     "The drill policy was saved.",
		"settings_schedules":        "Schedules",
		"settings_schedules_help":   "Recurring jobs: backup checks, drills, reports, kit exports, reminders. A disabled schedule does not fire.",
		"settings_schedule_name":    "Name",
		"settings_schedule_kind":    "Kind",
		"settings_schedule_target":  "Target",
		"settings_schedule_when":    "When",
		"settings_schedule_next":    "Next run",
		"settings_schedule_last":    "Last run",
		"settings_schedule_enabled": "Enabled",
		"settings_schedule_never":   "not yet run",
		"settings_enable":           "Enable",
		"settings_disable":          "Disable",
		"settings_no_schedules":     "No schedule.",
		"settings_schedule_saved":   "The schedule was changed.",
	},
	langZH: {
		"settings": "设置", "settings_refused": "未保存：", "settings_nothing_saved": "未做任何更改，请修改下列字段。",
		"settings_bia":              "业务影响分析",
		"settings_bia_help":         "每份业务影响分析据以评级的参数。已批准的版本保留其批准时的设置。",
		"settings_categories":       "影响类别",
		"settings_categories_help":  "以逗号分隔：小写字母、数字或 _，例如 financial, operational, regulatory。",
		"settings_time_points":      "时间节点",
		"settings_time_points_help": "据以评定影响的中断时长，升序，以逗号分隔：例如 1h, 4h, 24h, 3d。",
		"settings_intolerable":      "不可容忍的影响等级",
		"settings_intolerable_help": "中断变得不可容忍的等级（1 至 4）：首个达到该等级的时间节点即最大可容忍中断时间（MTPD）。",
		"settings_tier_bounds":      "等级阈值（恢复时间目标）",
		"settings_tier_bounds_help": "0、1、2……级的最长恢复时间目标，升序，以逗号分隔；超出者归入下一级。",
		"settings_currency":         "币种",
		"settings_currency_help":    "损失金额所用的 ISO 4217 代码，例如 EUR 或 CNY。",
		"settings_save_bia":         "保存业务影响分析设置",
		"settings_bia_saved":        "业务影响分析设置已保存。",
		"settings_policy":           "演练策略",
		"settings_policy_help":      "各等级服务的演练方式及每年次数；演练计划据此生成。",
		"settings_drill_type":       "演练类型",
		"settings_per_year":         "每年演练次数",
		"settings_updated_by":       "修改人",
		"settings_save_policy":      "保存演练策略",
		"settings_policy_saved":     "演练策略已保存。",
		"settings_schedules":        "计划任务",
		"settings_schedules_help":   "周期性作业：备份检查、演练、报告、离线包导出、提醒。已停用的计划任务不会触发。",
		"settings_schedule_name":    "名称",
		"settings_schedule_kind":    "类型",
		"settings_schedule_target":  "对象",
		"settings_schedule_when":    "时间",
		"settings_schedule_next":    "下次运行",
		"settings_schedule_last":    "上次运行",
		"settings_schedule_enabled": "启用",
		"settings_schedule_never":   "尚未运行",
		"settings_enable":           "启用",
		"settings_disable":          "停用",
		"settings_no_schedules":     "没有计划任务。",
		"settings_schedule_saved":   "计划任务已更改。",
	},
}
