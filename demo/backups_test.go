package demo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/backup"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/localpg/localpgtest"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

func byCI(t *testing.T, rep BackupReport) map[string]SeededTarget {
	t.Helper()
	out := map[string]SeededTarget{}
	for _, st := range rep.Targets {
		out[st.Target.CI] = st
	}
	return out
}

// The demo makes a real restic repository, a pg_basebackup and stale
// dumps, and targets that show one fresh and one breached backup against
// the BIAs' RPOs from their first check; seeding again reuses everything.
func TestSeedBackups(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"restic", "pg_basebackup", "pg_verifybackup"} {
		if _, err := findTool(tool); err != nil {
			t.Fatalf("%v (scripts/install-deps.sh restic postgres)", err)
		}
	}
	pool := pgtest.New(t)
	ctx := orchestrator.WithActor(t.Context(), orchestrator.Actor{Name: "demo", Role: orchestrator.RoleAdmin})
	_, err := Seed(ctx, pool, registry(), Options{})
	require.NoError(t, err)
	// A throwaway cluster to take the base backup of, as `bcdr serve --demo`
	// takes one of its embedded cluster.
	cluster := localpgtest.Start(t)
	dir := filepath.Join(t.TempDir(), "demo")
	opts := BackupOptions{Dir: dir, BaseBackupURL: cluster.URL("postgres")}

	rep, err := SeedBackups(ctx, pool, opts)
	require.NoError(t, err)
	require.Empty(t, rep.Notes)
	require.Len(t, rep.Targets, 3)
	got := byCI(t, rep)
	fifteen := orchestrator.Duration(15 * time.Minute)

	fresh := got[freshCI]
	require.Equal(t, impact.Inserted, fresh.Outcome)
	require.Equal(t, backup.KindRestic, fresh.Target.Kind)
	require.Equal(t, backup.StatusOK, fresh.Target.LastCheck.Status, fresh.Target.LastCheck.Message)
	require.True(t, fresh.Target.LastCheck.Verified)
	require.Contains(t, fresh.Target.LastCheck.Message, "restore test")
	require.Equal(t, &fifteen, fresh.Status.RequiredRPO, "a tier-1 service's database")
	require.Equal(t, orchestrator.RPOCompliant, fresh.Status.State, fresh.Status.Reason)

	stale := got[staleCI]
	require.Equal(t, backup.KindFile, stale.Target.Kind)
	require.Equal(t, backup.StatusWarning, stale.Target.LastCheck.Status, "older than its max_age: %s", stale.Target.LastCheck.Message)
	require.True(t, stale.Target.LastCheck.Verified, "the dumps match their manifest")
	require.WithinDuration(t, time.Now().Add(-staleFor), *stale.Target.LastCheck.LatestBackupAt, time.Minute)
	require.Equal(t, &fifteen, stale.Status.RequiredRPO)
	require.Equal(t, orchestrator.RPOBreached, stale.Status.State, stale.Status.Reason)

	base := got[baseCI]
	require.Equal(t, backup.KindPgBaseBackup, base.Target.Kind)
	require.Equal(t, backup.StatusOK, base.Target.LastCheck.Status, base.Target.LastCheck.Message)
	require.True(t, base.Target.LastCheck.Verified)
	require.Equal(t, orchestrator.RPOCompliant, base.Status.State, base.Status.Reason)

	// Every target is scheduled (its next firing may already be due: the
	// demo checks every five minutes, and seeding under load takes a while).
	var scheduled int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM backup_targets t JOIN schedules s ON s.id = t.schedule_id
		WHERE s.kind = 'backup_check' AND s.enabled AND s.next_fire_at IS NOT NULL`).Scan(&scheduled))
	require.Equal(t, 3, scheduled)

	// The password is in a private file in the secrets directory, which
	// the target references; the database never sees it.
	passwordFile := filepath.Join(filepath.Dir(dir), "secrets", "demo-restic-password")
	fi, err := os.Stat(passwordFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	password, err := os.ReadFile(passwordFile)
	require.NoError(t, err)
	require.Contains(t, string(fresh.Target.Config), passwordFile)
	var leaks int
	require.NoError(t, pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM backup_targets WHERE config::text LIKE '%' || $1 || '%')
		+ (SELECT count(*) FROM backup_checks WHERE message || output LIKE '%' || $1 || '%')
		+ (SELECT count(*) FROM audit_log WHERE summary LIKE '%' || $1 || '%')`, strings.TrimSpace(string(password))).Scan(&leaks))
	require.Zero(t, leaks)

	// Seeding again changes no target, reuses the repository and keeps one
	// base backup.
	repoConfig, err := os.ReadFile(filepath.Join(dir, "restic", "config"))
	require.NoError(t, err)
	again, err := SeedBackups(ctx, pool, opts)
	require.NoError(t, err)
	for ci, st := range byCI(t, again) {
		require.Equal(t, impact.Unchanged, st.Outcome, ci)
		require.Equal(t, got[ci].Target.ID, st.Target.ID, ci)
	}
	var targets int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM backup_targets`).Scan(&targets))
	require.Equal(t, 3, targets)
	sameConfig, err := os.ReadFile(filepath.Join(dir, "restic", "config"))
	require.NoError(t, err)
	require.Equal(t, repoConfig, sameConfig, "the same repository")
	snapshots, err := os.ReadDir(filepath.Join(dir, "restic", "snapshots"))
	require.NoError(t, err)
	require.Len(t, snapshots, 2, "one snapshot per seed")
	// The backup job `serve --demo` runs adds one more. A password file
	// where an older bcdr wrote it is moved into the secrets directory: the
	// repository needs that same password.
	old := filepath.Join(dir, "restic-password")
	require.NoError(t, os.Rename(passwordFile, old))
	require.NoError(t, Snapshot(ctx, pool, opts))
	snapshots, err = os.ReadDir(filepath.Join(dir, "restic", "snapshots"))
	require.NoError(t, err)
	require.Len(t, snapshots, 3)
	require.NoFileExists(t, old)
	moved, err := os.ReadFile(passwordFile)
	require.NoError(t, err)
	require.Equal(t, password, moved)
	bases, err := filepath.Glob(filepath.Join(dir, "pg_basebackup", "*"))
	require.NoError(t, err)
	require.Len(t, bases, 1, "the older base backup is replaced")

	// On a server bcdr does not run, the base backup is skipped with a note
	// and its target left alone.
	elsewhere := opts
	elsewhere.BaseBackupURL = ""
	third, err := SeedBackups(ctx, pool, elsewhere)
	require.NoError(t, err)
	require.Len(t, third.Notes, 1)
	require.Contains(t, third.Notes[0], "no demo base backup")
	require.Len(t, third.Targets, 2)
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM backup_targets`).Scan(&targets))
	require.Equal(t, 3, targets)
}
