package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
)

// resDualSite builds a service with a standby at a second site:
//
//	svc → app → db (dc1, data, backed up to bkp at dc2 with dumps checked for real)
//	app fails_over_to app-dr (dc2, 15m, manual) → db-dr
//	db replicates_to db-dr (dc2, 10m, automatic, async, lag 5m)
//
// and an approved BIA of RTO 2h, RPO 15m.
func resDualSite(t *testing.T) *testEnv {
	t.Helper()
	env := setup(t)
	impCI(t, env, "dc1", "site", "site", "dc1", "attributes", map[string]any{"region": "north"})
	impCI(t, env, "dc2", "site", "site", "dc2", "attributes", map[string]any{"region": "south"})
	for _, c := range []struct {
		key, class, site, strategy, estimate string
		data                                 bool
	}{
		{"host1", "server", "dc1", "rebuild", "4h", false}, {"host2", "server", "dc2", "rebuild", "4h", false},
		{"app", "application", "dc1", "rebuild", "2h", false}, {"app-dr", "application", "dc2", "failover", "30m", false},
		{"db", "database", "dc1", "restore", "1h", true}, {"db-dr", "database", "dc2", "failover", "30m", true},
		{"bkp", "backup_repository", "dc2", "rebuild", "8h", true},
	} {
		impCI(t, env, c.key, c.class, "site", c.site, "recovery_strategy", c.strategy, "recovery_estimate", c.estimate, "data_bearing", c.data)
	}
	impCI(t, env, "svc", "business_service")
	for _, r := range [][3]string{
		{"svc", "depends_on", "app"}, {"app", "runs_on", "host1"}, {"app", "depends_on", "db"}, {"db", "runs_on", "host1"},
		{"host1", "hosted_in", "dc1"}, {"host2", "hosted_in", "dc2"}, {"bkp", "hosted_in", "dc2"}, {"db", "backed_up_by", "bkp"},
		{"app-dr", "runs_on", "host2"}, {"app-dr", "depends_on", "db-dr"}, {"db-dr", "runs_on", "host2"},
	} {
		impRel(t, env, r[0], r[1], r[2], "", 0)
	}
	resp := env.do("POST", "/api/v1/relations", cm, map[string]any{"from": "app", "type": "fails_over_to", "to": "app-dr",
		"failover_estimate": "15m", "activation": "manual"})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	resp = env.do("POST", "/api/v1/relations", cm, map[string]any{"from": "db", "type": "replicates_to", "to": "db-dr",
		"failover_estimate": "10m", "activation": "automatic", "replication": "async", "lag": "5m"})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	var rel struct {
		FailoverEstimate string `json:"failover_estimate"`
		Activation       string `json:"activation"`
		Replication      string `json:"replication"`
		Lag              string `json:"lag"`
	}
	resp.JSON(t, &rel)
	require.Equal(t, "10m", rel.FailoverEstimate)
	require.Equal(t, "automatic", rel.Activation)
	require.Equal(t, "async", rel.Replication)
	require.Equal(t, "5m", rel.Lag)
	impApprove(t, env, "svc", impAssessment("2h", "15m", "1h"))

	// The database's dumps, the newest an hour old, verified by a real
	// check against their manifest.
	dir := backupDumps(t)
	resp = env.do("POST", "/api/v1/backup-targets", cm, map[string]any{"ci": "db", "kind": "file", "schedule": "@daily",
		"config": map[string]any{"path": dir + "/*.dump", "manifest": dir + "/SHA256SUMS", "min_size": 100}})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	var tg struct {
		ID int64 `json:"id"`
	}
	resp.JSON(t, &tg)
	resp = env.do("POST", "/api/v1/backup-targets/"+itoa(tg.ID)+"/check", cm, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	return env
}

type resScenario struct {
	Scenario struct {
		Type   string   `json:"type"`
		CIs    []string `json:"cis"`
		Class  string   `json:"class"`
		Site   string   `json:"site"`
		Region string   `json:"region"`
	} `json:"scenario"`
	Strategy []struct {
		CI      string `json:"ci"`
		Action  string `json:"action"`
		Standby string `json:"standby"`
	} `json:"strategy"`
	Standbys     []string `json:"standbys"`
	RTOEstimate  string   `json:"rto_estimate"`
	RPOEstimate  *string  `json:"rpo_estimate"`
	RTOMet       *bool    `json:"rto_met"`
	RPOMet       *bool    `json:"rpo_met"`
	CriticalPath []struct {
		Kind     string `json:"kind"`
		CI       string `json:"ci"`
		Estimate string `json:"estimate"`
		Finish   string `json:"finish"`
	} `json:"critical_path"`
	Notes []string `json:"notes"`
}

func findScenario(t *testing.T, list []resScenario, typ, subject string) resScenario {
	t.Helper()
	for _, s := range list {
		if s.Scenario.Type == typ && (s.Scenario.Site == subject || s.Scenario.Region == subject || contains(s.Scenario.CIs, subject)) {
			return s
		}
	}
	t.Fatalf("no %s scenario of %s", typ, subject)
	return resScenario{}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestServiceResilience(t *testing.T) {
	t.Parallel()
	env := resDualSite(t)
	var body struct {
		Service   string        `json:"service"`
		RTO       string        `json:"rto"`
		RPO       string        `json:"rpo"`
		Scenarios []resScenario `json:"scenarios"`
	}
	resp := env.do("GET", "/api/v1/services/svc/resilience", operator, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &body)
	require.Equal(t, "2h", body.RTO)

	// Losing dc1: both fail over to dc2, within the RTO, losing the lag.
	site := findScenario(t, body.Scenarios, "site_loss", "dc1")
	require.Equal(t, []string{"app-dr", "db-dr"}, site.Standbys)
	require.Equal(t, "1h25m", site.RTOEstimate, "db promoted (10m + 15m check), app switched (15m + 10m repoint + 5m), service checked (30m)")
	require.Equal(t, "5m", *site.RPOEstimate)
	require.True(t, *site.RTOMet)
	require.True(t, *site.RPOMet)
	require.Equal(t, "verify_service", site.CriticalPath[len(site.CriticalPath)-1].Kind)
	require.Equal(t, site.RTOEstimate, site.CriticalPath[len(site.CriticalPath)-1].Finish)
	region := findScenario(t, body.Scenarios, "region_loss", "north")
	require.Equal(t, site.RTOEstimate, region.RTOEstimate)

	// Corrupting the database reaches its replica: only the dumps help,
	// and the newest verified one is about an hour old.
	corrupt := findScenario(t, body.Scenarios, "corruption", "db")
	require.Empty(t, corrupt.Standbys)
	require.Equal(t, "restore", corrupt.Strategy[0].Action)
	require.NotNil(t, corrupt.RPOEstimate)
	rpo, err := orchestrator.ParseDuration(*corrupt.RPOEstimate)
	require.NoError(t, err)
	require.InDelta(t, float64(orchestrator.Duration(3600e9)), float64(rpo), 120e9, "the age of the newest verified dump")
	require.False(t, *corrupt.RPOMet)
	require.Equal(t, "corruption", body.Scenarios[0].Scenario.Type, "worst first: the only scenario missing a target")

	// dc2 holds standbys only: losing it does not take the service down.
	for _, s := range body.Scenarios {
		require.NotEqual(t, "dc2", s.Scenario.Site)
	}
	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/services/ghost/resilience", operator, nil).Status)
	require.Equal(t, http.StatusUnprocessableEntity, env.do("GET", "/api/v1/services/db/resilience", operator, nil).Status)
	require.Equal(t, http.StatusForbidden, env.do("GET", "/api/v1/services/svc/resilience", orchestrator.RoleExecutive, nil).Status)

	var all struct {
		Services []struct {
			Service   string       `json:"service"`
			WorstRPO  *resScenario `json:"worst_rpo"`
			MeetsBoth *bool        `json:"meets_both"`
		} `json:"services"`
		Counts struct {
			Services, MeetingBoth, MissingRPO int
		} `json:"counts"`
	}
	resp = env.do("GET", "/api/v1/resilience", orchestrator.RoleAuditor, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &all)
	require.Len(t, all.Services, 1)
	require.Equal(t, "corruption", all.Services[0].WorstRPO.Scenario.Type)
	require.False(t, *all.Services[0].MeetsBoth)
	require.Contains(t, string(resp.Body), `"missing_rpo":1`)

	// A what-if of dc1's loss carries the recovery beside the loss.
	var w struct {
		Services []struct {
			Key      string  `json:"key"`
			Loss     float64 `json:"loss"`
			Recovery struct {
				Standbys       []string `json:"standbys"`
				Estimate       string   `json:"estimate"`
				RTOMet         *bool    `json:"rto_met"`
				MTPDMet        *bool    `json:"mtpd_met"`
				LossAtEstimate float64  `json:"loss_at_estimate"`
			} `json:"recovery"`
		} `json:"services"`
	}
	resp = env.do("POST", "/api/v1/impact/what-if", operator, map[string]any{"site": "dc1", "duration": "8h"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &w)
	require.Len(t, w.Services, 1)
	r := w.Services[0].Recovery
	require.Equal(t, []string{"app-dr", "db-dr"}, r.Standbys)
	require.Equal(t, "1h25m", r.Estimate)
	require.True(t, *r.RTOMet)
	require.True(t, *r.MTPDMet)
	require.InDelta(t, 300000, w.Services[0].Loss, 0.01, "loss at the 8h asked about")
	require.Less(t, r.LossAtEstimate, w.Services[0].Loss, "loss at the estimated recovery beside it")
}

func TestStandbyRelationsRejectBadInput(t *testing.T) {
	t.Parallel()
	env := setup(t)
	for _, k := range []string{"a", "b", "c"} {
		impCI(t, env, k, "database", "data_bearing", true)
	}
	impRel(t, env, "a", "replicates_to", "b", "", 0)
	impRel(t, env, "b", "fails_over_to", "c", "", 0)
	cases := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"itself", map[string]any{"from": "a", "type": "fails_over_to", "to": "a"}, "to"},
		{"unknown standby", map[string]any{"from": "a", "type": "fails_over_to", "to": "ghost"}, "to"},
		{"unknown source", map[string]any{"from": "ghost", "type": "fails_over_to", "to": "a"}, "from"},
		{"a standby cycle", map[string]any{"from": "c", "type": "fails_over_to", "to": "a"}, "to"},
		{"a negative estimate", map[string]any{"from": "a", "type": "fails_over_to", "to": "c", "failover_estimate": "-5m"}, "failover_estimate"},
		{"a negative lag", map[string]any{"from": "a", "type": "replicates_to", "to": "c", "lag": "-1m"}, "lag"},
		{"an unknown activation", map[string]any{"from": "a", "type": "fails_over_to", "to": "c", "activation": "sometimes"}, "activation"},
		{"lag on sync replication", map[string]any{"from": "a", "type": "replicates_to", "to": "c", "replication": "sync", "lag": "5m"}, "lag"},
		{"failover attributes on a dependency", map[string]any{"from": "a", "type": "depends_on", "to": "c", "failover_estimate": "5m"}, "failover_estimate"},
	}
	for _, c := range cases {
		resp := env.do("POST", "/api/v1/relations", cm, c.body)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s: %s", c.name, resp.Body)
		require.Contains(t, impFields(t, resp), c.field, c.name)
	}
	resp := env.do("POST", "/api/v1/relations", cm, map[string]any{"from": "c", "type": "fails_over_to", "to": "a"})
	require.Contains(t, string(resp.Body), "a → b → c", "the error names the chain")
	// A ring of replicates_to alone is multi-master replication, not a standby cycle.
	impRel(t, env, "b", "replicates_to", "a", "", 0)

	// The same rules hold on import, which writes nothing when a row breaks them.
	status, rep := env.importFile("relations", "",
		"from,to,type,failover_estimate,activation,replication,lag\n"+
			"a,c,fails_over_to,15m,manual,,\n"+
			"c,a,standby,,,,\n"+
			"b,a,replicates_to,,,async,-5m\n")
	require.Equal(t, http.StatusUnprocessableEntity, status)
	var problems []string
	for _, p := range rep.Problems {
		problems = append(problems, itoa(int64(p.Row))+":"+p.Column+":"+p.Message)
	}
	joined := strings.Join(problems, "\n")
	require.Contains(t, joined, "2:to:forms a standby cycle", joined)
	require.Contains(t, joined, "3:lag:invalid duration \"-5m\": must not be negative", joined)
	var list struct {
		Items []map[string]any `json:"items"`
	}
	env.do("GET", "/api/v1/relations?type=fails_over_to", cm, nil).JSON(t, &list)
	require.Len(t, list.Items, 1, "nothing partial was written")

	status, rep = env.importFile("relations", "", "from,to,type,failover_time,activation,replication_mode,replication_lag\na,c,fails_over_to,15m,Manual,async,2m\n")
	require.Equal(t, http.StatusOK, status, "%+v", rep)
	csv := env.do("GET", "/api/v1/relations?type=fails_over_to&format=csv", cm, nil)
	require.Contains(t, string(csv.Body), "a,c,fails_over_to,,0,import,a fails_over_to c,15m,manual,async,2m")
}

// A scenario runbook for the loss of dc1 fails over to dc2, repoints and
// verifies, recovers nothing in place at dc1, and lists both failovers to
// reverse; the service runbook is judged per scenario.
func TestScenarioRunbookFailsOver(t *testing.T) {
	t.Parallel()
	env := resDualSite(t)
	resp := env.do("POST", "/api/v1/runbooks", rbManager, map[string]any{"scenario": map[string]any{"failed": []string{"dc1"}}})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	var rb runbooks.Runbook
	resp.JSON(t, &rb)
	var titles []string
	for _, s := range rb.Version.Steps {
		titles = append(titles, s.Kind+" "+s.CI+": "+s.Title)
		require.NotEqual(t, "dc1", s.CI, "no step waits for the lost site: %s", s.Title)
		require.NotEqual(t, "host1", s.CI, "nor for what it hosted: %s", s.Title)
	}
	all := strings.Join(titles, "\n")
	require.Contains(t, all, "recover app: 切换 Fail over app to app-dr", all)
	require.Contains(t, all, "recover db: 切换 Fail over db to db-dr", all)
	require.Contains(t, all, "recover app: 切换指向 Repoint the dependents of app to app-dr", all)
	require.NotContains(t, all, "Repoint the dependents of db", "the database's switch is automatic")
	require.Contains(t, all, "verify app: 验证 Verify app-dr has taken over app", all)
	require.Contains(t, all, "service_verify svc", all)
	failback := strings.Join(rb.Version.Sections.Failback, "\n")
	require.Contains(t, failback, "Fail app back from app-dr")
	require.Contains(t, failback, "Fail db back from db-dr")
	f := rb.Feasibility
	require.Equal(t, "1h40m", f.EstimatedRecovery.String(), "the plan's 1h25m and the 15m hand-back")
	require.True(t, f.RTO.Feasible, f.RTO.Message)
	for _, c := range f.RPO {
		if c.CI == "db" {
			require.Equal(t, orchestrator.RPOCompliant, c.Status, "judged by the replica's lag: %s", c.Message)
		}
	}
	require.Equal(t, runbooks.Feasible, f.Verdict, "%+v", f.Gaps)

	resp = env.do("POST", "/api/v1/runbooks", rbManager, map[string]any{"service": "svc"})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	resp.JSON(t, &rb)
	f = rb.Feasibility
	require.NotEmpty(t, f.Scenarios)
	require.True(t, f.RTO.Feasible, "every scenario's recovery fits the 2h RTO: %s", f.RTO.Message)
	require.Contains(t, f.RTO.Message, "in every scenario")
}
