package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

const operator = orchestrator.RoleOperator

// impPayroll builds a small bureau:
//
//	svc-rep → svc-pay → app-pay ⇒ {db1, db2, db3} (2 of 3 must be up)
//	svc-web → app-web; svc-web provided_by sup-cdn (which holds data)
//	app-pay, app-web → vm1 → host1 → dc1;  db1, db2 → host1;  db3 → host2 → dc2
//
// with approved BIAs for the three services (RTO/RPO/WRT): svc-pay
// 2h/15m/1h, svc-web 1h/1h/1h, svc-rep 3h/24h/1h; MTPD is 4h for all.
func impPayroll(t *testing.T) *testEnv {
	t.Helper()
	env := setup(t)
	for _, s := range []struct{ key, site, estimate string }{
		{"dc1", "dc1", "0"}, {"dc2", "dc2", "0"}, {"host1", "dc1", "4h"}, {"host2", "dc2", "4h"}, {"vm1", "dc1", "1h"},
		{"db1", "dc1", "2h"}, {"db2", "dc1", "2h"}, {"db3", "dc2", "3h"},
	} {
		class := map[byte]string{'d': "database", 'h': "server", 'v': "vm"}[s.key[0]]
		if s.key[:2] == "dc" {
			class = "site"
		}
		impCI(t, env, s.key, class, "site", s.site, "recovery_estimate", s.estimate, "data_bearing", class == "database")
	}
	impCI(t, env, "app-pay", "application", "recovery_estimate", "30m")
	impCI(t, env, "app-web", "application", "recovery_estimate", "30m")
	impCI(t, env, "sup-cdn", "supplier_service", "data_bearing", true)
	for _, k := range []string{"svc-pay", "svc-web", "svc-rep"} {
		impCI(t, env, k, "business_service")
	}
	impRel(t, env, "svc-rep", "depends_on", "svc-pay", "", 0)
	impRel(t, env, "svc-pay", "depends_on", "app-pay", "", 0)
	impRel(t, env, "svc-web", "depends_on", "app-web", "", 0)
	impRel(t, env, "svc-web", "provided_by", "sup-cdn", "", 0)
	for _, db := range []string{"db1", "db2", "db3"} {
		impRel(t, env, "app-pay", "depends_on", db, "db", 2)
	}
	impRel(t, env, "app-pay", "runs_on", "vm1", "", 0)
	impRel(t, env, "app-web", "runs_on", "vm1", "", 0)
	impRel(t, env, "vm1", "runs_on", "host1", "", 0)
	impRel(t, env, "db1", "runs_on", "host1", "", 0)
	impRel(t, env, "db2", "runs_on", "host1", "", 0)
	impRel(t, env, "db3", "runs_on", "host2", "", 0)
	impRel(t, env, "host1", "hosted_in", "dc1", "", 0)
	impRel(t, env, "host2", "hosted_in", "dc2", "", 0)
	impApprove(t, env, "svc-pay", impAssessment("2h", "15m", "1h"))
	impApprove(t, env, "svc-web", impAssessment("1h", "1h", "1h"))
	impApprove(t, env, "svc-rep", impAssessment("3h", "24h", "1h"))
	return env
}

type reqBody struct {
	CI         string  `json:"ci"`
	RTO        *string `json:"rto"`
	RTOService *string `json:"rto_service"`
	RPO        *string `json:"rpo"`
	RPOService *string `json:"rpo_service"`
}

func (r reqBody) flat() [4]string {
	deref := func(s *string) string {
		if s == nil {
			return "-"
		}
		return *s
	}
	return [4]string{deref(r.RTO), deref(r.RTOService), deref(r.RPO), deref(r.RPOService)}
}

func TestRequirementsRollDown(t *testing.T) {
	t.Parallel()
	env := impPayroll(t)
	impCI(t, env, "spare", "server")
	// A draft does not count until approved.
	require.Equal(t, http.StatusOK, env.do("PUT", "/api/v1/services/svc-rep/bia", cm, impAssessment("30m", "5m", "1h")).Status)
	for ci, want := range map[string][4]string{
		"dc2":     {"2h", "svc-pay", "15m", "svc-pay"}, // five levels below svc-rep, via the db group
		"host1":   {"1h", "svc-web", "15m", "svc-pay"}, // each figure set by a different service
		"svc-pay": {"2h", "svc-pay", "15m", "svc-pay"}, // svc-rep needs it but is looser
		"svc-rep": {"3h", "svc-rep", "24h", "svc-rep"},
		"sup-cdn": {"1h", "svc-web", "1h", "svc-web"},
		"spare":   {"-", "-", "-", "-"},
	} {
		var r reqBody
		resp := env.do("GET", "/api/v1/cis/"+ci+"/requirements", operator, nil)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		resp.JSON(t, &r)
		require.Equal(t, want, r.flat(), ci)
	}
	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/cis/ghost/requirements", operator, nil).Status)

	var page struct {
		Items []struct {
			Key          string
			Requirements reqBody
		}
		Next string
	}
	resp := env.do("GET", "/api/v1/cis?include=requirements&class=server&limit=1", auditor, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &page)
	require.Len(t, page.Items, 1)
	require.Equal(t, "host1", page.Items[0].Key)
	require.Equal(t, [4]string{"1h", "svc-web", "15m", "svc-pay"}, page.Items[0].Requirements.flat())
	require.NotEmpty(t, page.Next)
	env.do("GET", "/api/v1/cis?include=requirements&class=server&limit=1&after="+page.Next, auditor, nil).JSON(t, &page)
	require.Equal(t, "host2", page.Items[0].Key)
	for _, q := range []string{"include=everything", "include=requirements&colour=red", "include=requirements&limit=0"} {
		require.Equal(t, http.StatusUnprocessableEntity, env.do("GET", "/api/v1/cis?"+q, auditor, nil).Status, q)
	}
}

