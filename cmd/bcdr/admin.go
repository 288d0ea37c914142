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
	"github.com/bcdr/bcdr/orchestrator/auth"
)

// withDatabase parses the common flags plus any the command adds (see
// parseFlags: name is the command's name in commands), opens the database
// and runs fn with it and a context holding the audit key when its file
// exists, so that the command's audit rows are keyed like the server's.
func withDatabase(ctx context.Context, name string, args []string, env map[string]string, stderr io.Writer,
	addFlags func(fs *flag.FlagSet), migrate bool, fn func(ctx context.Context, db *database, rest []string) error) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	cfg, err := parseConfig(env, fs)
	if err != nil {
		return err
	}
	if addFlags != nil {
		addFlags(fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := cfg.check(); err != nil {
		return err
	}
	logger := cfg.newLogger(stderr)
	if cfg.LogLevel == "info" {
		logger = slog.New(discardHandler{logger.Handler()})
	}
	if ctx, err = withAuditKey(ctx, cfg, false, logger); err != nil {
		return err
	}
	db, err := openDatabase(ctx, cfg, logger, migrate)
	if err != nil {
		return err
	}
	defer db.Close(ctx)
	return fn(ctx, db, fs.Args())
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
	sub, err := subcommand("migrate", args)
	if err != nil {
		return err
	}
	return withDatabase(ctx, "migrate "+sub, args[1:], env, stderr, nil, false, func(ctx context.Context, db *database, _ []string) error {
		if sub == "up" {
			n, err := db.Migrator.Up(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "applied %s\n", plural(n, "migration"))
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
	sub, err := subcommand("token", args)
	if err != nil {
		return err
	}
	var name, role string
	addFlags := func(fs *flag.FlagSet) {
		if sub == "create" {
			fs.StringVar(&name, "name", "", "token name (required)")
			fs.StringVar(&role, "role", "", "admin, continuity_manager, operator, executive or auditor (required)")
		}
	}
	return withDatabase(ctx, "token "+sub, args[1:], env, stderr, addFlags, true, func(ctx context.Context, db *database, rest []string) error {
		tokens := auth.NewService(db.Pool)
		switch sub {
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
		return fmt.Errorf("unknown token command %q", sub)
	})
}
