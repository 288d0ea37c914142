package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

// Roles the directory tests act as.
const (
	dirWriter = orchestrator.RoleAdmin
	dirReader = orchestrator.RoleAuditor
)

// dirSeed adds the CIs directory records refer to and two contacts.
func dirSeed(t *testing.T, env *testEnv) {
	t.Helper()
	_, err := env.pool.Exec(t.Context(), `INSERT INTO cis (key, name, class, external_id) VALUES
		('payments', 'Payments', 'business_service', 'payments'), ('billing', 'Billing', 'business_service', 'billing'),
		('isp-link', 'ISP link', 'supplier_service', 'isp-link'), ('db1', 'DB 1', 'database', 'db1')`)
	require.NoError(t, err)
	for _, c := range []map[string]any{
		{"key": "alice", "name": "Alice Chen", "role": "DBA", "organisation": "IT", "email": "alice@example.com", "phone": "+44 20 7946 0000"},
		{"key": "bob", "name": "Bob 王", "role": "Duty manager", "organisation": "Ops", "chat": "@bob", "deputies": []string{"alice"}},
	} {
		require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/contacts", dirWriter, c).Status)
	}
}

// dirErrFields returns the fields an error response names.
func dirErrFields(t *testing.T, r *response) []string {
	t.Helper()
	var body struct {
		Error struct {
			Fields []orchestrator.FieldError `json:"fields"`
		} `json:"error"`
	}
	r.JSON(t, &body)
	var out []string
	for _, f := range body.Error.Fields {
		out = append(out, f.Field)
	}
	return out
}

// dirKeys pages through a list with limit 1 and returns the keys seen.
func dirKeys(t *testing.T, env *testEnv, path, field string) []string {
	t.Helper()
	var out []string
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	next := ""
	for range 50 {
		resp := env.do("GET", path+sep+"limit=1&after="+next, orchestrator.RoleOperator, nil)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		var page struct {
			Items []map[string]any `json:"items"`
			Next  string           `json:"next"`
		}
		resp.JSON(t, &page)
		for _, it := range page.Items {
			out = append(out, fmt.Sprint(it[field]))
		}
		if next = page.Next; next == "" {
			return out
		}
	}
	t.Fatal("pagination did not end")
	return nil
}

func dirAudit(t *testing.T, env *testEnv, resource, id string) []string {
	t.Helper()
	var page struct {
		Items []struct {
			Action string `json:"action"`
		} `json:"items"`
	}
	env.do("GET", "/api/v1/audit?resource="+resource+"&resource_id="+id, dirReader, nil).JSON(t, &page)
	var out []string
	for _, e := range page.Items {
		out = append(out, e.Action)
	}
	return out
}