type whatIfBody struct {
	Failed   []string
	Down     []string
	Services []struct {
		Key          string
		Path         []string
		Ratings      map[string]int
		Loss         float64
		RTOBreached  bool `json:"rto_breached"`
		MTPDBreached bool `json:"mtpd_breached"`
		Outage       string
		BIAVersion   *int `json:"bia_version"`
	}
	TotalLoss     float64  `json:"total_loss"`
	RecoveryOrder []string `json:"recovery_order"`
}

func (w whatIfBody) services() []string {
	var out []string
	for _, s := range w.Services {
		out = append(out, s.Key)
	}
	return out
}

func whatIf(t *testing.T, env *testEnv, body any) whatIfBody {
	t.Helper()
	resp := env.do("POST", "/api/v1/impact/what-if", operator, body)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var w whatIfBody
	resp.JSON(t, &w)
	return w
}

func TestWhatIf(t *testing.T) {
	t.Parallel()
	env := impPayroll(t)

	// 2 of 3 databases: one failure is survived, two are not.
	w := whatIf(t, env, map[string]any{"failed": []string{"db1"}, "duration": "6h"})
	require.Equal(t, []string{"db1"}, w.Down)
	require.Empty(t, w.Services)
	w = whatIf(t, env, map[string]any{"failed": []string{"db3", "db1"}, "duration": "6h"})
	require.Equal(t, []string{"app-pay", "db1", "db3", "svc-pay", "svc-rep"}, w.Down)
	require.ElementsMatch(t, []string{"svc-pay", "svc-rep"}, w.services())
	for _, s := range w.Services {
		require.Equal(t, s.Key, s.Path[0], "the path starts at the service")
		require.Contains(t, []string{"db1", "db3"}, s.Path[len(s.Path)-1], "and ends at a failed CI")
		require.InDelta(t, 200000, s.Loss, 0.01, "6h is halfway between 100k at 4h and 300k at 8h")
		require.True(t, s.RTOBreached)
		require.True(t, s.MTPDBreached)
		require.Equal(t, 3, s.Ratings["financial"])
		require.Equal(t, 1, *s.BIAVersion)
	}
	require.Equal(t, []string{"svc-rep", "svc-pay", "app-pay"}, w.Services[1].Path[:3])
	require.InDelta(t, 400000, w.TotalLoss, 0.01)
	require.Equal(t, []string{"db1", "db3", "app-pay", "svc-pay", "svc-rep"}, w.RecoveryOrder, "dependencies first")

	// Without a duration each service is out for its estimated recovery:
	// app-pay 30m after the slower database, db3 3h.
	w = whatIf(t, env, map[string]any{"failed": []string{"db1", "db3"}})
	require.Equal(t, "3h30m", w.Services[0].Outage)
	require.False(t, w.Services[0].MTPDBreached)

	// A whole site.
	w = whatIf(t, env, map[string]any{"site": "dc1", "duration": "1h"})
	require.ElementsMatch(t, []string{"svc-pay", "svc-rep", "svc-web"}, w.services())
	require.Contains(t, w.Down, "host1")
	require.NotContains(t, w.Down, "db3")
	require.Equal(t, []string{"db1", "db2", "dc1", "host1", "vm1"}, w.Failed)

	// A supplier fails the supplier_service CIs it provides.
	resp := env.do("POST", "/api/v1/suppliers", cm, map[string]any{"key": "cdnco", "name": "CDN Co", "services": []string{"sup-cdn"}})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	w = whatIf(t, env, map[string]any{"supplier": "cdnco", "duration": "2h"})
	require.Equal(t, []string{"svc-web"}, w.services())
	require.Equal(t, []string{"svc-web", "sup-cdn"}, w.Services[0].Path)
	require.True(t, w.Services[0].RTOBreached, "2h > RTO 1h")
	require.False(t, w.Services[0].MTPDBreached)

	for name, c := range map[string]struct {
		body  any
		field string
		text  string
	}{
		"unknown keys":     {map[string]any{"failed": []string{"ghost", "db1", "phantom"}}, "failed", "ghost, phantom"},
		"nothing fails":    {map[string]any{"duration": "1h"}, "failed", ""},
		"unknown site":     {map[string]any{"site": "dc9"}, "site", "dc9"},
		"unknown supplier": {map[string]any{"supplier": "acme"}, "supplier", "acme"},
		"unknown risk":     {map[string]any{"risk": 999}, "risk", "999"},
		"wrong type":       {`{"failed":"db1"}`, "failed", ""},
		"bad duration":     {map[string]any{"failed": []string{"db1"}, "duration": "forever"}, "duration", ""},
		"sql in key":       {map[string]any{"failed": []string{"db1' OR 1=1 --"}}, "failed", "OR 1=1"},
		"unknown field":    {map[string]any{"failed": []string{"db1"}, "cascade": true}, "cascade", ""},
	} {
		resp := env.do("POST", "/api/v1/impact/what-if", operator, c.body)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s: %s", name, resp.Body)
		require.Contains(t, impFields(t, resp), c.field, name)
		require.Contains(t, string(resp.Body), c.text, name)
	}
	require.Equal(t, http.StatusForbidden, env.do("POST", "/api/v1/impact/what-if", orchestrator.RoleExecutive, map[string]any{"site": "dc1"}).Status)
}

