package report_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/demo"
	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/report"
	"github.com/bcdr/bcdr/runbooks"
)

// The demo organisation shows services at risk and not ready, hr (its restore measured far
// slower than its RTO) is not ready, every lost point has a reason and a
// link, and a year of history is there to draw; a snapshot taken twice on
// one day leaves one point, the later.
func TestDemoReadinessAndHistory(t *testing.T) {
	t.Parallel()
	_, pool := seedDemo(t)
	now := demoNow
	ctx := orchestrator.WithActor(t.Context(), orchestrator.Actor{Name: "test", Role: orchestrator.RoleAdmin})

	rs := demo.Readiness(pool, now)
	org, err := rs.Readiness(ctx, report.Filter{})
	require.NoError(t, err)
	require.Equal(t, 30, org.Services)

	// No demo service is ready: only three of its data-bearing CIs have a
	// backup target (and `bcdr demo` adds them after this seed), so every
	// service loses the RPO points, and most miss their RTO when a
	// volume is corrupted or dc-main is lost.
	require.Zero(t, org.Counts.ByStatus[report.StatusReady], "%+v", org.Counts)
	for _, st := range []string{report.StatusAtRisk, report.StatusNotReady} {
		require.Positive(t, org.Counts.ByStatus[st], "some service is %s: %+v", st, org.Counts)
	}
	// What needs attention is counted from the same scoring.
	rpo, due := 0, 0
	for _, r := range org.Items {
		if strings.Contains(r.CappedBy, "rpo_breached") {
			rpo++
		}
		for _, c := range r.Components {
			if slices.ContainsFunc(c.Lost, func(l report.Loss) bool { return strings.Contains(l.Reason, "policy asks") }) {
				due++
			}
		}
	}
	w := demo.Wire(pool, now)
	overdue, err := w.Drills.Findings(ctx, drills.FindingFilter{Overdue: true}, orchestrator.Page{Limit: orchestrator.MaxPageLimit})
	require.NoError(t, err)
	require.Equal(t, report.Attention{StaleRunbooks: org.Attention.StaleRunbooks, RPOBreached: rpo,
		OverdueFindings: org.Attention.OverdueFindings, DrillsDue: due}, org.Attention)
	stale := 0
	var approved []int64
	require.NoError(t, orchestrator.EachPage(func(p orchestrator.Page) (orchestrator.List[runbooks.Summary], error) {
		return w.Runbooks.List(ctx, runbooks.Filter{Status: runbooks.StatusApproved}, p)
	}, func(sm runbooks.Summary) { approved = append(approved, sm.ID) }))
	briefs, err := w.Runbooks.Briefs(ctx, approved, runbooks.BriefOptions{Staleness: true, Outline: true})
	require.NoError(t, err)
	for _, b := range briefs {
		if b.Staleness.Stale {
			stale++
		}
	}
	require.Equal(t, stale, org.Attention.StaleRunbooks)
	require.LessOrEqual(t, org.Attention.OverdueFindings, len(overdue.Items), "overdue findings of services")

	hr, err := rs.ServiceReadiness(ctx, "hr")
	require.NoError(t, err)
	require.Equal(t, report.StatusNotReady, hr.Status, "%+v", hr)
	for _, r := range org.Items {
		lost := 0
		for _, c := range r.Components {
			for _, l := range c.Lost {
				lost += l.Points
				require.NotEmpty(t, l.Reason)
				require.Regexp(t, `^/api/v1/`, l.Link)
			}
		}
		require.Equal(t, 100-r.Score, lost, "%s: every lost point has a reason", r.Service)
	}
	_, err = rs.ServiceReadiness(ctx, "no-such-service")
	require.Equal(t, orchestrator.ENOTFOUND, orchestrator.ErrorCode(err))
	tier := 0
	filtered, err := rs.Readiness(ctx, report.Filter{Tier: &tier})
	require.NoError(t, err)
	require.Equal(t, org.Counts.ByTier["0"], len(filtered.Items))
	require.Equal(t, org.Score, filtered.Score, "filters narrow the items, not the score")

	history, err := rs.History(ctx, time.Time{}, time.Time{})
	require.NoError(t, err)
	require.Len(t, history, 366, "a year of daily points, today's included")
	require.Equal(t, report.SourceDemo, history[0].Source)
	last := history[len(history)-1]
	require.Equal(t, "2026-11-21", last.Day)
	require.Equal(t, org.Score, last.Score, "today's point is measured")
	require.Less(t, history[0].Score, last.Score, "the demo improved over the year")

	// Taking the snapshot twice on one day keeps one row, the later.
	for range 2 {
		p, err := rs.Snapshot(ctx)
		require.NoError(t, err)
		require.Equal(t, "2026-11-21", p.Day)
	}
	var rows int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM readiness_snapshots WHERE day = '2026-11-21'`).Scan(&rows))
	require.Equal(t, 1, rows)
	again, err := rs.History(ctx, now, now)
	require.NoError(t, err)
	require.Len(t, again, 1)
	require.Equal(t, report.SourceScheduler, again[0].Source)

	// The daily snapshot and the monthly report are created once, however
	// many replicas start.
	schedules := scheduler.NewService(pool, orchestrator.Runtime{}, scheduler.ServiceOptions{
		Handled: []scheduler.Kind{scheduler.KindReadinessSnapshot, scheduler.KindReport},
		Targets: map[scheduler.Kind]func(string) error{scheduler.KindReport: report.CheckTarget}})
	for range 2 {
		require.NoError(t, report.EnsureSchedules(ctx, schedules))
	}
	for _, kind := range []scheduler.Kind{scheduler.KindReadinessSnapshot, scheduler.KindReport} {
		l, err := schedules.List(ctx, scheduler.Filter{Kind: kind}, orchestrator.Page{Limit: 10})
		require.NoError(t, err)
		require.Len(t, l.Items, 1)
	}
	msg, err := rs.HandleRun(ctx, scheduler.Run{})
	require.NoError(t, err)
	require.Contains(t, msg, "readiness on 2026-11-21")

	_, err = rs.History(ctx, now, now.AddDate(0, 0, -1))
	require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
	_, err = rs.Readiness(ctx, report.Filter{Status: "great"})
	require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
}
