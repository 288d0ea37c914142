package api

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

type backupTargetBody struct {
	ID         int64          `json:"id"`
	CI         string         `json:"ci"`
	Name       string         `json:"name"`
	Kind       string         `json:"kind"`
	Schedule   string         `json:"schedule"`
	ScheduleID *int64         `json:"schedule_id"`
	Config     map[string]any `json:"config"`
	Timeout    string         `json:"timeout"`
	MaxAge     *string        `json:"max_age"`
	LastCheck  *backupCheck   `json:"last_check"`
}

type backupCheck struct {
	ID             int64      `json:"id"`
	Status         string     `json:"status"`
	LatestBackupAt *time.Time `json:"latest_backup_at"`
	Verified       bool       `json:"verified"`
	SizeBytes      *int64     `json:"size_bytes"`
	Duration       string     `json:"duration"`
	Message        string     `json:"message"`
	Trigger        string     `json:"trigger"`
}

// backupDumps writes two dumps and a sha256sum manifest of them.
func backupDumps(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var manifest strings.Builder
	for i, name := range []string{"db1-1.dump", "db1-2.dump"} {
		content := strings.Repeat(name, 100)
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		at := time.Now().Add(time.Duration(i-2) * time.Hour)
		require.NoError(t, os.Chtimes(p, at, at))
		sum := sha256.Sum256([]byte(content))
		fmt.Fprintf(&manifest, "%s  %s\n", hex.EncodeToString(sum[:]), name)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(manifest.String()), 0o600))
	return dir
}

func createDB1(t *testing.T, env *testEnv) {
	t.Helper()
	resp := env.do("POST", "/api/v1/cis", cm, map[string]any{"key": "db1", "name": "Payroll DB", "class": "database", "data_bearing": true})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
}

