package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
)

func TestTarget_OwnsItsSchedule(t *testing.T) {
	t.Parallel()
	h := setup(t)
	dir := dumps(t)
	tg := h.target(KindFile, FileConfig{Path: dir + "/*.dump"}, func(in *TargetInput) {
		in.Schedule, in.Timezone, in.Timeout = "*/5 * * * *", "Europe/Berlin", "2m"
	})
	require.NotNil(t, tg.ScheduleID)
	require.Equal(t, "*/5 * * * *", tg.Schedule)
	require.Equal(t, "db1 file", tg.Name)
	require.Nil(t, tg.LastCheck)

	schedules := scheduler.NewService(h.pool, orchestrator.Runtime{}, scheduler.ServiceOptions{})
	sc, err := schedules.Get(h.ctx, *tg.ScheduleID)
	require.NoError(t, err)
	target := strconv.FormatInt(tg.ID, 10)
	require.Equal(t, "backup target "+target, sc.Name)
	require.Equal(t, scheduler.KindBackupCheck, sc.Kind)
	require.Equal(t, target, sc.Target)
	require.Equal(t, "Europe/Berlin", sc.Timezone)
	require.Equal(t, orchestrator.Duration(3*time.Minute), sc.MaxRun, "timeout plus a minute to record")
	require.NotNil(t, sc.NextFireAt)
	require.Zero(t, sc.NextFireAt.Minute()%5)
	require.Equal(t, "test", sc.CreatedBy)

	// Replacing the target moves its schedule.
	in := TargetInput{CI: "db1", Kind: KindFile, Schedule: "@hourly", Config: tg.Config}
	tg, err = h.svc.Replace(h.ctx, tg.ID, in)
	require.NoError(t, err)
	sc, err = schedules.Get(h.ctx, *tg.ScheduleID)
	require.NoError(t, err)
	require.Equal(t, "@hourly", sc.Cron)
	require.Equal(t, "UTC", sc.Timezone)

	// The schedule's changes are audited in the target's terms.
	first := *tg.ScheduleID
	require.Equal(t, []string{
		fmt.Sprintf("update: schedule %d follows its backup target: %q (UTC)", first, "@hourly"),
		fmt.Sprintf("create: schedule %q: backup_check %q at %q (Europe/Berlin)", "backup target "+target, target, "*/5 * * * *"),
	}, h.scheduleAudit(first))

	// A schedule deleted by hand comes back with the next replace.
	require.NoError(t, schedules.Delete(h.ctx, *tg.ScheduleID))
	tg, err = h.svc.Get(h.ctx, tg.ID)
	require.NoError(t, err)
	require.Nil(t, tg.ScheduleID)
	require.Empty(t, tg.Schedule)
	tg, err = h.svc.Replace(h.ctx, tg.ID, in)
	require.NoError(t, err)
	require.NotNil(t, tg.ScheduleID)

	// Deleting the target deletes its schedule and its history.
	h.check(tg)
	require.NoError(t, h.svc.Delete(h.ctx, tg.ID))
	_, err = schedules.Get(h.ctx, *tg.ScheduleID)
	require.Equal(t, orchestrator.ENOTFOUND, orchestrator.ErrorCode(err))
	require.Equal(t, fmt.Sprintf("delete: schedule of backup target %d, deleted with it", tg.ID), h.scheduleAudit(*tg.ScheduleID)[0])
	_, err = h.svc.Checks(h.ctx, tg.ID, orchestrator.Page{Limit: 10})
	require.Equal(t, orchestrator.ENOTFOUND, orchestrator.ErrorCode(err))

	// An unknown CI names the field and writes nothing.
	_, err = h.svc.Create(h.ctx, TargetInput{CI: "nope", Kind: KindFile, Schedule: "@daily", Config: json.RawMessage(`{"path":"` + filepath.Join(t.TempDir(), "x") + `"}`)})
	require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
	require.Equal(t, "ci", orchestrator.ErrorFields(err)[0].Field)
	list, err := schedules.List(h.ctx, scheduler.Filter{Kind: scheduler.KindBackupCheck}, orchestrator.Page{Limit: 10})
	require.NoError(t, err)
	require.Empty(t, list.Items, "the target's schedule went with it, and the failed create left none")
}

