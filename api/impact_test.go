package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

const (
	admin   = orchestrator.RoleAdmin
	auditor = orchestrator.RoleAuditor
)

// impCI creates a CI; a key starting with "svc" is a business service.
func impCI(t *testing.T, env *testEnv, key, class string, extra ...any) {
	t.Helper()
	body := map[string]any{"key": key, "name": key, "class": class}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	resp := env.do("POST", "/api/v1/cis", cm, body)
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
}

// impRel creates "from typ to", in redundancy group grp when minUp > 0.
func impRel(t *testing.T, env *testEnv, from, typ, to, grp string, minUp int) {
	t.Helper()
	body := map[string]any{"from": from, "type": typ, "to": to}
	if minUp > 0 {
		body["group"], body["min_up"] = grp, minUp
	}
	resp := env.do("POST", "/api/v1/relations", cm, body)
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
}

// impAssessment is a BIA under the default settings whose operational
// impact becomes intolerable at 4h (the MTPD) and whose financial loss is
// 10k at 1h, 100k at 4h and 300k at 8h.
func impAssessment(rto, rpo, wrt string) map[string]any {
	return map[string]any{
		"thresholds": []any{
			map[string]any{"category": "financial", "at": "1h", "rating": 1, "amount": 10000},
			map[string]any{"category": "financial", "at": "4h", "rating": 3, "amount": 100000, "justification": "fines start"},
			map[string]any{"category": "financial", "at": "8h", "rating": 4, "amount": 300000},
			map[string]any{"category": "operational", "at": "1h", "rating": 2},
			map[string]any{"category": "operational", "at": "4h", "rating": 4},
		},
		"rto": rto, "rpo": rpo, "wrt": wrt, "mbco": 60,
		"critical_periods": []string{"month end"}, "vital_records": []string{"ledger"},
		"people": []string{"payroll clerk"}, "suppliers": []string{"bank"},
	}
}

// impApprove writes and approves a BIA.
func impApprove(t *testing.T, env *testEnv, service string, body map[string]any) {
	t.Helper()
	resp := env.do("PUT", "/api/v1/services/"+service+"/bia", cm, body)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp = env.do("POST", "/api/v1/services/"+service+"/bia/approve", cm, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
}

// impFields lists the fields named by an error body.
func impFields(t *testing.T, r *response) []string {
	t.Helper()
	var body struct {
		Error struct {
			Fields []struct{ Field, Message string } `json:"fields"`
		} `json:"error"`
	}
	r.JSON(t, &body)
	var out []string
	for _, f := range body.Error.Fields {
		out = append(out, f.Field)
	}
	return out
}

type biaBody struct {
	Service      string           `json:"service"`
	Version      int              `json:"version"`
	Status       string           `json:"status"`
	RTO          string           `json:"rto"`
	MTPD         string           `json:"mtpd"`
	SuggestedRTO string           `json:"suggested_rto"`
	Tier         int              `json:"tier"`
	ApprovedBy   string           `json:"approved_by"`
	Thresholds   []map[string]any `json:"thresholds"`
}

func TestBIASettings(t *testing.T) {
	t.Parallel()
	env := setup(t)
	var s map[string]any
	env.do("GET", "/api/v1/settings/bia", auditor, nil).JSON(t, &s)
	require.Equal(t, []any{"1h", "4h", "8h", "24h", "72h", "168h"}, s["time_points"])
	require.EqualValues(t, 4, s["intolerable_level"])
	require.Equal(t, "EUR", s["currency"])

	s["currency"] = "CNY"
	require.Equal(t, http.StatusForbidden, env.do("PUT", "/api/v1/settings/bia", cm, s).Status, "only admins write settings")
	resp := env.do("PUT", "/api/v1/settings/bia", admin, s)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	env.do("GET", "/api/v1/settings/bia", orchestrator.RoleOperator, nil).JSON(t, &s)
	require.Equal(t, "CNY", s["currency"])

	for name, c := range map[string]struct {
		change func(map[string]any)
		field  string
	}{
		"unordered time points": {func(m map[string]any) { m["time_points"] = []string{"4h", "1h"} }, "time_points[1]"},
		"level out of range":    {func(m map[string]any) { m["intolerable_level"] = 7 }, "intolerable_level"},
		"no categories":         {func(m map[string]any) { m["categories"] = []string{} }, "categories"},
		"bad category":          {func(m map[string]any) { m["categories"] = []string{"Money!"} }, "categories[0]"},
		"bad currency":          {func(m map[string]any) { m["currency"] = "euro" }, "currency"},
		"wrong type":            {func(m map[string]any) { m["intolerable_level"] = "four" }, "intolerable_level"},
		"unknown field":         {func(m map[string]any) { m["colour"] = "red" }, "colour"},
	} {
		body := map[string]any{}
		for k, v := range s {
			body[k] = v
		}
		c.change(body)
		resp := env.do("PUT", "/api/v1/settings/bia", admin, body)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, name)
		require.Contains(t, impFields(t, resp), c.field, name)
	}
	env.do("GET", "/api/v1/settings/bia", auditor, nil).JSON(t, &s)
	require.Equal(t, "CNY", s["currency"], "rejected settings change nothing")
}

