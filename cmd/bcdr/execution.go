package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// runExecution starts an execution of a runbook, or shows the board of
// one, from the command line: the same engine the API drives, for when a
// terminal is what there is.
func runExecution(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	sub, err := subcommand("execution", args)
	if err != nil {
		return err
	}
	var (
		asJSON       bool
		runbook      int64
		mode, note   string
		failurePoint string
	)
	addFlags := func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print the board as JSON instead of text")
		if sub == "start" {
			fs.Int64Var(&runbook, "runbook", 0, "id of the runbook to run (required)")
			fs.StringVar(&mode, "mode", "", "drill or invocation (required)")
			fs.StringVar(&note, "note", "", "why, for the timeline")
			fs.StringVar(&failurePoint, "failure-point", "", "RFC 3339 time the data was last good (default: now)")
		}
	}
	return withDatabase(ctx, "execution "+sub, args[1:], env, stderr, addFlags, true, func(ctx context.Context, db *database, rest []string) error {
		engine := newApp(db).services.Executions
		var ex execution.Execution
		switch sub {
		case "start":
			in := execution.StartInput{Runbook: runbook, Mode: mode, Note: note}
			if failurePoint != "" {
				t, err := time.Parse(time.RFC3339, failurePoint)
				if err != nil {
					return usageError{problem: fmt.Sprintf("--failure-point %q is not an RFC 3339 time", failurePoint), usage: usageOf("execution start")}
				}
				in.FailurePoint = &t
			}
			if ex, err = engine.Start(cliActor(ctx), in); err != nil {
				return err
			}
		case "show":
			id, err := strconv.ParseInt(rest[0], 10, 64)
			if err != nil || id < 1 {
				return usageError{problem: fmt.Sprintf("%q is not an execution id", rest[0]), usage: usageOf("execution show")}
			}
			if ex, err = engine.Get(ctx, id); err != nil {
				return err
			}
		default:
			return errors.New("unknown execution command")
		}
		if asJSON {
			return writeJSON(stdout, ex)
		}
		printBoard(stdout, ex)
		return nil
	})
}

// printBoard writes the live board as text: the execution, its services,
// then every step.
func printBoard(w io.Writer, ex execution.Execution) {
	fmt.Fprintf(w, "execution %d: %s of %q (runbook %d v%d), %s after %s", ex.ID, ex.Mode, ex.Title, ex.Runbook, ex.Version, ex.Status, ex.Elapsed)
	if ex.Projected != nil {
		fmt.Fprintf(w, ", projected to end %s", ex.Projected.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(w)
	for _, m := range ex.Services {
		fmt.Fprintf(w, "  service %s: RTO %s", m.Service, durationOrDash(m.RTO))
		switch {
		case m.RTOAchieved != nil:
			fmt.Fprintf(w, ", achieved %s", *m.RTOAchieved)
			if m.RPOAchieved != nil {
				fmt.Fprintf(w, ", data lost %s", *m.RPOAchieved)
			}
		case m.Projected != nil:
			fmt.Fprintf(w, ", projected recovery %s", m.Projected.UTC().Format(time.RFC3339))
			if m.AtRisk {
				fmt.Fprint(w, " (RTO AT RISK)")
			}
		}
		fmt.Fprintln(w)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tKIND\tSTATUS\tELAPSED\tESTIMATE\tTITLE")
	for _, s := range ex.Steps {
		status := s.Status
		if s.Overdue {
			status += " (overdue)"
		}
		if s.Critical {
			status += " *"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Kind, status, durationOrDash(s.Elapsed), s.Estimate, s.Title)
	}
	_ = tw.Flush()
}

func durationOrDash(d *orchestrator.Duration) string {
	if d == nil {
		return "-"
	}
	return d.String()
}