func TestBackupTargetLifecycle(t *testing.T) {
	t.Parallel()
	env := setup(t)
	createDB1(t, env)
	dir := backupDumps(t)
	config := map[string]any{"path": dir + "/*.dump", "manifest": dir + "/SHA256SUMS", "min_size": 100}

	resp := env.do("POST", "/api/v1/backup-targets", cm, map[string]any{"ci": "db1", "kind": "file", "schedule": "*/5 * * * *", "config": config})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	var tg backupTargetBody
	resp.JSON(t, &tg)
	require.Equal(t, "db1 file", tg.Name)
	require.Equal(t, "30m", tg.Timeout)
	require.Nil(t, tg.MaxAge)
	require.Nil(t, tg.LastCheck)
	require.NotNil(t, tg.ScheduleID)
	id := itoa(tg.ID)

	// Its schedule is an ordinary backup_check schedule targeting it.
	var sc scheduleBody
	env.do("GET", "/api/v1/schedules/"+itoa(*tg.ScheduleID), orchestrator.RoleAuditor, nil).JSON(t, &sc)
	require.Equal(t, "backup_check", sc.Kind)
	require.Equal(t, id, sc.Target)
	require.Equal(t, "*/5 * * * *", sc.Cron)

	// Check now: the manifest proves the newest dump.
	resp = env.do("POST", "/api/v1/backup-targets/"+id+"/check", cm, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var c backupCheck
	resp.JSON(t, &c)
	require.Equal(t, "ok", c.Status, c.Message)
	require.True(t, c.Verified)
	require.EqualValues(t, 1000, *c.SizeBytes)
	require.WithinDuration(t, time.Now().Add(-time.Hour), *c.LatestBackupAt, time.Minute)
	require.Equal(t, "manual", c.Trigger)
	require.Contains(t, c.Message, "2 files match manifest")

	// A dump altered after the fact fails the next check.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "db1-1.dump"), []byte(strings.Repeat("x", 1000)), 0o600))
	env.do("POST", "/api/v1/backup-targets/"+id+"/check", cm, nil).JSON(t, &c)
	require.Equal(t, "failed", c.Status)
	require.False(t, c.Verified)

	// The target shows its latest check; the history pages newest first.
	env.do("GET", "/api/v1/backup-targets/"+id, orchestrator.RoleOperator, nil).JSON(t, &tg)
	require.Equal(t, "failed", tg.LastCheck.Status)
	var page struct {
		Items []backupCheck `json:"items"`
		Next  string        `json:"next"`
	}
	env.do("GET", "/api/v1/backup-targets/"+id+"/checks?limit=1", orchestrator.RoleAuditor, nil).JSON(t, &page)
	require.Len(t, page.Items, 1)
	require.Equal(t, "failed", page.Items[0].Status)
	require.NotEmpty(t, page.Next)
	next := page.Next
	page.Next = ""
	env.do("GET", "/api/v1/backup-targets/"+id+"/checks?limit=1&after="+url.QueryEscape(next), orchestrator.RoleAuditor, nil).JSON(t, &page)
	require.Len(t, page.Items, 1)
	require.Equal(t, "ok", page.Items[0].Status)
	require.Empty(t, page.Next)

	var list struct {
		Items []backupTargetBody `json:"items"`
	}
	env.do("GET", "/api/v1/backup-targets?ci=db1&kind=file&status=failed", orchestrator.RoleAuditor, nil).JSON(t, &list)
	require.Len(t, list.Items, 1)
	env.do("GET", "/api/v1/backup-targets?status=ok", orchestrator.RoleAuditor, nil).JSON(t, &list)
	require.Empty(t, list.Items)

	// Replace: a new schedule and a max_age.
	resp = env.do("PUT", "/api/v1/backup-targets/"+id, cm, map[string]any{"ci": "db1", "kind": "file", "name": "nightly dumps",
		"schedule": "@hourly", "timezone": "Asia/Shanghai", "max_age": "26h", "config": config})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &tg)
	require.Equal(t, "nightly dumps", tg.Name)
	require.Equal(t, "26h", *tg.MaxAge)
	env.do("GET", "/api/v1/schedules/"+itoa(*tg.ScheduleID), orchestrator.RoleAuditor, nil).JSON(t, &sc)
	require.Equal(t, "@hourly", sc.Cron)
	require.Equal(t, "Asia/Shanghai", sc.Timezone)

	// A CI with a backup target cannot be deleted from under it.
	require.Equal(t, http.StatusConflict, env.do("DELETE", "/api/v1/cis/db1", cm, nil).Status)

	require.Equal(t, http.StatusNoContent, env.do("DELETE", "/api/v1/backup-targets/"+id, cm, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/backup-targets/"+id, cm, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/schedules/"+itoa(*tg.ScheduleID), cm, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("POST", "/api/v1/backup-targets/"+id+"/check", cm, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/backup-targets/"+id+"/checks", cm, nil).Status)
}

func TestBackupTargetRoles(t *testing.T) {
	t.Parallel()
	env := setup(t)
	createDB1(t, env)
	body := map[string]any{"ci": "db1", "kind": "file", "schedule": "@daily", "config": map[string]any{"path": "/backups/db1/*.dump"}}
	require.Equal(t, http.StatusForbidden, env.do("POST", "/api/v1/backup-targets", orchestrator.RoleOperator, body).Status)
	require.Equal(t, http.StatusForbidden, env.do("POST", "/api/v1/backup-targets", orchestrator.RoleAuditor, body).Status)
	resp := env.do("POST", "/api/v1/backup-targets", orchestrator.RoleAdmin, body)
	require.Equal(t, http.StatusCreated, resp.Status)
	var tg backupTargetBody
	resp.JSON(t, &tg)
	require.Equal(t, http.StatusForbidden, env.do("GET", "/api/v1/backup-targets", orchestrator.RoleExecutive, nil).Status)
	require.Equal(t, http.StatusForbidden, env.do("POST", "/api/v1/backup-targets/"+itoa(tg.ID)+"/check", orchestrator.RoleAuditor, nil).Status)
	require.Equal(t, http.StatusForbidden, env.do("POST", "/api/v1/backup-targets/"+itoa(tg.ID)+"/check", orchestrator.RoleExecutive, nil).Status)

	// During an invocation operators are the ones who check: they may run
	// a check, which joins the target's history, but still not change targets.
	resp = env.do("POST", "/api/v1/backup-targets/"+itoa(tg.ID)+"/check", orchestrator.RoleOperator, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var c backupCheck
	resp.JSON(t, &c)
	require.Equal(t, "manual", c.Trigger)
	require.Equal(t, "failed", c.Status, "no dump matches: %s", c.Message)
	var checks struct {
		Items []backupCheck `json:"items"`
	}
	env.do("GET", "/api/v1/backup-targets/"+itoa(tg.ID)+"/checks", orchestrator.RoleOperator, nil).JSON(t, &checks)
	require.Len(t, checks.Items, 1)
	require.Equal(t, c.ID, checks.Items[0].ID)
	require.Equal(t, http.StatusForbidden, env.do("POST", "/api/v1/backup-targets", orchestrator.RoleOperator, body).Status)
	require.Equal(t, http.StatusForbidden, env.do("PUT", "/api/v1/backup-targets/"+itoa(tg.ID), orchestrator.RoleOperator, body).Status)
	require.Equal(t, http.StatusForbidden, env.do("DELETE", "/api/v1/backup-targets/"+itoa(tg.ID), orchestrator.RoleOperator, nil).Status)
	require.Equal(t, http.StatusUnauthorized, env.do("GET", "/api/v1/backup-targets", "", nil).Status)
	require.Equal(t, http.StatusOK, env.do("GET", "/api/v1/cis/db1/backup-status", orchestrator.RoleOperator, nil).Status)
}

func TestBackupTargetBadInput(t *testing.T) {
	t.Parallel()
	env := setup(t)
	createDB1(t, env)
	valid := func(edit func(map[string]any)) map[string]any {
		b := map[string]any{"ci": "db1", "kind": "restic", "schedule": "0 * * * *",
			"config": map[string]any{"repository": "/backups/restic", "password_file": "/run/secrets/restic.pw"}}
		edit(b)
		return b
	}
	cfg := func(k string, v any) func(map[string]any) {
		return func(b map[string]any) { b["config"].(map[string]any)[k] = v }
	}
	for name, tc := range map[string]struct {
		body   any
		status int
		field  string
		msg    string
	}{
		"inline password":    {valid(cfg("password", "hunter2")), 422, "config.password", "inline secrets are not accepted"},
		"credentials in URL": {valid(cfg("repository", "rest:https://admin:hunter2@backup.example/db1")), 422, "config.repository", "must not embed a password"},
		"secret as env name": {valid(func(b map[string]any) {
			b["config"] = map[string]any{"repository": "/backups/restic", "password_env": "p@ssw0rd value"}
		}), 422, "config.password_env", "not a value"},
		"unknown CI":            {valid(func(b map[string]any) { b["ci"] = "nope" }), 422, "ci", `no CI has key`},
		"SQL-looking CI":        {valid(func(b map[string]any) { b["ci"] = "db1' OR '1'='1" }), 422, "ci", "no CI has key"},
		"path traversal":        {valid(cfg("password_file", "/run/secrets/../shadow")), 422, "config.password_file", "clean path"},
		"secret file elsewhere": {valid(cfg("password_file", "/etc/shadow")), 422, "config.password_file", "under the secrets directory /run/secrets"},
		"unexposed variable": {valid(func(b map[string]any) {
			b["config"] = map[string]any{"repository": "/backups/restic", "password_env": "HOME"}
		}), 422, "config.password_env", `\"HOME\" is not a secret bcdr may read`},
		"repository elsewhere": {valid(cfg("repository", "/root/restic")), 422, "config.repository", "outside the backup roots"},
		"shadow file": {valid(func(b map[string]any) {
			b["kind"], b["config"] = "file", map[string]any{"path": "/etc/shadow"}
		}), 422, "config.path", "/etc/shadow is outside the backup roots"},
		"root's files": {valid(func(b map[string]any) {
			b["kind"], b["config"] = "file", map[string]any{"path": "/root/*"}
		}), 422, "config.path", "/root/* is outside the backup roots"},
		"any variable as a token": {valid(func(b map[string]any) {
			b["kind"], b["config"] = "http", map[string]any{"url": "https://backup.example/status", "time_field": "t", "bearer_token_env": "DATABASE_URL"}
		}), 422, "config.bearer_token_env", "is not a secret bcdr may read"},
		"control characters": {valid(cfg("repository", "/backups/\x1b[31mred")), 422, "config.repository", "printable"},
		"unknown kind":       {valid(func(b map[string]any) { b["kind"] = "tape" }), 422, "kind", "must be one of"},
		"unknown field":      {valid(func(b map[string]any) { b["colour"] = "red" }), 422, "colour", "not a known field"},
		"wrong type":         {valid(func(b map[string]any) { b["restore_test"] = "yes" }), 422, "restore_test", "must be"},
		"config wrong type":  {valid(cfg("read_data_subset", 5)), 422, "config.read_data_subset", "must be string"},
		"bad cron":           {valid(func(b map[string]any) { b["schedule"] = "every night" }), 422, "schedule", ""},
		"missing schedule":   {valid(func(b map[string]any) { delete(b, "schedule") }), 422, "schedule", "is required"},
		"bad timeout":        {valid(func(b map[string]any) { b["timeout"] = "forever" }), 422, "timeout", "from 1s to 23h"},
		"non-UTF-8 name":     {`{"ci":"db1","kind":"file","schedule":"@daily","name":"db\xff","config":{"path":"/b/x"}}`, 422, "", ""},
		"malformed JSON":     {`{"ci":"db1",`, 422, "", "truncated"},
		"oversized":          {valid(func(b map[string]any) { b["name"] = strings.Repeat("x", 2<<20) }), 413, "", ""},
	} {
		t.Run(name, func(t *testing.T) {
			resp := env.do("POST", "/api/v1/backup-targets", cm, tc.body)
			require.Equal(t, tc.status, resp.Status, "%s", resp.Body)
			if tc.field != "" {
				require.Contains(t, string(resp.Body), `"field":"`+tc.field+`"`)
			}
			require.Contains(t, string(resp.Body), tc.msg)
		})
	}
	// Nothing partial was written: no target, no schedule.
	var list struct {
		Items []map[string]any `json:"items"`
	}
	env.do("GET", "/api/v1/backup-targets", cm, nil).JSON(t, &list)
	require.Empty(t, list.Items)
	env.do("GET", "/api/v1/schedules?kind=backup_check", cm, nil).JSON(t, &list)
	require.Empty(t, list.Items)

	for _, path := range []string{"/api/v1/backup-targets/abc", "/api/v1/backup-targets/0/checks", "/api/v1/backup-targets?kind=tape",
		"/api/v1/backup-targets?colour=red", "/api/v1/backup-targets/1/checks?after=garbage"} {
		require.Equal(t, http.StatusUnprocessableEntity, env.do("GET", path, cm, nil).Status, path)
	}
}

func TestCIBackupStatus(t *testing.T) {
	t.Parallel()
	env := setup(t)
	createDB1(t, env)
	var st struct {
		CI      string  `json:"ci"`
		Age     *string `json:"age"`
		State   string  `json:"state"`
		Reason  string  `json:"reason"`
		Targets []struct {
			LastCheck *backupCheck `json:"last_check"`
		} `json:"targets"`
	}
	env.do("GET", "/api/v1/cis/db1/backup-status?rpo=4h", cm, nil).JSON(t, &st)
	require.Equal(t, "unknown", st.State)
	require.Equal(t, "no backup target", st.Reason)

	dir := backupDumps(t)
	resp := env.do("POST", "/api/v1/backup-targets", cm, map[string]any{"ci": "db1", "kind": "file", "schedule": "@daily",
		"config": map[string]any{"path": dir + "/*.dump", "manifest": dir + "/SHA256SUMS"}})
	var tg backupTargetBody
	resp.JSON(t, &tg)
	env.do("POST", "/api/v1/backup-targets/"+itoa(tg.ID)+"/check", cm, nil)

	// The newest dump is an hour old.
	st.State = ""
	env.do("GET", "/api/v1/cis/db1/backup-status", cm, nil).JSON(t, &st)
	require.Empty(t, st.State, "without an RPO only ages are reported")
	require.Equal(t, "1h0m0s", roundHour(t, *st.Age))
	require.Len(t, st.Targets, 1)
	require.Equal(t, "ok", st.Targets[0].LastCheck.Status)
	for rpo, want := range map[string]string{"30m": "breached", "70m": "at_risk", "4h": "compliant"} {
		env.do("GET", "/api/v1/cis/db1/backup-status?rpo="+rpo, cm, nil).JSON(t, &st)
		require.Equal(t, want, st.State, "rpo %s: %s", rpo, st.Reason)
	}

	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/cis/nope/backup-status", cm, nil).Status)
	require.Equal(t, http.StatusUnprocessableEntity, env.do("GET", "/api/v1/cis/db1/backup-status?rpo=soon", cm, nil).Status)
	require.Equal(t, http.StatusUnprocessableEntity, env.do("GET", "/api/v1/cis/db1/backup-status?colour=red", cm, nil).Status)
}

// roundHour reads an age and rounds it to the hour, as the test cannot
// fix the server's clock to the second.
func roundHour(t *testing.T, age string) string {
	t.Helper()
	d, err := time.ParseDuration(age)
	require.NoError(t, err)
	return d.Round(time.Hour).String()
}
