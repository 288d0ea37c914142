package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

type gapsBody struct {
	Items []struct {
		Kind, Subject, CI, Message string
		Services                   []string
		Required, Committed        string
	}
	Counts         map[string]int
	BackupsChecked bool `json:"backups_checked"`
}

func (g gapsBody) of(kind string) []string {
	var out []string
	for _, it := range g.Items {
		if it.Kind == kind {
			out = append(out, it.Subject+" "+it.CI+": "+it.Message)
		}
	}
	return out
}

func TestGaps(t *testing.T) {
	t.Parallel()
	env := impPayroll(t)
	// cdnco commits to 8h/24h for sup-cdn, which svc-web needs within 1h/1h;
	// slowco provides sup-pay to svc-pay without any contract.
	contract := map[string]any{"reference": "CDN-2026", "start": "2020-01-01", "end": "2099-12-31", "rto": "8h", "rpo": "24h", "support_hours": "24x7"}
	require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/suppliers", cm,
		map[string]any{"key": "cdnco", "name": "CDN Co", "services": []string{"sup-cdn"}, "contracts": []any{contract}}).Status)
	impCI(t, env, "sup-pay", "supplier_service")
	impRel(t, env, "svc-pay", "provided_by", "sup-pay", "", 0)
	require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/suppliers", cm,
		map[string]any{"key": "slowco", "name": "Slow Co", "services": []string{"sup-pay"}}).Status)
	// A service with a draft only, and a group needing more members than it has.
	impCI(t, env, "svc-new", "business_service")
	require.Equal(t, http.StatusOK, env.do("PUT", "/api/v1/services/svc-new/bia", cm, impAssessment("1h", "1h", "1h")).Status)
	impRel(t, env, "app-web", "depends_on", "db2", "solo", 2)

	var g gapsBody
	resp := env.do("GET", "/api/v1/gaps", auditor, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &g)
	require.Equal(t, []string{
		"cdnco sup-cdn: contract CDN-2026 of supplier cdnco commits to RTO 8h, looser than the 1h required: sup-cdn must recover within 1h (set by svc-web)",
		"slowco sup-pay: supplier slowco has no contract in force, but sup-pay must recover within 2h (set by svc-pay)",
	}, g.of("supplier_rto"))
	require.Equal(t, []string{
		"cdnco sup-cdn: contract CDN-2026 of supplier cdnco commits to RPO 24h, looser than the 1h required: sup-cdn must lose at most 1h (set by svc-web)",
	}, g.of("supplier_rpo"), "sup-pay holds no data, so it has no RPO to meet")
	for _, it := range g.Items {
		switch it.Subject {
		case "cdnco":
			require.Equal(t, []string{"svc-web"}, it.Services)
			require.Equal(t, map[string]string{"supplier_rto": "8h", "supplier_rpo": "24h"}[it.Kind], it.Committed)
		case "slowco":
			require.Equal(t, []string{"svc-pay", "svc-rep"}, it.Services)
		}
	}
	require.Equal(t, []string{"svc-new : svc-new has no approved BIA (draft v1 awaits approval)"}, g.of("no_approved_bia"))
	require.Equal(t, []string{`app-web : group "solo" of app-web needs 2 up but has 1 members; treated as needing all 1`}, g.of("cmdb_anomaly"))
	require.Empty(t, g.of("rto_wrt_exceeds_mtpd"))
	if g.BackupsChecked {
		require.Len(t, g.of("no_backup_target"), 4, "the three databases and sup-cdn")
		require.Contains(t, g.of("no_backup_target")[0], "db1 : database db1 holds data but has no backup target; its required RPO is 15m (set by svc-pay)")
	}

	// The anomalous group still loads, and what-if follows the repair.
	w := whatIf(t, env, map[string]any{"failed": []string{"db2"}})
	require.Equal(t, []string{"svc-web"}, w.services())

	// Settings that make the operational rating 2 intolerable move every
	// MTPD to 1h: the approved BIAs no longer fit.
	var s map[string]any
	env.do("GET", "/api/v1/settings/bia", admin, nil).JSON(t, &s)
	s["intolerable_level"] = 2
	require.Equal(t, http.StatusOK, env.do("PUT", "/api/v1/settings/bia", admin, s).Status)
	g = gapsBody{}
	env.do("GET", "/api/v1/gaps?kind=rto_wrt_exceeds_mtpd", operator, nil).JSON(t, &g)
	require.Equal(t, []string{
		"svc-pay : BIA v1 of svc-pay: RTO 2h + WRT 1h = 3h exceeds MTPD 1h",
		"svc-rep : BIA v1 of svc-rep: RTO 3h + WRT 1h = 4h exceeds MTPD 1h",
		"svc-web : BIA v1 of svc-web: RTO 1h + WRT 1h = 2h exceeds MTPD 1h",
	}, g.of("rto_wrt_exceeds_mtpd"))
	require.Len(t, g.Items, 3, "the kind filter")
	require.Equal(t, 3, g.Counts["rto_wrt_exceeds_mtpd"])

	for _, q := range []string{"kind=everything", "colour=red"} {
		require.Equal(t, http.StatusUnprocessableEntity, env.do("GET", "/api/v1/gaps?"+q, auditor, nil).Status, q)
	}
}