func TestContacts(t *testing.T) {
	t.Parallel()
	env := setup(t)
	dirSeed(t, env)
	carol := map[string]any{"key": "carol", "name": "Carol Diaz", "role": "dba", "organisation": "Acme Ltd", "deputies": []string{"bob", "alice"}}
	require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/contacts", orchestrator.RoleContinuityManager, carol).Status)

	var got struct {
		Deputies   []string `json:"deputies"`
		Source     string   `json:"source"`
		ExternalID string   `json:"external_id"`
	}
	env.do("GET", "/api/v1/contacts/carol", dirReader, nil).JSON(t, &got)
	require.Equal(t, []string{"bob", "alice"}, got.Deputies, "deputies keep their order")
	require.Equal(t, "manual", got.Source)
	require.Equal(t, "carol", got.ExternalID)

	for query, want := range map[string][]string{
		"/api/v1/contacts":                          {"alice", "bob", "carol"},
		"/api/v1/contacts?q=CHEN":                   {"alice"},
		"/api/v1/contacts?q=%E7%8E%8B":              {"bob"},
		"/api/v1/contacts?role=DBA":                 {"alice", "carol"},
		"/api/v1/contacts?organisation=acme%20ltd":  {"carol"},
		"/api/v1/contacts?q=%25":                    nil,
		"/api/v1/contacts?role=dba&organisation=IT": {"alice"},
	} {
		require.Equal(t, want, dirKeys(t, env, query, "key"), query)
	}

	// PUT replaces everything, keeps the key, and cannot rename.
	replaced := env.do("PUT", "/api/v1/contacts/carol", dirWriter, map[string]any{"name": "Carol D.", "deputies": []string{"alice"}})
	require.Equal(t, http.StatusOK, replaced.Status, "%s", replaced.Body)
	require.Contains(t, string(replaced.Body), `"deputies":["alice"]`)
	require.Contains(t, string(replaced.Body), `"role":""`)
	rename := env.do("PUT", "/api/v1/contacts/carol", dirWriter, map[string]any{"key": "dave", "name": "x"})
	require.Equal(t, http.StatusUnprocessableEntity, rename.Status)
	require.Equal(t, []string{"key"}, dirErrFields(t, rename))
	require.Equal(t, http.StatusNotFound, env.do("PUT", "/api/v1/contacts/nobody", dirWriter, map[string]any{"name": "x"}).Status)
	require.Equal(t, http.StatusConflict, env.do("POST", "/api/v1/contacts", dirWriter, map[string]any{"key": "carol", "name": "x"}).Status)

	// A contact others name cannot go; once they let go, it can.
	inUse := env.do("DELETE", "/api/v1/contacts/alice", dirWriter, nil)
	require.Equal(t, http.StatusConflict, inUse.Status)
	require.Contains(t, string(inUse.Body), "contact bob (as deputy)")
	require.Equal(t, http.StatusNoContent, env.do("DELETE", "/api/v1/contacts/carol", dirWriter, nil).Status)
	require.Equal(t, http.StatusNoContent, env.do("DELETE", "/api/v1/contacts/bob", dirWriter, nil).Status)
	require.Equal(t, http.StatusNoContent, env.do("DELETE", "/api/v1/contacts/alice", dirWriter, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/contacts/alice", dirWriter, nil).Status)
	require.Equal(t, []string{"delete", "update", "create"}, dirAudit(t, env, "contacts", "carol"))
}

func TestCallTrees(t *testing.T) {
	t.Parallel()
	env := setup(t)
	dirSeed(t, env)
	tree := map[string]any{"key": "payments-ct", "name": "Payments escalation", "service": "payments", "levels": []map[string]any{
		{"level": 1, "contacts": []string{"alice", "bob"}, "wait": "15m"}, {"contacts": []string{"bob"}, "wait": "1h"}}}
	resp := env.do("POST", "/api/v1/call-trees", dirWriter, tree)
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	require.JSONEq(t, `[{"level":1,"contacts":["alice","bob"],"wait":"15m"},{"level":2,"contacts":["bob"],"wait":"1h"}]`,
		dirField(t, resp, "levels"))
	runbook := map[string]any{"key": "rb-ct", "name": "Runbook 7", "runbook": "rb-7", "levels": []map[string]any{{"contacts": []string{"alice"}}}}
	require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/call-trees", dirWriter, runbook).Status)

	require.Equal(t, []string{"payments-ct"}, dirKeys(t, env, "/api/v1/call-trees?service=payments", "key"))
	require.Equal(t, []string{"payments-ct", "rb-ct"}, dirKeys(t, env, "/api/v1/call-trees", "key"))

	// One call tree per scope; the clash names the service.
	dup := env.do("POST", "/api/v1/call-trees", dirWriter, map[string]any{"key": "other", "name": "x", "service": "payments",
		"levels": []map[string]any{{"contacts": []string{"bob"}}}})
	require.Equal(t, http.StatusConflict, dup.Status)
	require.Equal(t, []string{"service"}, dirErrFields(t, dup))

	put := env.do("PUT", "/api/v1/call-trees/payments-ct", dirWriter, map[string]any{"name": "P", "service": "billing",
		"levels": []map[string]any{{"contacts": []string{"bob"}, "wait": "5m"}}})
	require.Equal(t, http.StatusOK, put.Status, "%s", put.Body)
	require.Equal(t, []string{"payments-ct"}, dirKeys(t, env, "/api/v1/call-trees?service=billing", "key"))
	require.Equal(t, http.StatusNoContent, env.do("DELETE", "/api/v1/call-trees/payments-ct", dirWriter, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("DELETE", "/api/v1/call-trees/payments-ct", dirWriter, nil).Status)
	require.Equal(t, []string{"delete", "update", "create"}, dirAudit(t, env, "call-trees", "payments-ct"))
}

func dirField(t *testing.T, r *response, field string) string {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	b, err := json.Marshal(m[field])
	require.NoError(t, err)
	return string(b)
}

func TestSuppliers(t *testing.T) {
	t.Parallel()
	env := setup(t)
	dirSeed(t, env)
	day := func(offset int) string { return time.Now().UTC().AddDate(0, 0, offset).Format("2006-01-02") }
	contract := func(ref string, from, to int) map[string]any {
		return map[string]any{"reference": ref, "start": day(from), "end": day(to), "rto": "4h", "support_hours": "24x7"}
	}
	suppliers := []map[string]any{
		{"key": "acme", "name": "Acme Networks", "contacts": []string{"bob"}, "services": []string{"isp-link"},
			"contracts": []any{contract("A-1", -300, 30)}},
		{"key": "bolt", "name": "Bolt Hosting", "contracts": []any{contract("B-1", -300, 30), contract("B-2", 31, 700)}},
		{"key": "cobalt", "name": "Cobalt", "contracts": []any{contract("C-1", -700, -1)}},
		{"key": "delta", "name": "Delta", "notes": "no contract yet"},
	}
	for _, s := range suppliers {
		resp := env.do("POST", "/api/v1/suppliers", dirWriter, s)
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	}
	var acme struct {
		Active   *struct{ Reference, RTO, RPO any } `json:"active_contract"`
		Expired  bool                               `json:"contract_expired"`
		Expiring bool                               `json:"expiring_within_90d"`
	}
	env.do("GET", "/api/v1/suppliers/acme", dirReader, nil).JSON(t, &acme)
	require.NotNil(t, acme.Active)
	require.Equal(t, "A-1", acme.Active.Reference)
	require.Nil(t, acme.Active.RPO)
	require.True(t, acme.Expiring)
	require.False(t, acme.Expired)

	for query, want := range map[string][]string{
		"/api/v1/suppliers?expiring=true":        {"acme"},
		"/api/v1/suppliers?expiring=false":       {"bolt", "cobalt", "delta"},
		"/api/v1/suppliers?service=isp-link":     {"acme"},
		"/api/v1/suppliers?q=HOST":               {"bolt"},
		"/api/v1/suppliers":                      {"acme", "bolt", "cobalt", "delta"},
		"/api/v1/suppliers?q=bolt&expiring=true": nil,
	} {
		require.Equal(t, want, dirKeys(t, env, query, "key"), query)
	}
	require.Contains(t, string(env.do("GET", "/api/v1/suppliers/cobalt", dirReader, nil).Body), `"contract_expired":true`)

	// Renewing acme's contract ends the warning; links are replaced.
	resp := env.do("PUT", "/api/v1/suppliers/acme", dirWriter, map[string]any{"name": "Acme", "contracts": []any{contract("A-1", -300, 30), contract("A-2", 20, 900)}})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.Contains(t, string(resp.Body), `"expiring_within_90d":false`)
	require.Contains(t, string(resp.Body), `"services":[]`)
	require.Equal(t, http.StatusNoContent, env.do("DELETE", "/api/v1/suppliers/acme", dirWriter, nil).Status)
	require.Equal(t, []string{"delete", "update", "create"}, dirAudit(t, env, "suppliers", "acme"))
}

func TestSLAs(t *testing.T) {
	t.Parallel()
	env := setup(t)
	dirSeed(t, env)
	sla := func(service, name, period string) map[string]any {
		return map[string]any{"service": service, "name": name, "period": period, "availability_target": 99.95,
			"measured_in": "business_hours", "valid_from": "2026-01-01",
			"targets": map[string]any{"P1": map[string]string{"response": "15m", "resolution": "4h"}, "P3": map[string]string{"response": "4h", "resolution": "3d"}}}
	}
	var ids []string
	for _, in := range []map[string]any{sla("payments", "Gold", "month"), sla("payments", "Yearly", "year"), sla("billing", "Silver", "month")} {
		resp := env.do("POST", "/api/v1/slas", dirWriter, in)
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		ids = append(ids, dirField(t, resp, "id"))
	}
	got := env.do("GET", "/api/v1/slas/"+ids[0], dirReader, nil)
	require.JSONEq(t, `{"P1":{"response":"15m","resolution":"4h"},"P3":{"response":"4h","resolution":"72h"}}`, dirField(t, got, "targets"))
	require.Contains(t, string(got.Body), `"external_id":"payments/Gold/2026-01-01"`)
	require.Contains(t, string(got.Body), `"availability_target":99.95`)

	require.Equal(t, ids, dirKeys(t, env, "/api/v1/slas", "id"))
	require.Equal(t, ids[:2], dirKeys(t, env, "/api/v1/slas?service=payments", "id"))
	require.Equal(t, []string{ids[0], ids[2]}, dirKeys(t, env, "/api/v1/slas?period=month", "id"))

	in := sla("billing", "Gold", "quarter")
	in["valid_to"] = "2026-12-31"
	resp := env.do("PUT", "/api/v1/slas/"+ids[0], dirWriter, in)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.Contains(t, string(resp.Body), `"external_id":"payments/Gold/2026-01-01"`, "identity kept")
	require.Contains(t, string(resp.Body), `"valid_to":"2026-12-31"`)
	require.Equal(t, http.StatusNoContent, env.do("DELETE", "/api/v1/slas/"+ids[0], dirWriter, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/slas/"+ids[0], dirWriter, nil).Status)
	bad := env.do("GET", "/api/v1/slas/abc", dirWriter, nil)
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
	require.Equal(t, []string{"id"}, dirErrFields(t, bad))
	require.Equal(t, []string{"delete", "update", "create"}, dirAudit(t, env, "slas", ids[0]))
}

// dirRows counts the rows the directory and the audit log hold.
func dirRows(t *testing.T, env *testEnv) string {
	t.Helper()
	var counts string
	err := env.pool.QueryRow(t.Context(), `SELECT concat_ws(' ', (SELECT count(*) FROM contacts), (SELECT count(*) FROM contact_deputies),
		(SELECT count(*) FROM call_trees), (SELECT count(*) FROM call_tree_contacts), (SELECT count(*) FROM suppliers),
		(SELECT count(*) FROM supplier_contracts), (SELECT count(*) FROM slas), (SELECT count(*) FROM sla_targets),
		(SELECT count(*) FROM audit_log))`).Scan(&counts)
	require.NoError(t, err)
	return counts
}

func TestDirectoryBadInput(t *testing.T) {
	t.Parallel()
	env := setup(t)
	dirSeed(t, env)
	level := func(contacts ...string) []map[string]any { return []map[string]any{{"contacts": contacts}} }
	contract := map[string]any{"reference": "R", "start": "2026-01-01", "end": "2026-12-31", "support_hours": "24x7"}
	with := func(base map[string]any, k string, v any) map[string]any {
		out := map[string]any{k: v}
		for bk, bv := range base {
			if bk != k {
				out[bk] = bv
			}
		}
		return out
	}
	contact := map[string]any{"key": "zed", "name": "Zed"}
	tree := map[string]any{"key": "t", "name": "T", "service": "payments", "levels": level("alice")}
	supplier := map[string]any{"key": "s", "name": "S", "contracts": []any{contract}}
	sla := map[string]any{"service": "payments", "name": "Gold", "period": "month", "availability_target": 99.9,
		"measured_in": "24x7", "valid_from": "2026-01-01"}
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"a":"\u0000"}`))
	cases := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"malformed", "POST", "/api/v1/contacts", `{"key":`, 422, ""},
		{"unknown field", "POST", "/api/v1/contacts", `{"key":"zed","name":"Zed","nickname":"z"}`, 422, "nickname"},
		{"wrong type", "POST", "/api/v1/contacts", `{"key":"zed","name":42}`, 422, "name"},
		{"list not string", "POST", "/api/v1/contacts", with(contact, "deputies", "alice"), 422, "deputies"},
		{"unknown deputy", "POST", "/api/v1/contacts", with(contact, "deputies", []string{"nobody"}), 422, "deputies[0]"},
		{"own deputy", "POST", "/api/v1/contacts", with(contact, "deputies", []string{"zed"}), 422, "deputies[0]"},
		{"sql-looking key", "POST", "/api/v1/contacts", with(contact, "key", "x'; DROP TABLE contacts; --"), 422, "key"},
		{"path traversal key", "POST", "/api/v1/contacts", with(contact, "key", "../../etc/passwd"), 422, "key"},
		{"control characters", "POST", "/api/v1/contacts", with(contact, "name", "Zed\x00\x1b[2J"), 422, "name"},
		{"very long", "POST", "/api/v1/contacts", with(contact, "name", strings.Repeat("名", 201)), 422, "name"},
		{"non-UTF-8 escaped", "POST", "/api/v1/contacts", `{"key":"zed","name":"Z\udc80ed"}`, 422, "name"},
		{"raw non-UTF-8", "POST", "/api/v1/contacts", "{\"key\":\"zed\",\"name\":\"Z\xffed\"}", 422, "name"},
		{"bad email", "POST", "/api/v1/contacts", with(contact, "email", "Zed <zed@example.com>"), 422, "email"},
		{"bad phone", "POST", "/api/v1/contacts", with(contact, "phone", "call me"), 422, "phone"},
		{"oversized", "POST", "/api/v1/contacts", with(contact, "notes", strings.Repeat("n", 2<<20)), 413, ""},
		{"unknown contact", "POST", "/api/v1/call-trees", with(tree, "levels", level("alice", "nobody")), 422, "levels[0].contacts[1]"},
		{"not a business service", "POST", "/api/v1/call-trees", with(tree, "service", "db1"), 422, "service"},
		{"unknown service", "POST", "/api/v1/call-trees", with(tree, "service", "nope"), 422, "service"},
		{"no scope", "POST", "/api/v1/call-trees", with(tree, "service", nil), 422, "service"},
		{"no levels", "POST", "/api/v1/call-trees", with(tree, "levels", []any{}), 422, "levels"},
		{"levels out of order", "POST", "/api/v1/call-trees", with(tree, "levels", []map[string]any{{"level": 2, "contacts": []string{"bob"}}}), 422, "levels[0].level"},
		{"wait not a duration", "POST", "/api/v1/call-trees", with(tree, "levels", []map[string]any{{"contacts": []string{"bob"}, "wait": 15}}), 422, ""},
		{"unknown supplier service", "POST", "/api/v1/suppliers", with(supplier, "services", []string{"nope"}), 422, "services[0]"},
		{"business service as supplier service", "POST", "/api/v1/suppliers", with(supplier, "services", []string{"payments"}), 422, "services[0]"},
		{"unknown supplier contact", "POST", "/api/v1/suppliers", with(supplier, "contacts", []string{"nobody"}), 422, "contacts[0]"},
		{"end before start", "POST", "/api/v1/suppliers", with(supplier, "contracts", []any{with(contract, "end", "2025-01-01")}), 422, "contracts[0].end"},
		{"date not a date", "POST", "/api/v1/suppliers", with(supplier, "contracts", []any{with(contract, "start", "31/12/2026")}), 422, "contracts.start"},
		{"support hours", "POST", "/api/v1/suppliers", with(supplier, "contracts", []any{with(contract, "support_hours", "weekends")}), 422, "contracts[0].support_hours"},
		{"duplicate reference", "POST", "/api/v1/suppliers", with(supplier, "contracts", []any{contract, contract}), 422, "contracts[1].reference"},
		{"unknown SLA service", "POST", "/api/v1/slas", with(sla, "service", "nope"), 422, "service"},
		{"SLA of a supplier service", "POST", "/api/v1/slas", with(sla, "service", "isp-link"), 422, "service"},
		{"availability over 100", "POST", "/api/v1/slas", with(sla, "availability_target", 101), 422, "availability_target"},
		{"availability as text", "POST", "/api/v1/slas", with(sla, "availability_target", "high"), 422, "availability_target"},
		{"unknown priority", "POST", "/api/v1/slas", with(sla, "targets", map[string]any{"P5": map[string]string{"response": "1h", "resolution": "2h"}}), 422, "targets.P5"},
		{"resolution before response", "POST", "/api/v1/slas", with(sla, "targets", map[string]any{"P1": map[string]string{"response": "1h", "resolution": "30m"}}), 422, "targets.P1.resolution"},
		{"valid_to before valid_from", "POST", "/api/v1/slas", with(sla, "valid_to", "2025-12-31"), 422, "valid_to"},
		{"missing valid_from", "POST", "/api/v1/slas", with(sla, "valid_from", nil), 422, "valid_from"},
		{"period", "PUT", "/api/v1/slas/1", with(sla, "period", "week"), 422, "period"},
		{"rename by PUT", "PUT", "/api/v1/suppliers/s", with(supplier, "key", "t"), 422, "key"},
		{"filter with NUL", "GET", "/api/v1/contacts?q=%00", nil, 422, "q"},
		{"filter with bad UTF-8", "GET", "/api/v1/suppliers?service=%ff", nil, 422, "service"},
		{"unknown filter", "GET", "/api/v1/contacts?nickname=z", nil, 422, "nickname"},
		{"bad boolean", "GET", "/api/v1/suppliers?expiring=maybe", nil, 422, "expiring"},
		{"bad period filter", "GET", "/api/v1/slas?period=week", nil, 422, "period"},
		{"forged cursor", "GET", "/api/v1/call-trees?after=" + forged, nil, 422, "after"},
		{"key with NUL", "GET", "/api/v1/contacts/a%00b", nil, 404, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := dirRows(t, env)
			resp := env.do(c.method, c.path, dirWriter, c.body)
			require.Equal(t, c.status, resp.Status, "body: %s", resp.Body)
			if c.field != "" {
				require.Equal(t, []string{c.field}, dirErrFields(t, resp), "body: %s", resp.Body)
			}
			require.Equal(t, before, dirRows(t, env), "nothing written")
		})
	}

	// Hostile but valid text is stored verbatim, never interpreted.
	hostile := "Robert'); DROP TABLE contacts; -- =cmd|' /C calc'!A0 <script>"
	resp := env.do("POST", "/api/v1/contacts", dirWriter, with(contact, "name", hostile))
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	var got struct{ Name string }
	env.do("GET", "/api/v1/contacts/zed", dirReader, nil).JSON(t, &got)
	require.Equal(t, hostile, got.Name)
}
