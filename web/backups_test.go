package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/demo"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/backup"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// withDemoBackups makes the demo's backups in a directory of the test's, as
// `bcdr demo` does under its data directory (a real restic repository with
// a fresh snapshot, and dump files whose job stopped three days ago, each
// with a target checked once), and serves the UI with a backup service
// that may read them, on the real clock the checks were made by.
func withDemoBackups(t *testing.T, e *env) (*backup.Service, demo.BackupReport) {
	t.Helper()
	dir := t.TempDir()
	rep, err := demo.SeedBackups(asManager(), e.pool, demo.BackupOptions{Dir: filepath.Join(dir, "demo")})
	require.NoError(t, err)
	require.NotEmpty(t, rep.Targets)
	return serveBackups(t, e, dir), rep
}

// serveBackups serves the UI with a backup service that may read backups
// under dir.
func serveBackups(t *testing.T, e *env, dir string) *backup.Service {
	t.Helper()
	svc := backup.NewService(e.pool, orchestrator.Runtime{}, backup.Options{Roots: []string{dir},
		Secrets: secretref.Policy{Dir: filepath.Join(dir, "secrets")}})
	w := e.wired
	ui := New(Options{Services: Services{Tokens: w.Tokens, Impact: w.Impact, Runbooks: w.Runbooks, Executions: w.Executions,
		Drills: w.Drills, Report: w.Report, Reports: w.Reports, Backups: svc}})
	e.srv = httptest.NewServer(ui)
	t.Cleanup(e.srv.Close)
	return svc
}

// targetOf is the seeded target of kind.
func targetOf(t *testing.T, rep demo.BackupReport, kind backup.Kind) backup.Target {
	t.Helper()
	i := slices.IndexFunc(rep.Targets, func(st demo.SeededTarget) bool { return st.Target.Kind == kind })
	require.GreaterOrEqual(t, i, 0, "the demo has a %s target", kind)
	return rep.Targets[i].Target
}

// The targets page lists every target with its CI, kind, schedule, last
// check and its CI's RPO status against the RPO the CI must meet; a
// target's page lists its checks; an operator checks a target now and sees
// the result, a failure with its reason.
func TestBackupPages(t *testing.T) {
	t.Parallel()
	e := setup(t)
	svc, rep := withDemoBackups(t, e)
	restic, dumps := targetOf(t, rep, backup.KindRestic), targetOf(t, rep, backup.KindFile)
	op := e.signIn("op", orchestrator.RoleOperator)

	status, body := op.get("/backups")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `href="/backups"`, "a menu entry")
	for _, st := range rep.Targets {
		tg := st.Target
		require.Contains(t, body, fmt.Sprintf(`<a href="/backups/%d">%s</a>`, tg.ID, esc(tg.Name)))
		require.Contains(t, body, "<td>"+tg.CI+"</td>")
		require.Contains(t, body, "<code>"+esc(tg.Schedule)+"</code>")
	}
	require.Contains(t, body, "<td>restic</td>")
	require.Contains(t, body, "<td>Files</td>")
	require.Contains(t, body, `<span class="badge rpo-compliant">Compliant</span>`, "the fresh restic snapshot")
	require.Contains(t, body, `<span class="badge rpo-breached">Breached</span>`, "dumps three days old against 15 minutes")
	require.Contains(t, body, "Required RPO: 15m")
	require.Contains(t, body, `<span class="badge chk-ok">OK</span>`)
	require.Contains(t, body, `<span class="badge chk-warning">Warning</span>`, "older than their max_age")

	_, body = op.get("/backups?kind=file")
	require.Contains(t, body, esc(dumps.Name))
	require.NotContains(t, body, esc(restic.Name))
	_, body = op.get("/backups?status=ok&ci=" + restic.CI)
	require.Contains(t, body, esc(restic.Name))
	require.NotContains(t, body, esc(dumps.Name))
	status, body = op.get("/backups?kind=tape")
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "kind: must be one of")

	page := fmt.Sprintf("/backups/%d", dumps.ID)
	status, body = op.get(page)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, esc(dumps.LastCheck.Message))
	require.Contains(t, body, `action="`+page+`/check"`)
	require.Contains(t, body, dumps.CI)

	// Check now: the result the check recorded.
	status, body = op.post(page+"/check", url.Values{})
	require.Equal(t, http.StatusOK, status, body)
	checks, err := svc.Checks(asManager(), dumps.ID, orchestrator.Page{Limit: 1})
	require.NoError(t, err)
	last := checks.Items[0]
	require.Equal(t, backup.TriggerManual, last.Trigger)
	require.NotEqual(t, dumps.LastCheck.ID, last.ID)
	require.Contains(t, body, "Checked now:")
	require.Contains(t, body, fmt.Sprintf(`<span class="badge chk-%s">`, last.Status))
	require.Contains(t, body, esc(last.Message))

	// The dumps are gone: the check fails and says why.
	var cfg backup.FileConfig
	require.NoError(t, json.Unmarshal(dumps.Config, &cfg))
	files, err := filepath.Glob(cfg.Path)
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		require.NoError(t, os.Remove(f))
	}
	status, body = op.post(page+"/check", url.Values{})
	require.Equal(t, http.StatusOK, status, body)
	checks, err = svc.Checks(asManager(), dumps.ID, orchestrator.Page{Limit: 1})
	require.NoError(t, err)
	last = checks.Items[0]
	require.Contains(t, []backup.CheckStatus{backup.StatusFailed, backup.StatusError}, last.Status)
	require.NotEmpty(t, last.Message)
	require.Contains(t, body, fmt.Sprintf(`<span class="badge chk-%s">`, last.Status))
	require.Contains(t, body, esc(last.Message))

	status, _ = op.post("/backups/999999/check", url.Values{})
	require.Equal(t, http.StatusNotFound, status)
	status, _ = op.get("/backups/999999")
	require.Equal(t, http.StatusNotFound, status)

	// In Chinese.
	status, _ = op.post("/lang", url.Values{"lang": {langZH}, "next": {"/backups"}})
	require.Equal(t, http.StatusOK, status)
	_, body = op.get("/backups")
	require.Contains(t, body, "恢复点目标（RPO）")
	require.Contains(t, body, `<span class="badge rpo-compliant">满足</span>`)
	require.Contains(t, body, `<span class="badge chk-failed">失败</span>`)
}

