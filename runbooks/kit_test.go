package runbooks

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

func TestSlugKeepsHostileKeysInside(t *testing.T) {
	for in, want := range map[string]string{
		"etax":                    "etax",
		"../../etc/passwd":        "etc-passwd",
		`..\..\Windows\win.ini`:   "windows-win-ini",
		"a/../../b":               "a-b",
		"....":                    "runbook",
		"":                        "runbook",
		"电子税务局":                   "runbook",
		"Core:Levy@DC-1":          "core-levy-dc-1",
		"x\x00y\ny":               "x-y-y",
		strings.Repeat("ab", 100): strings.Repeat("ab", 20),
	} {
		got := slug(in)
		require.Equal(t, want, got, "slug(%q)", in)
		require.True(t, filepath.IsLocal(got))
	}
	name := fileStem(Document{ID: 7, Scope: Scope{Service: "../../../tmp/evil"}})
	require.Equal(t, "runbook-7-tmp-evil", name)
}

func TestDirSinkAndVerifyStayInside(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "kit")
	sink, err := NewDirSink(dir)
	require.NoError(t, err)
	defer sink.Close()
	_, err = sink.Create("../escape.txt", time.Time{})
	require.Error(t, err, "os.Root refuses a name that leaves the directory")
	_, err = sink.Create("/etc/escape.txt", time.Time{})
	require.Error(t, err)
	f, err := sink.Create("runbooks/a.html", time.Time{})
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = NewDirSink(dir)
	require.ErrorContains(t, err, "not empty", "a kit never mixes with an older one")

	// A doctored manifest pointing outside the kit is a problem, not a read.
	require.NoError(t, os.WriteFile(filepath.Join(parent, "secret.txt"), []byte("s"), 0o600))
	m := Manifest{Format: KitFormat, Files: []KitEntry{{Path: "../secret.txt", SHA256: "x"}, {Path: "runbooks/a.html",
		SHA256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}}
	raw, err := json.Marshal(m)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, ManifestName), raw, 0o644))
	v, err := VerifyKit(dir)
	require.NoError(t, err)
	require.False(t, v.OK)
	require.Equal(t, []string{`"../secret.txt": path leaves the kit`}, v.Problems)

	_, err = VerifyKit(parent)
	require.Error(t, err, "no manifest, no kit")
}

// Every entry of a zipped kit is dated when the kit was made, by the
// service's clock, not 1980.
func TestZipKitEntriesCarryTheExportTime(t *testing.T) {
	t.Parallel()
	made := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	svc := NewService(pgtest.New(t), orchestrator.Runtime{Clock: orchestrator.NewManualClock(made)}, Options{})
	var buf bytes.Buffer
	zs := NewZipSink(&buf)
	m, err := svc.WriteKit(t.Context(), zs)
	require.NoError(t, err)
	require.NoError(t, zs.Close())
	require.Equal(t, made, m.CreatedAt)

	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	require.NoError(t, err)
	require.Len(t, zr.File, len(m.Files)+1, "every file and the manifest")
	for _, f := range zr.File {
		require.True(t, made.Equal(f.Modified), "%s is dated %s, not %s", f.Name, f.Modified, made)
	}
}
