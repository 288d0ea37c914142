package backup

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const borgPassphrase = "tr0ub4dor&3"

// borgRepo creates an encrypted repository with one archive and returns
// its path and a passphrase file.
func borgRepo(t *testing.T) (string, string) {
	t.Helper()
	requireTool(t, "borg")
	dir := t.TempDir()
	pass := writeFile(t, dir, "passphrase", borgPassphrase+"\n")
	repo := filepath.Join(dir, "repo")
	env := []string{"BORG_PASSPHRASE=" + borgPassphrase}
	runTool(t, env, "borg", "init", "--encryption=repokey", repo)
	runTool(t, env, "borg", "create", repo+"::nightly", sourceTree(t))
	return repo, pass
}

func TestBorg_FreshRepositoryIsVerified(t *testing.T) {
	t.Parallel()
	h := setup(t)
	repo, pass := borgRepo(t)
	// The passphrase file reaches borg on a descriptor, the variable in
	// its environment; both work.
	byFile := h.target(KindBorg, BorgConfig{Repository: repo, PassphraseFile: pass})
	h.env["BCDR_SECRET_DB1_BORG"] = borgPassphrase
	byEnv := h.target(KindBorg, BorgConfig{Repository: repo, PassphraseEnv: "BCDR_SECRET_DB1_BORG", VerifyData: true})

	for _, tg := range []Target{byFile, byEnv} {
		c := h.check(tg)
		require.Equal(t, StatusOK, c.Status, "%s\n%s", c.Message, c.Output)
		require.True(t, c.Verified)
		require.WithinDuration(t, time.Now(), *c.LatestBackupAt, time.Minute)
		require.NotNil(t, c.SizeBytes)
		require.EqualValues(t, sourceSize+len(`{"customers":["ada","grace"]}`), *c.SizeBytes)
		require.Contains(t, c.Message, `archive "nightly"`)
		require.NotContains(t, c.Output, borgPassphrase)
	}
}

func TestBorg_CorruptSegmentFails(t *testing.T) {
	t.Parallel()
	h := setup(t)
	repo, pass := borgRepo(t)
	// Overwrite the middle of the largest segment file, which holds the
	// file chunks.
	var largest string
	var size int64
	require.NoError(t, filepath.Walk(filepath.Join(repo, "data"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && fi.Size() > size {
			largest, size = p, fi.Size()
		}
		return err
	}))
	f, err := os.OpenFile(largest, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(make([]byte, 64), size/2)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	tg := h.target(KindBorg, BorgConfig{Repository: repo, PassphraseFile: pass})

	c := h.check(tg)
	require.Equal(t, StatusFailed, c.Status, "%s\n%s", c.Message, c.Output)
	require.False(t, c.Verified)
	require.Contains(t, c.Message, "borg check found errors")
	require.Contains(t, c.Output, "errors found")
}

func TestBorg_MissingRepositoryIsAnError(t *testing.T) {
	t.Parallel()
	h := setup(t)
	requireTool(t, "borg")
	pass := writeFile(t, t.TempDir(), "passphrase", borgPassphrase)
	tg := h.target(KindBorg, BorgConfig{Repository: filepath.Join(t.TempDir(), "gone"), PassphraseFile: pass})

	c := h.check(tg)
	require.Equal(t, StatusError, c.Status)
	require.Contains(t, c.Message, "does not exist")
}
