package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/migrations"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/auth"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// cliEnv is an unmigrated database and a private data directory.
func cliEnv(t *testing.T) (url string, env []string) {
	t.Helper()
	url = emptyDatabase(t)
	return url, []string{"DATABASE_URL=" + url, "BCDR_DATA_DIR=" + t.TempDir()}
}

// count runs a one-number query against url.
func count(t *testing.T, url, query string) int {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	defer conn.Close(t.Context())
	var n int
	require.NoError(t, conn.QueryRow(t.Context(), query).Scan(&n))
	return n
}

// migrate status lists every embedded migration as pending on a new
// database, migrate up applies all of them once, and a second up applies
// none.
func TestCLIMigrate(t *testing.T) {
	t.Parallel()
	_, env := cliEnv(t)
	files, err := fs.Glob(migrations.FS, "*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, files)

	stdout, stderr, code := runBCDR(t, env, "migrate", "status")
	require.Equal(t, 0, code, stderr)
	require.Equal(t, len(files), strings.Count(stdout, " pending "), stdout)
	require.Zero(t, strings.Count(stdout, " applied "), stdout)
	require.Regexp(t, `(?m)^VERSION\s+STATE\s+FILE$`, stdout)
	require.Regexp(t, `(?m)^1\s+pending\s+00001_foundation\.sql$`, stdout)

	stdout, stderr, code = runBCDR(t, env, "migrate", "up")
	require.Equal(t, 0, code, stderr)
	require.Equal(t, fmt.Sprintf("applied %d migrations\n", len(files)), stdout)

	stdout, stderr, code = runBCDR(t, env, "migrate", "up")
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "applied 0 migrations\n", stdout)

	stdout, stderr, code = runBCDR(t, env, "migrate", "status")
	require.Equal(t, 0, code, stderr)
	require.Equal(t, len(files), strings.Count(stdout, " applied "), stdout)
	require.Zero(t, strings.Count(stdout, " pending "), stdout)

	// A server that is not there is an error naming the database, exit 1.
	_, stderr, code = runBCDR(t, noDatabase(t), "migrate", "status")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "bcdr: ")
	require.NotContains(t, stderr, "s3cret", "the password never reaches the output")
}

// token create prints a secret that authenticates with the role asked
// for, list shows the token, revoke makes the secret useless; mistakes
// exit 1 with a message and change nothing.
func TestCLIToken(t *testing.T) {
	t.Parallel()
	url, env := cliEnv(t)
	stdout, stderr, code := runBCDR(t, env, "token", "create", "--name", "ops-desk", "--role", "operator")
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `^bcdr_[A-Za-z0-9]+_[A-Za-z0-9_-]+\n$`, stdout)
	secret := strings.TrimSpace(stdout)
	m := regexp.MustCompile(`^Created token (\d+) "ops-desk" with role operator\. It is shown once:\n$`).FindStringSubmatch(stderr)
	require.NotNil(t, m, stderr)
	id := m[1]

	pool, err := postgres.Open(t.Context(), url, postgres.Options{MaxConns: 2})
	require.NoError(t, err)
	defer pool.Close()
	tokens := auth.NewService(pool)
	actor, err := tokens.Authenticate(t.Context(), secret)
	require.NoError(t, err)
	require.Equal(t, orchestrator.Actor{Name: "ops-desk", Role: orchestrator.RoleOperator}, orchestrator.Actor{Name: actor.Name, Role: actor.Role})

	stdout, stderr, code = runBCDR(t, env, "token", "list")
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `(?m)^ID\s+NAME\s+ROLE\s+PREFIX\s+CREATED\s+LAST USED$`, stdout)
	require.Regexp(t, `(?m)^`+id+`\s+ops-desk\s+operator\s+\S+\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+`, stdout)
	require.NotContains(t, stdout, secret, "the secret is shown once")

	for _, c := range []struct {
		args    []string
		message string
	}{
		{[]string{"token", "create", "--name", "x", "--role", "superuser"}, "role"},
		{[]string{"token", "revoke", "abc"}, `token id "abc": must be a number`},
		{[]string{"token", "revoke", "999999"}, "not"},
	} {
		stdout, stderr, code = runBCDR(t, env, c.args...)
		require.Equal(t, 1, code, "%v: %s", c.args, stderr)
		require.Empty(t, stdout, c.args)
		require.Contains(t, stderr, c.message, c.args)
	}
	require.Equal(t, 1, count(t, url, `SELECT count(*) FROM api_tokens`), "a refused create writes nothing")

	stdout, stderr, code = runBCDR(t, env, "token", "revoke", id)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "revoked token "+id+"\n", stdout)
	_, err = tokens.Authenticate(t.Context(), secret)
	require.Error(t, err, "a revoked token no longer authenticates")
	stdout, _, code = runBCDR(t, env, "token", "list")
	require.Equal(t, 0, code)
	require.NotContains(t, stdout, "ops-desk")

	// Create and revoke were audited, as the CLI.
	require.Equal(t, 2, count(t, url, `SELECT count(*) FROM audit_log WHERE actor = 'cli' AND resource = 'tokens'`))
}

