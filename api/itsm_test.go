package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/itsm"
)

const (
	itsmWriter = orchestrator.RoleContinuityManager
	itsmReader = orchestrator.RoleOperator
)

// itsmSeed inserts CIs straight into the database; keys starting with "svc"
// are business services.
func itsmSeed(t *testing.T, env *testEnv, keys ...string) {
	t.Helper()
	for _, k := range keys {
		class := "server"
		if strings.HasPrefix(k, "svc") {
			class = "business_service"
		}
		var id int64
		err := env.pool.QueryRow(t.Context(), `INSERT INTO cis (key, name, class, external_id) VALUES ($1, $1, $2, $1) RETURNING id`, k, class).Scan(&id)
		require.NoError(t, err)
		if class == "business_service" {
			_, err = env.pool.Exec(t.Context(), `INSERT INTO business_services (ci_id, timezone, business_hours) VALUES ($1, 'UTC',
				'[{"days":["mon","tue","wed","thu","fri"],"start":"08:00","end":"18:00"}]')`, id)
			require.NoError(t, err)
		}
	}
}

// itsmCreate posts body and returns the created record.
func itsmCreate[T any](t *testing.T, env *testEnv, path string, body any) T {
	t.Helper()
	resp := env.do("POST", path, itsmWriter, body)
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	var out T
	resp.JSON(t, &out)
	return out
}

// itsmPage is one page of any record list, by external id.
type itsmPage struct {
	Items []struct {
		ExternalID string `json:"external_id"`
	} `json:"items"`
	Next string `json:"next"`
}

