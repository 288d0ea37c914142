package backup

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The fixtures were recorded from pgBackRest 2.45 (Debian bookworm) on a
// PostgreSQL 15 stanza "demo" with a full and an incremental backup; the
// invalid verify output followed overwriting one file of the full backup.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func TestParsePgBackRestInfo_RecordedStanza(t *testing.T) {
	t.Parallel()
	r, label := parsePgBackRestInfo(fixture(t, "pgbackrest-info.json"), "demo")
	require.Equal(t, StatusOK, r.Status, r.Message)
	require.Equal(t, "20261121-135459F_20261121-135503I", label, "the incremental finished last")
	require.Equal(t, time.Unix(1795269305, 0).UTC(), *r.LatestBackupAt)
	require.EqualValues(t, 22992556, *r.SizeBytes)
	require.False(t, r.Verified, "info alone proves no integrity")
	require.Contains(t, r.Message, "incr backup 20261121-135459F_20261121-135503I")

	r, _ = parsePgBackRestInfo(fixture(t, "pgbackrest-info.json"), "other")
	require.Equal(t, StatusError, r.Status)
	require.Contains(t, r.Message, `does not list stanza "other"`)
}

func TestParsePgBackRestInfo_StanzaStates(t *testing.T) {
	t.Parallel()
	info := string(fixture(t, "pgbackrest-info.json"))
	for _, tc := range []struct {
		name, edit string
		want       CheckStatus
		message    string
	}{
		{"no valid backups", `"status":{"code":2,"lock":{"backup":{"held":false}},"message":"no valid backups"}`, StatusFailed, "no valid backups"},
		{"missing stanza data", `"status":{"code":3,"lock":{"backup":{"held":false}},"message":"missing stanza data"}`, StatusError, "missing stanza data (pgbackrest status code 3)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(info, `"status":{"code":0,"lock":{"backup":{"held":false}},"message":"ok"}`, tc.edit, 1)
			r, _ := parsePgBackRestInfo([]byte(doc), "demo")
			require.Equal(t, tc.want, r.Status)
			require.Contains(t, r.Message, tc.message)
		})
	}
	doc := strings.Replace(info, `"error":false,"info":{"delta":8458`, `"error":true,"info":{"delta":8458`, 1)
	r, _ := parsePgBackRestInfo([]byte(doc), "demo")
	require.Equal(t, StatusFailed, r.Status)
	require.Contains(t, r.Message, "page checksum errors")

	r, _ = parsePgBackRestInfo([]byte(`{"not":"a list"}`), "demo")
	require.Equal(t, StatusError, r.Status)
}

func TestParsePgBackRestVerify_Recorded(t *testing.T) {
	t.Parallel()
	const label = "20261121-135459F_20261121-135503I"
	ok, msg := parsePgBackRestVerify(fixture(t, "pgbackrest-verify-ok.txt"), label)
	require.True(t, ok, msg)

	ok, msg = parsePgBackRestVerify(fixture(t, "pgbackrest-verify-invalid.txt"), label)
	require.False(t, ok)
	require.Contains(t, msg, "status error")
	require.Contains(t, msg, "20261121-135459F invalid")

	ok, msg = parsePgBackRestVerify(fixture(t, "pgbackrest-verify-ok.txt"), "20990101-000000F")
	require.False(t, ok, "a newest backup verify did not see is not verified")
	require.Contains(t, msg, "did not report the newest backup")

	ok, _ = parsePgBackRestVerify(nil, label)
	require.False(t, ok, "pgbackrest 2.45 prints nothing without --verbose: silence proves nothing")
}

func TestPgBackRest_MissingStanzaIsAnError(t *testing.T) {
	t.Parallel()
	h := setup(t)
	requireTool(t, "pgbackrest")
	dir := t.TempDir()
	conf := writeFile(t, dir, "pgbackrest.conf", "[global]\nrepo1-path="+filepath.Join(dir, "repo")+
		"\nlock-path="+dir+"\nlog-path="+dir+"\n")
	tg := h.target(KindPgBackRest, PgBackRestConfig{Stanza: "db1", Config: conf})

	c := h.check(tg)
	require.Equal(t, StatusError, c.Status, "%s\n%s", c.Message, c.Output)
	require.Equal(t, `stanza "db1": missing stanza path (pgbackrest status code 1)`, c.Message)
	require.False(t, c.Verified)
	require.Nil(t, c.LatestBackupAt)

	// A configuration file that is not there is an error too, in
	// pgBackRest's own words.
	tg = h.target(KindPgBackRest, PgBackRestConfig{Stanza: "db1", Config: filepath.Join(dir, "missing.conf")})
	c = h.check(tg)
	require.Equal(t, StatusError, c.Status)
	require.Contains(t, c.Message, "pgbackrest info failed")
	require.Contains(t, c.Message, "missing.conf")
}
