package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/migrations"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/itsmsync"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
)

// An itsm_sync schedule is created through the API when its target reads:
// a target that names a secret's value, or a variable no secret reference
// may name, is a 422 on field target saying which setting is wrong, and
// nothing is written.
func TestScheduleITSMSync(t *testing.T) {
	env := setup(t)
	services := testServices(env.pool)
	syncs := itsmsync.NewSyncer(env.pool, orchestrator.Runtime{}, itsmsync.Options{Imports: services.Imports, Secrets: testSecrets})
	services.Schedules = scheduler.NewService(env.pool, orchestrator.Runtime{}, scheduler.ServiceOptions{
		Handled: []scheduler.Kind{scheduler.KindITSMSync},
		Targets: map[scheduler.Kind]func(string) error{scheduler.KindITSMSync: syncs.CheckTarget}})
	migrator, err := postgres.NewMigrator(env.pool, migrations.FS, nil)
	require.NoError(t, err)
	env.server = NewServer(Options{Pool: env.pool, Migrator: migrator, Services: services, BaseURL: "http://bcdr.test"})
	admin := orchestrator.RoleAdmin

	base := "servicenow?instance=https://acme.service-now.com&tables=cmdb_ci,cmdb_rel_ci,incident&auth=basic&user=svc_bcdr"
	for password, want := range map[string]string{
		"hunter2":         "password must be a secret reference, env:NAME or file:/path, never the secret itself",
		"env:SN_PASSWORD": `password "SN_PASSWORD" is not a secret bcdr may read: name variables BCDR_SECRET_… or list them in BCDR_SECRET_ENV`,
	} {
		resp := env.do("POST", "/api/v1/schedules", admin, map[string]any{"name": "servicenow", "kind": "itsm_sync",
			"cron": "0 2 * * *", "target": base + "&password=" + password})
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
		var body struct {
			Error struct {
				Fields []orchestrator.FieldError `json:"fields"`
			} `json:"error"`
		}
		resp.JSON(t, &body)
		require.Equal(t, []orchestrator.FieldError{{Field: "target", Message: want}}, body.Error.Fields[:1])
		require.NotContains(t, string(resp.Body), "hunter2", "a secret given by mistake is not echoed")
	}
	var n int
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT count(*) FROM schedules`).Scan(&n))
	require.Zero(t, n, "nothing written")

	resp := env.do("POST", "/api/v1/schedules", admin, map[string]any{"name": "servicenow", "kind": "itsm_sync",
		"cron": "0 2 * * *", "target": base + "&password=env:BCDR_SECRET_SN"})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	var sc scheduleBody
	resp.JSON(t, &sc)
	require.Equal(t, "itsm_sync", sc.Kind)
}