// itsmList returns the external ids of one page and the next cursor.
func itsmList(t *testing.T, env *testEnv, path string) ([]string, string) {
	t.Helper()
	resp := env.do("GET", path, itsmReader, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var page itsmPage
	resp.JSON(t, &page)
	ids := []string{}
	for _, it := range page.Items {
		ids = append(ids, it.ExternalID)
	}
	return ids, page.Next
}

// itsmWalk follows every page of path at limit items per page.
func itsmWalk(t *testing.T, env *testEnv, path string, limit int) []string {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var all []string
	after := ""
	for pages := 0; pages < 100; pages++ {
		q := path + sep + "limit=" + strconv.Itoa(limit)
		if after != "" {
			q += "&after=" + url.QueryEscape(after)
		}
		ids, next := itsmList(t, env, q)
		require.LessOrEqual(t, len(ids), limit)
		all = append(all, ids...)
		if next == "" {
			return all
		}
		after = next
	}
	t.Fatal("pagination does not end")
	return nil
}

// itsmFields returns the fields an error response names.
func itsmFields(t *testing.T, resp *response) []string {
	t.Helper()
	var body struct {
		Error struct {
			Fields []orchestrator.FieldError `json:"fields"`
		} `json:"error"`
	}
	resp.JSON(t, &body)
	var out []string
	for _, f := range body.Error.Fields {
		out = append(out, f.Field)
	}
	return out
}

// itsmCount counts the rows of a table.
func itsmCount(t *testing.T, env *testEnv, table string) int {
	t.Helper()
	var n int
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT count(*) FROM `+table).Scan(&n))
	return n
}

func TestIncidentCRUD(t *testing.T) {
	t.Parallel()
	env := setup(t)
	itsmSeed(t, env, "db1", "app1", "svc-tax")
	inc := itsmCreate[itsm.Incident](t, env, "/api/v1/incidents", map[string]any{
		"title": "数据库宕机 database down", "priority": "P1", "major": true, "cause": "hardware",
		"affected_cis": []string{"db1", "app1", "db1"}, "affected_services": []string{"svc-tax"},
		"opened_at": "2026-01-05T10:00:00Z", "restored_at": "2026-01-05T12:30:00+01:00",
	})
	require.Equal(t, "INC-"+strconv.FormatInt(inc.ID, 10), inc.ExternalID)
	require.Equal(t, "manual", inc.Source)
	require.Equal(t, "restored", inc.Status)
	require.Equal(t, []string{"app1", "db1"}, inc.AffectedCIs)
	require.Equal(t, []string{"svc-tax"}, inc.AffectedServices)
	require.Equal(t, "2026-01-05T11:30:00Z", inc.RestoredAt.UTC().Format("2006-01-02T15:04:05Z"))
	path := "/api/v1/incidents/" + strconv.FormatInt(inc.ID, 10)

	var got itsm.Incident
	env.do("GET", path, itsmReader, nil).JSON(t, &got)
	require.Equal(t, inc.Title, got.Title)

	resp := env.do("PUT", path, itsmWriter, map[string]any{
		"title": "database down", "priority": "P2", "cause": "hardware", "affected_cis": []string{"db1"},
		"opened_at": "2026-01-05T10:00:00Z", "restored_at": "2026-01-05T11:30:00Z", "closed_at": "2026-01-06T09:00:00Z",
		"continuity_invoked": true,
	})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &got)
	require.Equal(t, "closed", got.Status)
	require.Equal(t, inc.ExternalID, got.ExternalID, "a blank external_id keeps the stored one")
	require.Equal(t, []string{"db1"}, got.AffectedCIs)
	require.Empty(t, got.AffectedServices)
	require.True(t, got.ContinuityInvoked)

	// An affected CI cannot be deleted while an incident names it.
	_, err := env.pool.Exec(t.Context(), `DELETE FROM cis WHERE key = 'db1'`)
	require.Error(t, err)

	require.Equal(t, http.StatusNoContent, env.do("DELETE", path, itsmWriter, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("GET", path, itsmReader, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("DELETE", path, itsmWriter, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("PUT", path, itsmWriter, map[string]any{
		"title": "x", "priority": "P2", "cause": "hardware", "opened_at": "2026-01-05T10:00:00Z"}).Status)

	var audit struct {
		Items []struct {
			Action string `json:"action"`
			Actor  string `json:"actor"`
		} `json:"items"`
	}
	env.do("GET", "/api/v1/audit?resource=incidents&resource_id="+strconv.FormatInt(inc.ID, 10), orchestrator.RoleAuditor, nil).JSON(t, &audit)
	require.Len(t, audit.Items, 3)
	require.Equal(t, "delete", audit.Items[0].Action)
	require.Equal(t, "create", audit.Items[2].Action)
	require.Equal(t, "test-continuity_manager", audit.Items[2].Actor)
}

func TestIncidentFiltersAndPagination(t *testing.T) {
	t.Parallel()
	env := setup(t)
	itsmSeed(t, env, "db1", "app1", "svc-tax", "svc-pay")
	for _, in := range []map[string]any{
		{"external_id": "a", "title": "Disk failure", "priority": "P1", "major": true, "cause": "hardware", "affected_cis": []string{"db1"}, "opened_at": "2025-01-10T00:00:00Z", "closed_at": "2025-01-11T00:00:00Z"},
		{"external_id": "b", "title": "Ransomware on file share", "priority": "P1", "cause": "ransomware", "affected_services": []string{"svc-tax"}, "opened_at": "2025-02-10T00:00:00Z"},
		{"external_id": "c", "title": "Link flap", "priority": "P3", "cause": "network", "affected_cis": []string{"app1"}, "opened_at": "2025-03-10T00:00:00Z", "restored_at": "2025-03-10T01:00:00Z"},
		{"external_id": "d", "title": "100% CPU_load", "priority": "P4", "cause": "software", "affected_cis": []string{"app1", "db1"}, "opened_at": "2025-03-10T00:00:00Z"},
		{"external_id": "e", "title": "纳税服务中断", "priority": "P2", "major": true, "cause": "power", "affected_services": []string{"svc-tax", "svc-pay"}, "opened_at": "2025-04-10T00:00:00Z"},
		{"external_id": "f", "title": "disk slow", "priority": "P3", "cause": "hardware", "opened_at": "2025-05-10T00:00:00Z"},
	} {
		itsmCreate[itsm.Incident](t, env, "/api/v1/incidents", in)
	}
	base := "/api/v1/incidents"
	cases := map[string][]string{
		"":                                    {"f", "e", "d", "c", "b", "a"},
		"?priority=P1":                        {"b", "a"},
		"?major=true":                         {"e", "a"},
		"?major=false":                        {"f", "d", "c", "b"},
		"?cause=hardware":                     {"f", "a"},
		"?ci=db1":                             {"d", "a"},
		"?ci=unknown":                         {},
		"?service=svc-tax":                    {"e", "b"},
		"?service=svc-pay":                    {"e"},
		"?status=closed":                      {"a"},
		"?status=restored":                    {"c"},
		"?status=open":                        {"f", "e", "d", "b"},
		"?opened_after=2025-03-10":            {"f", "e", "d", "c"},
		"?opened_before=2025-03-10T00:00:00Z": {"b", "a"},
		"?q=DISK":                             {"f", "a"},
		"?q=100%25":                           {"d"},
		"?q=CPU_":                             {"d"},
		"?q=_":                                {"d"},
		"?q=服务":                               {"e"},
		"?priority=P3&cause=network&ci=app1":  {"c"},
	}
	for query, want := range cases {
		t.Run(query, func(t *testing.T) {
			got, next := itsmList(t, env, base+query)
			require.Equal(t, want, got)
			require.Empty(t, next)
		})
	}
	// c and d share opened_at: the id breaks the tie, so no page loses one.
	for _, limit := range []int{1, 2, 4} {
		require.Equal(t, cases[""], itsmWalk(t, env, base, limit), "limit %d", limit)
	}
	require.Equal(t, []string{"f", "e", "d", "c", "b", "a"}, itsmWalk(t, env, base+"?opened_after=2025-01-01", 1))
}