func TestScheduler_RunsBackupChecks(t *testing.T) {
	t.Parallel()
	h := setup(t)
	dir := dumps(t)
	tg := h.target(KindFile, FileConfig{Path: dir + "/*.dump", Manifest: dir + "/SHA256SUMS"})
	broken := h.target(KindFile, FileConfig{Path: dir + "/*.missing"})

	s := scheduler.New(h.pool, orchestrator.Runtime{}, scheduler.Options{Replica: "r1", PollInterval: 20 * time.Millisecond})
	RegisterHandlers(s, h.svc)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	schedules := scheduler.NewService(h.pool, orchestrator.Runtime{}, scheduler.ServiceOptions{})
	for _, target := range []Target{tg, broken} {
		_, err := schedules.FireNow(h.ctx, *target.ScheduleID)
		require.NoError(t, err)
	}
	var runs []scheduler.Run
	eventually.True(t, func() bool {
		runs = nil
		for _, target := range []Target{tg, broken} {
			list, err := schedules.Runs(h.ctx, *target.ScheduleID, scheduler.RunFilter{}, orchestrator.Page{Limit: 5})
			require.NoError(t, err)
			if len(list.Items) == 0 || list.Items[0].FinishedAt == nil {
				return false
			}
			runs = append(runs, list.Items[0])
		}
		return true
	}, "both scheduled checks finish")

	require.Equal(t, scheduler.StatusSucceeded, runs[0].Status, runs[0].Error)
	require.Contains(t, runs[0].Output, "backup target "+strconv.FormatInt(tg.ID, 10)+": ok")
	require.Equal(t, scheduler.StatusFailed, runs[1].Status)
	require.Contains(t, runs[1].Error, ": failed: no file matches")

	checks, err := h.svc.Checks(h.ctx, tg.ID, orchestrator.Page{Limit: 5})
	require.NoError(t, err)
	require.Len(t, checks.Items, 1)
	require.Equal(t, TriggerSchedule, checks.Items[0].Trigger)
	require.True(t, checks.Items[0].Verified)
}

func TestRPOStatus_ServiceRollsUpDataDependencies(t *testing.T) {
	t.Parallel()
	h := setup(t)
	h.ci("payroll", "business_service", false)
	h.ci("app1", "application", false)
	h.ci("db2", "database", true)
	h.ci("cache", "database", false)
	h.relate("payroll", "app1")
	h.relate("app1", "db1")
	h.relate("app1", "db2")
	h.relate("app1", "cache")

	dir := dumps(t)
	h.target(KindFile, FileConfig{Path: dir + "/*.dump", Manifest: dir + "/SHA256SUMS"})
	h.check(h.svc.mustList(t)[0])
	newest := time.Date(2026, 1, 3, 2, 0, 0, 0, time.UTC)
	now := newest.Add(90 * time.Minute)

	st, err := RPOStatus(h.ctx, h.pool, "db1", orchestrator.Duration(4*time.Hour), now)
	require.NoError(t, err)
	require.Equal(t, orchestrator.RPOCompliant, st.State, st.Reason)
	require.Equal(t, orchestrator.Duration(90*time.Minute), *st.Age)

	st, err = RPOStatus(h.ctx, h.pool, "payroll", orchestrator.Duration(4*time.Hour), now)
	require.NoError(t, err)
	require.Len(t, st.Dependencies, 2, "db1 and db2; cache holds no data")
	require.Equal(t, "db2", st.Dependencies[1].CI)
	require.Equal(t, orchestrator.RPOUnknown, st.Dependencies[1].State)
	require.Equal(t, "no backup target", st.Dependencies[1].Reason)
	require.Equal(t, orchestrator.RPOUnknown, st.State, "db2 has no backup: the service's RPO is unproven")
	require.Contains(t, st.Reason, "weakest data-bearing dependency db2")

	// Without a requirement only ages are reported.
	st, err = CIStatus(h.ctx, h.pool, "db1", now)
	require.NoError(t, err)
	require.Empty(t, st.State)
	require.Nil(t, st.RequiredRPO)
	require.Equal(t, "newest verified backup is 1h30m0s old", st.Reason)
	require.Len(t, st.Targets, 1)
	require.True(t, newest.Equal(*st.Targets[0].LatestVerifiedBackupAt))

	_, err = CIStatus(h.ctx, h.pool, "nope", now)
	require.Equal(t, orchestrator.ENOTFOUND, orchestrator.ErrorCode(err))
}

// scheduleAudit is the audit trail of schedule id, newest first, as
// "action: summary".
func (h *harness) scheduleAudit(id int64) []string {
	h.t.Helper()
	l, err := audit.List(h.ctx, h.pool, audit.Filter{Resource: "schedules", ResourceID: strconv.FormatInt(id, 10)}, orchestrator.Page{Limit: 100})
	require.NoError(h.t, err)
	var out []string
	for _, e := range l.Items {
		out = append(out, e.Action+": "+e.Summary)
	}
	return out
}

// mustList returns every target.
func (s *Service) mustList(t *testing.T) []Target {
	t.Helper()
	l, err := s.List(context.Background(), Filter{}, orchestrator.Page{Limit: 100})
	require.NoError(t, err)
	return l.Items
}

// A target's first firing is counted from the service's clock, as the
// scheduler counts its own schedules'.
func TestTarget_ScheduleFiresOnServiceClock(t *testing.T) {
	t.Parallel()
	h := setup(t)
	h.clock.Set(time.Date(2030, 1, 1, 10, 2, 0, 0, time.UTC))
	tg := h.target(KindFile, FileConfig{Path: filepath.Join(t.TempDir(), "*.dump")}, func(in *TargetInput) { in.Schedule = "*/5 * * * *" })
	sc, err := scheduler.NewService(h.pool, orchestrator.Runtime{}, scheduler.ServiceOptions{}).Get(h.ctx, *tg.ScheduleID)
	require.NoError(t, err)
	require.Equal(t, time.Date(2030, 1, 1, 10, 5, 0, 0, time.UTC), sc.NextFireAt.UTC())
	require.Equal(t, time.Date(2030, 1, 1, 10, 2, 0, 0, time.UTC), sc.CreatedAt.UTC())
}