func TestWhatIfSeesCMDBChanges(t *testing.T) {
	t.Parallel()
	env := impPayroll(t)
	w := whatIf(t, env, map[string]any{"failed": []string{"host2"}})
	require.Empty(t, w.Services, "db3 alone does not break the 2-of-3 group")

	// Another writer changes the CMDB; the next question sees it.
	impCI(t, env, "svc-new", "business_service")
	impRel(t, env, "svc-new", "depends_on", "host2", "", 0)
	w = whatIf(t, env, map[string]any{"failed": []string{"host2"}})
	require.Equal(t, []string{"svc-new"}, w.services())
	require.Equal(t, []string{"svc-new", "host2"}, w.Services[0].Path)
	require.Nil(t, w.Services[0].BIAVersion, "no BIA yet")

	var rels struct{ Items []struct{ ID int64 } }
	env.do("GET", "/api/v1/relations?from=svc-new", operator, nil).JSON(t, &rels)
	require.Equal(t, http.StatusNoContent, env.do("DELETE", "/api/v1/relations/"+itoa(rels.Items[0].ID), cm, nil).Status)
	require.Empty(t, whatIf(t, env, map[string]any{"failed": []string{"host2"}}).Services)
}

func TestDependenciesAndDependents(t *testing.T) {
	t.Parallel()
	env := impPayroll(t)
	type closure struct {
		Root  string
		Tree  map[string]any
		Items []struct {
			Key, Class, Parent string
			Depth              int
		}
		Services []string
	}
	var c closure
	resp := env.do("GET", "/api/v1/services/svc-rep/dependencies", auditor, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &c)
	depth := map[string]int{}
	for _, it := range c.Items {
		depth[it.Key] = it.Depth
	}
	require.Equal(t, map[string]int{"svc-pay": 1, "app-pay": 2, "db1": 3, "db2": 3, "db3": 3, "vm1": 3,
		"host1": 4, "host2": 4, "dc1": 5, "dc2": 5}, depth)
	require.Equal(t, []string{"svc-pay"}, c.Services)
	require.Equal(t, "svc-rep", c.Tree["key"])
	child := c.Tree["children"].([]any)[0].(map[string]any)
	require.Equal(t, "svc-pay", child["key"])
	require.Equal(t, "app-pay", child["children"].([]any)[0].(map[string]any)["key"])

	env.do("GET", "/api/v1/cis/host1/dependents", auditor, nil).JSON(t, &c)
	require.Equal(t, []string{"svc-pay", "svc-rep", "svc-web"}, c.Services)
	require.Equal(t, http.StatusUnprocessableEntity, env.do("GET", "/api/v1/services/db1/dependencies", auditor, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/services/ghost/dependencies", auditor, nil).Status)
	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/cis/ghost/dependents", auditor, nil).Status)
}

func TestCycles(t *testing.T) {
	t.Parallel()
	env := setup(t)
	var body struct{ Cycles [][]string }
	env.do("GET", "/api/v1/cmdb/cycles", auditor, nil).JSON(t, &body)
	require.Empty(t, body.Cycles)
	for _, k := range []string{"a", "b", "c", "d", "x", "y"} {
		impCI(t, env, k, "application")
	}
	for _, r := range [][2]string{{"c", "a"}, {"a", "b"}, {"b", "c"}, {"d", "a"}, {"y", "x"}, {"x", "y"}} {
		impRel(t, env, r[0], "depends_on", r[1], "", 0)
	}
	// Copies and backups do not propagate failure, so they close no cycle.
	impRel(t, env, "d", "replicates_to", "c", "", 0)
	impRel(t, env, "a", "backed_up_by", "d", "", 0)
	env.do("GET", "/api/v1/cmdb/cycles", operator, nil).JSON(t, &body)
	require.Equal(t, [][]string{{"a", "b", "c"}, {"x", "y"}}, body.Cycles)

	// What-if terminates on the cycle and takes all of it down.
	w := whatIf(t, env, map[string]any{"failed": []string{"b"}})
	require.Equal(t, []string{"a", "b", "c", "d"}, w.Down)
}
