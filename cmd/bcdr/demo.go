package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/bcdr/bcdr/demo"
	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

func runDemo(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	scale := 1
	addFlags := func(fs *flag.FlagSet) {
		fs.IntVar(&scale, "scale", 1, "multiply the organisation's services and everything under them")
	}
	return withDatabase(ctx, "demo", args, env, stderr, addFlags, true, func(ctx context.Context, db *database, _ []string) error {
		return seedDemo(ctx, db, scale, stdout)
	})
}

// seedDemo loads the demo organisation and prints what each import did.
func seedDemo(ctx context.Context, db *database, scale int, stdout io.Writer) error {
	ctx = orchestrator.WithActor(ctx, orchestrator.Actor{Name: "demo", Role: orchestrator.RoleAdmin})
	start := time.Now()
	sum, err := demo.Seed(ctx, db.Pool, demo.Registry(), demo.Options{Scale: scale})
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
	if err := seedDemoBackups(ctx, db, stdout); err != nil {
		return err
	}
	// The model's gaps are judged once the backups are checked; those a
	// continuity manager acts on go to the register (data-bearing CIs
	// without a backup target stay in GET /gaps).
	gaps, err := newApp(db).services.Drills.FromGaps(ctx, drills.FromGapsInput{
		Kinds: []string{impact.GapSupplierRTO, impact.GapSupplierRPO, impact.GapExceedsMTPD, impact.GapNoBIA}})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo findings: %d raised from the model's gaps, %d already in the register\n", gaps.Opened, gaps.Existing)
	return nil
}

// demoBackupOptions places the demo's backups under the data directory;
// a base backup is taken only of the embedded cluster.
func demoBackupOptions(db *database) demo.BackupOptions {
	opts := demo.BackupOptions{Dir: filepath.Join(db.cfg.DataDir, "demo"), Logger: db.logger,
		Secrets: db.cfg.secrets(), Roots: db.cfg.BackupRoots}
	if db.cluster != nil {
		opts.BaseBackupURL = db.cluster.URL(embeddedDatabase)
	}
	return opts
}

// seedDemoBackups makes the demo's backups and targets and prints each
// target's first check and its CI's RPO status.
func seedDemoBackups(ctx context.Context, db *database, stdout io.Writer) error {
	start := time.Now()
	rep, err := demo.SeedBackups(ctx, db.Pool, demoBackupOptions(db))
	if err != nil {
		return err
	}
	for _, note := range rep.Notes {
		fmt.Fprintf(stdout, "demo backups: %s\n", note)
	}
	for _, st := range rep.Targets {
		t, c := st.Target, st.Target.LastCheck
		state := string(st.Status.State)
		if st.Status.RequiredRPO != nil {
			state += " (required RPO " + st.Status.RequiredRPO.String() + ")"
		}
		fmt.Fprintf(stdout, "demo backup target %d %-14s %-15s %s: check %s, RPO %s\n", t.ID, t.Kind, t.CI, st.Outcome, c.Status, state)
	}
	fmt.Fprintf(stdout, "demo backups made and checked in %s\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// demoBackupEvery is how often `serve --demo` snapshots the demo records:
// the demo's backup job, which keeps the restic target within its RPO of
// 15 minutes while the server runs.
const demoBackupEvery = 5 * time.Minute

// runDemoBackupJob snapshots the demo records into the demo repository
// until ctx ends. A failed snapshot is logged; the target then ages and its
// RPO status shows it.
func runDemoBackupJob(ctx context.Context, db *database) error {
	t := time.NewTicker(demoBackupEvery)
	defer t.Stop()
	opts := demoBackupOptions(db)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := demo.Snapshot(ctx, db.Pool, opts); err != nil && ctx.Err() == nil {
				db.logger.Warn("demo backup job failed; the demo restic target will age", "error", err)
			}
		}
	}
}
