package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/bcdr/bcdr/api"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/demo"
)

func runDemo(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	scale := 1
	addFlags := func(fs *flag.FlagSet) {
		fs.IntVar(&scale, "scale", 1, "multiply the organisation's services and everything under them")
	}
	return withDatabase(ctx, "demo", args, env, stderr, addFlags, true, func(db *database, _ []string) error {
		return seedDemo(ctx, db, scale, stdout)
	})
}

// seedDemo loads the demo organisation and prints what each import did.
func seedDemo(ctx context.Context, db *database, scale int, stdout io.Writer) error {
	ctx = orchestrator.WithActor(ctx, orchestrator.Actor{Name: "demo", Role: orchestrator.RoleAdmin})
	start := time.Now()
	sum, err := demo.Seed(ctx, db.Pool, api.ImportRegistry(), demo.Options{Scale: scale})
	if err != nil {
		return err
	}
	types := make([]string, 0, len(sum))
	for t := range sum {
		types = append(types, t)
	}
	slices.Sort(types)
	for _, t := range types {
		r := sum[t]
		fmt.Fprintf(stdout, "demo %-12s %6d rows: %d inserted, %d updated, %d unchanged\n", t, r.Rows, r.Inserted, r.Updated, r.Unchanged)
	}
	fmt.Fprintf(stdout, "demo organisation loaded in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}
