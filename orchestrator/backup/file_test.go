package backup

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// dumps writes three nightly dumps a day apart, the newest last, and a
// sha256sum manifest of them; it returns the directory.
func dumps(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var manifest strings.Builder
	for i := range 3 {
		name := fmt.Sprintf("db1-2026-01-0%d.dump", i+1)
		content := strings.Repeat(fmt.Sprintf("dump %d\n", i), 1000*(i+1))
		p := writeFile(t, dir, name, content)
		at := time.Date(2026, 1, i+1, 2, 0, 0, 0, time.UTC)
		require.NoError(t, os.Chtimes(p, at, at))
		sum := sha256.Sum256([]byte(content))
		fmt.Fprintf(&manifest, "%s  %s\n", hex.EncodeToString(sum[:]), name)
	}
	writeFile(t, dir, "SHA256SUMS", manifest.String())
	writeFile(t, dir, "notes.txt", "not a dump")
	return dir
}

func TestFile_NewestMatchSizeAndManifest(t *testing.T) {
	t.Parallel()
	h := setup(t)
	dir := dumps(t)
	newest := time.Date(2026, 1, 3, 2, 0, 0, 0, time.UTC)
	newestSize := int64(3000 * len("dump 2\n"))
	glob := filepath.Join(dir, "*.dump")

	for _, tc := range []struct {
		name     string
		cfg      FileConfig
		status   CheckStatus
		verified bool
		message  string
	}{
		{"glob only", FileConfig{Path: glob}, StatusOK, false, "integrity not verified (no manifest)"},
		{"within bounds", FileConfig{Path: glob, MinSize: ptr(int64(1000)), MaxSize: ptr(int64(1 << 20))}, StatusOK, false, "db1-2026-01-03.dump"},
		{"below min_size", FileConfig{Path: glob, MinSize: ptr(newestSize + 1)}, StatusFailed, false, "below min_size"},
		{"above max_size", FileConfig{Path: glob, MaxSize: ptr(newestSize - 1)}, StatusFailed, false, "above max_size"},
		{"manifest matches", FileConfig{Path: glob, Manifest: filepath.Join(dir, "SHA256SUMS")}, StatusOK, true, "3 files match manifest"},
		{"no match", FileConfig{Path: filepath.Join(dir, "*.bak")}, StatusFailed, false, "no file matches"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := h.check(h.target(KindFile, tc.cfg))
			require.Equal(t, tc.status, c.Status, c.Message)
			require.Equal(t, tc.verified, c.Verified)
			require.Contains(t, c.Message, tc.message)
			if tc.name != "no match" {
				require.True(t, newest.Equal(*c.LatestBackupAt), "newest file's time, got %s", c.LatestBackupAt)
				require.Equal(t, newestSize, *c.SizeBytes)
			}
		})
	}
}

func TestFile_ManifestMismatchFails(t *testing.T) {
	t.Parallel()
	h := setup(t)
	dir := dumps(t)
	// One older dump is altered after its checksum was taken.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "db1-2026-01-01.dump"), []byte("tampered"), 0o600))
	c := h.check(h.target(KindFile, FileConfig{Path: filepath.Join(dir, "*.dump"), Manifest: filepath.Join(dir, "SHA256SUMS")}))
	require.Equal(t, StatusFailed, c.Status)
	require.False(t, c.Verified)
	require.Equal(t, "manifest check failed: db1-2026-01-01.dump does not match its SHA-256", c.Message)
	require.Contains(t, c.Output, "3 files, 1 mismatches")

	// A listed file that is gone fails too.
	require.NoError(t, os.Remove(filepath.Join(dir, "db1-2026-01-01.dump")))
	c = h.check(h.target(KindFile, FileConfig{Path: filepath.Join(dir, "*.dump"), Manifest: filepath.Join(dir, "SHA256SUMS")}))
	require.Equal(t, StatusFailed, c.Status)
	require.Contains(t, c.Message, "db1-2026-01-01.dump is missing")
}

func TestFile_ManifestNotCoveringNewestWarns(t *testing.T) {
	t.Parallel()
	h := setup(t)
	dir := dumps(t)
	p := writeFile(t, dir, "db1-2026-01-04.dump", "newer than the manifest")
	at := time.Date(2026, 1, 4, 2, 0, 0, 0, time.UTC)
	require.NoError(t, os.Chtimes(p, at, at))
	c := h.check(h.target(KindFile, FileConfig{Path: filepath.Join(dir, "*.dump"), Manifest: filepath.Join(dir, "SHA256SUMS")}))
	require.Equal(t, StatusWarning, c.Status)
	require.False(t, c.Verified)
	require.Contains(t, c.Message, "does not list the newest file")
}

func TestParseManifest(t *testing.T) {
	t.Parallel()
	hash := strings.Repeat("ab", 32)
	entries, err := parseManifest(strings.NewReader("# sums\n" + hash + "  a.dump\n" + strings.ToUpper(hash) + " *sub/b.dump\r\n\n"))
	require.NoError(t, err)
	require.Equal(t, []manifestEntry{{hash, "a.dump"}, {hash, "sub/b.dump"}}, entries)

	for name, bad := range map[string]string{
		"traversal":  hash + "  ../../etc/shadow\n",
		"absolute":   hash + "  /etc/shadow\n",
		"short hash": "abcd  a.dump\n",
		"not hex":    strings.Repeat("zz", 32) + "  a.dump\n",
		"one space":  hash + " a.dump\n",
		"empty":      "\n# nothing\n",
		"control":    hash + "  a\x01.dump\n",
	} {
		_, err := parseManifest(strings.NewReader(bad))
		require.Error(t, err, name)
	}
}
