package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/runbooks"
)

// runbooksApproved is when the demo's runbooks were approved: a week
// before the drill programme of Now's year, so their annual review falls
// due around the year's end.
func runbooksApproved(now time.Time) time.Time {
	return programmeApproved(now.Year()).AddDate(0, 0, -7)
}

// The deliberate cases the demo shows: one runbook whose database restore
// was measured far slower than planned (so its estimate exceeds its RTO),
// and one made stale by a major change after its approval.
const (
	slowService   = "hr"
	staleService  = "email"
	staleChangeID = "CHG-DEMO-RUNBOOK-STALE"
)

// fixedClock tells one time.
type fixedClock time.Time

// Now returns the fixed time.
func (c fixedClock) Now() time.Time { return time.Time(c) }

// seedRunbooks generates and approves a runbook for every demo business
// service that has none in force, then makes one infeasible and one stale.
// A service whose runbook exists is left alone, so seeding twice changes
// nothing.
func seedRunbooks(ctx context.Context, pool *pgxpool.Pool, opts Options, summary Summary) error {
	svc := runbooks.NewService(pool, orchestrator.Runtime{Clock: fixedClock(runbooksApproved(opts.Now))}, runbooks.Options{})
	rep := importer.Report{Type: "runbooks", Format: "demo"}
	for copyN := range opts.Scale {
		for _, d := range services {
			key := serviceKey(d, copyN)
			created, err := seedRunbook(ctx, pool, svc, key)
			if err != nil {
				return err
			}
			rep.Rows++
			if created {
				rep.Inserted++
			} else {
				rep.Unchanged++
			}
		}
	}
	rep.Written = rep.Inserted > 0
	summary["runbooks"] = rep
	return seedStaleChange(ctx, pool, opts)
}

// seedRunbook creates and approves the runbook of one service unless it
// has one or is not in the CMDB.
func seedRunbook(ctx context.Context, pool *pgxpool.Pool, svc *runbooks.Service, key string) (bool, error) {
	ci, err := cmdb.ResolveOne(ctx, pool, key, cmdb.ResolveOptions{})
	if cmdb.IsUnknown(err) || (err == nil && ci.Class != cmdb.ClassBusinessService) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("seed demo runbook of %s: %w", key, err)
	}
	if exists, err := runbookInForce(ctx, svc, key); err != nil || exists {
		return false, err
	}
	rb, err := svc.Create(ctx, runbooks.CreateInput{Service: key})
	if err != nil {
		return false, fmt.Errorf("seed demo runbook of %s: %w", key, err)
	}
	id := fmt.Sprint(rb.ID)
	if key == slowService {
		if err := slowDown(ctx, svc, rb); err != nil {
			return false, err
		}
	}
	if _, err := svc.Approve(ctx, id); err != nil {
		return false, fmt.Errorf("approve demo runbook of %s: %w", key, err)
	}
	return true, nil
}

// runbookInForce reports whether service has a runbook that is not
// retired.
func runbookInForce(ctx context.Context, svc *runbooks.Service, service string) (bool, error) {
	page := orchestrator.Page{Limit: 100}
	for {
		l, err := svc.List(ctx, runbooks.Filter{Service: service}, page)
		if err != nil {
			return false, fmt.Errorf("seed demo runbook of %s: %w", service, err)
		}
		for _, r := range l.Items {
			if r.Status != runbooks.StatusRetired {
				return true, nil
			}
		}
		if l.Next == "" {
			return false, nil
		}
		if page.After, err = orchestrator.DecodeCursor(l.Next); err != nil {
			return false, err
		}
	}
}

// slowDown records that the service's database restore took a day and a
// half at the last test restore: the runbook can no longer meet its RTO.
func slowDown(ctx context.Context, svc *runbooks.Service, rb runbooks.Runbook) error {
	for _, s := range rb.Version.Steps {
		if s.Kind == runbooks.KindRecover && s.CI == rb.Scope.Service+"-db" {
			estimate := "80h"
			text := s.Text + " The last test restore took 80 hours: the archive tapes are read at 5 MB/s."
			_, err := svc.UpdateStep(ctx, fmt.Sprint(rb.ID), s.ID, runbooks.StepInput{Estimate: &estimate, Text: &text})
			if err != nil {
				return fmt.Errorf("slow down demo runbook %d: %w", rb.ID, err)
			}
			return nil
		}
	}
	return fmt.Errorf("demo runbook %d has no database restore step", rb.ID)
}

// seedStaleChange records a major change to the stale service's
// application two days before Now, after its runbook was approved.
func seedStaleChange(ctx context.Context, pool *pgxpool.Pool, opts Options) error {
	if _, err := cmdb.ResolveOne(ctx, pool, staleService+"-app", cmdb.ResolveOptions{}); err != nil {
		if cmdb.IsUnknown(err) {
			return nil
		}
		return fmt.Errorf("seed demo stale change: %w", err)
	}
	var seeded bool
	err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM changes WHERE source = $1 AND external_id = $2)`,
		Source, staleChangeID).Scan(&seeded)
	if err != nil || seeded {
		return err
	}
	start := opts.Now.Add(-50 * time.Hour)
	end := start.Add(2 * time.Hour)
	_, err = itsm.NewStore(pool).CreateChange(ctx, itsm.ChangeInput{Source: Source, ExternalID: staleChangeID,
		Title: "邮件系统升级 Mail platform upgrade to a new major version", Type: "normal", Risk: "high", Major: true,
		Status: "implemented", AffectedCIs: []string{staleService + "-app"}, PlannedStart: &start, PlannedEnd: &end,
		ActualStart: &start, ActualEnd: &end})
	if err != nil {
		return fmt.Errorf("seed demo stale change: %w", err)
	}
	return nil
}
