package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/itsm"
)

func TestITSMFigures(t *testing.T) {
	t.Parallel()
	env := setup(t)
	itsmSeed(t, env, "db1", "app1", "svc-tax")
	for _, in := range []map[string]any{
		// Monday 2025-03-03, two office hours (UTC), severe.
		{"title": "a", "priority": "P1", "cause": "hardware", "affected_cis": []string{"db1"}, "affected_services": []string{"svc-tax"},
			"opened_at": "2025-03-03T10:00:00Z", "restored_at": "2025-03-03T12:00:00Z"},
		// Saturday, four hours, not severe.
		{"title": "b", "priority": "P3", "cause": "power", "affected_services": []string{"svc-tax"},
			"opened_at": "2025-03-08T10:00:00Z", "restored_at": "2025-03-08T14:00:00Z"},
		// Another CI only.
		{"title": "c", "priority": "P2", "cause": "software", "affected_cis": []string{"app1"},
			"opened_at": "2025-04-01T00:00:00Z", "closed_at": "2025-04-01T01:00:00Z"},
	} {
		itsmCreate[itsm.Incident](t, env, "/api/v1/incidents", in)
	}
	period := "from=2025-01-01&to=2026-01-01T00:00:00Z"

	var st itsm.Stats
	resp := env.do("GET", "/api/v1/metrics/services/svc-tax?"+period, itsmReader, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &st)
	require.Equal(t, 2, st.Incidents)
	require.Equal(t, 1, st.SevereIncidents)
	require.InDelta(t, 360, st.OutageMinutes, 1e-9)
	require.Equal(t, orchestrator.Duration(2*time.Hour), *st.MTTR)
	require.Equal(t, "8758h", st.MTBF.String()) // (8760 h − 2 h) / 1
	require.InDelta(t, 1.0, st.ByCause["power"].PerYear, 1e-9)

	env.do("GET", "/api/v1/metrics/cis/app1?"+period, itsmReader, nil).JSON(t, &st)
	require.Equal(t, "ci", st.Kind)
	require.InDelta(t, 60, st.OutageMinutes, 1e-9)

	// The default period is the last 365 days: nothing recent.
	env.do("GET", "/api/v1/metrics/cis/db1", itsmReader, nil).JSON(t, &st)
	require.Zero(t, st.Incidents)
	require.Nil(t, st.MTBF)

	var av itsm.Availability
	resp = env.do("GET", "/api/v1/metrics/services/svc-tax/availability?"+period+"&measured_in=business_hours&target=99.9", itsmReader, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &av)
	require.InDelta(t, 2610*60, av.ScheduledMinutes, 1e-9) // 261 weekdays × 10 h
	require.InDelta(t, 120, av.OutageMinutes, 1e-9)        // the Saturday outage is outside business hours
	require.InDelta(t, 100*(1-2.0/2610), *av.Achieved, 1e-9)
	require.True(t, *av.Met)

	env.do("GET", "/api/v1/metrics/services/svc-tax/availability?"+period, itsmReader, nil).JSON(t, &av)
	require.Equal(t, "24x7", av.MeasuredIn)
	require.InDelta(t, 100*(1-6.0/8760), *av.Achieved, 1e-9)
	require.Nil(t, av.Met)

	itsmCreate[itsm.Change](t, env, "/api/v1/changes", map[string]any{"title": "ok", "type": "emergency", "status": "implemented",
		"affected_cis": []string{"db1"}, "actual_start": "2025-05-01T00:00:00Z"})
	itsmCreate[itsm.Change](t, env, "/api/v1/changes", map[string]any{"title": "bad", "status": "rolled_back",
		"affected_cis": []string{"db1"}, "actual_start": "2025-05-02T00:00:00Z"})
	var cs itsm.ChangeStats
	resp = env.do("GET", "/api/v1/metrics/changes?"+period+"&top=5", itsmReader, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &cs)
	require.InDelta(t, 0.5, *cs.FailureRate, 1e-9)
	require.Equal(t, []itsm.CIChanges{{CI: "db1", EmergencyChanges: 1}}, cs.PerCI)
}

func TestITSMFiguresBadInput(t *testing.T) {
	t.Parallel()
	env := setup(t)
	itsmSeed(t, env, "db1", "svc-tax")
	for path, field := range map[string]string{
		"/api/v1/metrics/cis/db1?from=2026-01-01&to=2025-01-01":              "to",
		"/api/v1/metrics/cis/db1?from=1900-01-01&to=2026-01-01":              "from",
		"/api/v1/metrics/cis/db1?from=yesterday":                             "from",
		"/api/v1/metrics/cis/db1?period=1y":                                  "period",
		"/api/v1/metrics/services/svc-tax?to=2026-13-01":                     "to",
		"/api/v1/metrics/services/svc-tax/availability?target=abc":           "target",
		"/api/v1/metrics/services/svc-tax/availability?target=0":             "target",
		"/api/v1/metrics/services/svc-tax/availability?target=100.5":         "target",
		"/api/v1/metrics/services/svc-tax/availability?target=NaN":           "target",
		"/api/v1/metrics/services/svc-tax/availability?measured_in=weekdays": "measured_in",
		"/api/v1/metrics/changes?top=0":                                      "top",
		"/api/v1/metrics/changes?top=many":                                   "top",
		"/api/v1/metrics/changes?ci=db1":                                     "ci",
	} {
		resp := env.do("GET", path, itsmReader, nil)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s: %s", path, resp.Body)
		require.Contains(t, itsmFields(t, resp), field, path)
	}
	for _, path := range []string{
		"/api/v1/metrics/cis/ghost",
		"/api/v1/metrics/services/db1", // a CI, but not a business service
		"/api/v1/metrics/services/..%2F..%2Fetc%2Fpasswd",
		"/api/v1/metrics/services/db1/availability",
	} {
		require.Equal(t, http.StatusNotFound, env.do("GET", path, itsmReader, nil).Status, path)
	}
}
