package backup

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

const resticPassword = "correct horse battery staple"

// resticRepo creates a repository with one snapshot of a small tree and
// returns its path and password file.
func resticRepo(t *testing.T) (string, string) {
	t.Helper()
	requireTool(t, "restic")
	dir := t.TempDir()
	pw := writeFile(t, dir, "password", resticPassword+"\n")
	repo := filepath.Join(dir, "repo")
	env := []string{"RESTIC_PASSWORD_FILE=" + pw}
	runTool(t, env, "restic", "init", "--repo="+repo)
	runTool(t, env, "restic", "backup", "--repo="+repo, "--no-cache", sourceTree(t))
	return repo, pw
}

func TestRestic_FreshRepositoryIsVerified(t *testing.T) {
	t.Parallel()
	h := setup(t)
	repo, pw := resticRepo(t)
	tg := h.target(KindRestic, ResticConfig{Repository: repo, PasswordFile: pw, ReadDataSubset: "50%"},
		func(in *TargetInput) { in.RestoreTest = true })

	c := h.check(tg)
	require.Equal(t, StatusOK, c.Status, "%s\n%s", c.Message, c.Output)
	require.True(t, c.Verified)
	require.NotNil(t, c.LatestBackupAt)
	require.WithinDuration(t, time.Now(), *c.LatestBackupAt, time.Minute)
	require.NotNil(t, c.SizeBytes)
	require.EqualValues(t, sourceSize+len(`{"customers":["ada","grace"]}`), *c.SizeBytes)
	require.Contains(t, c.Message, "restore test: 3 files")
	require.Contains(t, c.Output, "$ restic --repo="+repo)
	require.NotContains(t, c.Output, resticPassword)
	require.Equal(t, TriggerManual, c.Trigger)

	// The scratch area (HOME and the restore) is gone after the check.
	entries, err := os.ReadDir(h.svc.scratchDir)
	require.NoError(t, err)
	require.Empty(t, entries)
}

func TestRestic_PasswordFromEnvironment(t *testing.T) {
	t.Parallel()
	h := setup(t)
	repo, _ := resticRepo(t)
	tg := h.target(KindRestic, ResticConfig{Repository: repo, PasswordEnv: "BCDR_SECRET_DB1_RESTIC"})

	c := h.check(tg)
	require.Equal(t, StatusError, c.Status)
	require.Contains(t, c.Message, "BCDR_SECRET_DB1_RESTIC (password_env) is not set")

	h.env["BCDR_SECRET_DB1_RESTIC"] = "wrong"
	c = h.check(tg)
	require.Equal(t, StatusError, c.Status, "a wrong password is a check that cannot run, not a broken backup")
	require.Contains(t, c.Message, "wrong password")

	h.env["BCDR_SECRET_DB1_RESTIC"] = resticPassword
	c = h.check(tg)
	require.Equal(t, StatusOK, c.Status, c.Message)
	require.True(t, c.Verified)
	require.NotContains(t, c.Output, resticPassword)
}

func TestRestic_MissingPackFails(t *testing.T) {
	t.Parallel()
	h := setup(t)
	repo, pw := resticRepo(t)
	// Remove the largest pack: the file contents.
	var largest string
	var size int64
	require.NoError(t, filepath.Walk(filepath.Join(repo, "data"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && fi.Size() > size {
			largest, size = p, fi.Size()
		}
		return err
	}))
	require.NoError(t, os.Remove(largest))
	tg := h.target(KindRestic, ResticConfig{Repository: repo, PasswordFile: pw})

	c := h.check(tg)
	require.Equal(t, StatusFailed, c.Status, c.Message)
	require.False(t, c.Verified)
	require.Contains(t, c.Message, "restic check found errors")
	require.Contains(t, c.Output, filepath.Base(largest))
	require.NotNil(t, c.LatestBackupAt, "the snapshot is listed even though its data is gone")
}

func TestRestic_StaleSnapshotBreachesRPO(t *testing.T) {
	t.Parallel()
	h := setup(t)
	repo, pw := resticRepo(t)
	tg := h.target(KindRestic, ResticConfig{Repository: repo, PasswordFile: pw})
	c := h.check(tg)
	require.Equal(t, StatusOK, c.Status, c.Message)
	snapshot := *c.LatestBackupAt

	// Three hours later, judged against different RPOs.
	now := snapshot.Add(3 * time.Hour)
	for rpo, want := range map[time.Duration]orchestrator.RPOState{
		2 * time.Hour:                orchestrator.RPOBreached,
		3*time.Hour + 30*time.Minute: orchestrator.RPOAtRisk, // 3h > 80% of 3h30m
		5 * time.Hour:                orchestrator.RPOCompliant,
	} {
		st, err := RPOStatus(h.ctx, h.pool, "db1", orchestrator.Duration(rpo), now)
		require.NoError(t, err)
		require.Equal(t, want, st.State, "RPO %s: %s", rpo, st.Reason)
		require.Equal(t, orchestrator.Duration(3*time.Hour), *st.Age)
	}

	// A max_age on the target turns a late check into a warning.
	tg.MaxAge = nil
	in := TargetInput{CI: "db1", Kind: KindRestic, Schedule: "0 * * * *", Config: tg.Config, MaxAge: "2h"}
	_, err := h.svc.Replace(h.ctx, tg.ID, in)
	require.NoError(t, err)
	h.clock.Set(now)
	c = h.check(tg)
	require.Equal(t, StatusWarning, c.Status)
	require.Contains(t, c.Message, "3h0m0s old, beyond max_age 2h")
	require.True(t, c.Verified, "an old backup can still be intact")
}
