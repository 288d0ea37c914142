package backup

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// TestCheckTransitionsNotify shows a target that starts failing announced
// once, however many failed checks follow, and its recovery announced once.
func TestCheckTransitionsNotify(t *testing.T) {
	t.Parallel()
	h := setup(t)
	name, kind, url := "ops", notify.KindWebhook, "http://127.0.0.1:9/hook"
	_, err := notify.NewService(h.pool, orchestrator.Runtime{}, secretref.Policy{}).Create(h.ctx, notify.ChannelInput{Name: &name, Kind: &kind, URL: &url, Events: []string{"*"}})
	require.NoError(t, err)
	dir := dumps(t)
	tg := h.target(KindFile, FileConfig{Path: filepath.Join(dir, "*.dump"), Manifest: filepath.Join(dir, "SHA256SUMS")})

	events := func() []string {
		rows, err := h.pool.Query(h.ctx, `SELECT event_type FROM notification_outbox ORDER BY id`)
		require.NoError(t, err)
		defer rows.Close()
		var out []string
		for rows.Next() {
			var e string
			require.NoError(t, rows.Scan(&e))
			out = append(out, e)
		}
		return out
	}
	require.Equal(t, StatusOK, h.check(tg).Status)
	require.Empty(t, events(), "a first good check announces nothing")

	newest := filepath.Join(dir, "db1-2026-01-03.dump")
	original, err := os.ReadFile(newest)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(newest, []byte("tampered"), 0o600))
	require.Equal(t, StatusFailed, h.check(tg).Status)
	require.Equal(t, StatusFailed, h.check(tg).Status)
	require.Equal(t, []string{"check_failed"}, events())

	require.NoError(t, os.WriteFile(newest, original, 0o600))
	require.Equal(t, StatusOK, h.check(tg).Status)
	require.Equal(t, []string{"check_failed", "check_recovered"}, events())
}

// TestRPOBreachAndRestoreNotify shows the CI's RPO judged at every check
// with the requirement the service is given, and a breach and its end each
// announced once.
func TestRPOBreachAndRestoreNotify(t *testing.T) {
	t.Parallel()
	h := setup(t)
	name, kind, url := "ops", notify.KindWebhook, "http://127.0.0.1:9/hook"
	_, err := notify.NewService(h.pool, orchestrator.Runtime{}, secretref.Policy{}).Create(h.ctx, notify.ChannelInput{Name: &name, Kind: &kind, URL: &url, Events: []string{"*"}})
	require.NoError(t, err)
	rpo := orchestrator.Duration(time.Hour)
	svc := NewService(h.pool, orchestrator.Runtime{Clock: h.clock}, Options{ScratchDir: t.TempDir(),
		Secrets: h.svc.limits.secrets, Roots: h.svc.limits.roots,
		RequiredRPO: func(context.Context, string) (*orchestrator.Duration, error) { return &rpo, nil }})
	dir := dumps(t)
	tg := h.target(KindFile, FileConfig{Path: filepath.Join(dir, "*.dump"), Manifest: filepath.Join(dir, "SHA256SUMS")})
	newest := time.Date(2026, 1, 3, 2, 0, 0, 0, time.UTC)

	var announced []string
	checkAt := func(at time.Time) {
		h.clock.Set(at)
		_, err := svc.CheckNow(h.ctx, tg.ID)
		require.NoError(t, err)
		announced = announced[:0]
		rows, err := h.pool.Query(h.ctx, `SELECT event_type FROM notification_outbox ORDER BY id`)
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var e string
			require.NoError(t, rows.Scan(&e))
			announced = append(announced, e)
		}
	}
	checkAt(newest.Add(30 * time.Minute))
	require.Empty(t, announced, "compliant from the start: nothing to announce")
	checkAt(newest.Add(2 * time.Hour))
	checkAt(newest.Add(3 * time.Hour))
	require.Equal(t, []string{"rpo_breached"}, announced, "a breach is announced once")
	checkAt(newest.Add(20 * time.Minute))
	require.Equal(t, []string{"rpo_breached", "rpo_restored"}, announced)
}
