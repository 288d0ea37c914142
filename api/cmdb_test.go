package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

const cm = orchestrator.RoleContinuityManager

func TestCICRUD(t *testing.T) {
	t.Parallel()
	env := setup(t)
	svc := map[string]any{"key": "payroll", "name": "工资发放 Payroll", "class": "business_service",
		"service": map[string]any{"description": "pays staff", "timezone": "Asia/Shanghai",
			"business_hours": []any{map[string]any{"days": []string{"mon", "tue", "wed", "thu", "fri"}, "start": "08:00", "end": "18:00"}}}}
	resp := env.do("POST", "/api/v1/cis", cm, svc)
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	require.Contains(t, string(resp.Body), "工资发放")
	require.Contains(t, string(resp.Body), `"timezone":"Asia/Shanghai"`)

	db := map[string]any{"key": "db1", "name": "Payroll DB", "class": "database", "site": "dc1", "data_bearing": true,
		"recovery_strategy": "restore", "recovery_estimate": "2h", "attributes": map[string]any{"engine": "postgres"}}
	require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/cis", cm, db).Status)
	require.Equal(t, http.StatusConflict, env.do("POST", "/api/v1/cis", cm, db).Status)

	var got map[string]any
	env.do("GET", "/api/v1/cis/db1", orchestrator.RoleOperator, nil).JSON(t, &got)
	require.Equal(t, "2h", got["recovery_estimate"])
	require.Equal(t, "db1", got["external_id"])

	db["name"] = "Payroll database"
	require.Equal(t, http.StatusOK, env.do("PUT", "/api/v1/cis/db1", cm, db).Status)
	db["key"] = "db2"
	resp = env.do("PUT", "/api/v1/cis/db1", cm, db)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	require.Contains(t, string(resp.Body), `"field":"key"`)

	var page struct {
		Items []map[string]any `json:"items"`
	}
	env.do("GET", "/api/v1/cis?class=database&data_bearing=true", orchestrator.RoleAuditor, nil).JSON(t, &page)
	require.Len(t, page.Items, 1)
	env.do("GET", "/api/v1/cis?q=工资", orchestrator.RoleAuditor, nil).JSON(t, &page)
	require.Len(t, page.Items, 1)
	env.do("GET", "/api/v1/cis?q=%25", orchestrator.RoleAuditor, nil).JSON(t, &page)
	require.Empty(t, page.Items, "a %% in q matches literally")
	resp = env.do("GET", "/api/v1/cis?colour=red", orchestrator.RoleAuditor, nil)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	require.Contains(t, string(resp.Body), `"field":"colour"`)

	require.Equal(t, http.StatusNoContent, env.do("DELETE", "/api/v1/cis/db1", cm, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/cis/db1", cm, nil).Status)
}

func TestCIValidation(t *testing.T) {
	t.Parallel()
	env := setup(t)
	cases := map[string]struct {
		body  any
		field string
	}{
		"missing key":        {map[string]any{"name": "x", "class": "server"}, "key"},
		"key with slash":     {map[string]any{"key": "a/b", "name": "x", "class": "server"}, "key"},
		"sql key":            {map[string]any{"key": "x'; DROP TABLE cis;--", "name": "x", "class": "server"}, "key"},
		"bad class":          {map[string]any{"key": "a", "name": "x", "class": "Server Farm!"}, "class"},
		"bad strategy":       {map[string]any{"key": "a", "name": "x", "class": "server", "recovery_strategy": "pray"}, "recovery_strategy"},
		"bad estimate":       {map[string]any{"key": "a", "name": "x", "class": "server", "recovery_estimate": "soon"}, ""},
		"control characters": {map[string]any{"key": "a", "name": "x\x00y", "class": "server"}, "name"},
		"service on server":  {map[string]any{"key": "a", "name": "x", "class": "server", "service": map[string]any{}}, "service"},
		"bad zone": {map[string]any{"key": "a", "name": "x", "class": "business_service",
			"service": map[string]any{"timezone": "../../etc/passwd"}}, "service.timezone"},
		"bad window": {map[string]any{"key": "a", "name": "x", "class": "business_service",
			"service": map[string]any{"business_hours": []any{map[string]any{"days": []string{"mon"}, "start": "18:00", "end": "08:00"}}}}, "service.business_hours[0].end"},
		"wrong type": {`{"key":"a","name":"x","class":"server","data_bearing":"yes"}`, "data_bearing"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			resp := env.do("POST", "/api/v1/cis", cm, c.body)
			require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
			if c.field != "" {
				require.Contains(t, string(resp.Body), `"field":"`+c.field+`"`)
			}
		})
	}
	var n int
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT count(*) FROM cis`).Scan(&n))
	require.Zero(t, n)
}

func TestRelations(t *testing.T) {
	t.Parallel()
	env := setup(t)
	for _, k := range []string{"app", "db1", "db2"} {
		require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/cis", cm, map[string]any{"key": k, "name": k, "class": "server"}).Status)
	}
	rel := map[string]any{"from": "app", "to": "db1", "type": "depends_on", "group": "db", "min_up": 1}
	resp := env.do("POST", "/api/v1/relations", cm, rel)
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	require.Equal(t, http.StatusConflict, env.do("POST", "/api/v1/relations", cm, rel).Status)

	for name, c := range map[string]struct {
		body  map[string]any
		field string
	}{
		"self loop":     {map[string]any{"from": "app", "to": "app"}, "to"},
		"unknown to":    {map[string]any{"from": "app", "to": "ghost"}, "to"},
		"unknown from":  {map[string]any{"from": "ghost", "to": "app"}, "from"},
		"bad type":      {map[string]any{"from": "app", "to": "db2", "type": "loves"}, "type"},
		"group no min":  {map[string]any{"from": "app", "to": "db2", "group": "db"}, "min_up"},
		"min no group":  {map[string]any{"from": "app", "to": "db2", "min_up": 2}, "group"},
		"group on copy": {map[string]any{"from": "app", "to": "db2", "type": "backed_up_by", "group": "g", "min_up": 1}, "group"},
	} {
		resp := env.do("POST", "/api/v1/relations", cm, c.body)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, name)
		require.Contains(t, string(resp.Body), `"field":"`+c.field+`"`, name)
	}
	// A cycle is allowed.
	require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/relations", cm, map[string]any{"from": "db1", "to": "app"}).Status)

	var page struct {
		Items []map[string]any `json:"items"`
	}
	env.do("GET", "/api/v1/relations?ci=app", orchestrator.RoleOperator, nil).JSON(t, &page)
	require.Len(t, page.Items, 2)

	csv := env.do("GET", "/api/v1/relations?format=csv&from=app", orchestrator.RoleAuditor, nil)
	require.Equal(t, http.StatusOK, csv.Status)
	require.Equal(t, "from,to,type,group,min_up,source,external_id,failover_estimate,activation,replication,lag\napp,db1,depends_on,db,1,manual,app depends_on db1,,,,\n", string(csv.Body))

	// Deleting a CI takes its relations with it.
	require.Equal(t, http.StatusNoContent, env.do("DELETE", "/api/v1/cis/db1", cm, nil).Status)
	env.do("GET", "/api/v1/relations", orchestrator.RoleOperator, nil).JSON(t, &page)
	require.Empty(t, page.Items)
}

func TestCIExportIsSafeForSpreadsheets(t *testing.T) {
	t.Parallel()
	env := setup(t)
	require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/cis", cm, map[string]any{"key": "x", "name": "-2+3 cmd|calc", "class": "server"}).Status)
	body := string(env.do("GET", "/api/v1/cis?format=csv", orchestrator.RoleAuditor, nil).Body)
	require.True(t, strings.HasPrefix(body, "key,name,class"))
	require.Contains(t, body, "x,'-2+3 cmd|calc,server")
	resp := env.do("GET", "/api/v1/cis?format=xml", orchestrator.RoleAuditor, nil)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
}
