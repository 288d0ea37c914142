package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

// The runbook list says which plans are not fit: stale and flags always,
// the verdict when asked for, and filters on both.
func TestRunbookListFitness(t *testing.T) {
	env := setup(t)
	env.approvedService("pay")
	env.approvedService("hr")

	type item struct {
		ID      int64
		Verdict *string
		Stale   bool
		Flags   []string
	}
	list := func(query string) []item {
		t.Helper()
		resp := env.do("GET", "/api/v1/runbooks?"+query, orchestrator.RoleAuditor, nil)
		require.Equal(t, http.StatusOK, resp.Status, "%s: %s", query, resp.Body)
		var page struct {
			Items []item
			Next  string
		}
		resp.JSON(t, &page)
		return page.Items
	}
	all := list("")
	require.Len(t, all, 2)
	for _, it := range all {
		require.False(t, it.Stale)
		require.Empty(t, it.Flags)
		require.Nil(t, it.Verdict, "no verdict unless asked for")
	}
	require.Len(t, list("stale=false"), 2)
	require.Empty(t, list("stale=true"))

	withVerdict := list("feasibility=true")
	require.Len(t, withVerdict, 2)
	require.NotNil(t, withVerdict[0].Verdict)
	v := *withVerdict[0].Verdict
	require.Len(t, list("verdict="+v), 2)
	other := "infeasible"
	if v == other {
		other = "feasible"
	}
	require.Empty(t, list("verdict="+other))
	one := list("stale=false&limit=1")
	require.Len(t, one, 1, "a filtered page is filled up to the limit")

	for query, field := range map[string]string{
		"verdict=maybe": "verdict", "stale=perhaps": "stale", "feasibility=2": "feasibility",
		"verdict=feasible&limit=51": "limit", "feasibility=true&limit=1000": "limit",
	} {
		resp := env.do("GET", "/api/v1/runbooks?"+query, orchestrator.RoleAuditor, nil)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s: %s", query, resp.Body)
		require.Equal(t, []string{field}, resp.fields(t), query)
	}
	require.Equal(t, http.StatusForbidden, env.do("GET", "/api/v1/runbooks", orchestrator.RoleExecutive, nil).Status)
}
