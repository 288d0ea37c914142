package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
)

const (
	rbManager  = orchestrator.RoleContinuityManager
	rbOperator = orchestrator.RoleOperator
	rbAuditor  = orchestrator.RoleAuditor
	rbExec     = orchestrator.RoleExecutive
)

// rbFixture is a payroll service: svc-pay needs app, which runs on one of
// two VMs and needs db; everything sits at site-a; a supplier provides the
// network link. Its BIA: RTO 8h, RPO 1h, WRT 2h, MTPD 24h.
func rbFixture(t *testing.T) *testEnv {
	t.Helper()
	env := setup(t)
	ci := func(key, class, strategy, estimate string, data bool) {
		body := map[string]any{"key": key, "name": key + " 名称", "class": class, "owner": "ann", "recovery_strategy": strategy,
			"recovery_estimate": estimate, "data_bearing": data, "site": "site-a"}
		resp := env.do("POST", "/api/v1/cis", rbManager, body)
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	}
	ci("svc-pay", "business_service", "manual", "0", false)
	ci("app", "application", "failover", "1h", false)
	ci("vm1", "vm", "rebuild", "2h", false)
	ci("vm2", "vm", "rebuild", "1h", false)
	ci("db", "database", "restore", "3h", true)
	ci("site-a", "site", "manual", "72h", false)
	ci("isp", "supplier_service", "supplier", "4h", false)
	rbRel(t, env, "svc-pay", "depends_on", "app", "", 0)
	rbRel(t, env, "app", "runs_on", "vm1", "hosts", 1)
	rbRel(t, env, "app", "runs_on", "vm2", "hosts", 1)
	rbRel(t, env, "app", "depends_on", "db", "", 0)
	rbRel(t, env, "db", "hosted_in", "site-a", "", 0)
	rbRel(t, env, "vm1", "hosted_in", "site-a", "", 0)
	rbRel(t, env, "vm2", "hosted_in", "site-a", "", 0)
	rbRel(t, env, "svc-pay", "provided_by", "isp", "", 0)
	bia := map[string]any{
		"thresholds": []any{
			map[string]any{"category": "operational", "at": "4h", "rating": 2},
			map[string]any{"category": "operational", "at": "24h", "rating": 4},
		},
		"rto": "8h", "rpo": "1h", "wrt": "2h", "mbco": 70,
		"critical_periods": []string{"月末 month end"}, "vital_records": []string{"payroll ledger"},
		"people": []string{"payroll clerk"}, "suppliers": []string{"bank"},
	}
	resp := env.do("PUT", "/api/v1/services/svc-pay/bia", rbManager, bia)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp = env.do("POST", "/api/v1/services/svc-pay/bia/approve", rbManager, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	return env
}

func rbRel(t *testing.T, env *testEnv, from, typ, to, group string, minUp int) {
	t.Helper()
	body := map[string]any{"from": from, "type": typ, "to": to}
	if minUp > 0 {
		body["group"], body["min_up"] = group, minUp
	}
	resp := env.do("POST", "/api/v1/relations", rbManager, body)
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
}

// rbCreate generates the payroll runbook and returns it.
func rbCreate(t *testing.T, env *testEnv) runbooks.Runbook {
	t.Helper()
	resp := env.do("POST", "/api/v1/runbooks", rbManager, map[string]any{"service": "svc-pay"})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	var rb runbooks.Runbook
	resp.JSON(t, &rb)
	return rb
}

// rbDo sends a request that must succeed and decodes the runbook answered.
func rbDo(t *testing.T, env *testEnv, method, path string, body any) runbooks.Runbook {
	t.Helper()
	resp := env.do(method, path, rbManager, body)
	require.Equal(t, http.StatusOK, resp.Status, "%s %s: %s", method, path, resp.Body)
	var rb runbooks.Runbook
	resp.JSON(t, &rb)
	return rb
}

// rbFieldsOf lists the fields an error names.
func rbFieldsOf(t *testing.T, r *response) []string {
	t.Helper()
	var body struct {
		Error struct {
			Fields []struct{ Field, Message string } `json:"fields"`
		} `json:"error"`
	}
	r.JSON(t, &body)
	var out []string
	for _, f := range body.Error.Fields {
		out = append(out, f.Field+": "+f.Message)
	}
	return out
}

func rbStep(t *testing.T, rb runbooks.Runbook, kind, ci string) runbooks.Step {
	t.Helper()
	i := slices.IndexFunc(rb.Version.Steps, func(s runbooks.Step) bool { return s.Kind == kind && s.CI == ci })
	require.GreaterOrEqual(t, i, 0, "no %s step for %q", kind, ci)
	return rb.Version.Steps[i]
}

func TestRunbookGeneratedFromService(t *testing.T) {
	t.Parallel()
	env := rbFixture(t)
	rb := rbCreate(t, env)
	require.Equal(t, runbooks.StatusDraft, rb.Status)
	require.Equal(t, 1, *rb.DraftVersion)
	require.Contains(t, rb.Title, "svc-pay")

	steps := rb.Version.Steps
	require.Equal(t, runbooks.KindHandback, steps[len(steps)-1].Kind, "hand-back last")
	require.Equal(t, runbooks.KindServiceVerify, steps[len(steps)-2].Kind)
	for i, s := range steps {
		for _, d := range s.DependsOn {
			require.Less(t, slices.IndexFunc(steps, func(x runbooks.Step) bool { return x.ID == d }), i, "dependencies first")
		}
	}
	// One VM of the pair is enough: the quicker one is recovered, the
	// other left to failback.
	rbStep(t, rb, runbooks.KindRecover, "vm2")
	require.Equal(t, []string{"vm1"}, rb.Version.Redundant)
	require.Contains(t, rbStep(t, rb, runbooks.KindRecover, "db").Title, "Restore")
	require.Contains(t, rbStep(t, rb, runbooks.KindRecover, "site-a").Text, "site-loss scenario", "a service runbook confirms its site")
	require.Equal(t, []string{rbStep(t, rb, runbooks.KindRecover, "app").ID}, rbStep(t, rb, runbooks.KindVerify, "app").DependsOn)

	s := rb.Version.Sections
	require.NotEmpty(t, s.Invocation.Criteria)
	require.Equal(t, []string{"svc-pay"}, s.CallTree.Services)
	require.Equal(t, 70.0, *s.Availability.MBCO)
	require.Equal(t, "8h", s.Requirements[0].RTO.String())
	require.Equal(t, "24h", s.Requirements[0].MTPD.String())
	require.Contains(t, s.VitalRecords, "payroll ledger")
	require.Contains(t, s.VitalRecords, "Backups of db")

	f := rb.Feasibility
	// site 30m, db 3h + 18m check, app 1h + 6m, service check 30m, hand-back 15m.
	require.Equal(t, "5h39m", f.EstimatedRecovery.String())
	// Judged per scenario: losing site-a, with no standby anywhere, means
	// waiting 72h for the site, far past the 8h RTO.
	require.Equal(t, runbooks.Infeasible, f.Verdict)
	require.False(t, f.RTO.Feasible)
	require.Contains(t, f.RTO.Message, "in scenario loss of site site-a")
	require.NotEmpty(t, f.Scenarios)
	var path []string
	for _, p := range f.CriticalPath {
		path = append(path, p.CI)
	}
	require.Equal(t, []string{"site-a", "db", "db", "app", "app", "svc-pay", ""}, path)
	require.Len(t, f.RPO, 1)
	require.Equal(t, "db", f.RPO[0].CI)
	require.Equal(t, "1h", f.RPO[0].RequiredRPO.String())
	require.Equal(t, "unknown: no backup target", f.RPO[0].Message)
	kinds := map[string]bool{}
	for _, g := range f.Gaps {
		kinds[g.Kind] = true
	}
	require.True(t, kinds[runbooks.GapNoCallTree], "no call tree: %v", f.Gaps)
	require.True(t, kinds[runbooks.GapUnknownOwner], "ann is not a contact: %v", f.Gaps)
	require.True(t, kinds[runbooks.GapSupplier], "no supplier provides isp: %v", f.Gaps)

	// Slow the database restore down past the RTO: infeasible, and why.
	db := rbStep(t, rb, runbooks.KindRecover, "db")
	rb = rbDo(t, env, "PATCH", "/api/v1/runbooks/"+fmt.Sprint(rb.ID)+"/steps/"+db.ID, map[string]any{"estimate": "6h"})
	require.Equal(t, runbooks.Infeasible, rb.Feasibility.Verdict)
	require.False(t, rb.Feasibility.RTO.Feasible)
	require.Equal(t, "8h39m", rb.Feasibility.EstimatedRecovery.String(), "the steps as written")
	require.Contains(t, rb.Feasibility.RTO.Message, "exceeds the RTO 8h of svc-pay", "the worst scenario")

	// Roles: executives read no runbooks, operators write none.
	require.Equal(t, http.StatusForbidden, env.do("GET", "/api/v1/runbooks", rbExec, nil).Status)
	require.Equal(t, http.StatusForbidden, env.do("POST", "/api/v1/runbooks", rbOperator, map[string]any{"service": "svc-pay"}).Status)
	require.Equal(t, http.StatusOK, env.do("GET", "/api/v1/runbooks/"+fmt.Sprint(rb.ID), rbAuditor, nil).Status)
	resp := env.do("GET", "/api/v1/runbooks?service=svc-pay", rbOperator, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	require.Contains(t, string(resp.Body), `"latest_version":1`)

	// A second runbook for the same service is a conflict.
	resp = env.do("POST", "/api/v1/runbooks", rbManager, map[string]any{"service": "svc-pay"})
	require.Equal(t, http.StatusConflict, resp.Status, "%s", resp.Body)
}

func TestRunbookScenario(t *testing.T) {
	t.Parallel()
	env := rbFixture(t)
	resp := env.do("POST", "/api/v1/runbooks", rbManager, map[string]any{"scenario": map[string]any{"failed": []string{"site-a"}}})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	var rb runbooks.Runbook
	resp.JSON(t, &rb)
	require.Equal(t, []string{"site-a"}, rb.Scope.Failed)
	require.Equal(t, []string{"app", "db", "site-a", "svc-pay", "vm1", "vm2"}, rb.Version.ScopeCIs)
	site := rbStep(t, rb, runbooks.KindRecover, "site-a")
	require.Equal(t, "72h", site.Estimate.String(), "a lost site is recovered, not confirmed")
	require.Empty(t, site.DependsOn)
	require.Equal(t, runbooks.Infeasible, rb.Feasibility.Verdict, "72h for the site alone is past the 8h RTO")
	// The scenario brings back the service on one VM; the other waits
	// for failback.
	rbStep(t, rb, runbooks.KindServiceVerify, "svc-pay")
	require.Equal(t, []string{"vm1"}, rb.Version.Redundant)
}

func TestRunbookEditing(t *testing.T) {
	t.Parallel()
	env := rbFixture(t)
	rb := rbCreate(t, env)
	base := "/api/v1/runbooks/" + fmt.Sprint(rb.ID)
	app := rbStep(t, rb, runbooks.KindVerify, "app")
	hand := rb.Version.Steps[len(rb.Version.Steps)-1]

	// Add a custom step after app's check, with an automation whose token
	// is a secret reference.
	auto := map[string]any{"method": "POST", "url": "https://dr.example.test/api/switch?token={{secret:DR_TOKEN}}",
		"headers":       map[string]string{"Authorization": "Bearer {{secret:DR_TOKEN}}", "Content-Type": "application/json"},
		"body_template": `{"runbook": "{{runbook.id}}", "password": "{{secret:DR_PASS}}"}`, "expected_status": 202,
		"assertion": map[string]any{"path": "status", "equals": "switched"}, "timeout": "45s", "retries": 2}
	rb = rbDo(t, env, "POST", base+"/steps", map[string]any{"title": "通知监管 Notify the regulator", "estimate": "20m",
		"depends_on": []string{app.ID}, "after": app.ID, "mandatory": true, "automation": auto})
	added := rbStep(t, rb, runbooks.KindCustom, "")
	require.Equal(t, fmt.Sprintf("s%d", len(rb.Version.Steps)), added.ID, "new steps number on")
	require.Equal(t, 202, added.Automation.ExpectedStatus)
	require.Equal(t, []string{"DR_PASS", "DR_TOKEN"}, added.Automation.Secrets())

	// The hand-back waits for it? Not unless told: make it.
	rb = rbDo(t, env, "PATCH", base+"/steps/"+hand.ID, map[string]any{"depends_on": append(slices.Clone(hand.DependsOn), added.ID)})
	require.Equal(t, runbooks.KindHandback, rb.Version.Steps[len(rb.Version.Steps)-1].Kind)

	// A cycle is refused, naming the steps.
	resp := env.do("PATCH", base+"/steps/"+app.ID, rbManager, map[string]any{"depends_on": []string{hand.ID}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
	fields := rbFieldsOf(t, resp)
	require.Len(t, fields, 1)
	require.Contains(t, fields[0], "depends_on: steps ")
	require.Contains(t, fields[0], app.ID)
	require.Contains(t, fields[0], hand.ID)
	require.Contains(t, fields[0], "form a cycle")

	// Manual again; removed; the dependants keep their order.
	rb = rbDo(t, env, "PATCH", base+"/steps/"+added.ID, map[string]any{"automation": nil, "text": "Call the regulator's duty line."})
	require.Nil(t, rbStep(t, rb, runbooks.KindCustom, "").Automation)
	rb = rbDo(t, env, "DELETE", base+"/steps/"+added.ID, nil)
	require.Contains(t, rb.Version.Steps[len(rb.Version.Steps)-1].DependsOn, app.ID, "the hand-back now waits for what the removed step waited for")

	// Reorder: a permutation that keeps dependencies first is taken; one
	// that does not is refused.
	order := make([]string, len(rb.Version.Steps))
	for i, s := range rb.Version.Steps {
		order[i] = s.ID
	}
	rev := slices.Clone(order)
	slices.Reverse(rev)
	resp = env.do("PUT", base+"/order", rbManager, map[string]any{"order": rev})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	require.Contains(t, strings.Join(rbFieldsOf(t, resp), "\n"), "which it depends on")
	rbDo(t, env, "PUT", base+"/order", map[string]any{"order": order})

	// Sections.
	rb = rbDo(t, env, "PATCH", base+"/sections", map[string]any{"communications": []string{"每30分钟通报 Update every 30 minutes"},
		"failback": []string{"Fail back in the weekend window"}})
	require.Equal(t, []string{"每30分钟通报 Update every 30 minutes"}, rb.Version.Sections.Communications)
	require.NotEmpty(t, rb.Version.Sections.Requirements, "requirements come from the BIA and stay")
	require.Equal(t, 1, *rb.DraftVersion, "a draft is edited in place")
}

func TestRunbookBadInput(t *testing.T) {
	t.Parallel()
	env := rbFixture(t)
	rb := rbCreate(t, env)
	base := "/api/v1/runbooks/" + fmt.Sprint(rb.ID)
	step := rb.Version.Steps[0].ID
	for name, tc := range map[string]struct {
		method, path string
		body         any
		status       int
		field        string
	}{
		"unknown service":        {"POST", "/api/v1/runbooks", map[string]any{"service": "nope"}, 422, "service"},
		"SQL-looking service":    {"POST", "/api/v1/runbooks", map[string]any{"service": "x'; DROP TABLE cis; --"}, 422, "service"},
		"traversal service":      {"POST", "/api/v1/runbooks", map[string]any{"service": "../../etc/passwd"}, 422, "service"},
		"not a service":          {"POST", "/api/v1/runbooks", map[string]any{"service": "db"}, 422, "service"},
		"both scopes":            {"POST", "/api/v1/runbooks", map[string]any{"service": "svc-pay", "scenario": map[string]any{"failed": []string{"db"}}}, 422, "scenario"},
		"neither scope":          {"POST", "/api/v1/runbooks", map[string]any{"title": "x"}, 422, "service"},
		"unknown failed CI":      {"POST", "/api/v1/runbooks", map[string]any{"scenario": map[string]any{"failed": []string{"db", "ghost"}}}, 422, "scenario.failed"},
		"control chars in key":   {"POST", "/api/v1/runbooks", map[string]any{"scenario": map[string]any{"failed": []string{"db\x00"}}}, 422, "scenario.failed[0]"},
		"wrong type":             {"POST", "/api/v1/runbooks", `{"service": 5}`, 422, "service"},
		"unknown field":          {"POST", "/api/v1/runbooks", map[string]any{"service": "svc-pay", "owner": "x"}, 422, "owner"},
		"control chars in title": {"POST", base + "/steps", map[string]any{"title": "a\u0007b"}, 422, "title"},
		"missing title":          {"POST", base + "/steps", map[string]any{"text": "x"}, 422, "title"},
		"bad estimate":           {"PATCH", base + "/steps/" + step, map[string]any{"estimate": "soon"}, 422, "estimate"},
		"unknown dependency":     {"PATCH", base + "/steps/" + step, map[string]any{"depends_on": []string{"s999"}}, 422, "depends_on"},
		"bad dependency id":      {"PATCH", base + "/steps/" + step, map[string]any{"depends_on": []string{"<script>"}}, 422, "depends_on[0]"},
		"self dependency":        {"PATCH", base + "/steps/" + step, map[string]any{"depends_on": []string{step}}, 422, "depends_on"},
		"literal authorization": {"PATCH", base + "/steps/" + step, map[string]any{"automation": map[string]any{"url": "https://x.test/",
			"headers": map[string]string{"Authorization": "Bearer abc123"}}}, 422, "automation.headers.Authorization"},
		"credential in URL": {"PATCH", base + "/steps/" + step, map[string]any{"automation": map[string]any{"url": "https://user:pw@x.test/"}}, 422, "automation.url"},
		"literal body secret": {"PATCH", base + "/steps/" + step, map[string]any{"automation": map[string]any{"url": "https://x.test/",
			"body_template": `{"api_key": "hunter2"}`}}, 422, "automation.body_template"},
		"unknown placeholder": {"PATCH", base + "/steps/" + step, map[string]any{"automation": map[string]any{"url": "https://x.test/{{env:HOME}}"}}, 422, "automation.url"},
		"header injection": {"PATCH", base + "/steps/" + step, map[string]any{"automation": map[string]any{"url": "https://x.test/",
			"headers": map[string]string{"X-Note": "a\r\nSet-Cookie: x"}}}, 422, "automation.headers.X-Note"},
		"bad method":      {"PATCH", base + "/steps/" + step, map[string]any{"automation": map[string]any{"url": "https://x.test/", "method": "TRACE"}}, 422, "automation.method"},
		"file URL":        {"PATCH", base + "/steps/" + step, map[string]any{"automation": map[string]any{"url": "file:///etc/passwd"}}, 422, "automation.url"},
		"bad order":       {"PUT", base + "/order", map[string]any{"order": []string{step, step}}, 422, "order[1]"},
		"bad section":     {"PATCH", base + "/sections", map[string]any{"failback": []string{"ok", "\x1b[31m"}}, 422, "failback[1]"},
		"unknown step":    {"PATCH", base + "/steps/s999", map[string]any{"title": "x"}, 404, ""},
		"bad runbook id":  {"GET", "/api/v1/runbooks/..%2F..%2Fetc", nil, 404, ""},
		"no such version": {"GET", base + "/versions/7", nil, 404, ""},
		"bad format":      {"GET", base + "/export?format=pdf", nil, 422, "format"},
		"unknown filter":  {"GET", "/api/v1/runbooks?colour=red", nil, 422, "colour"},
		"no draft":        {"POST", base + "/review", map[string]any{}, 409, ""},
	} {
		t.Run(name, func(t *testing.T) {
			resp := env.do(tc.method, tc.path, rbManager, tc.body)
			require.Equal(t, tc.status, resp.Status, "%s", resp.Body)
			if tc.field != "" {
				fields := rbFieldsOf(t, resp)
				require.NotEmpty(t, fields, "%s", resp.Body)
				require.True(t, strings.HasPrefix(fields[0], tc.field+": "), "field %q named in %v", tc.field, fields)
			}
		})
	}
	resp := env.send("POST", "/api/v1/runbooks", rbManager, "application/json", []byte("{\"service\": \"svc-\xff\"}"))
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "non-UTF-8: %s", resp.Body)
	resp = env.send("POST", base+"/steps", rbManager, "application/json", []byte(`{"title": "`+strings.Repeat("x", 2<<20)+`"}`))
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.Status)

	// Nothing partial was written.
	var n int
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT count(*) FROM runbooks`).Scan(&n))
	require.Equal(t, 1, n)
	got := rbDo(t, env, "GET", base, nil)
	require.Equal(t, rb.Version.Steps, got.Version.Steps, "rejected edits changed nothing")
}
