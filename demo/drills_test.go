package demo

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// The demo's drill of taxpayer-reg started six days before Now, took
// hours like a real one and ended before Now, measured the service's RTO and data loss, and
// its runbook's feasibility uses what the steps took.
func TestDemoDrill(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	now := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	sum, err := Seed(t.Context(), pool, registry(), Options{Now: now})
	require.NoError(t, err)
	require.Equal(t, 1, sum["executions"].Inserted)

	rbs := runbooks.NewService(pool, orchestrator.Runtime{}, runbooks.Options{})
	list, err := rbs.List(t.Context(), runbooks.Filter{Service: drilledService}, orchestrator.Page{Limit: 1})
	require.NoError(t, err)
	engine := execution.NewService(pool, orchestrator.Runtime{}, rbs, execution.Options{})
	runs, err := engine.List(t.Context(), execution.Filter{Runbook: list.Items[0].ID}, orchestrator.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, runs.Items, 1)
	ex, err := engine.Get(t.Context(), runs.Items[0].ID)
	require.NoError(t, err)
	require.Equal(t, execution.StatusSucceeded, ex.Status)
	require.Equal(t, execution.ModeDrill, ex.Mode)
	require.Equal(t, now.Add(-drillAge), ex.StartedAt.UTC())
	require.Greater(t, time.Duration(ex.Elapsed), time.Hour, "a drill takes hours, not an instant")
	require.True(t, ex.FinishedAt.Before(now), "it ended before Now")
	var measure *execution.ServiceMeasure
	for i := range ex.Services {
		if ex.Services[i].Service == drilledService {
			measure = &ex.Services[i]
		}
	}
	require.NotNil(t, measure, "%+v", ex.Services)
	require.NotNil(t, measure.RTOAchieved)
	require.NotNil(t, measure.RPOAchieved)
	require.Equal(t, orchestrator.Duration(20*time.Minute), *measure.RPOAchieved, "restored to 20 minutes before the failure point")
	t.Logf("demo drill: RTO achieved %s against %v", *measure.RTOAchieved, measure.RTO)

	measured, err := engine.Measured(t.Context(), list.Items[0].ID)
	require.NoError(t, err)
	require.Len(t, measured, len(ex.Steps))
}
