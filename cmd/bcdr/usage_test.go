package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// runBCDR runs the binary with args and extra env and returns what it
// printed and its exit code.
func runBCDR(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), errOut.String(), exit.ExitCode()
	}
	require.NoError(t, err)
	return out.String(), errOut.String(), 0
}

// noDatabase points a command at a server that is not there (with a
// password in its URL), so that any command that reached for the database
// would fail, and keeps the data directory out of the checkout.
func noDatabase(t *testing.T) []string {
	return []string{"DATABASE_URL=postgres://bcdr:s3cret@127.0.0.1:1/none", "BCDR_DATA_DIR=" + t.TempDir()}
}

// Every command and subcommand prints its usage on stdout for -h and
// --help and exits 0, without touching the database.
func TestHelpOfEveryCommand(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args  []string
		names []string // what the usage must name
	}{
		{nil, []string{"bcdr serve", "bcdr token create", "bcdr export verify"}},
		{[]string{"serve"}, []string{"bcdr serve", "-demo", "-listen"}},
		{[]string{"demo"}, []string{"bcdr demo", "-scale"}},
		{[]string{"import"}, []string{"bcdr import", "-type", "-partial", "-charset", "-date-format", "-timezone", "FILE"}},
		{[]string{"export"}, []string{"bcdr export kit", "bcdr export verify"}},
		{[]string{"export", "kit"}, []string{"bcdr export kit", "-json", "DIR"}},
		{[]string{"export", "verify"}, []string{"bcdr export verify", "-json", "DIR"}},
		{[]string{"migrate"}, []string{"bcdr migrate up", "bcdr migrate status"}},
		{[]string{"migrate", "up"}, []string{"bcdr migrate up", "-database-url"}},
		{[]string{"migrate", "status"}, []string{"bcdr migrate status"}},
		{[]string{"token"}, []string{"bcdr token create", "bcdr token list", "bcdr token revoke"}},
		{[]string{"token", "create"}, []string{"bcdr token create", "-name", "-role"}},
		{[]string{"token", "list"}, []string{"bcdr token list"}},
		{[]string{"token", "revoke"}, []string{"bcdr token revoke", "ID"}},
		{[]string{"audit"}, []string{"bcdr audit verify"}},
		{[]string{"audit", "verify"}, []string{"bcdr audit verify", "-anchor"}},
		{[]string{"execution"}, []string{"bcdr execution start", "bcdr execution show"}},
		{[]string{"execution", "start"}, []string{"bcdr execution start", "-runbook", "-mode", "-note", "-failure-point"}},
		{[]string{"execution", "show"}, []string{"bcdr execution show", "-json", "ID"}},
		{[]string{"drill"}, []string{"bcdr drill list", "bcdr drill start", "bcdr drill complete", "bcdr drill report"}},
		{[]string{"drill", "list"}, []string{"bcdr drill list", "-year", "-json"}},
		{[]string{"drill", "start"}, []string{"bcdr drill start", "-json", "ID"}},
		{[]string{"drill", "complete"}, []string{"bcdr drill complete", "-json", "ID"}},
		{[]string{"drill", "report"}, []string{"bcdr drill report", "ID"}},
		{[]string{"finding"}, []string{"bcdr finding list"}},
		{[]string{"finding", "list"}, []string{"bcdr finding list", "-open", "-overdue", "-json"}},
		{[]string{"dump"}, []string{"bcdr dump", "FILE"}},
		{[]string{"restore"}, []string{"bcdr restore", "-replace", "FILE"}},
		{[]string{"report"}, []string{"bcdr report executive", "bcdr report bia", "bcdr report service"}},
		{[]string{"report", "executive"}, []string{"bcdr report executive", "-period", "-format", "-lang", "-out"}},
		{[]string{"report", "bia"}, []string{"bcdr report bia", "-format", "-lang", "-out"}},
		{[]string{"report", "risk"}, []string{"bcdr report risk", "-format", "-lang", "-out"}},
		{[]string{"report", "after-action"}, []string{"bcdr report after-action", "-drill", "-format"}},
		{[]string{"report", "invocation-review"}, []string{"bcdr report invocation-review", "-execution", "-format"}},
		{[]string{"report", "annual-review"}, []string{"bcdr report annual-review", "-period", "-format"}},
		{[]string{"report", "service"}, []string{"bcdr report service", "-service", "-period", "-format"}},
	}
	// The table covers every command the usage lists.
	for _, c := range commands {
		require.True(t, func() bool {
			for _, tc := range cases {
				if strings.Join(tc.args, " ") == c.name {
					return true
				}
			}
			return false
		}(), "no help case for %q", c.name)
	}
	env := noDatabase(t)
	for _, c := range cases {
		for _, flag := range []string{"-h", "--help"} {
			args := append(append([]string{}, c.args...), flag)
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				t.Parallel()
				stdout, stderr, code := runBCDR(t, env, args...)
				require.Equal(t, 0, code, "stderr: %s", stderr)
				require.Empty(t, stderr)
				require.Contains(t, stdout, "Usage:")
				for _, name := range c.names {
					require.Contains(t, stdout, name)
				}
				require.NotContains(t, stdout, "s3cret", "the usage never shows the database password")
			})
		}
	}
	// "bcdr help" and "bcdr help COMMAND" are the same as --help.
	stdout, _, code := runBCDR(t, env, "help")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "bcdr token revoke ID")
	stdout, _, code = runBCDR(t, env, "help", "token", "create")
	require.Equal(t, 0, code)
	require.Contains(t, stdout, "Usage: bcdr token create --name N --role R [flags]")
}