func TestBIALifecycle(t *testing.T) {
	t.Parallel()
	env := setup(t)
	impCI(t, env, "payroll", "business_service")
	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/services/payroll/bia", auditor, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("POST", "/api/v1/services/payroll/bia/approve", cm, nil).Status)

	var b biaBody
	resp := env.do("PUT", "/api/v1/services/payroll/bia", cm, impAssessment("2h", "15m", "1h"))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &b)
	require.Equal(t, biaBody{Service: "payroll", Version: 1, Status: "draft", RTO: "2h", MTPD: "4h", SuggestedRTO: "3h", Tier: 1},
		biaBody{Service: b.Service, Version: b.Version, Status: b.Status, RTO: b.RTO, MTPD: b.MTPD, SuggestedRTO: b.SuggestedRTO, Tier: b.Tier})
	require.Len(t, b.Thresholds, 5)

	// Editing a draft keeps its version.
	env.do("PUT", "/api/v1/services/payroll/bia", cm, impAssessment("1h", "15m", "1h")).JSON(t, &b)
	require.Equal(t, 1, b.Version)
	require.Equal(t, 0, b.Tier, "RTO 1h is tier 0")
	require.Equal(t, http.StatusForbidden, env.do("POST", "/api/v1/services/payroll/bia/approve", orchestrator.RoleOperator, nil).Status)
	env.do("POST", "/api/v1/services/payroll/bia/approve", admin, nil).JSON(t, &b)
	require.Equal(t, "approved", b.Status)
	require.Equal(t, "test-admin", b.ApprovedBy)
	resp = env.do("POST", "/api/v1/services/payroll/bia/approve", cm, nil)
	require.Equal(t, http.StatusConflict, resp.Status, "approving twice")
	require.Contains(t, string(resp.Body), "already approved")

	// Editing an approved BIA starts version 2; version 1 stays frozen.
	env.do("PUT", "/api/v1/services/payroll/bia", cm, impAssessment("2h", "30m", "2h")).JSON(t, &b)
	require.Equal(t, 2, b.Version)
	require.Equal(t, "draft", b.Status)
	require.Equal(t, "2h", b.SuggestedRTO, "MTPD 4h − WRT 2h")
	var versions struct{ Items []biaBody }
	env.do("GET", "/api/v1/services/payroll/bia/versions", auditor, nil).JSON(t, &versions)
	require.Len(t, versions.Items, 2)
	require.Equal(t, []string{"draft", "approved"}, []string{versions.Items[0].Status, versions.Items[1].Status})
	env.do("GET", "/api/v1/services/payroll/bia/versions/1", auditor, nil).JSON(t, &b)
	require.Equal(t, "1h", b.RTO)
	for _, v := range []string{"3", "0", "abc", "1'--"} {
		require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/services/payroll/bia/versions/"+v, auditor, nil).Status, v)
	}
	env.do("GET", "/api/v1/services/payroll/bia", auditor, nil).JSON(t, &b)
	require.Equal(t, 2, b.Version, "the current BIA is the open draft")

	// The audit trail records each step.
	var audit struct {
		Items []struct {
			Action     string
			ResourceID string `json:"resource_id"`
		}
	}
	env.do("GET", "/api/v1/audit?resource=bia", admin, nil).JSON(t, &audit)
	var trail []string
	for _, it := range audit.Items {
		trail = append(trail, it.Action+" "+it.ResourceID)
	}
	require.ElementsMatch(t, []string{"create payroll v1", "update payroll v1", "approve payroll v1", "create payroll v2"}, trail)
}

