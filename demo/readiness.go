package demo

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/auth"
	"github.com/bcdr/bcdr/orchestrator/backup"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/report"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// readinessDays is how far back the demo's readiness history reaches.
const readinessDays = 365

// seedReadiness computes the demo organisation's readiness at Now and
// stores a year of daily points so that trends can be drawn. Only Now's
// point is measured; the earlier ones are derived from it — a steady
// improvement over the year with some wobble — and, like it, marked with
// source "demo". Days that have a point already keep it.
func seedReadiness(ctx context.Context, pool *pgxpool.Pool, opts Options, summary Summary) error {
	rs := Readiness(pool, opts.Now)
	org, err := rs.Readiness(ctx, report.Filter{})
	if err != nil {
		return fmt.Errorf("score the demo's readiness: %w", err)
	}
	n, err := rs.SeedHistory(ctx, derivedHistory(org, opts.Now))
	if err != nil {
		return err
	}
	summary["readiness_history"] = importer.Report{Type: "readiness_history", Format: "demo", Rows: readinessDays + 1,
		Inserted: n, Unchanged: readinessDays + 1 - n, Written: n > 0}
	return archiveReport(ctx, pool, opts.Now, summary)
}

// archiveReport keeps last month's executive report (HTML) in the archive,
// as a monthly report schedule would have, unless the demo did already.
func archiveReport(ctx context.Context, pool *pgxpool.Pool, now time.Time, summary Summary) error {
	reports := Reports(pool, now)
	period := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0).Format("2006-01")
	l, err := reports.ListArchive(ctx, report.ArchiveFilter{Kind: report.KindExecutive}, orchestrator.Page{Limit: 100})
	if err != nil {
		return err
	}
	for _, a := range l.Items {
		if a.CreatedBy == "demo" && a.Period == period {
			summary["report_archive"] = importer.Report{Type: "report_archive", Format: "demo", Rows: 1, Unchanged: 1}
			return nil
		}
	}
	r, err := reports.Render(ctx, report.Request{Kind: report.KindExecutive, Period: period, Format: report.FormatHTML}, nil)
	if err != nil {
		return fmt.Errorf("make the demo's %s executive report: %w", period, err)
	}
	if _, err := reports.Archive(ctx, r, "demo"); err != nil {
		return err
	}
	summary["report_archive"] = importer.Report{Type: "report_archive", Format: "demo", Rows: 1, Inserted: 1, Written: true}
	return nil
}

// Readiness wires readiness over the demo's records as the composition
// root does, its clock fixed at now.
func Readiness(pool *pgxpool.Pool, now time.Time) *report.Service { return Wire(pool, now).Report }

// Reports wires the reports over the demo's records, without a printer:
// the demo archives HTML.
func Reports(pool *pgxpool.Pool, now time.Time) *report.Reports { return Wire(pool, now).Reports }

// Wired are the services over the demo's records, for the demo's seeding
// and for tests of what sits above them (the web UI).
type Wired struct {
	Tokens     *auth.Service
	Backups    *backup.Service
	Impact     *impact.Service
	Runbooks   *runbooks.Service
	Executions *execution.Service
	Schedules  *scheduler.Service
	Drills     *drills.Service
	Report     *report.Service
	Reports    *report.Reports
}

// Wire builds the services as the composition root does, their clock
// fixed at now (no PDF printer, no scheduler or automation workers).
func Wire(pool *pgxpool.Pool, now time.Time) Wired {
	rt := orchestrator.Runtime{Clock: fixedClock(now)}
	w := Wired{Tokens: auth.NewService(pool), Backups: backup.NewService(pool, rt, backup.Options{})}
	w.Impact = impact.NewService(pool, rt, impact.NewGraphCache(pool, rt), impact.WithBackupCoverage(w.Backups), impact.WithBackupEvidence(w.Backups))
	w.Runbooks = runbooks.NewService(pool, rt, runbooks.Options{Model: runbooks.NewPGModel(pool, w.Impact), Backups: runbooks.NewPGBackups(pool, rt),
		Drills: proofsOf(func(ctx context.Context, ids []int64) (map[int64]runbooks.Proof, error) {
			return w.Drills.Proofs(ctx, ids)
		})})
	w.Executions = execution.NewService(pool, rt, w.Runbooks, execution.Options{})
	w.Schedules = scheduler.NewService(pool, rt, scheduler.ServiceOptions{Handled: []scheduler.Kind{scheduler.KindDrill}})
	w.Drills = drills.NewService(pool, rt, drills.Options{Runbooks: w.Runbooks, Executions: w.Executions, Schedules: w.Schedules, Impact: w.Impact})
	w.Report = report.NewService(pool, rt, report.Options{Impact: w.Impact, Backups: w.Backups, Runbooks: w.Runbooks, Drills: w.Drills})
	w.Reports = report.NewReports(w.Report, report.ReportOptions{ITSM: itsm.NewStore(pool), Executions: w.Executions})
	return w
}

// proofsOf lets runbooks ask the drills service built after it.
type proofsOf func(ctx context.Context, ids []int64) (map[int64]runbooks.Proof, error)

// Proofs are the drills service's proofs of runbooks.
func (p proofsOf) Proofs(ctx context.Context, ids []int64) (map[int64]runbooks.Proof, error) {
	return p(ctx, ids)
}

// derivedHistory is org at now and, for each earlier day of the year, a
// point derived from it: the score lower the further back (up to 14 points
// a year ago) with a deterministic wobble, and services moved from ready
// to at_risk and from at_risk to not_ready in proportion.
func derivedHistory(org report.Organisation, now time.Time) []report.HistoryPoint {
	today := now.UTC().Truncate(24 * time.Hour)
	ready, atRisk := org.Counts.ByStatus[report.StatusReady], org.Counts.ByStatus[report.StatusAtRisk]
	out := make([]report.HistoryPoint, 0, readinessDays+1)
	for back := readinessDays; back >= 0; back-- {
		frac := float64(back) / readinessDays
		score := org.Score - 14*frac + 2.5*frac*math.Sin(float64(back)/9)
		score = math.Round(math.Min(100, math.Max(0, score))*10) / 10
		toRisk := int(math.Round(frac * 0.4 * float64(ready)))
		toNot := int(math.Round(frac * 0.3 * float64(atRisk+toRisk)))
		byStatus := map[string]int{
			report.StatusReady:    ready - toRisk,
			report.StatusAtRisk:   atRisk + toRisk - toNot,
			report.StatusNotReady: org.Counts.ByStatus[report.StatusNotReady] + toNot,
		}
		day := today.AddDate(0, 0, -back)
		out = append(out, report.HistoryPoint{Day: day.Format("2006-01-02"), Score: score, Status: report.StatusOf(score),
			Counts: report.Counts{ByStatus: byStatus, ByTier: org.Counts.ByTier}, Source: report.SourceDemo,
			TakenAt: day.Add(10 * time.Minute)})
	}
	out[len(out)-1].Score, out[len(out)-1].Status = org.Score, org.Status
	return out
}
