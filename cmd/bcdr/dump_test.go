package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// A dump of the demo organisation restored into an empty database gives
// every table back row for row, sequences included; a database holding
// data is replaced only with --replace; a damaged dump or one of a newer
// schema is refused before anything is deleted.
func TestDumpRestoreRoundTrip(t *testing.T) {
	dataDir := t.TempDir()
	from, to := emptyDatabase(t), emptyDatabase(t)
	envFrom := []string{"DATABASE_URL=" + from, "BCDR_DATA_DIR=" + dataDir}
	envTo := []string{"DATABASE_URL=" + to, "BCDR_DATA_DIR=" + dataDir}
	_, stderr, code := runBCDR(t, envFrom, "demo")
	require.Equal(t, 0, code, stderr)
	_, stderr, code = runBCDR(t, envFrom, "token", "create", "--name", "ops", "--role", "operator")
	require.Equal(t, 0, code, stderr)
	before := fingerprint(t, from)

	file := filepath.Join(t.TempDir(), "bcdr.dump")
	stdout, stderr, code := runBCDR(t, envFrom, "dump", file)
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `^dumped \d+ tables and \d+ rows \(schema version \d+\) to .*bcdr.dump, [\d.]+ MiB\n$`, stdout)
	st, err := os.Stat(file)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "a dump holds token hashes and contacts")

	stdout, stderr, code = runBCDR(t, envTo, "restore", file)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "restored ")
	requireSameData(t, before, fingerprint(t, to))
	// The restore is audited after the restored rows, and the chain holds.
	stdout, stderr, code = runBCDR(t, envTo, "audit", "verify")
	require.Equal(t, 0, code, stderr+stdout)
	require.Contains(t, stdout, fmt.Sprintf("%d rows verified", auditRows(t, from)+1))
	// Sequences came back: new rows get new ids.
	_, stderr, code = runBCDR(t, envTo, "token", "create", "--name", "after", "--role", "auditor")
	require.Equal(t, 0, code, stderr)

	// A database holding data is not overwritten by accident.
	_, stderr, code = runBCDR(t, envTo, "restore", file)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "the database already holds bcdr data")
	require.Contains(t, stderr, "--replace")

	// Damaged or newer dumps are refused before anything is deleted.
	damaged := rewriteDump(t, file, func(s string) string { return strings.Replace(s, "\t", " ", 1) }, false)
	_, stderr, code = runBCDR(t, envTo, "restore", "--replace", damaged)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "checksum does not match")
	cut := filepath.Join(t.TempDir(), "cut.dump")
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cut, raw[:len(raw)/2], 0o600))
	_, stderr, code = runBCDR(t, envTo, "restore", "--replace", cut)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "dump "+cut)
	newer := rewriteDump(t, file, func(s string) string {
		return regexp.MustCompile(`"schema_version":\d+`).ReplaceAllString(s, `"schema_version":99999`)
	}, true)
	_, stderr, code = runBCDR(t, envTo, "restore", "--replace", newer)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "is of schema version 99999, newer than this bcdr's")
	require.Contains(t, fingerprint(t, to)["tokens"], "after", "nothing was deleted")

	// --replace puts the dump's state back exactly.
	_, stderr, code = runBCDR(t, envTo, "restore", "--replace", file)
	require.Equal(t, 0, code, stderr)
	requireSameData(t, before, fingerprint(t, to))
}

// fingerprint is every table's rows as text, sorted, by table name, with
// the audit log's rows under "audit_log" and the sequences' last values.
func fingerprint(t *testing.T, url string) map[string]string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT relname, relkind::text FROM pg_class
		WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'S') AND relname <> 'goose_db_version'`)
	require.NoError(t, err)
	type rel struct{ name, kind string }
	rels, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rel, error) {
		var x rel
		return x, r.Scan(&x.name, &x.kind)
	})
	require.NoError(t, err)
	out := map[string]string{}
	for _, r := range rels {
		query := fmt.Sprintf(`SELECT coalesce(string_agg(x::text, E'\n' ORDER BY x::text), '') FROM %s x`, pgx.Identifier{r.name}.Sanitize())
		if r.kind == "S" {
			query = fmt.Sprintf(`SELECT last_value::text FROM %s`, pgx.Identifier{r.name}.Sanitize())
		}
		var v string
		require.NoError(t, conn.QueryRow(ctx, query).Scan(&v))
		out[r.kind+":"+r.name] = v
	}
	out["tokens"] = out["r:api_tokens"]
	return out
}

// requireSameData compares two fingerprints; the restored audit log and
// its sequence may have grown by the restore's own row.
func requireSameData(t *testing.T, want, got map[string]string) {
	t.Helper()
	require.Equal(t, len(want), len(got))
	for k, w := range want {
		switch k {
		case "r:audit_log":
			extra := strings.Split(got[k], "\n")
			for _, line := range strings.Split(w, "\n") {
				i := slices.Index(extra, line)
				require.GreaterOrEqual(t, i, 0, "dumped audit row not restored: %s", line)
				extra = slices.Delete(extra, i, i+1)
			}
			require.Len(t, extra, 1)
			require.Contains(t, extra[0], "restore", "the only new audit row is the restore's")
		case "S:audit_log_id_seq":
		default:
			require.Equal(t, w, got[k], k)
		}
	}
}

// auditRows counts the rows of the audit log at url.
func auditRows(t *testing.T, url string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	var n int
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT count(*) FROM audit_log`).Scan(&n))
	return n
}

// rewriteDump writes a copy of a dump with its content changed by edit,
// the checksum fixed up when reseal is set (as a forger would).
func rewriteDump(t *testing.T, file string, edit func(string) string, reseal bool) string {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	var plain bytes.Buffer
	_, err = plain.ReadFrom(zr)
	require.NoError(t, err)
	text := plain.String()
	i := strings.LastIndex(text, "\nend ")
	body, end := edit(text[:i+1]), text[i+1:]
	if reseal {
		sum := sha256.Sum256([]byte(body))
		end = regexp.MustCompile(`"sha256":"[0-9a-f]+"`).ReplaceAllString(end, `"sha256":"`+hex.EncodeToString(sum[:])+`"`)
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	_, err = zw.Write([]byte(body + end))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	path := filepath.Join(t.TempDir(), "edited.dump")
	require.NoError(t, os.WriteFile(path, out.Bytes(), 0o600))
	return path
}