func TestBIALoss(t *testing.T) {
	t.Parallel()
	env := setup(t)
	impCI(t, env, "payroll", "business_service")
	impApprove(t, env, "payroll", impAssessment("2h", "15m", "1h"))
	type loss struct {
		Version      int
		Loss         float64
		Ratings      map[string]int
		RTOBreached  bool `json:"rto_breached"`
		MTPDBreached bool `json:"mtpd_breached"`
	}
	for _, c := range []struct {
		after     string
		want      float64
		rto, mtpd bool
		financial int
	}{
		{"30m", 5000, false, false, 0},
		{"2h", 40000, false, false, 1},
		{"6h", 200000, true, true, 3},
		{"12h", 500000, true, true, 4}, // beyond 8h at the last slope, 50k/h
	} {
		var l loss
		resp := env.do("GET", "/api/v1/services/payroll/bia/loss?after="+c.after, orchestrator.RoleOperator, nil)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		resp.JSON(t, &l)
		require.InDelta(t, c.want, l.Loss, 0.01, c.after)
		require.Equal(t, c.rto, l.RTOBreached, c.after)
		require.Equal(t, c.mtpd, l.MTPDBreached, c.after)
		require.Equal(t, c.financial, l.Ratings["financial"], c.after)
	}
	for query, field := range map[string]string{
		"":                      "after",
		"?after=soon":           "after",
		"?after=6h&version=x":   "version",
		"?after=6h&colour=blue": "colour",
	} {
		resp := env.do("GET", "/api/v1/services/payroll/bia/loss"+query, orchestrator.RoleOperator, nil)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, query)
		require.Contains(t, impFields(t, resp), field, query)
	}
	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/services/payroll/bia/loss?after=1h&version=9", auditor, nil).Status)
}