// importReport is what bcdr import prints.
type importReport struct {
	Rows      int  `json:"rows"`
	Inserted  int  `json:"inserted"`
	Unchanged int  `json:"unchanged"`
	Rejected  int  `json:"rejected"`
	Written   bool `json:"written"`
	Problems  []struct {
		Row    int    `json:"row"`
		Column string `json:"column"`
	} `json:"problems"`
}

// import writes a file all or nothing, prints the report as JSON, exits 1
// when the file is rejected and writes nothing then; --partial writes the
// good rows.
func TestCLIImport(t *testing.T) {
	t.Parallel()
	url, env := cliEnv(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		return p
	}
	report := func(stdout string) importReport {
		var r importReport
		require.NoError(t, json.Unmarshal([]byte(stdout), &r), stdout)
		require.NotNil(t, r.Problems, "problems is a list, empty when every row is good: %s", stdout)
		if len(r.Problems) == 0 {
			r.Problems = nil
		}
		return r
	}
	good := write("cis.csv", "key,name,class\nweb1,Web server 1,server\napp1,Shop,application\n")
	stdout, stderr, code := runBCDR(t, env, "import", "--type", "cis", good)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, importReport{Rows: 2, Inserted: 2, Written: true}, report(stdout))
	stdout, stderr, code = runBCDR(t, env, "import", "--type", "cis", good)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, importReport{Rows: 2, Unchanged: 2, Written: true}, report(stdout), "the same file twice changes nothing")

	bad := write("bad.csv", "key,name,class\ndb1,Orders DB,database\nx1,,server\n")
	stdout, stderr, code = runBCDR(t, env, "import", "--type", "cis", bad)
	require.Equal(t, 1, code, stderr)
	r := report(stdout)
	require.False(t, r.Written)
	require.Equal(t, 1, r.Rejected)
	require.Len(t, r.Problems, 1)
	require.Equal(t, 2, r.Problems[0].Row)
	require.Equal(t, "name", r.Problems[0].Column)
	require.True(t, strings.HasPrefix(stderr, "bcdr: "), stderr)
	require.Equal(t, 2, count(t, url, `SELECT count(*) FROM cis`), "a rejected file writes nothing")

	stdout, stderr, code = runBCDR(t, env, "import", "--type", "cis", "--partial", bad)
	require.Equal(t, 0, code, stderr)
	r = report(stdout)
	require.True(t, r.Written)
	require.Equal(t, 1, r.Inserted)
	require.Equal(t, 1, r.Rejected)
	require.Equal(t, 3, count(t, url, `SELECT count(*) FROM cis`))

	// JSON lines are recognised by the extension.
	lines := write("more.jsonl", `{"key":"lb1","name":"Load balancer","class":"network"}`+"\n")
	stdout, stderr, code = runBCDR(t, env, "import", "--type", "cis", lines)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, importReport{Rows: 1, Inserted: 1, Written: true}, report(stdout))

	for _, c := range []struct {
		args    []string
		message string
	}{
		{[]string{"import", "--type", "cis", filepath.Join(dir, "missing.csv")}, "open import file"},
		{[]string{"import", "--type", "spaceships", good}, "unknown record type (type: must be one of"},
	} {
		stdout, stderr, code = runBCDR(t, env, c.args...)
		require.Equal(t, 1, code, "%v: %s", c.args, stderr)
		require.Empty(t, stdout, c.args)
		require.Contains(t, stderr, c.message, c.args)
	}
	require.Equal(t, 4, count(t, url, `SELECT count(*) FROM cis`))
}

// audit verify on an empty log succeeds, and on a tampered chain prints
// the broken row and exits 1, so that a cron job or CI step fails.
func TestCLIAuditVerify(t *testing.T) {
	t.Parallel()
	url, env := cliEnv(t)
	stdout, stderr, code := runBCDR(t, env, "audit", "verify")
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "audit chain intact: 0 rows verified (0 keyed)\n", stdout)

	for _, name := range []string{"a", "b", "c"} {
		_, stderr, code = runBCDR(t, env, "token", "create", "--name", name, "--role", "auditor")
		require.Equal(t, 0, code, stderr)
	}
	stdout, stderr, code = runBCDR(t, env, "audit", "verify")
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "audit chain intact: 3 rows verified (0 keyed)\n", stdout)

	superuser(t, url, `UPDATE audit_log SET actor = 'someone else' WHERE id = (SELECT min(id) + 1 FROM audit_log)`)
	second := count(t, url, `SELECT min(id) + 1 FROM audit_log`)
	stdout, _, code = runBCDR(t, env, "audit", "verify")
	require.Equal(t, 1, code, stdout)
	require.Equal(t, fmt.Sprintf("audit chain BROKEN at row %d after 2 rows: row content does not match its hash (the row was altered)\n", second), stdout)
}
