package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// serve creates the audit key, keys its rows and anchors the chain head
// into the kit directory; the CLI keys its rows with the same key, the kit
// carries an anchor, and `audit verify --anchor` catches what a superuser
// does to the table afterwards.
func TestAuditKeyAndAnchors(t *testing.T) {
	url, dataDir, kitDir := emptyDatabase(t), t.TempDir(), t.TempDir()
	env := []string{"DATABASE_URL=" + url, "BCDR_DATA_DIR=" + dataDir, "BCDR_KIT_DIR=" + kitDir}
	// Three rows: the first admin token, the readiness snapshot's schedule
	// and the monthly executive report's.
	p := startServe(t, env...)
	p.waitReady(t, 60*time.Second)
	anchorLog := filepath.Join(kitDir, "audit-anchors.log")
	waitForFile(t, anchorLog, 30*time.Second)
	p.stop(t)

	st, err := os.Stat(filepath.Join(dataDir, "audit-key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	logged, err := os.ReadFile(anchorLog)
	require.NoError(t, err)
	require.Regexp(t, `^bcdr-audit-anchor v1 at=\S+ id=\d+ rows=3 hash=[0-9a-f]{64} sig=[0-9a-f]{64}\n$`, string(logged))

	_, stderr, code := runBCDR(t, env, "token", "create", "--name", "auditor", "--role", "auditor")
	require.Equal(t, 0, code, stderr)
	kit := filepath.Join(t.TempDir(), "kit")
	_, stderr, code = runBCDR(t, env, "export", "kit", kit)
	require.Equal(t, 0, code, stderr)
	_, stderr, code = runBCDR(t, env, "export", "verify", kit)
	require.Equal(t, 0, code, stderr)
	kitAnchor := filepath.Join(kit, "audit-anchor.txt")

	stdout, stderr, code := runBCDR(t, env, "audit", "verify")
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "audit chain intact: 4 rows verified (4 keyed)\n", stdout)
	for _, file := range []string{anchorLog, kitAnchor} {
		stdout, stderr, code = runBCDR(t, env, "audit", "verify", "--anchor", file)
		require.Equal(t, 0, code, stderr)
		require.Contains(t, stdout, "audit log holds 1 anchor in "+file)
	}

	// Without the key nothing can be verified or written.
	noKey := []string{"DATABASE_URL=" + url, "BCDR_DATA_DIR=" + t.TempDir()}
	_, stderr, code = runBCDR(t, noKey, "audit", "verify")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "verifying it needs that key (BCDR_AUDIT_KEY_FILE)")
	_, stderr, code = runBCDR(t, noKey, "token", "create", "--name", "sneaky", "--role", "admin")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "but this process has no key")

	// An anchor line altered by hand is refused.
	forged := filepath.Join(t.TempDir(), "forged.log")
	require.NoError(t, os.WriteFile(forged, []byte(strings.Replace(string(logged), "rows=3 ", "rows=0 ", 1)), 0o644))
	_, stderr, code = runBCDR(t, env, "audit", "verify", "--anchor", forged)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "anchor file "+forged+" line 1: anchor signature does not match")

	// Deleting the newest row leaves a chain that verifies, but not the
	// kit's anchor; emptying the table is named as such.
	superuser(t, url, `DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)`)
	stdout, _, code = runBCDR(t, env, "audit", "verify")
	require.Equal(t, 0, code, "the chain alone cannot tell")
	require.Contains(t, stdout, "3 rows verified")
	stdout, _, code = runBCDR(t, env, "audit", "verify", "--anchor", kitAnchor)
	require.Equal(t, 1, code)
	require.Regexp(t, `audit log BROKEN against anchor .*audit-anchor.txt line 1: row \d+, anchored at \S+, is missing \(the newest rows were deleted\)`, stdout)

	superuser(t, url, `TRUNCATE audit_log`)
	stdout, _, code = runBCDR(t, env, "audit", "verify", "--anchor", anchorLog)
	require.Equal(t, 1, code)
	require.Contains(t, stdout, "the audit log is empty, but 3 rows up to row")
	require.Contains(t, stdout, "(the table was truncated)")
}

// superuser runs sql with the audit log's append-only triggers off.
func superuser(t *testing.T, url, sql string) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	defer conn.Close(t.Context())
	_, err = conn.Exec(t.Context(), `SET session_replication_role = replica`)
	require.NoError(t, err)
	_, err = conn.Exec(t.Context(), sql)
	require.NoError(t, err)
}

// waitForFile waits for a file the server writes on its own schedule.
func waitForFile(t *testing.T, path string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if st, err := os.Stat(path); err == nil && st.Size() > 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s was not written within %s", path, within)
}