func TestBIAValidation(t *testing.T) {
	t.Parallel()
	env := setup(t)
	impCI(t, env, "payroll", "business_service")
	impCI(t, env, "db1", "database")
	with := func(change func(map[string]any)) map[string]any {
		b := impAssessment("2h", "15m", "1h")
		change(b)
		return b
	}
	threshold := func(i int) map[string]any {
		return impAssessment("", "", "")["thresholds"].([]any)[i].(map[string]any)
	}
	cases := map[string]struct {
		body    any
		field   string
		message string
	}{
		"RTO + WRT over MTPD":  {impAssessment("4h", "15m", "2h"), "rto", "RTO 4h + WRT 2h = 6h exceeds MTPD 4h"},
		"no RTO":               {with(func(b map[string]any) { delete(b, "rto") }), "rto", "is required"},
		"zero RTO":             {with(func(b map[string]any) { b["rto"] = "0" }), "rto", "greater than 0"},
		"negative RPO":         {with(func(b map[string]any) { b["rpo"] = "-15m" }), "rpo", "must not be negative"},
		"negative WRT in days": {with(func(b map[string]any) { b["wrt"] = "-3d" }), "wrt", "must not be negative"},
		"null list":            {with(func(b map[string]any) { b["people"] = nil }), "people", "is required"},
		"unknown category": {with(func(b map[string]any) {
			t := threshold(0)
			t["category"] = "morale"
			b["thresholds"] = []any{t}
		}), "thresholds[0].category", "unknown category"},
		"not a time point": {with(func(b map[string]any) {
			t := threshold(0)
			t["at"] = "2h"
			b["thresholds"] = []any{t}
		}), "thresholds[0].at", "not a time point"},
		"rating falls": {with(func(b map[string]any) {
			a, c := threshold(3), threshold(4)
			a["rating"], c["rating"] = 3, 1
			b["thresholds"] = []any{a, c}
		}), "thresholds[1].rating", "may not decrease"},
		"rating above 4": {with(func(b map[string]any) {
			t := threshold(3)
			t["rating"] = 5
			b["thresholds"] = []any{t}
		}), "thresholds[0].rating", "between 0 and 4"},
		"amount outside financial": {with(func(b map[string]any) {
			t := threshold(3)
			t["amount"] = 5
			b["thresholds"] = []any{t}
		}), "thresholds[0].amount", "only the financial"},
		"control characters": {with(func(b map[string]any) { b["people"] = []string{"clerk\x00"} }), "people[0]", "control"},
		"negative mbco":      {with(func(b map[string]any) { b["mbco"] = -1 }), "mbco", "percentage"},
		"wrong type":         {`{"rto":"2h","thresholds":[{"category":"financial","at":"1h","rating":"high"}]}`, "thresholds.rating", ""},
		"unknown field":      {with(func(b map[string]any) { b["mtpd"] = "4h" }), "mtpd", ""},
		"bad duration":       {with(func(b map[string]any) { b["rpo"] = "soon" }), "rpo", "duration"},
		"not JSON":           {"rto=2h", "", "not valid JSON"},
	}
	for name, c := range cases {
		resp := env.do("PUT", "/api/v1/services/payroll/bia", cm, c.body)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s: %s", name, resp.Body)
		if c.field != "" {
			require.Contains(t, impFields(t, resp), c.field, name)
		}
		require.Contains(t, string(resp.Body), c.message, name)
	}
	resp := env.do("PUT", "/api/v1/services/db1/bia", cm, impAssessment("2h", "15m", "1h"))
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "a database has no BIA")
	require.Contains(t, string(resp.Body), "not a business_service")
	require.Equal(t, http.StatusUnprocessableEntity, env.do("GET", "/api/v1/services/db1/bia", auditor, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("PUT", "/api/v1/services/ghost/bia", cm, impAssessment("2h", "15m", "1h")).Status)
	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/services/ghost/bia/versions", auditor, nil).Status)

	var n int
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT count(*) FROM bia_versions`).Scan(&n))
	require.Zero(t, n, "nothing partial written")

	// A draft that no longer fits settings changed since cannot be approved.
	require.Equal(t, http.StatusOK, env.do("PUT", "/api/v1/services/payroll/bia", cm, impAssessment("2h", "15m", "1h")).Status)
	var s map[string]any
	env.do("GET", "/api/v1/settings/bia", admin, nil).JSON(t, &s)
	s["intolerable_level"] = 3 // financial reaches 3 at 4h, operational 2 at 1h: MTPD stays 4h
	s["time_points"] = []string{"1h", "8h"}
	require.Equal(t, http.StatusOK, env.do("PUT", "/api/v1/settings/bia", admin, s).Status)
	resp = env.do("POST", "/api/v1/services/payroll/bia/approve", cm, nil)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
	require.Contains(t, string(resp.Body), fmt.Sprintf("%s is not a time point", "4h"))
	require.True(t, strings.Contains(string(resp.Body), "thresholds[1].at"))
}

// A PUT replaces the whole draft: a body with only some fields is refused,
// naming every missing one, and the draft keeps what it held.
func TestBIAPutNeedsTheWholeDraft(t *testing.T) {
	t.Parallel()
	env := setup(t)
	impCI(t, env, "payroll", "business_service")
	require.Equal(t, http.StatusOK, env.do("PUT", "/api/v1/services/payroll/bia", cm, impAssessment("2h", "15m", "1h")).Status)

	resp := env.do("PUT", "/api/v1/services/payroll/bia", cm, map[string]any{"rto": "120h"})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
	require.ElementsMatch(t, []string{"thresholds", "rpo", "wrt", "mbco", "critical_periods", "vital_records", "people", "suppliers"},
		impFields(t, resp))
	require.Contains(t, string(resp.Body), "is required")

	var b struct {
		biaBody
		RPO    string   `json:"rpo"`
		WRT    string   `json:"wrt"`
		People []string `json:"people"`
	}
	env.do("GET", "/api/v1/services/payroll/bia", auditor, nil).JSON(t, &b)
	require.Equal(t, "2h", b.RTO, "the refused PUT changed nothing")
	require.Equal(t, "15m", b.RPO)
	require.Equal(t, "1h", b.WRT)
	require.Len(t, b.Thresholds, 5)
	require.Equal(t, []string{"payroll clerk"}, b.People)

	// Empty lists are given, not missing: a draft may have none.
	body := impAssessment("2h", "15m", "1h")
	body["critical_periods"], body["vital_records"], body["people"], body["suppliers"] = []string{}, []string{}, []string{}, []string{}
	resp = env.do("PUT", "/api/v1/services/payroll/bia", cm, body)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
}

// A negative duration is refused naming its field, whatever the body: the
// decoder every handler uses says what is wrong with the value.
func TestNegativeDurationNamesTheField(t *testing.T) {
	t.Parallel()
	env := setup(t)
	impCI(t, env, "payroll", "business_service")
	for name, c := range map[string]struct {
		method, path string
		body         any
		field        string
	}{
		"BIA rpo":          {"PUT", "/api/v1/services/payroll/bia", func() any { b := impAssessment("2h", "-1h", "1h"); return b }(), "rpo"},
		"threshold at":     {"PUT", "/api/v1/services/payroll/bia", `{"thresholds":[{"category":"financial","at":"-4h","rating":1}]}`, "thresholds.at"},
		"what-if duration": {"POST", "/api/v1/impact/what-if", map[string]any{"site": "dc-main", "duration": "-8h"}, "duration"},
		"settings time point": {"PUT", "/api/v1/settings/bia", map[string]any{"categories": []string{"financial"}, "time_points": []string{"1h", "-2d"},
			"intolerable_level": 4, "tier_bounds": []string{"1h"}, "currency": "EUR"}, "time_points"},
	} {
		role := cm
		if c.path == "/api/v1/settings/bia" {
			role = admin
		}
		resp := env.do(c.method, c.path, role, c.body)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s: %s", name, resp.Body)
		var body struct {
			Error struct {
				Message string
				Fields  []struct{ Field, Message string }
			}
		}
		resp.JSON(t, &body)
		require.NotContains(t, body.Error.Message, "wrong type", name)
		require.Equal(t, []struct{ Field, Message string }{{c.field, "must not be negative"}}, body.Error.Fields, name)
	}
}