// Auditors read the backups but cannot check them; executives may not
// open them.
func TestBackupPagesByRole(t *testing.T) {
	t.Parallel()
	e := setup(t)
	dir := t.TempDir()
	svc := serveBackups(t, e, dir)
	cfg, err := json.Marshal(backup.FileConfig{Path: filepath.Join(dir, "*.tar")})
	require.NoError(t, err)
	tg, err := svc.Create(asManager(), backup.TargetInput{CI: "finance-db", Name: "finance exports", Kind: backup.KindFile,
		Schedule: "0 3 * * *", Config: cfg})
	require.NoError(t, err)
	page := fmt.Sprintf("/backups/%d", tg.ID)

	aud := e.signIn("auditor", orchestrator.RoleAuditor)
	status, body := aud.get(page)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "No check yet.")
	require.NotContains(t, body, "/check\"")
	_, body = aud.get("/backups")
	require.Contains(t, body, `<span class="none">Never checked</span>`)
	require.Contains(t, body, `<span class="badge rpo-unknown">Unknown</span>`)
	status, _ = aud.post(page+"/check", url.Values{})
	require.Equal(t, http.StatusForbidden, status)

	exec := e.signIn("cfo", orchestrator.RoleExecutive)
	_, body = exec.get("/")
	require.NotContains(t, body, `href="/backups"`)
	for _, path := range []string{"/backups", page} {
		status, _ := exec.get(path)
		require.Equal(t, http.StatusForbidden, status, path)
	}
	status, _ = exec.post(page+"/check", url.Values{})
	require.Equal(t, http.StatusForbidden, status)

	cm := e.signIn("cm", orchestrator.RoleContinuityManager)
	_, body = cm.get(page)
	require.Contains(t, body, `action="`+page+`/check"`, "continuity managers run checks too")
}

// Every value a backups page shows has its word in both languages.
func TestBackupWordsForEveryValue(t *testing.T) {
	t.Parallel()
	keys := []string{"backup_trigger_" + backup.TriggerManual, "backup_trigger_" + backup.TriggerSchedule}
	for _, k := range backup.Kinds {
		keys = append(keys, "backup_kind_"+string(k))
	}
	for _, s := range checkStatuses() {
		keys = append(keys, "backup_status_"+s)
	}
	for _, s := range []orchestrator.RPOState{orchestrator.RPOCompliant, orchestrator.RPOAtRisk, orchestrator.RPOBreached, orchestrator.RPOUnknown} {
		keys = append(keys, "backup_rpo_"+string(s))
	}
	for _, k := range keys {
		for _, lang := range languages {
			require.NotEmpty(t, dictionary[lang][k], "%s in %s", k, lang)
		}
	}
}
