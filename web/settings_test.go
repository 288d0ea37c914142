package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
)

// adminCtx is a context acting as an administrator, to read and seed
// through the services.
func adminCtx() context.Context {
	return orchestrator.WithActor(context.Background(), orchestrator.Actor{Name: "test", Role: orchestrator.RoleAdmin})
}

func TestSettingsBIA(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := adminCtx()
	admin := e.signIn("root", orchestrator.RoleAdmin)

	status, body := admin.get("/settings")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `action="/settings/bia"`)
	require.Contains(t, body, `<label for="bia-time-points">`)

	good := url.Values{"categories": {"financial, operational, customer, regulatory, reputational, environmental"},
		"time_points": {"1h, 4h, 8h, 24h, 3d, 7d"}, "intolerable_level": {"3"}, "tier_bounds": {"1h, 4h, 24h, 72h"}, "currency": {"CNY"}}
	status, body = admin.post("/settings/bia", good)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The BIA settings were saved.")
	saved, err := e.wired.Impact.Settings(ctx)
	require.NoError(t, err)
	require.Equal(t, "CNY", saved.Currency)
	require.Equal(t, 3, saved.IntolerableLevel)
	require.Contains(t, saved.Categories, "environmental")
	require.Equal(t, "168h", saved.TimePoints[5].String())
	require.Contains(t, body, `value="1h, 4h, 8h, 24h, 72h, 168h"`, "the form shows what is stored")

	// Each bad value is refused naming its field, with what was typed kept
	// in the form, and nothing is saved.
	for _, tc := range []struct{ field, value, named string }{
		{"time_points", "1h, 4h, soon", "time_points[2]"},
		{"time_points", "4h, 1h", "time_points[1]"},
		{"intolerable_level", "9", "intolerable_level"},
		{"intolerable_level", "severe", "intolerable_level"},
		{"tier_bounds", "", "tier_bounds"},
		{"currency", "euro", "currency"},
		{"categories", "Financial'; DROP TABLE bia_settings; --", "categories[0]"},
	} {
		bad := url.Values{}
		for k, v := range good {
			bad[k] = v
		}
		bad.Set(tc.field, tc.value)
		bad.Set("currency", map[bool]string{true: tc.value, false: "USD"}[tc.field == "currency"])
		status, body = admin.post("/settings/bia", bad)
		require.Equal(t, http.StatusUnprocessableEntity, status, tc.value)
		require.Contains(t, body, "<code>"+tc.named+"</code>", tc.value)
		require.Contains(t, body, "Not saved:")
		require.Contains(t, body, `aria-invalid="true"`)
		after, err := e.wired.Impact.Settings(ctx)
		require.NoError(t, err)
		require.Equal(t, saved, after, "nothing is written when %s is %q", tc.field, tc.value)
	}
}

func TestSettingsDrillPolicy(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := adminCtx()
	before, err := e.wired.Drills.Policies(ctx)
	require.NoError(t, err)
	require.Len(t, before, 5)

	manager := e.signIn("bcm", orchestrator.RoleContinuityManager)
	status, body := manager.get("/settings")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `action="/settings/drill-policy"`)
	require.NotContains(t, body, `action="/settings/bia"`, "BIA settings are the administrators'")
	status, _ = manager.post("/settings/bia", url.Values{"currency": {"USD"}})
	require.Equal(t, http.StatusForbidden, status)

	form := url.Values{}
	for _, p := range before {
		tier := strconv.Itoa(p.Tier)
		form.Add("tier", tier)
		form.Set("type_"+tier, p.Type)
		form.Set("per_year_"+tier, strconv.Itoa(p.PerYear))
	}
	form.Set("type_2", "technical")
	form.Set("per_year_2", "3")
	status, body = manager.post("/settings/drill-policy", form)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The drill policy was saved.")
	after, err := e.wired.Drills.Policies(ctx)
	require.NoError(t, err)
	require.Equal(t, "technical", after[2].Type)
	require.Equal(t, 3, after[2].PerYear)
	require.Equal(t, "bcm", after[2].UpdatedBy)

	for _, tc := range []struct{ key, value, named string }{
		{"per_year_3", "13", "tiers[3].per_year"},
		{"per_year_3", "twice", "tiers[3].per_year"},
		{"type_1", "<script>", "tiers[1].type"},
	} {
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set(tc.key, tc.value)
		status, body = manager.post("/settings/drill-policy", bad)
		require.Equal(t, http.StatusUnprocessableEntity, status, tc.value)
		require.Contains(t, body, "<code>"+tc.named+"</code>")
		require.NotContains(t, body, "<script>")
		now, err := e.wired.Drills.Policies(ctx)
		require.NoError(t, err)
		require.Equal(t, after, now, "nothing is written")
	}
}

func TestSettingsSchedules(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := adminCtx()
	l, err := e.wired.Schedules.List(ctx, scheduler.Filter{}, orchestrator.Page{Limit: 10})
	require.NoError(t, err)
	var sc scheduler.Schedule
	if len(l.Items) > 0 {
		sc = l.Items[0]
	} else {
		name, kind, cron := "monthly drill", scheduler.KindDrill, "0 9 1 * *"
		sc, err = e.wired.Schedules.Create(ctx, scheduler.Input{Name: &name, Kind: &kind, Cron: &cron})
		require.NoError(t, err)
	}
	id := strconv.FormatInt(sc.ID, 10)

	manager := e.signIn("bcm", orchestrator.RoleContinuityManager)
	status, body := manager.get("/settings")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, sc.Name)
	require.Contains(t, body, sc.Cron)
	require.Contains(t, body, `action="/settings/schedules/`+id+`"`)

	status, body = manager.post("/settings/schedules/"+id, url.Values{"enabled": {strconv.FormatBool(!sc.Enabled)}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The schedule was changed.")
	got, err := e.wired.Schedules.Get(ctx, sc.ID)
	require.NoError(t, err)
	require.Equal(t, !sc.Enabled, got.Enabled)

	status, _ = manager.post("/settings/schedules/"+id, url.Values{"enabled": {"maybe"}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	status, _ = manager.post("/settings/schedules/999999", url.Values{"enabled": {"true"}})
	require.Equal(t, http.StatusNotFound, status)
}

func TestSettingsRoles(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin := e.signIn("root", orchestrator.RoleAdmin)
	_, body := admin.get("/")
	for _, href := range []string{`href="/settings"`, `href="/channels"`, `href="/imports"`} {
		require.Contains(t, body, href)
	}

	// Readers read the settings, as in the API, and see no control.
	for _, role := range []orchestrator.Role{orchestrator.RoleOperator, orchestrator.RoleAuditor} {
		p := e.signIn(string(role), role)
		status, body := p.get("/settings")
		require.Equal(t, http.StatusOK, status, role)
		require.Contains(t, body, `href="/settings"`)
		require.NotContains(t, body, `method="post" action="/settings`, role)
		require.NotContains(t, body, `name="per_year_`, role)
		require.Contains(t, body, "Drill policy")
		for _, path := range []string{"/settings/bia", "/settings/drill-policy", "/settings/schedules/1"} {
			status, _ = p.post(path, url.Values{"enabled": {"false"}, "currency": {"USD"}})
			require.Equal(t, http.StatusForbidden, status, "%s %s", role, path)
		}
	}

	executive := e.signIn("ceo", orchestrator.RoleExecutive)
	status, _ := executive.get("/settings")
	require.Equal(t, http.StatusForbidden, status)
	_, body = executive.get("/")
	require.NotContains(t, body, `href="/settings"`)
	require.NotContains(t, body, `href="/channels"`)
}
