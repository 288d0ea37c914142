// Command testpg runs a command against a throwaway PostgreSQL cluster:
//
//	go run ./scripts/testpg -- go test ./...
//
// It starts a cluster in a fresh temporary directory, runs the command with
// TEST_DATABASE_URL pointing at the cluster's postgres database and
// BCDR_TEST_REQUIRE_DB=1, then stops the cluster, removes the directory and
// exits with the command's exit code. When TEST_DATABASE_URL is already set
// it starts nothing and only runs the command.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/bcdr/bcdr/orchestrator/localpg"
)

func main() {
	code, err := run(context.Background(), os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testpg:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// run does the work of main and returns the exit code to leave with.
func run(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) (code int, err error) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		return 2, errors.New("usage: testpg [--] COMMAND [ARGS...]")
	}

	// Until the command runs, a signal cancels the start; afterwards it is
	// passed on to the command, which decides how to end.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var child atomic.Pointer[os.Process]
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			if p := child.Load(); p != nil {
				_ = p.Signal(s)
			} else {
				cancel()
			}
		}
	}()

	dbURL := lookup(environ, "TEST_DATABASE_URL")
	if dbURL == "" {
		cluster, cleanup, err := startCluster(ctx, stderr)
		if err != nil {
			return 1, err
		}
		defer func() {
			if cerr := cleanup(); cerr != nil {
				fmt.Fprintln(stderr, "testpg:", cerr)
				if code == 0 {
					code = 1
				}
			}
		}()
		dbURL = cluster.URL("postgres")
	}

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.Env = append(withoutKeys(environ, "TEST_DATABASE_URL", "BCDR_TEST_REQUIRE_DB"),
		"TEST_DATABASE_URL="+dbURL, "BCDR_TEST_REQUIRE_DB=1")
	if err := cmd.Start(); err != nil {
		return 127, fmt.Errorf("run %s: %w", args[0], err)
	}
	child.Store(cmd.Process)
	return exitCode(cmd.Wait())
}

// startCluster starts an ephemeral cluster in a new temporary directory and
// returns a function that stops it and removes the directory.
func startCluster(ctx context.Context, stderr io.Writer) (*localpg.Cluster, func() error, error) {
	base := os.TempDir()
	if os.Geteuid() == 0 {
		// The server runs as postgres, which must reach the directory;
		// $TMPDIR might be under /root.
		base = "/tmp"
	}
	tmp, err := os.MkdirTemp(base, "bcdr-testpg-")
	if err != nil {
		return nil, nil, fmt.Errorf("create temporary directory: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.RemoveAll(tmp)
		return nil, nil, fmt.Errorf("open up %s: %w", tmp, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cluster, err := localpg.Start(ctx, localpg.Config{Dir: filepath.Join(tmp, "pg"), Logger: log, Ephemeral: true})
	if err != nil {
		os.RemoveAll(tmp)
		return nil, nil, err
	}
	cleanup := func() error {
		// Stop even if the run was interrupted.
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		stopErr := cluster.Stop(stopCtx)
		if err := os.RemoveAll(tmp); err != nil {
			return errors.Join(stopErr, fmt.Errorf("remove %s: %w", tmp, err))
		}
		return stopErr
	}
	return cluster, cleanup, nil
}

// exitCode turns the command's end into our exit code, with the shell's
// 128+N for death by signal N.
func exitCode(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		return 1, fmt.Errorf("wait for command: %w", err)
	}
	if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return exitErr.ExitCode(), nil
}

func lookup(environ []string, key string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}

func withoutKeys(environ []string, keys ...string) []string {
	out := make([]string, 0, len(environ))
next:
	for _, kv := range environ {
		for _, k := range keys {
			if strings.HasPrefix(kv, k+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}
