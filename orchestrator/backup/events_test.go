package backup

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/notify"
)

// TestCheckTransitionsNotify shows a target that starts failing announced
// once, however many failed checks follow, and its recovery announced once.
func TestCheckTransitionsNotify(t *testing.T) {
	t.Parallel()
	h := setup(t)
	name, kind, url := "ops", notify.KindWebhook, "http://127.0.0.1:9/hook"
	_, err := notify.NewService(h.pool, nil).Create(h.ctx, notify.ChannelInput{Name: &name, Kind: &kind, URL: &url, Events: []string{"*"}})
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