// Bad usage exits 2 with the problem and the usage on stderr, before any
// database is opened.
func TestBadUsageExits2(t *testing.T) {
	t.Parallel()
	env := noDatabase(t)
	for _, c := range []struct {
		args    []string
		problem string
		usage   string
	}{
		{nil, "", "bcdr serve"},
		{[]string{"nosuch"}, `unknown command "nosuch"`, "bcdr serve"},
		{[]string{"token"}, "token needs a command", "bcdr token revoke ID"},
		{[]string{"token", "bogus"}, `unknown token command "bogus"`, "bcdr token create"},
		{[]string{"token", "create", "--bogus"}, "flag provided but not defined: -bogus", "Usage: bcdr token create"},
		{[]string{"token", "create", "--name", "ops"}, "token create needs --role", "Usage: bcdr token create"},
		{[]string{"token", "revoke"}, "token revoke takes 1 argument after its flags", "Usage: bcdr token revoke"},
		{[]string{"token", "revoke", "1", "2"}, `unexpected "2"`, "Usage: bcdr token revoke"},
		{[]string{"import", "cis.csv"}, "import needs --type", "Usage: bcdr import"},
		{[]string{"migrate", "down"}, `unknown migrate command "down"`, "bcdr migrate up"},
		{[]string{"audit"}, "audit needs a command", "bcdr audit verify"},
		{[]string{"export", "verify"}, "export verify takes 1 argument after its flags", "Usage: bcdr export verify"},
		{[]string{"export", "kit", "a", "b"}, `unexpected "b"`, "Usage: bcdr export kit"},
		{[]string{"demo", "--scale", "many"}, `invalid value "many" for flag -scale`, "Usage: bcdr demo"},
		{[]string{"serve", "--listen"}, "flag needs an argument: -listen", "Usage: bcdr serve"},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code := runBCDR(t, env, c.args...)
			require.Equal(t, 2, code, "stderr: %s", stderr)
			require.Empty(t, stdout)
			require.Contains(t, stderr, c.problem)
			require.Contains(t, stderr, c.usage)
		})
	}
}

// export kit and export verify print text, or JSON with --json; counts
// are in words ("1 problem").
func TestExportOutput(t *testing.T) {
	t.Parallel()
	env := []string{"DATABASE_URL=" + emptyDatabase(t), "BCDR_DATA_DIR=" + t.TempDir()}
	dir := filepath.Join(t.TempDir(), "kit")
	stdout, stderr, code := runBCDR(t, env, "export", "kit", dir)
	require.Equal(t, 0, code, "stderr: %s", stderr)
	require.Regexp(t, `^wrote continuity kit to `+regexp.QuoteMeta(dir)+`: 0 runbooks, \d+ files, made \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n$`, stdout)

	jsonDir := filepath.Join(t.TempDir(), "kit")
	stdout, stderr, code = runBCDR(t, env, "export", "kit", "--json", jsonDir)
	require.Equal(t, 0, code, "stderr: %s", stderr)
	var written struct {
		Dir       string    `json:"dir"`
		Format    string    `json:"format"`
		CreatedAt time.Time `json:"created_at"`
		Runbooks  int       `json:"runbooks"`
		Files     []struct {
			Path string `json:"path"`
		} `json:"files"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &written), stdout)
	require.Equal(t, jsonDir, written.Dir)
	require.Equal(t, "bcdr-continuity-kit/1", written.Format)
	require.NotEmpty(t, written.Files)

	stdout, stderr, code = runBCDR(t, env, "export", "verify", dir)
	require.Equal(t, 0, code, "stderr: %s", stderr)
	require.Regexp(t, `^kit `+regexp.QuoteMeta(dir)+` matches its manifest: \d+ files checked, made .* UTC\n$`, stdout)
	type verification struct {
		OK       bool     `json:"ok"`
		Checked  int      `json:"checked"`
		Problems []string `json:"problems"`
	}
	var v verification
	stdout, _, code = runBCDR(t, env, "export", "verify", "--json", jsonDir)
	require.Equal(t, 0, code)
	require.NoError(t, json.Unmarshal([]byte(stdout), &v), stdout)
	require.True(t, v.OK)
	require.Empty(t, v.Problems)

	// One problem, then two: the counts read as English.
	f, err := os.OpenFile(filepath.Join(dir, "cmdb.csv"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("tampered,row\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	stdout, stderr, code = runBCDR(t, env, "export", "verify", dir)
	require.Equal(t, 1, code)
	require.Contains(t, stdout, "does not match its manifest (1 problem in ")
	require.Contains(t, stdout, "  cmdb.csv: content differs from the manifest")
	require.Empty(t, stderr)
	stdout, stderr, code = runBCDR(t, env, "export", "verify", "--json", dir)
	require.Equal(t, 1, code)
	require.NoError(t, json.Unmarshal([]byte(stdout), &v), stdout)
	require.False(t, v.OK)
	require.Len(t, v.Problems, 1)
	require.Equal(t, "bcdr: kit "+dir+" does not match its manifest (1 problem)\n", stderr)

	require.NoError(t, os.Remove(filepath.Join(dir, "index.html")))
	stdout, _, code = runBCDR(t, env, "export", "verify", dir)
	require.Equal(t, 1, code)
	require.Contains(t, stdout, "(2 problems in ")
}
