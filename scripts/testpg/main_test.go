package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// testpg is the gate of CI: whatever the command's exit code, testpg must
// leave with it, or a failing suite would pass.
func TestExitCodeIsPassedOn(t *testing.T) {
	t.Parallel()
	env := []string{"TEST_DATABASE_URL=postgres://127.0.0.1:1/none", "PATH=" + os.Getenv("PATH")}
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"success", []string{"--", "sh", "-c", "exit 0"}, 0},
		{"test failure", []string{"--", "sh", "-c", "exit 1"}, 1},
		{"other code", []string{"sh", "-c", "exit 3"}, 3},
		{"high code", []string{"--", "sh", "-c", "exit 125"}, 125},
		{"killed by a signal", []string{"--", "sh", "-c", "kill -TERM $$"}, 128 + int(syscall.SIGTERM)},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, err := run(t.Context(), c.args, env, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{})
			require.NoError(t, err)
			require.Equal(t, c.code, code)
		})
	}

	code, err := run(t.Context(), []string{"--", "/nonexistent/command"}, env, nil, &bytes.Buffer{}, &bytes.Buffer{})
	require.Error(t, err)
	require.Equal(t, 127, code)
	code, err = run(t.Context(), []string{"--"}, env, nil, &bytes.Buffer{}, &bytes.Buffer{})
	require.ErrorContains(t, err, "usage: testpg")
	require.Equal(t, 2, code)
}

// The command gets the database URL and the flag that makes a missing
// database fail the tests rather than skip them; what the caller had set
// for them is replaced, and the rest of the environment is kept.
func TestCommandEnvironment(t *testing.T) {
	t.Parallel()
	env := []string{"TEST_DATABASE_URL=postgres://127.0.0.1:1/given", "BCDR_TEST_REQUIRE_DB=", "KEEP=me", "PATH=" + os.Getenv("PATH")}
	var out bytes.Buffer
	code, err := run(t.Context(), []string{"--", "sh", "-c", `echo "$TEST_DATABASE_URL|$BCDR_TEST_REQUIRE_DB|$KEEP"; env | grep -c '^TEST_DATABASE_URL='`},
		env, nil, &out, &bytes.Buffer{})
	require.NoError(t, err)
	require.Zero(t, code)
	require.Equal(t, "postgres://127.0.0.1:1/given|1|me\n1\n", out.String())
}

// Without TEST_DATABASE_URL testpg starts a real cluster, hands its URL to
// the command (here this test binary, which connects to it), passes the
// command's failure on, and stops and removes the cluster afterwards.
func TestThrowawayCluster(t *testing.T) {
	pgtest.ServerURL(t) // the PostgreSQL binaries are there when a server is
	env := append(withoutKeys(os.Environ(), "TEST_DATABASE_URL", "BCDR_TEST_REQUIRE_DB"), "BCDR_TESTPG_HELPER=1")
	var out, errOut bytes.Buffer
	code, err := run(t.Context(), []string{"--", os.Args[0], "-test.run=^TestHelperConnects$"}, env, nil, &out, &errOut)
	require.NoError(t, err, errOut.String())
	require.Equal(t, 4, code, "the command's failure is the run's failure:\n%s\n%s", out.String(), errOut.String())
	u, err := url.Parse(strings.TrimSpace(lastLine(out.String())))
	require.NoError(t, err, out.String())
	socketDir := u.Query().Get("host")
	require.NotEmpty(t, socketDir, u)
	_, err = os.Stat(socketDir)
	require.ErrorIs(t, err, fs.ErrNotExist, "the cluster's directory is removed")
	var pid int
	_, err = fmt.Sscanf(strings.Fields(out.String())[0], "postmaster=%d", &pid)
	require.NoError(t, err, out.String())
	// pg_ctl returns once postmaster.pid is gone; the process itself may
	// take a moment longer to exit.
	require.Eventually(t, func() bool { return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) },
		15*time.Second, 50*time.Millisecond, "the server (pid %d) is stopped", pid)
}

// TestHelperConnects is the command TestThrowawayCluster runs: it
// proves the URL reaches a server, prints it and fails with code 4.
func TestHelperConnects(t *testing.T) {
	if os.Getenv("BCDR_TESTPG_HELPER") == "" {
		return
	}
	dbURL := os.Getenv("TEST_DATABASE_URL")
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		fmt.Println("connect:", err)
		os.Exit(5)
	}
	var dataDir string
	if err := conn.QueryRow(context.Background(), "SHOW data_directory").Scan(&dataDir); err != nil || os.Getenv("BCDR_TEST_REQUIRE_DB") != "1" {
		fmt.Println("query:", err)
		os.Exit(6)
	}
	conn.Close(context.Background())
	pidFile, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		fmt.Println("read postmaster.pid:", err)
		os.Exit(7)
	}
	fmt.Printf("postmaster=%s\n", strings.Fields(string(pidFile))[0])
	fmt.Println(dbURL)
	os.Exit(4)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
