package backup

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A symbolic link planted under a root after the target was created must
// not lead a check out of the roots: the path, a glob's match, a manifest's
// entry and a secret file are each followed before they are read.
func TestRoots_SymlinksPlantedLaterAreRefused(t *testing.T) {
	t.Parallel()
	h := setup(t)
	dir := dumps(t)
	etc := filepath.Join(dir, "etc")
	tg := h.target(KindFile, FileConfig{Path: filepath.Join(etc, "shadow")})
	require.NoError(t, os.Symlink("/etc", etc))
	c := h.check(tg)
	require.Equal(t, StatusError, c.Status, c.Message)
	require.Contains(t, c.Message, "config.path: "+etc+"/shadow leads to /etc/shadow, which is outside")
	require.Nil(t, c.SizeBytes, "nothing about the host file is reported")
	require.Nil(t, c.LatestBackupAt)

	glob := h.target(KindFile, FileConfig{Path: filepath.Join(dir, "*.dump")})
	require.Equal(t, StatusOK, h.check(glob).Status)
	require.NoError(t, os.Symlink("/etc/passwd", filepath.Join(dir, "zz.dump")))
	c = h.check(glob)
	require.Equal(t, StatusError, c.Status)
	require.Contains(t, c.Message, "zz.dump leads to /etc/passwd, which is outside")
	require.NoError(t, os.Remove(filepath.Join(dir, "zz.dump")))

	// A manifest entry that is a link out is a mismatch, never hashed.
	manifested := h.target(KindFile, FileConfig{Path: filepath.Join(dir, "*.dump"), Manifest: filepath.Join(dir, "SHA256SUMS")})
	require.Equal(t, StatusOK, h.check(manifested).Status)
	first := filepath.Join(dir, "db1-2026-01-01.dump")
	require.NoError(t, os.Remove(first))
	require.NoError(t, os.Symlink("/etc/hostname", first))
	c = h.check(manifested)
	require.Equal(t, StatusError, c.Status, "the glob now matches a link out: %s", c.Message)
	require.Contains(t, c.Message, "leads to /etc/hostname")
}

func TestRoots_SecretFileLinkedOutIsRefused(t *testing.T) {
	t.Parallel()
	h := setup(t)
	link := filepath.Join(t.TempDir(), "password")
	tg := h.target(KindRestic, ResticConfig{Repository: filepath.Join(t.TempDir(), "repo"), PasswordFile: link})
	require.NoError(t, os.Symlink("/etc/hostname", link))
	c := h.check(tg)
	require.Equal(t, StatusError, c.Status)
	require.Contains(t, c.Message, "password_file: "+link+" leads to /etc/hostname, which is outside")
}

func TestLocalRepository(t *testing.T) {
	t.Parallel()
	for repo, want := range map[string]string{
		"/srv/restic":              "/srv/restic",
		"local:/srv/restic":        "/srv/restic",
		"file:///srv/borg":         "/srv/borg",
		"relative/repo":            "relative/repo",
		"s3:s3.amazonaws.com/b":    "",
		"sftp:u@host:/srv/restic":  "",
		"rest:https://host/r":      "",
		"ssh://u@host:22/./repo":   "",
		"u@host:repo":              "",
		"/srv/with:colon/and@at:x": "/srv/with:colon/and@at:x",
	} {
		got, ok := localRepository(repo)
		require.Equal(t, want != "", ok, repo)
		require.Equal(t, want, got, repo)
	}
}
