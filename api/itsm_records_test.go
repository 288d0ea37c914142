package api

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/itsm"
)

func TestProblems(t *testing.T) {
	t.Parallel()
	env := setup(t)
	var incs []int64
	for i := range 3 {
		inc := itsmCreate[itsm.Incident](t, env, "/api/v1/incidents", map[string]any{
			"title": "outage " + strconv.Itoa(i), "priority": "P2", "cause": "software", "opened_at": "2025-01-10T00:00:00Z"})
		incs = append(incs, inc.ID)
	}
	p := itsmCreate[itsm.Problem](t, env, "/api/v1/problems", map[string]any{
		"title": "Memory leak", "root_cause": "unbounded cache\nin app", "incident_ids": []int64{incs[0], incs[1]},
		"opened_at": "2025-01-11T00:00:00Z"})
	require.Equal(t, "PRB-"+strconv.FormatInt(p.ID, 10), p.ExternalID)
	require.Equal(t, "open", p.Status)
	require.Equal(t, []int64{incs[0], incs[1]}, p.IncidentIDs)
	path := "/api/v1/problems/" + strconv.FormatInt(p.ID, 10)

	// The link shows on the incident too.
	var inc itsm.Incident
	env.do("GET", "/api/v1/incidents/"+strconv.FormatInt(incs[0], 10), itsmReader, nil).JSON(t, &inc)
	require.Equal(t, p.ID, *inc.ProblemID)

	// Absent incident_ids keeps the links; a list replaces them.
	known := map[string]any{"title": "Memory leak", "known_error": true, "workaround": "restart nightly", "opened_at": "2025-01-11T00:00:00Z"}
	resp := env.do("PUT", path, itsmWriter, known)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &p)
	require.Equal(t, "known_error", p.Status)
	require.Len(t, p.IncidentIDs, 2)
	known["incident_ids"] = []int64{incs[2]}
	env.do("PUT", path, itsmWriter, known).JSON(t, &p)
	require.Equal(t, []int64{incs[2]}, p.IncidentIDs)

	// Unknown incidents are named and nothing changes.
	known["incident_ids"] = []int64{incs[0], 999999, 888888}
	resp = env.do("PUT", path, itsmWriter, known)
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	require.Equal(t, []string{"incident_ids"}, itsmFields(t, resp))
	require.Contains(t, string(resp.Body), "888888, 999999")
	env.do("GET", path, itsmReader, nil).JSON(t, &p)
	require.Equal(t, []int64{incs[2]}, p.IncidentIDs)

	itsmCreate[itsm.Problem](t, env, "/api/v1/problems", map[string]any{"external_id": "PRB-X", "title": "Old", "status": "closed",
		"opened_at": "2024-01-01T00:00:00Z", "resolved_at": "2024-02-01T00:00:00Z"})
	for query, want := range map[string][]string{
		"":                   {"PRB-X", p.ExternalID},
		"?status=closed":     {"PRB-X"},
		"?known_error=true":  {p.ExternalID},
		"?known_error=false": {"PRB-X"},
		"?status=resolved":   {},
	} {
		got, _ := itsmList(t, env, "/api/v1/problems"+query)
		require.Equal(t, want, got, query)
	}
	require.Equal(t, []string{"PRB-X", p.ExternalID}, itsmWalk(t, env, "/api/v1/problems", 1))

	// Deleting the problem leaves its incidents, unlinked.
	require.Equal(t, http.StatusNoContent, env.do("DELETE", path, itsmWriter, nil).Status)
	env.do("GET", "/api/v1/incidents/"+strconv.FormatInt(incs[2], 10), itsmReader, nil).JSON(t, &inc)
	require.Nil(t, inc.ProblemID)
}

