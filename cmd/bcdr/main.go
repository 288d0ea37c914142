// Command bcdr is the business continuity and disaster recovery
// orchestrator: the API server and the administrator's command line.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], environ(), os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var exit exitError
		if !errors.As(err, &exit) {
			fmt.Fprintln(os.Stderr, "bcdr:", err)
		}
		os.Exit(exitCode(err))
	}
}

const usage = `bcdr — business continuity and disaster recovery orchestrator

Usage:
  bcdr serve [--demo] [flags]              run the API server (--demo: load the demo organisation first)
  bcdr demo [--scale N]                    load (or refresh) the demo organisation
  bcdr migrate up|status [flags]           apply or list database migrations
  bcdr token create --name N --role R      issue an API token (printed once)
  bcdr token list                          list active tokens
  bcdr token revoke ID                     revoke a token
  bcdr audit verify                        check the audit log's hash chain
  bcdr import --type T [--partial] FILE    import a CSV or JSON-lines file of records
  bcdr export kit DIR                      write the offline continuity kit (runbooks, contacts, CMDB) into DIR
  bcdr export verify DIR                   check a kit against its manifest

Every command takes --data-dir and reads DATABASE_URL; run "bcdr COMMAND -h"
for its flags. Configuration is described in the README.
`

// run is the whole program; main only supplies the process's context,
// environment and streams.
func run(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError{code: 2}
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, env, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, env, stdout, stderr)
	case "token":
		return runToken(ctx, rest, env, stdout, stderr)
	case "audit":
		return runAudit(ctx, rest, env, stdout, stderr)
	case "import":
		return runImport(ctx, rest, env, stdout, stderr)
	case "demo":
		return runDemo(ctx, rest, env, stdout, stderr)
	case "export":
		return runExport(ctx, rest, env, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "bcdr: unknown command %q\n\n%s", cmd, usage)
	return exitError{code: 2}
}

// exitError ends the program with a code after its message was printed.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func exitCode(err error) int {
	var exit exitError
	if errors.As(err, &exit) {
		return exit.code
	}
	return 1
}

func environ() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}
