package backup

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Checks past the retention age go, except each target's newest check and
// newest verified check, which its status and RPO are read from.
func TestPruneChecks(t *testing.T) {
	t.Parallel()
	h := setup(t)
	kept := h.target(KindFile, map[string]any{"path": t.TempDir() + "/*.dump"})
	other := h.target(KindFile, map[string]any{"path": t.TempDir() + "/*.dump"}, func(in *TargetInput) { in.Name = "other" })
	insert := func(tg Target, daysAgo int, verified bool) int64 {
		t.Helper()
		var id int64
		err := h.pool.QueryRow(h.ctx, `INSERT INTO backup_checks (target_id, trigger, status, verified, attempts, started_at, duration_ms, message, output)
			VALUES ($1, 'schedule', CASE WHEN $3 THEN 'ok' ELSE 'failed' END, $3, 1, $2::timestamptz, 1, '', '') RETURNING id`,
			tg.ID, h.clock.Now().Add(-time.Duration(daysAgo)*24*time.Hour), verified).Scan(&id)
		require.NoError(t, err)
		return id
	}
	insert(kept, 600, true)
	lastVerified := insert(kept, 500, true)
	insert(kept, 450, false)
	newest := insert(kept, 420, false)
	insert(other, 700, false)
	recent := insert(other, 30, true)

	n, err := h.svc.PruneChecks(h.ctx, 400*24*time.Hour)
	require.NoError(t, err)
	require.EqualValues(t, 3, n)
	var left []int64
	rows, err := h.pool.Query(h.ctx, `SELECT id FROM backup_checks ORDER BY id`)
	require.NoError(t, err)
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		left = append(left, id)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []int64{lastVerified, newest, recent}, left)
}
