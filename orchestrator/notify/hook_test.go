package notify

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/outbound/outboundtest"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
)

// A scheduler replica that was down past a schedule's catch-up window
// records the missed firings; the hook queues one schedule_missed
// notification with that record, and a channel receives it.
func TestSchedulerHookPublishesMissedRuns(t *testing.T) {
	h := setup(t)
	rcv := outboundtest.NewReceiver(t)
	ch := h.channel("ops", KindWebhook, rcv.URL, []string{"schedule_missed"}, nil)
	quiet := h.channel("checks only", KindWebhook, rcv.URL, []string{"check_failed"}, nil)

	start := h.clock.Now()
	name, kind, expr, target := "nightly db1 check", scheduler.KindBackupCheck, "*/5 * * * *", "12"
	sc, err := scheduler.NewService(h.pool, orchestrator.Runtime{Clock: h.clock},
		scheduler.ServiceOptions{Handled: []scheduler.Kind{scheduler.KindBackupCheck}}).Create(context.Background(),
		scheduler.Input{Name: &name, Kind: &kind, Cron: &expr, Target: &target})
	require.NoError(t, err)

	h.clock.Advance(3 * time.Hour) // past the default one-hour catch-up window
	s := scheduler.New(h.pool, orchestrator.Runtime{Clock: h.clock}, scheduler.Options{Replica: "s1", PollInterval: 10 * time.Millisecond,
		OnEvent: SchedulerHook()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	eventually.True(t, func() bool { return len(h.deliveries(ch.ID)) > 0 }, "a delivery is queued")
	cancel()
	<-done

	got := h.only(ch.ID)
	require.Equal(t, EventScheduleMissed, got.EventType)
	require.Equal(t, "schedule/"+itoa(sc.ID), got.Subject)
	require.Equal(t, SeverityWarning, got.Severity)
	require.Contains(t, got.Summary, `Schedule "nightly db1 check" (backup_check) missed`)
	require.Empty(t, h.deliveries(quiet.ID))

	require.Equal(t, 1, h.step(h.deliverer("r1", Options{})))
	reqs := rcv.Requests()
	require.Len(t, reqs, 1)
	var body WebhookPayload
	require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
	require.Equal(t, "nightly db1 check", body.Details["schedule_name"])
	require.Equal(t, "12", body.Details["target"])
	firstMissed, err := time.Parse(time.RFC3339, body.Details["first_missed_at"].(string))
	require.NoError(t, err)
	require.True(t, firstMissed.After(start) && firstMissed.Before(start.Add(10*time.Minute)), "first missed %s", firstMissed)
}

// The hook ignores every outcome but missed.
func TestSchedulerHookIgnoresOtherOutcomes(t *testing.T) {
	h := setup(t)
	ch := h.channel("ops", KindWebhook, "https://hooks.example.com/x", []string{"*"}, nil)
	hook := SchedulerHook()
	for _, st := range []scheduler.Status{scheduler.StatusSucceeded, scheduler.StatusFailed, scheduler.StatusCancelled} {
		require.NoError(t, hook(context.Background(), h.pool, scheduler.Event{Run: scheduler.Run{ID: 1, ScheduleID: 1, Status: st}}))
	}
	require.Empty(t, h.deliveries(ch.ID))
}