func TestChangeLifecycle(t *testing.T) {
	t.Parallel()
	env := setup(t)
	itsmSeed(t, env, "db1", "app1")
	c := itsmCreate[itsm.Change](t, env, "/api/v1/changes", map[string]any{
		"title": "Upgrade PostgreSQL", "type": "normal", "risk": "high", "major": true, "affected_cis": []string{"db1"},
		"planned_start": "2025-05-01T20:00:00Z", "planned_end": "2025-05-01T23:00:00Z"})
	require.Equal(t, "requested", c.Status)
	require.Nil(t, c.ImplementedAt)
	path := "/api/v1/changes/" + strconv.FormatInt(c.ID, 10)
	body := func(status string, extra map[string]any) map[string]any {
		b := map[string]any{"title": "Upgrade PostgreSQL", "type": "normal", "risk": "high", "major": true,
			"affected_cis": []string{"db1"}, "status": status}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	move := func(status string, extra map[string]any, want int) *response {
		t.Helper()
		resp := env.do("PUT", path, itsmWriter, body(status, extra))
		require.Equal(t, want, resp.Status, "→ %s: %s", status, resp.Body)
		if want == http.StatusUnprocessableEntity {
			require.Contains(t, itsmFields(t, resp), "status")
		}
		return resp
	}
	move("implemented", map[string]any{"actual_start": "2025-05-01T20:05:00Z"}, 422) // skips approval
	move("approved", nil, 200)
	resp := move("requested", nil, 422)
	require.Contains(t, string(resp.Body), "from approved to requested")
	resp = env.do("PUT", path, itsmWriter, body("implemented", nil))
	require.Equal(t, []string{"actual_start"}, itsmFields(t, resp), "implemented needs actual_start")
	move("implemented", map[string]any{"actual_start": "2025-05-01T20:05:00Z", "actual_end": "2025-05-01T22:00:00Z"}, 200).JSON(t, &c)
	require.Equal(t, "2025-05-01T22:00:00Z", c.ImplementedAt.UTC().Format("2006-01-02T15:04:05Z"))
	move("failed", map[string]any{"actual_start": "2025-05-01T20:05:00Z"}, 422)
	move("rolled_back", map[string]any{"actual_start": "2025-05-01T20:05:00Z"}, 200)
	resp = move("approved", map[string]any{"actual_start": "2025-05-01T20:05:00Z"}, 422)
	require.Contains(t, string(resp.Body), "final")

	// History may be recorded in any status.
	for _, in := range []map[string]any{
		{"external_id": "std", "title": "Patch", "type": "standard", "status": "implemented", "affected_cis": []string{"app1"}, "actual_start": "2025-06-01T00:00:00Z"},
		{"external_id": "emg", "title": "Hotfix", "type": "emergency", "status": "failed", "affected_cis": []string{"app1", "db1"}, "actual_start": "2025-07-01T00:00:00Z"},
	} {
		itsmCreate[itsm.Change](t, env, "/api/v1/changes", in)
	}
	for query, want := range map[string][]string{
		"":                              {"emg", "std", c.ExternalID},
		"?type=emergency":               {"emg"},
		"?status=rolled_back":           {c.ExternalID},
		"?major=true":                   {c.ExternalID},
		"?major=false":                  {"emg", "std"},
		"?ci=db1":                       {"emg", c.ExternalID},
		"?implemented_after=2025-06-01": {"emg", "std"},
		"?implemented_before=2025-06-01T00:00:01Z": {"std", c.ExternalID},
	} {
		got, _ := itsmList(t, env, "/api/v1/changes"+query)
		require.Equal(t, want, got, query)
	}
	require.Equal(t, []string{"emg", "std", c.ExternalID}, itsmWalk(t, env, "/api/v1/changes", 2))

	require.Equal(t, http.StatusNoContent, env.do("DELETE", path, itsmWriter, nil).Status)
	require.Equal(t, 0, itsmCountWhere(t, env, "change_cis", "change_id", c.ID))
}

// itsmCountWhere counts the rows of table whose column equals id.
func itsmCountWhere(t *testing.T, env *testEnv, table, column string, id int64) int {
	t.Helper()
	var n int
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT count(*) FROM `+table+` WHERE `+column+` = $1`, id).Scan(&n))
	return n
}

func TestReleases(t *testing.T) {
	t.Parallel()
	env := setup(t)
	itsmSeed(t, env, "app1", "web1")
	r := itsmCreate[itsm.Release](t, env, "/api/v1/releases", map[string]any{"version": "2.0.0", "title": "Spring release",
		"affected_cis": []string{"web1", "app1"}})
	require.Equal(t, "planned", r.Status)
	require.Equal(t, []string{"app1", "web1"}, r.AffectedCIs)
	path := "/api/v1/releases/" + strconv.FormatInt(r.ID, 10)

	resp := env.do("PUT", path, itsmWriter, map[string]any{"version": "2.0.0", "status": "deployed", "affected_cis": []string{"app1"}})
	require.Equal(t, []string{"deployed_at"}, itsmFields(t, resp))
	resp = env.do("PUT", path, itsmWriter, map[string]any{"version": "2.0.0", "status": "deployed", "affected_cis": []string{"app1"},
		"deployed_at": "2025-04-01T06:00:00Z", "external_id": "REL-2.0", "source": "jira"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &r)
	require.Equal(t, "REL-2.0", r.ExternalID)
	require.Equal(t, "jira", r.Source)

	itsmCreate[itsm.Release](t, env, "/api/v1/releases", map[string]any{"external_id": "r2", "version": "2.1", "status": "failed",
		"deployed_at": "2025-05-01T06:00:00Z", "affected_cis": []string{"web1"}})
	for query, want := range map[string][]string{
		"":                            {"r2", "REL-2.0"},
		"?ci=app1":                    {"REL-2.0"},
		"?status=failed":              {"r2"},
		"?deployed_after=2025-04-02":  {"r2"},
		"?deployed_before=2025-04-02": {"REL-2.0"},
		"?ci=web1&status=deployed":    {},
	} {
		got, _ := itsmList(t, env, "/api/v1/releases"+query)
		require.Equal(t, want, got, query)
	}
	require.Equal(t, []string{"r2", "REL-2.0"}, itsmWalk(t, env, "/api/v1/releases", 1))

	// The same source and external id twice conflicts, naming external_id.
	resp = env.do("POST", "/api/v1/releases", itsmWriter, map[string]any{"version": "9", "external_id": "REL-2.0", "source": "jira"})
	require.Equal(t, http.StatusConflict, resp.Status)
	require.Equal(t, []string{"external_id"}, itsmFields(t, resp))
	require.Equal(t, http.StatusNoContent, env.do("DELETE", path, itsmWriter, nil).Status)
}
