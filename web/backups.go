package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/backup"
)

// backupPages are the backup targets and their checks: read as the API's
// backup records are, checked now by those who run checks.
func (u *UI) backupPages() []page {
	return []page{
		{"GET /backups", orchestrator.RecordReaders, u.backupList, "backups"},
		{"GET /backups/{id}", orchestrator.RecordReaders, u.backupTarget, ""},
		{"POST /backups/{id}/check", orchestrator.CheckRunners, u.checkNow, ""},
	}
}

// checkWait is how long "check now" waits for its check before answering
// that it is still running; the check goes on and the page follows it.
const checkWait = 15 * time.Second

// shownChecks is how many of a target's checks its page lists.
const shownChecks = 20

// rpoView is a CI's RPO status: the age of its newest verified backup
// judged against the RPO the CI must meet (the roll-down of the approved
// BIAs); unknown without a requirement or a verified backup.
type rpoView struct {
	State    orchestrator.RPOState
	Required *orchestrator.Duration
	Newest   *time.Time
	Age      *orchestrator.Duration
}

// targetRow is a target with its CI's RPO status and the age of the newest
// backup its last check found.
type targetRow struct {
	backup.Target
	RPO       rpoView
	BackupAge *orchestrator.Duration
}

// backupsView is the targets page.
type backupsView struct {
	Items            []targetRow
	CI, Kind, Status string
	Kinds            []backup.Kind
	Statuses         []string
}

// checkStatuses are the statuses a listing filters on: a last check's, or
// none for a target never checked.
func checkStatuses() []string {
	out := []string{}
	for _, s := range backup.CheckStatuses {
		out = append(out, string(s))
	}
	return append(out, "none")
}

// backupList shows every backup target with its last check and its CI's
// RPO status.
func (u *UI) backupList(w http.ResponseWriter, r *http.Request) {
	ctx, q := r.Context(), r.URL.Query()
	v := backupsView{CI: strings.TrimSpace(q.Get("ci")), Kind: q.Get("kind"), Status: q.Get("status"),
		Kinds: backup.Kinds, Statuses: checkStatuses()}
	var problems orchestrator.Validation
	if v.Kind != "" && !slices.Contains(v.Kinds, backup.Kind(v.Kind)) {
		problems.Add("kind", "must be one of restic, borg, pgbackrest, pg_basebackup, file, http")
	}
	if v.Status != "" && !slices.Contains(v.Statuses, v.Status) {
		problems.Add("status", "must be one of %s", strings.Join(v.Statuses, ", "))
	}
	if err := problems.Err(); err != nil {
		u.fail(w, r, err)
		return
	}
	var targets []backup.Target
	err := orchestrator.EachPage(func(page orchestrator.Page) (orchestrator.List[backup.Target], error) {
		return u.svc.Backups.List(ctx, backup.Filter{CI: v.CI, Kind: backup.Kind(v.Kind), Status: v.Status}, page)
	}, func(t backup.Target) { targets = append(targets, t) })
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if v.Items, err = u.targetRows(ctx, targets); err != nil {
		u.fail(w, r, err)
		return
	}
	u.render(w, r, http.StatusOK, "backups", v)
}

// targetRows adds to each target its CI's RPO status.
func (u *UI) targetRows(ctx context.Context, targets []backup.Target) ([]targetRow, error) {
	var keys []string
	for _, t := range targets {
		keys = append(keys, t.CI)
	}
	now := u.rt.Now()
	rpo, err := u.rpoStatuses(ctx, keys, now)
	if err != nil {
		return nil, err
	}
	out := make([]targetRow, 0, len(targets))
	for _, t := range targets {
		row := targetRow{Target: t, RPO: rpo[t.CI]}
		if t.LastCheck != nil {
			row.BackupAge = ageAt(now, t.LastCheck.LatestBackupAt)
		}
		out = append(out, row)
	}
	return out, nil
}

// rpoStatuses judges each CI's newest verified backup against the RPO it
// must meet, as the readiness score does: the evidence is the backup
// capability's, the requirement the impact model's roll-down.
func (u *UI) rpoStatuses(ctx context.Context, keys []string, now time.Time) (map[string]rpoView, error) {
	out := map[string]rpoView{}
	if len(keys) == 0 {
		return out, nil
	}
	reqs, err := u.svc.Impact.RequirementsOf(ctx, keys)
	if err != nil {
		return nil, err
	}
	verified, err := u.svc.Backups.VerifiedBackups(ctx, now)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		v := rpoView{State: orchestrator.RPOUnknown, Newest: verified[k], Age: ageAt(now, verified[k]), Required: reqs[k].RPO}
		if v.Required != nil {
			var age *time.Duration
			if v.Age != nil {
				a := time.Duration(*v.Age)
				age = &a
			}
			v.State = backup.Classify(age, *v.Required)
		}
		out[k] = v
	}
	return out, nil
}

