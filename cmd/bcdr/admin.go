package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"text/tabwriter"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/auth"
)

// withDatabase parses the common flags plus any the command adds, opens
// the database and runs fn with it.
func withDatabase(ctx context.Context, name string, args []string, env map[string]string, stderr io.Writer,
	addFlags func(fs *flag.FlagSet), migrate bool, fn func(db *database, rest []string) error) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := parseConfig(env, fs)
	if err != nil {
		return err
	}
	if addFlags != nil {
		addFlags(fs)
	}
	if err := fs.Parse(args); err != nil {
		return exitError{code: 2}
	}
	if err := cfg.check(); err != nil {
		return err
	}
	logger := cfg.newLogger(stderr)
	if cfg.LogLevel == "info" {
		logger = slog.New(discardHandler{logger.Handler()})
	}
	db, err := openDatabase(ctx, cfg, logger, migrate)
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	return fn(db, fs.Args())
}

// discardHandler keeps CLI output to warnings and errors unless the user
// asks for more with BCDR_LOG_LEVEL.
type discardHandler struct{ slog.Handler }

func (h discardHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}

// cliActor attributes CLI mutations in the audit log.
func cliActor(ctx context.Context) context.Context {
	return orchestrator.WithActor(ctx, orchestrator.Actor{Name: "cli", Role: orchestrator.RoleAdmin})
}

func runMigrate(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "up" && args[0] != "status") {
		fmt.Fprintln(stderr, "usage: bcdr migrate up|status [flags]")
		return exitError{code: 2}
	}
	return withDatabase(ctx, "migrate "+args[0], args[1:], env, stderr, nil, false, func(db *database, _ []string) error {
		if args[0] == "up" {
			n, err := db.Migrator.Up(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "applied %d migration(s)\n", n)
			return nil
		}
		states, err := db.Migrator.Status(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tSTATE\tFILE")
		for _, st := range states {
			state := "pending"
			if st.Applied {
				state = "applied"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\n", st.Version, state, st.Name)
		}
		return tw.Flush()
	})
}

func runToken(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: bcdr token create --name NAME --role ROLE | token list | token revoke ID")
		return exitError{code: 2}
	}
	var name, role string
	addFlags := func(fs *flag.FlagSet) {
		if args[0] == "create" {
			fs.StringVar(&name, "name", "", "token name (required)")
			fs.StringVar(&role, "role", "", "admin, continuity_manager, operator, executive or auditor (required)")
		}
	}
	return withDatabase(ctx, "token "+args[0], args[1:], env, stderr, addFlags, true, func(db *database, rest []string) error {
		tokens := auth.NewService(db.Pool)
		switch args[0] {
		case "create":
			tok, secret, err := tokens.Create(cliActor(ctx), name, orchestrator.Role(role))
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "Created token %d %q with role %s. It is shown once:\n", tok.ID, tok.Name, tok.Role)
			fmt.Fprintln(stdout, secret)
			return nil
		case "list":
			list, err := tokens.List(ctx, false, orchestrator.Page{Limit: orchestrator.MaxPageLimit})
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tROLE\tPREFIX\tCREATED\tLAST USED")
			for _, t := range list.Items {
				last := "never"
				if t.LastUsedAt != nil {
					last = t.LastUsedAt.Format("2006-01-02 15:04")
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, t.Prefix, t.CreatedAt.Format("2006-01-02 15:04"), last)
			}
			return tw.Flush()
		case "revoke":
			if len(rest) != 1 {
				return fmt.Errorf("usage: bcdr token revoke ID")
			}
			id, err := strconv.ParseInt(rest[0], 10, 64)
			if err != nil {
				return fmt.Errorf("token id %q: must be a number (see bcdr token list)", rest[0])
			}
			if err := tokens.Revoke(cliActor(ctx), id); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "revoked token %d\n", id)
			return nil
		}
		return fmt.Errorf("unknown token command %q: use create, list or revoke", args[0])
	})
}

func runAudit(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: bcdr audit verify [flags]")
		return exitError{code: 2}
	}
	return withDatabase(ctx, "audit verify", args[1:], env, stderr, nil, true, func(db *database, _ []string) error {
		v, err := audit.Verify(ctx, db.Pool)
		if err != nil {
			return err
		}
		if !v.OK {
			fmt.Fprintf(stdout, "audit chain BROKEN at row %d after %d row(s): %s\n", v.BadID, v.Checked, v.Problem)
			return exitError{code: 1}
		}
		fmt.Fprintf(stdout, "audit chain intact: %d row(s) verified\n", v.Checked)
		return nil
	})
}
