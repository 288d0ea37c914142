package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

type scheduleBody struct {
	ID            int64      `json:"id"`
	Name          string     `json:"name"`
	Kind          string     `json:"kind"`
	Target        string     `json:"target"`
	Cron          string     `json:"cron"`
	Timezone      string     `json:"timezone"`
	Enabled       bool       `json:"enabled"`
	CatchUpWindow string     `json:"catch_up_window"`
	Jitter        string     `json:"jitter"`
	MaxRun        string     `json:"max_run"`
	NextFireAt    *time.Time `json:"next_fire_at"`
	CreatedBy     string     `json:"created_by"`
}

type runBody struct {
	ID         int64     `json:"id"`
	ScheduleID int64     `json:"schedule_id"`
	FireAt     time.Time `json:"fire_at"`
	Manual     bool      `json:"manual"`
	Status     string    `json:"status"`
	Attempts   int       `json:"attempts"`
}

func TestScheduleLifecycle(t *testing.T) {
	env := setup(t)
	cm := orchestrator.RoleContinuityManager

	resp := env.do("POST", "/api/v1/schedules", cm, map[string]any{
		"name": "db1 backup check", "kind": "backup_check", "target": "42", "cron": "*/5 * * * *", "timezone": "Europe/Berlin",
	})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	var sc scheduleBody
	resp.JSON(t, &sc)
	require.Equal(t, "Europe/Berlin", sc.Timezone)
	require.True(t, sc.Enabled)
	require.Equal(t, "1h", sc.CatchUpWindow, "default catch-up window")
	require.Equal(t, "0s", sc.Jitter)
	require.Equal(t, "1h", sc.MaxRun)
	require.Equal(t, "test-continuity_manager", sc.CreatedBy)
	require.NotNil(t, sc.NextFireAt)
	require.WithinDuration(t, time.Now(), *sc.NextFireAt, 5*time.Minute)
	require.Zero(t, sc.NextFireAt.Minute()%5)
	id := itoa(sc.ID)

	// Everyone who reads records can read it; executives cannot.
	require.Equal(t, http.StatusOK, env.do("GET", "/api/v1/schedules/"+id, orchestrator.RoleOperator, nil).Status)
	require.Equal(t, http.StatusForbidden, env.do("GET", "/api/v1/schedules/"+id, orchestrator.RoleExecutive, nil).Status)
	require.Equal(t, http.StatusForbidden, env.do("PATCH", "/api/v1/schedules/"+id, orchestrator.RoleOperator, map[string]any{"enabled": false}).Status)

	resp = env.do("POST", "/api/v1/schedules", cm, map[string]any{"name": "monthly kit", "kind": "kit_export", "cron": "@monthly"})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	var list struct {
		Items []scheduleBody `json:"items"`
	}
	env.do("GET", "/api/v1/schedules?kind=backup_check&enabled=true", orchestrator.RoleAuditor, nil).JSON(t, &list)
	require.Len(t, list.Items, 1)
	require.Equal(t, sc.ID, list.Items[0].ID)

	// PATCH changes only what it names; a new expression moves the next firing.
	resp = env.do("PATCH", "/api/v1/schedules/"+id, cm, map[string]any{"cron": "0 3 * * *", "jitter": "10m"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var patched scheduleBody
	resp.JSON(t, &patched)
	require.Equal(t, "0 3 * * *", patched.Cron)
	require.Equal(t, "10m", patched.Jitter)
	require.Equal(t, "42", patched.Target)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	require.Equal(t, 3, patched.NextFireAt.In(berlin).Hour())

	// Fire now: a pending manual run appears in the history.
	resp = env.do("POST", "/api/v1/schedules/"+id+"/run", cm, nil)
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	var run runBody
	resp.JSON(t, &run)
	require.Equal(t, "pending", run.Status)
	require.True(t, run.Manual)
	require.Zero(t, run.Attempts)
	var runs struct {
		Items []runBody `json:"items"`
	}
	env.do("GET", "/api/v1/schedules/"+id+"/runs", orchestrator.RoleAuditor, nil).JSON(t, &runs)
	require.Len(t, runs.Items, 1)
	require.Equal(t, run.ID, runs.Items[0].ID)

	// Every mutation is audited.
	var audit struct {
		Items []struct {
			Action string `json:"action"`
			Actor  string `json:"actor"`
		} `json:"items"`
	}
	env.do("GET", "/api/v1/audit?resource=schedules&resource_id="+id, orchestrator.RoleAuditor, nil).JSON(t, &audit)
	require.Len(t, audit.Items, 3)
	require.Equal(t, []string{"run", "update", "create"}, []string{audit.Items[0].Action, audit.Items[1].Action, audit.Items[2].Action})

	require.Equal(t, http.StatusNoContent, env.do("DELETE", "/api/v1/schedules/"+id, cm, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/schedules/"+id, cm, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/schedules/"+id+"/runs", cm, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("POST", "/api/v1/schedules/"+id+"/run", cm, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("DELETE", "/api/v1/schedules/"+id, cm, nil).Status)
	var runRows int
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT count(*) FROM schedule_runs`).Scan(&runRows))
	require.Zero(t, runRows, "history goes with the schedule")
}

func TestScheduleRunsPagination(t *testing.T) {
	env := setup(t)
	admin := orchestrator.RoleAdmin
	var sc scheduleBody
	env.do("POST", "/api/v1/schedules", admin, map[string]any{"name": "weekly kit", "kind": "kit_export", "cron": "@weekly"}).JSON(t, &sc)
	id := itoa(sc.ID)
	var fired []int64
	for range 5 {
		var run runBody
		resp := env.do("POST", "/api/v1/schedules/"+id+"/run", admin, nil)
		require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
		resp.JSON(t, &run)
		fired = append(fired, run.ID)
	}
	var seen []int64
	next := ""
	for range 10 {
		resp := env.do("GET", "/api/v1/schedules/"+id+"/runs?limit=2&after="+url.QueryEscape(next), orchestrator.RoleOperator, nil)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		var page struct {
			Items []runBody `json:"items"`
			Next  string    `json:"next"`
		}
		resp.JSON(t, &page)
		for _, r := range page.Items {
			seen = append(seen, r.ID)
		}
		if next = page.Next; next == "" {
			break
		}
	}
	require.Equal(t, []int64{fired[4], fired[3], fired[2], fired[1], fired[0]}, seen, "latest first, each once")

	var pending struct {
		Items []runBody `json:"items"`
	}
	env.do("GET", "/api/v1/schedules/"+id+"/runs?status=succeeded", admin, nil).JSON(t, &pending)
	require.Empty(t, pending.Items)

	for name, query := range map[string]string{
		"bad status": "?status=done", "unknown filter": "?state=pending", "bad cursor": "?after=bm9wZQ", "bad limit": "?limit=0",
	} {
		resp := env.do("GET", "/api/v1/schedules/"+id+"/runs"+query, admin, nil)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s: %s", name, resp.Body)
	}
	require.Equal(t, http.StatusUnprocessableEntity, env.do("GET", "/api/v1/schedules/abc/runs", admin, nil).Status)
}

func TestScheduleValidation(t *testing.T) {
	env := setup(t)
	valid := func(overrides map[string]any) map[string]any {
		body := map[string]any{"name": "nightly", "kind": "backup_check", "cron": "0 2 * * *"}
		for k, v := range overrides {
			if v == nil {
				delete(body, k)
				continue
			}
			body[k] = v
		}
		return body
	}
	cases := map[string]struct {
		body    any
		status  int
		field   string
		message string
	}{
		"bad cron":             {valid(map[string]any{"cron": "* * * *"}), 422, "cron", "expected exactly 5 fields, found 4"},
		"cron out of range":    {valid(map[string]any{"cron": "0 25 * * *"}), 422, "cron", "end of range (25) above maximum (23)"},
		"unknown descriptor":   {valid(map[string]any{"cron": "@sometimes"}), 422, "cron", "unrecognized descriptor"},
		"cron never fires":     {valid(map[string]any{"cron": "0 0 30 2 *"}), 422, "cron", "never fires"},
		"too frequent":         {valid(map[string]any{"cron": "@every 5s"}), 422, "cron", "at least 1m"},
		"zone in cron":         {valid(map[string]any{"cron": "CRON_TZ=UTC 0 2 * * *"}), 422, "cron", "timezone field"},
		"unknown zone":         {valid(map[string]any{"timezone": "Europe/Atlantis"}), 422, "timezone", "unknown time zone"},
		"path traversal zone":  {valid(map[string]any{"timezone": "../../../etc/passwd"}), 422, "timezone", "unknown time zone"},
		"missing name":         {valid(map[string]any{"name": nil}), 422, "name", "is required"},
		"missing cron":         {valid(map[string]any{"cron": nil}), 422, "cron", "is required"},
		"unknown kind":         {valid(map[string]any{"kind": "backup"}), 422, "kind", "must be one of"},
		"kind without handler": {valid(map[string]any{"kind": "report"}), 422, "kind", "no handler runs report schedules yet"},
		"control characters":   {valid(map[string]any{"name": "night\x1bly"}), 422, "name", "control characters"},
		"long target":          {valid(map[string]any{"target": strings.Repeat("t", 501)}), 422, "target", "at most 500 bytes"},
		"bad duration":         {valid(map[string]any{"catch_up_window": "soon"}), 422, "catch_up_window", "invalid duration"},
		"negative jitter":      {valid(map[string]any{"jitter": "-5m"}), 422, "jitter", ""},
		"jitter too long":      {valid(map[string]any{"jitter": "2h"}), 422, "jitter", "from 0s to 1h"},
		"zero max run":         {valid(map[string]any{"max_run": "0"}), 422, "max_run", "from 1s to 24h"},
		"unknown field":        {valid(map[string]any{"command": "rm -rf /"}), 422, "command", "is not a known field"},
		"wrong type":           {valid(map[string]any{"enabled": "yes"}), 422, "enabled", ""},
		"duration as number":   {valid(map[string]any{"max_run": 60}), 422, "max_run", ""},
		"non-UTF-8 cron":       {`{"name":"x","kind":"kit_export","cron":"` + "\xff" + ` * * * *"}`, 422, "cron", ""},
		"malformed":            {`{"name":`, 422, "", ""},
		"not an object":        {`["nightly"]`, 422, "", ""},
		"empty":                {"", 422, "", ""},
		"oversized":            {valid(map[string]any{"target": strings.Repeat("a", 2<<20)}), 413, "", ""},
		"sql-looking name":     {valid(map[string]any{"name": "x'); DROP TABLE schedules; --"}), 201, "", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var before int
			require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT count(*) FROM schedules`).Scan(&before))
			resp := env.do("POST", "/api/v1/schedules", orchestrator.RoleAdmin, c.body)
			require.Equal(t, c.status, resp.Status, "body: %s", resp.Body)
			if c.status < 400 {
				return
			}
			var body struct {
				Error struct {
					Message string                    `json:"message"`
					Fields  []orchestrator.FieldError `json:"fields"`
				} `json:"error"`
			}
			resp.JSON(t, &body)
			require.NotEmpty(t, body.Error.Message)
			if c.field != "" {
				require.NotEmpty(t, body.Error.Fields, "%s", resp.Body)
				require.Equal(t, c.field, body.Error.Fields[0].Field)
				require.Contains(t, body.Error.Fields[0].Message, c.message)
			}
			var after int
			require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT count(*) FROM schedules`).Scan(&after))
			require.Equal(t, before, after, "nothing written")
		})
	}
}

func TestScheduleConflictsAndPatchValidation(t *testing.T) {
	env := setup(t)
	admin := orchestrator.RoleAdmin
	var a, b scheduleBody
	env.do("POST", "/api/v1/schedules", admin, map[string]any{"name": "a", "kind": "kit_export", "cron": "@daily"}).JSON(t, &a)
	env.do("POST", "/api/v1/schedules", admin, map[string]any{"name": "b", "kind": "kit_export", "cron": "@daily"}).JSON(t, &b)

	dup := env.do("POST", "/api/v1/schedules", admin, map[string]any{"name": "a", "kind": "backup_check", "cron": "@daily"})
	require.Equal(t, http.StatusConflict, dup.Status)
	require.Contains(t, string(dup.Body), `"field":"name"`)
	rename := env.do("PATCH", "/api/v1/schedules/"+itoa(b.ID), admin, map[string]any{"name": "a"})
	require.Equal(t, http.StatusConflict, rename.Status)

	bad := env.do("PATCH", "/api/v1/schedules/"+itoa(a.ID), admin, map[string]any{"cron": "every day", "timezone": "Mars/Base"})
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
	require.Contains(t, string(bad.Body), `"field":"cron"`)
	require.Contains(t, string(bad.Body), `"field":"timezone"`)
	var unchanged scheduleBody
	env.do("GET", "/api/v1/schedules/"+itoa(a.ID), admin, nil).JSON(t, &unchanged)
	require.Equal(t, "@daily", unchanged.Cron)
	require.Equal(t, "UTC", unchanged.Timezone)

	require.Equal(t, http.StatusOK, env.do("PATCH", "/api/v1/schedules/"+itoa(a.ID), admin, map[string]any{}).Status)
	require.Equal(t, http.StatusNotFound, env.do("PATCH", "/api/v1/schedules/999999", admin, map[string]any{"enabled": false}).Status)
	require.Equal(t, http.StatusUnprocessableEntity, env.do("PATCH", "/api/v1/schedules/-1", admin, map[string]any{}).Status)
	require.Equal(t, http.StatusUnprocessableEntity, env.do("GET", "/api/v1/schedules?kind=backup", admin, nil).Status)
	require.Equal(t, http.StatusUnprocessableEntity, env.do("GET", "/api/v1/schedules?enabled=maybe", admin, nil).Status)
}

// A kind no handler runs is refused, at creation and on change, with a
// message naming the field and the kinds that can be scheduled; a kind
// with a handler is accepted.
func TestScheduleKindsWithoutHandler(t *testing.T) {
	env := setup(t)
	admin := orchestrator.RoleAdmin
	kindError := func(resp *response) string {
		t.Helper()
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
		var body struct {
			Error struct {
				Fields []orchestrator.FieldError `json:"fields"`
			} `json:"error"`
		}
		resp.JSON(t, &body)
		require.Len(t, body.Error.Fields, 1, "%s", resp.Body)
		require.Equal(t, "kind", body.Error.Fields[0].Field)
		return body.Error.Fields[0].Message
	}

	for _, kind := range []string{"report", "review_reminder"} {
		msg := kindError(env.do("POST", "/api/v1/schedules", admin, map[string]any{"name": kind, "kind": kind, "cron": "@weekly"}))
		require.Equal(t, "no handler runs "+kind+" schedules yet; the kinds that can be scheduled are: backup_check, drill, kit_export", msg)
	}
	var n int
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT count(*) FROM schedules`).Scan(&n))
	require.Zero(t, n, "nothing written")

	resp := env.do("POST", "/api/v1/schedules", admin, map[string]any{"name": "nightly kit", "kind": "kit_export", "cron": "@daily"})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	var sc scheduleBody
	resp.JSON(t, &sc)
	require.Equal(t, "kit_export", sc.Kind)

	msg := kindError(env.do("PATCH", "/api/v1/schedules/"+itoa(sc.ID), admin, map[string]any{"kind": "report"}))
	require.Contains(t, msg, "no handler runs report schedules yet")
	env.do("GET", "/api/v1/schedules/"+itoa(sc.ID), admin, nil).JSON(t, &sc)
	require.Equal(t, "kit_export", sc.Kind, "unchanged")
}
