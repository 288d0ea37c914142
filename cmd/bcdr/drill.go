package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
)

// runDrill lists, starts, completes and reports drills from the command
// line: the same service the API and the scheduler drive.
func runDrill(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	sub, err := subcommand("drill", args)
	if err != nil {
		return err
	}
	var (
		asJSON bool
		year   int
	)
	addFlags := func(fs *flag.FlagSet) {
		if sub != "report" {
			fs.BoolVar(&asJSON, "json", false, "print JSON instead of text")
		}
		if sub == "list" {
			fs.IntVar(&year, "year", 0, "only drills planned to start in this year")
		}
	}
	return withDatabase(ctx, "drill "+sub, args[1:], env, stderr, addFlags, true, func(ctx context.Context, db *database, rest []string) error {
		svc := newApp(db).services.Drills
		if sub == "list" {
			list, err := svc.List(ctx, drills.Filter{Year: year}, orchestrator.Page{Limit: orchestrator.MaxPageLimit})
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(stdout, list.Items)
			}
			printDrills(stdout, list.Items)
			return nil
		}
		id, err := strconv.ParseInt(rest[0], 10, 64)
		if err != nil || id < 1 {
			return usageError{problem: fmt.Sprintf("%q is not a drill id", rest[0]), usage: usageOf("drill " + sub)}
		}
		var d drills.Drill
		switch sub {
		case "start":
			d, err = svc.Start(cliActor(ctx), id, drills.StartInput{Note: "started from the command line"})
		case "complete":
			d, err = svc.Complete(cliActor(ctx), id, drills.CompleteInput{})
		case "report":
			r, err := svc.AfterAction(ctx, id)
			if err != nil {
				return err
			}
			_, err = stdout.Write(r.Markdown())
			return err
		default:
			return errors.New("unknown drill command")
		}
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(stdout, d)
		}
		printDrills(stdout, []drills.Drill{d})
		return nil
	})
}

// printDrills writes drills as a table.
func printDrills(w io.Writer, list []drills.Drill) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPLANNED\tTYPE\tSTATUS\tRESULT\tSERVICES\tTITLE")
	for _, d := range list {
		result := "-"
		if d.Result != nil {
			result = *d.Result
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.PlannedStart.UTC().Format("2006-01-02 15:04"), d.Type, d.Status, result,
			strings.Join(d.Services, ","), d.Title)
	}
	_ = tw.Flush()
}

// runFinding lists the improvement register from the command line.
func runFinding(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	if _, err := subcommand("finding", args); err != nil {
		return err
	}
	var asJSON, open, overdue bool
	addFlags := func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON instead of text")
		fs.BoolVar(&open, "open", false, "only findings not verified")
		fs.BoolVar(&overdue, "overdue", false, "only findings past their due date and not resolved")
	}
	return withDatabase(ctx, "finding list", args[1:], env, stderr, addFlags, true, func(ctx context.Context, db *database, _ []string) error {
		list, err := newApp(db).services.Drills.Findings(ctx, drills.FindingFilter{Open: open, Overdue: overdue},
			orchestrator.Page{Limit: orchestrator.MaxPageLimit})
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(stdout, list.Items)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSEVERITY\tSTATUS\tDUE\tRETEST\tOWNER\tTITLE")
		for _, f := range list.Items {
			due := "-"
			if f.DueDate != nil {
				due = f.DueDate.String()
				if f.Overdue {
					due += " (overdue)"
				}
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%t\t%s\t%s\n", f.ID, f.Severity, f.Status, due, f.Retest, f.Owner, f.Title)
		}
		return tw.Flush()
	})
}
