package demo

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// The demo's drill programme: approved before the year began, every drill
// planned before Now run on its day — most passed, the slow service's
// last one partial with its findings open, the failing service's first
// one failed and its next one passed and verified those findings — the
// rest on the calendar, with the stale runbook's retest among them.
func TestDemoDrills(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	now := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	started := time.Now()
	_, err := Seed(t.Context(), pool, registry(), Options{Now: now})
	require.NoError(t, err)
	t.Logf("seeded in %s", time.Since(started))

	w := newDrillWorld(pool, now, now)
	ctx := t.Context()
	p, err := w.drills.Programme(ctx, 2026)
	require.NoError(t, err)
	require.Equal(t, drills.ProgrammeApproved, p.Status)
	require.Zero(t, p.Unplaced)

	all, err := w.drills.List(ctx, drills.Filter{Year: 2026}, orchestrator.Page{Limit: 1000})
	require.NoError(t, err)
	results := map[string]int{}
	byService := map[string][]drills.Drill{}
	for _, d := range all.Items {
		if d.PlannedStart.Before(now) {
			require.Equal(t, drills.StatusCompleted, d.Status, "drill %d %q planned %s", d.ID, d.Title, d.PlannedStart)
			results[*d.Result]++
			t.Logf("drill %d %s %v %s: %s %v", d.ID, d.Type, d.Services, d.PlannedStart.Format(time.DateOnly), *d.Result, d.Outcome.Reasons)
		} else {
			require.Equal(t, drills.StatusPlanned, d.Status)
			require.NotNil(t, d.Schedule, "a planned drill starts on its schedule")
		}
		for _, svc := range d.Services {
			byService[svc] = append(byService[svc], d)
		}
	}
	t.Logf("%d drills in 2026: %v", len(all.Items), results)
	require.Greater(t, results[drills.ResultPass], results[drills.ResultPartial]+results[drills.ResultFail], "most drills pass")

	slow := lastBefore(byService[drilledService], now)
	require.Equal(t, drills.ResultPartial, *slow.Result, "%+v", slow.Outcome)
	rb := runbookOf(t, w, drilledService)
	require.Contains(t, rb.Staleness.Flags, runbooks.FlagRetestRequired, "a partial drill requires a retest")
	require.Equal(t, runbooks.Infeasible, rb.Feasibility.Verdict, "the slow steps measured now set its estimate")
	open, err := w.drills.Findings(ctx, drills.FindingFilter{Drill: slow.ID, Open: true}, orchestrator.Page{Limit: 10})
	require.NoError(t, err)
	require.NotEmpty(t, open.Items)
	ex, err := w.engine.Get(ctx, slow.Executions[0])
	require.NoError(t, err)
	require.Equal(t, execution.StatusSucceeded, ex.Status)
	for _, m := range ex.Services {
		if m.Service == drilledService {
			require.Equal(t, orchestrator.Duration(20*time.Minute), *m.RPOAchieved, "restored to 20 minutes before the failure point")
			require.Greater(t, time.Duration(*m.RTOAchieved), time.Duration(*m.RTO))
		}
	}

	failed := byService[failedService]
	require.GreaterOrEqual(t, len(failed), 2, "%s is drilled twice a year", failedService)
	first, second := failed[0], failed[1]
	require.Equal(t, drills.ResultFail, *first.Result, "%+v", first.Outcome)
	require.Equal(t, drills.ResultPass, *second.Result, "%+v", second.Outcome)
	found, err := w.drills.Findings(ctx, drills.FindingFilter{Drill: first.ID}, orchestrator.Page{Limit: 10})
	require.NoError(t, err)
	require.NotEmpty(t, found.Items)
	for _, f := range found.Items {
		require.Equal(t, drills.FindingVerified, f.Status, "%+v", f)
		require.Equal(t, second.ID, *f.VerifiedBy)
	}

	rb = runbookOf(t, w, staleService)
	require.Contains(t, rb.Staleness.Flags, runbooks.FlagRetestRequired)
	retests := 0
	for _, d := range byService[staleService] {
		if d.Retest && d.Status == drills.StatusPlanned && d.PlannedStart.After(now) {
			retests++
		}
	}
	require.Equal(t, 1, retests, "the stale runbook's retest is on the calendar")

	report, err := w.drills.AfterAction(ctx, first.ID)
	require.NoError(t, err)
	require.NotEmpty(t, report.Hotwash)
	require.Contains(t, string(report.Markdown()), "retired tape library")
}

// lastBefore is the latest of ds planned before now.
func lastBefore(ds []drills.Drill, now time.Time) drills.Drill {
	var last drills.Drill
	for _, d := range ds {
		if d.PlannedStart.Before(now) && d.PlannedStart.After(last.PlannedStart) {
			last = d
		}
	}
	return last
}

// runbookOf is the service's runbook, its staleness judged with drills.
func runbookOf(t *testing.T, w *drillWorld, service string) runbooks.Runbook {
	t.Helper()
	list, err := w.rbs.List(t.Context(), runbooks.Filter{Service: service}, orchestrator.Page{Limit: 1})
	require.NoError(t, err)
	rb, err := w.rbs.Get(t.Context(), fmt.Sprint(list.Items[0].ID))
	require.NoError(t, err)
	return rb
}
