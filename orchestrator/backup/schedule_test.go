package backup

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
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

	schedules := scheduler.NewService(h.pool, nil)
	sc, err := schedules.Get(h.ctx, *tg.ScheduleID)
	require.NoError(t, err)
	require.Equal(t, scheduler.KindBackupCheck, sc.Kind)
	require.Equal(t, strconv.FormatInt(tg.ID, 10), sc.Target)
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
	_, err = h.svc.Checks(h.ctx, tg.ID, orchestrator.Page{Limit: 10})
	require.Equal(t, orchestrator.ENOTFOUND, orchestrator.ErrorCode(err))

	// An unknown CI names the field and writes nothing.
	_, err = h.svc.Create(h.ctx, TargetInput{CI: "nope", Kind: KindFile, Schedule: "@daily", Config: json.RawMessage(`{"path":"/b/x"}`)})
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

	s := scheduler.New(h.pool, nil, scheduler.Options{Replica: "r1", PollInterval: 20 * time.Millisecond})
	RegisterHandlers(s, h.svc)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	schedules := scheduler.NewService(h.pool, nil)
	for _, target := range []Target{tg, broken} {
		_, err := schedules.FireNow(h.ctx, *target.ScheduleID)
		require.NoError(t, err)
	}
	var runs []scheduler.Run
	require.Eventually(t, func() bool {
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
	}, 20*time.Second, 20*time.Millisecond)

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
	require.Equal(t, RPOCompliant, st.State, st.Reason)
	require.Equal(t, orchestrator.Duration(90*time.Minute), *st.Age)

	st, err = RPOStatus(h.ctx, h.pool, "payroll", orchestrator.Duration(4*time.Hour), now)
	require.NoError(t, err)
	require.Len(t, st.Dependencies, 2, "db1 and db2; cache holds no data")
	require.Equal(t, "db2", st.Dependencies[1].CI)
	require.Equal(t, RPOUnknown, st.Dependencies[1].State)
	require.Equal(t, "no backup target", st.Dependencies[1].Reason)
	require.Equal(t, RPOUnknown, st.State, "db2 has no backup: the service's RPO is unproven")
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

// mustList returns every target.
func (s *Service) mustList(t *testing.T) []Target {
	t.Helper()
	l, err := s.List(context.Background(), Filter{}, orchestrator.Page{Limit: 100})
	require.NoError(t, err)
	return l.Items
}