// ageAt is how long before now t was, to the minute past an hour and to
// the second below; nil without t.
func ageAt(now time.Time, t *time.Time) *orchestrator.Duration {
	if t == nil {
		return nil
	}
	d := max(0, now.Sub(*t))
	if d >= time.Hour {
		d = d.Round(time.Minute)
	} else {
		d = d.Round(time.Second)
	}
	age := orchestrator.Duration(d)
	return &age
}

// backupView is a target's page: the target, its CI's RPO status, its
// recent checks and, after "check now", that check's result or that it is
// still running (the page then follows the history until it lands).
type backupView struct {
	Target   targetRow
	Checks   []checkRow
	CanCheck bool
	Result   *checkRow
	Running  bool
	After    int64
}

// checkRow is a check with the age of the backup it found and its size in
// words.
type checkRow struct {
	backup.Check
	BackupAge *orchestrator.Duration
	Size      string
}

// backupTarget shows a target and its recent checks. ?checked= names a
// check just run; ?after_check= the newest check before one still running.
func (u *UI) backupTarget(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		u.notFound(w, r)
		return
	}
	ctx, q := r.Context(), r.URL.Query()
	t, err := u.svc.Backups.Get(ctx, id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	rows, err := u.targetRows(ctx, []backup.Target{t})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	checks, err := u.svc.Backups.Checks(ctx, id, orchestrator.Page{Limit: shownChecks})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := backupView{Target: rows[0], CanCheck: actor(ctx).Role.Allowed(orchestrator.CheckRunners)}
	for _, c := range checks.Items {
		v.Checks = append(v.Checks, checkRow{Check: c, BackupAge: ageAt(c.StartedAt, c.LatestBackupAt), Size: sizeText(c.SizeBytes)})
	}
	checked, _ := strconv.ParseInt(q.Get("checked"), 10, 64)
	if after, err := strconv.ParseInt(q.Get("after_check"), 10, 64); err == nil && after >= 0 {
		if len(v.Checks) == 0 || v.Checks[0].ID <= after {
			v.Running, v.After = true, after
		} else {
			checked = v.Checks[0].ID
		}
	}
	for i := range v.Checks {
		if v.Checks[i].ID == checked {
			v.Result = &v.Checks[i]
		}
	}
	u.render(w, r, http.StatusOK, "backup", v)
}

// checkNow checks a target now, as the API's POST
// /backup-targets/{id}/check does, and shows the recorded result; a check
// that takes longer than checkWait goes on after the answer (it is the
// caller's, audited as theirs) and the page follows it until it is
// recorded.
func (u *UI) checkNow(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		u.notFound(w, r)
		return
	}
	t, err := u.svc.Backups.Get(r.Context(), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	var before int64
	if t.LastCheck != nil {
		before = t.LastCheck.ID
	}
	type outcome struct {
		check backup.Check
		err   error
	}
	done := make(chan outcome, 1)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), backup.MaxCheckDuration)
	go func() {
		defer cancel()
		c, err := u.svc.Backups.CheckNow(ctx, id)
		if err != nil {
			u.log.Warn("backup check now failed", "target", id, "err", err.Error())
		}
		done <- outcome{c, err}
	}()
	wait := time.NewTimer(checkWait)
	defer wait.Stop()
	page := "/backups/" + strconv.FormatInt(id, 10)
	select {
	case o := <-done:
		if o.err != nil {
			u.fail(w, r, o.err)
			return
		}
		http.Redirect(w, r, page+"?checked="+strconv.FormatInt(o.check.ID, 10), http.StatusSeeOther)
	case <-wait.C:
		http.Redirect(w, r, page+"?after_check="+strconv.FormatInt(before, 10), http.StatusSeeOther)
	}
}

// sizeText writes a byte count in binary units.
func sizeText(n *int64) string {
	if n == nil {
		return "—"
	}
	v, unit := float64(*n), 0
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	for v >= 1024 && unit < len(units)-1 {
		v, unit = v/1024, unit+1
	}
	if unit == 0 {
		return fmt.Sprintf("%d B", *n)
	}
	return fmt.Sprintf("%.1f %s", v, units[unit])
}

