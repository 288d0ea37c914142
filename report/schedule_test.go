package report_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/orchestrator/secretref"
	"github.com/bcdr/bcdr/report"
)

// A report schedule's target names the report and its fields; what a
// firing fills (the period) or the kind does not take is refused, saying
// what is wrong.
func TestParseTarget(t *testing.T) {
	t.Parallel()
	q, err := report.ParseTarget("executive")
	require.NoError(t, err)
	require.Equal(t, report.Request{Kind: report.KindExecutive, Format: report.FormatPDF, Lang: report.LangEN}, q)
	q, err = report.ParseTarget("service?service=hr&lang=zh-CN&format=html")
	require.NoError(t, err)
	require.Equal(t, report.Request{Kind: report.KindService, Subject: "hr", Format: report.FormatHTML, Lang: report.LangZH}, q)

	for target, want := range map[string]string{
		"":                              "must name a report",
		"weather":                       "must name a report",
		"executive?period=2026-01":      "names no period",
		"executive?service=hr":          "does not take",
		"executive?lang=fr":             "lang must be one of",
		"executive?format=pdf&format=x": "more than once",
		"service":                       "service is required",
		"after-action?drill=x":          "drill must be a positive integer",
		"executive?%zz":                 "cannot be read",
	} {
		_, err := report.ParseTarget(target)
		require.ErrorContains(t, err, want, target)
	}
}

// A report schedule's firing makes the report of the month before,
// archives it once and tells the channels subscribed to report_ready,
// whose emails carry the archived report as an attachment.
func TestScheduledReport(t *testing.T) {
	t.Parallel()
	e, pool := seedDemo(t)
	ctx := orchestrator.WithActor(t.Context(), orchestrator.Actor{Name: "test", Role: orchestrator.RoleAdmin})

	channels := notify.NewService(pool, orchestrator.Runtime{}, secretref.Policy{})
	name, kind, url := "board", notify.KindWebhook, "https://hooks.example.org/board"
	_, err := channels.Create(ctx, notify.ChannelInput{Name: &name, Kind: &kind, URL: &url, Events: []string{string(notify.EventReportReady)}})
	require.NoError(t, err)

	schedules := scheduler.NewService(pool, orchestrator.Runtime{}, scheduler.ServiceOptions{
		Handled: []scheduler.Kind{scheduler.KindReport},
		Targets: map[scheduler.Kind]func(string) error{scheduler.KindReport: report.CheckTarget}})
	sname, skind, spec := "monthly board pack", scheduler.KindReport, "0 6 1 * *"
	bad := "executive?period=2026-01"
	_, err = schedules.Create(ctx, scheduler.Input{Name: &sname, Kind: &skind, Target: &bad, Cron: &spec})
	require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
	require.ErrorContains(t, err, "names no period")
	target := "executive?format=html&lang=zh-CN"
	sc, err := schedules.Create(ctx, scheduler.Input{Name: &sname, Kind: &skind, Target: &target, Cron: &spec})
	require.NoError(t, err)

	s := scheduler.New(pool, orchestrator.Runtime{}, scheduler.Options{Replica: "r1", PollInterval: 20 * time.Millisecond})
	s.Register(scheduler.KindReport, e.HandleRun)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })

	run, err := schedules.FireNow(ctx, sc.ID)
	require.NoError(t, err)
	eventually.TrueWithin(t, 60*time.Second, func() bool {
		runs, err := schedules.Runs(ctx, sc.ID, scheduler.RunFilter{}, orchestrator.Page{Limit: 10})
		require.NoError(t, err)
		require.Len(t, runs.Items, 1)
		r := runs.Items[0]
		require.NotEqual(t, scheduler.StatusFailed, r.Status, r.Error)
		return r.Status == scheduler.StatusSucceeded
	}, "the report run succeeds")

	l, err := e.ListArchive(ctx, report.ArchiveFilter{ScheduleID: sc.ID}, orchestrator.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, l.Items, 1)
	a := l.Items[0]
	want := run.FireAt.UTC().AddDate(0, -1, 0).Format("2006-01")
	require.Equal(t, want, a.Period, "the month before the firing")
	require.Equal(t, run.ID, *a.RunID)
	require.Equal(t, "schedule monthly board pack", a.CreatedBy)
	_, body, err := e.ArchivedContent(ctx, a.ID)
	require.NoError(t, err)
	require.Contains(t, string(body), "恢复状态报告")
	require.Equal(t, a.SHA256, report.Digest(body))

	var raw []byte
	require.NoError(t, pool.QueryRow(ctx, `SELECT event FROM notification_outbox WHERE event_type = 'report_ready'`).Scan(&raw))
	var ev notify.Event
	require.NoError(t, json.Unmarshal(raw, &ev))
	require.Equal(t, float64(a.ID), ev.Details["archive_id"])
	require.True(t, strings.HasPrefix(ev.Summary, "Executive report "+want), ev.Summary)
	att, err := e.Attachments(ctx, ev)
	require.NoError(t, err)
	require.Len(t, att, 1)
	require.Equal(t, a.Filename, att[0].Filename)
	require.Equal(t, body, att[0].Body)
}
