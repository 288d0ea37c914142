package api

import (
	"context"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/demo"
	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/auth"
	"github.com/bcdr/bcdr/orchestrator/backup"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/directory"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/orchestrator/secretref"
	"github.com/bcdr/bcdr/report"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// testServices wires the services the way cmd/bcdr does, over a test
// database; the API's tests need the whole set, the composition root being
// a main package they cannot import.
func testServices(pool *pgxpool.Pool) Services {
	rt := orchestrator.Runtime{}
	s := Services{
		Tokens:    auth.NewService(pool),
		CMDB:      cmdb.NewService(pool),
		Imports:   demo.Registry(),
		Directory: directory.NewService(pool, rt),
		ITSM:      itsm.NewStore(pool),
		Notify:    notify.NewService(pool, rt, testSecrets),
		Schedules: scheduler.NewService(pool, rt, scheduler.ServiceOptions{Handled: []scheduler.Kind{scheduler.KindBackupCheck, scheduler.KindKitExport, scheduler.KindDrill}}),
	}
	var impacts *impact.Service
	requiredRPO := func(ctx context.Context, ciKey string) (*orchestrator.Duration, error) {
		r, err := impacts.Requirements(ctx, ciKey)
		if orchestrator.ErrorCode(err) == orchestrator.ENOTFOUND {
			return nil, nil
		}
		return r.RPO, err
	}
	s.Backups = backup.NewService(pool, rt, backup.Options{RequiredRPO: requiredRPO, Schedules: s.Schedules,
		Secrets: testSecrets, Roots: testBackupRoots})
	impacts = impact.NewService(pool, rt, impact.NewGraphCache(pool, rt), impact.WithBackupCoverage(s.Backups), impact.WithBackupEvidence(s.Backups))
	s.Impact = impacts
	s.Runbooks = runbooks.NewService(pool, rt, runbooks.Options{
		Model: runbooks.NewPGModel(pool, impacts), Backups: runbooks.NewPGBackups(pool, rt), Measured: later{&s}, Drills: later{&s}})
	s.Executions = execution.NewService(pool, rt, s.Runbooks, execution.Options{})
	s.Drills = drills.NewService(pool, rt, drills.Options{Runbooks: s.Runbooks, Executions: s.Executions, Schedules: s.Schedules, Impact: impacts})
	s.Report = report.NewService(pool, rt, report.Options{Impact: impacts, Backups: s.Backups, Runbooks: s.Runbooks, Drills: s.Drills})
	printer, _ := report.NewPrinter("", 0) // nil without Chromium: PDF requests then answer 503
	s.Reports = report.NewReports(s.Report, report.ReportOptions{ITSM: s.ITSM, Executions: s.Executions, PDF: printer})
	return s
}

// later asks the services built after runbooks (the execution engine for
// measured step durations, drills for proofs), as cmd/bcdr's app does.
type later struct{ s *Services }

func (l later) Measured(ctx context.Context, runbookID int64) (map[string]orchestrator.Duration, error) {
	return l.s.Executions.Measured(ctx, runbookID)
}

func (l later) Proofs(ctx context.Context, runbookIDs []int64) (map[int64]runbooks.Proof, error) {
	return l.s.Drills.Proofs(ctx, runbookIDs)
}

// testSecrets and testBackupRoots expose what the API's tests reference:
// BCDR_SECRET_ variables, files in /run/secrets, and backups in the test's
// temporary directories and under /backups and /b.
var (
	testSecrets     = secretref.Policy{Dir: "/run/secrets"}
	testBackupRoots = []string{os.TempDir(), "/backups", "/b"}
)