// backupsWords are the words of these pages, in the source documents'
// terms (备份, 恢复点目标 RPO).
var backupsWords = map[string]map[string]string{
	langEN: {
		"backups": "Backups", "backup_help": "Every backup target, its latest check with the real tool, and whether the newest verified backup meets the recovery point objective (RPO) its CI must meet.",
		"backup_target": "Target", "backup_ci": "CI", "backup_kind": "Kind", "backup_schedule": "Check schedule",
		"backup_last_check": "Last check", "backup_newest": "Newest backup found", "backup_rpo": "RPO status",
		"backup_required": "Required RPO", "backup_verified_age": "Newest verified backup", "backup_never": "Never checked",
		"backup_no_requirement": "No approved BIA requires an RPO of this CI.", "backup_none": "No backup target.",
		"backup_kind_restic": "restic", "backup_kind_borg": "Borg", "backup_kind_pgbackrest": "pgBackRest",
		"backup_kind_pg_basebackup": "pg_basebackup", "backup_kind_file": "Files", "backup_kind_http": "HTTP endpoint",
		"backup_status_ok": "OK", "backup_status_warning": "Warning", "backup_status_failed": "Failed",
		"backup_status_error": "Check error", "backup_status_none": "Not checked",
		"backup_rpo_compliant": "Compliant", "backup_rpo_at_risk": "At risk", "backup_rpo_breached": "Breached",
		"backup_rpo_unknown": "Unknown", "backup_checks": "Recent checks", "backup_trigger": "By",
		"backup_trigger_manual": "on request", "backup_trigger_schedule": "schedule", "backup_verified": "Verified",
		"backup_size": "Size", "backup_took": "Took", "backup_attempts": "Attempts", "backup_message": "What the check found",
		"backup_output": "Tool output", "backup_check_now": "Check now",
		"backup_checking": "The check is still running; its result will appear in the history below.",
		"backup_checked":  "Checked now:", "backup_timeout": "Timeout", "backup_max_age": "Maximum age",
		"backup_restore_test": "Restore test", "backup_config": "Settings (secret references only)",
		"backup_no_checks": "No check yet.", "backup_old": "old", "backup_all_kinds": "Any", "backup_yes": "yes", "backup_no": "no",
	},
	langZH: {
		"backups": "备份", "backup_help": "全部备份目标、最近一次用实际备份工具进行的检查，以及最新已验证备份是否满足其配置项须达到的恢复点目标（RPO）。",
		"backup_target": "备份目标", "backup_ci": "配置项", "backup_kind": "类型", "backup_schedule": "检查计划",
		"backup_last_check": "最近检查", "backup_newest": "发现的最新备份", "backup_rpo": "RPO 状态",
		"backup_required": "要求的 RPO", "backup_verified_age": "最新已验证备份", "backup_never": "从未检查",
		"backup_no_requirement": "没有已批准的业务影响分析对该配置项提出 RPO 要求。", "backup_none": "没有备份目标。",
		"backup_kind_restic": "restic", "backup_kind_borg": "Borg", "backup_kind_pgbackrest": "pgBackRest",
		"backup_kind_pg_basebackup": "pg_basebackup", "backup_kind_file": "文件", "backup_kind_http": "HTTP 接口",
		"backup_status_ok": "正常", "backup_status_warning": "警告", "backup_status_failed": "失败",
		"backup_status_error": "检查出错", "backup_status_none": "未检查",
		"backup_rpo_compliant": "满足", "backup_rpo_at_risk": "有风险", "backup_rpo_breached": "已超出",
		"backup_rpo_unknown": "未知", "backup_checks": "最近检查记录", "backup_trigger": "触发方式",
		"backup_trigger_manual": "手动", "backup_trigger_schedule": "计划任务", "backup_verified": "已验证",
		"backup_size": "大小", "backup_took": "耗时", "backup_attempts": "尝试次数", "backup_message": "检查结果",
		"backup_output": "工具输出", "backup_check_now": "立即检查",
		"backup_checking": "检查仍在进行，结果将显示在下方的检查记录中。",
		"backup_checked":  "检查完成：", "backup_timeout": "超时", "backup_max_age": "最长备份间隔",
		"backup_restore_test": "恢复测试", "backup_config": "配置（仅含密钥引用）",
		"backup_no_checks": "尚无检查记录。", "backup_old": "前", "backup_all_kinds": "不限", "backup_yes": "是", "backup_no": "否",
	},
}
