package backup

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/localpg/localpgtest"
)

// baseBackup starts a throwaway cluster, takes a plain-format
// pg_basebackup of it with streamed WAL and a manifest, and returns the
// backup directory. The Debian initdb default trusts local replication
// connections, which is what pg_basebackup uses over the private socket.
func baseBackup(t *testing.T) string {
	t.Helper()
	requireTool(t, "pg_basebackup")
	requireTool(t, "pg_verifybackup")
	c := localpgtest.Start(t)
	dir := filepath.Join(t.TempDir(), "base")
	runTool(t, nil, "pg_basebackup", "--dbname="+c.URL("postgres"), "--pgdata="+dir, "--format=plain",
		"--wal-method=stream", "--checkpoint=fast", "--no-sync")
	return dir
}

func TestPgBaseBackup_VerifiedThenBroken(t *testing.T) {
	t.Parallel()
	h := setup(t)
	dir := baseBackup(t)
	tg := h.target(KindPgBaseBackup, PgBaseBackupConfig{Directory: dir}, func(in *TargetInput) { in.RestoreTest = true })

	c := h.check(tg)
	require.Equal(t, StatusOK, c.Status, "%s\n%s", c.Message, c.Output)
	require.True(t, c.Verified)
	require.WithinDuration(t, time.Now(), *c.LatestBackupAt, time.Minute, "START TIME from backup_label")
	require.Greater(t, *c.SizeBytes, int64(1<<20))
	require.Contains(t, c.Message, "restore test: copy verified, control file readable")

	// A file the manifest lists disappears: pg_verifybackup fails.
	require.NoError(t, os.Remove(filepath.Join(dir, "global", "pg_control")))
	c = h.check(tg)
	require.Equal(t, StatusFailed, c.Status, "%s\n%s", c.Message, c.Output)
	require.False(t, c.Verified)
	require.Contains(t, c.Message, "pg_verifybackup found problems")
	require.Contains(t, c.Message, "global/pg_control")
}

func TestPgBaseBackup_GlobPicksNewest(t *testing.T) {
	t.Parallel()
	h := setup(t)
	parent := t.TempDir()
	// Two fake backup directories: only the manifest's time matters here,
	// and neither verifies, so the check fails naming the newer one.
	for i, name := range []string{"2026-01-01", "2026-01-02"} {
		m := writeFile(t, parent, filepath.Join(name, "backup_manifest"), `{"PostgreSQL-Backup-Manifest-Version": 1, "Files": [{"Size": 10}]}`)
		at := time.Date(2026, 1, 1+i, 2, 0, 0, 0, time.UTC)
		require.NoError(t, os.Chtimes(m, at, at))
	}
	tg := h.target(KindPgBaseBackup, PgBaseBackupConfig{Directory: filepath.Join(parent, "2026-*")})
	c := h.check(tg)
	require.Equal(t, StatusFailed, c.Status)
	require.Contains(t, c.Message, "2026-01-02")
	require.Equal(t, time.Date(2026, 1, 2, 2, 0, 0, 0, time.UTC), c.LatestBackupAt.UTC())
	require.EqualValues(t, 10, *c.SizeBytes)

	tg = h.target(KindPgBaseBackup, PgBaseBackupConfig{Directory: filepath.Join(parent, "1999-*")})
	c = h.check(tg)
	require.Equal(t, StatusFailed, c.Status)
	require.Contains(t, c.Message, "no backup")
}
