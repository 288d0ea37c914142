package main

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/bcdr/bcdr/api"
	"github.com/bcdr/bcdr/demo"
	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/auth"
	"github.com/bcdr/bcdr/orchestrator/backup"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/directory"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/orchestrator/itsmsync"
	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/report"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
	"github.com/bcdr/bcdr/web"
)

// app is bcdr's composition root: every service, the graph cache, the
// importer registry and the scheduler's jobs, built once over one pool, so
// that the API, scheduled work and the command line share one graph and one
// clock.
type app struct {
	db       *database
	cfg      *config
	rt       orchestrator.Runtime
	graphs   *impact.GraphCache
	services api.Services
	// syncs runs itsm_sync schedules through the API's importer registry.
	syncs *itsmsync.Syncer
}

// newApp wires every service over db's pool.
func newApp(db *database) *app {
	pool, rt := db.Pool, orchestrator.Runtime{Logger: db.logger}
	a := &app{db: db, cfg: db.cfg, rt: rt, graphs: impact.NewGraphCache(pool, rt)}
	s := &a.services
	s.Tokens = auth.NewService(pool)
	s.CMDB = cmdb.NewService(pool)
	s.Imports = demo.Registry()
	a.syncs = itsmsync.NewSyncer(pool, rt, itsmsync.Options{Imports: s.Imports, Outbound: a.cfg.outbound(), Secrets: a.cfg.secrets()})
	s.Directory = directory.NewService(pool, rt)
	s.ITSM = itsm.NewStore(pool)
	s.Notify = notify.NewService(pool, rt, a.cfg.secrets(), notify.WithSMTP(a.cfg.smtp()))
	// The API accepts a schedule only of a kind the scheduler has a job for.
	s.Schedules = scheduler.NewService(pool, rt, scheduler.ServiceOptions{Handled: slices.Collect(maps.Keys(a.jobs())),
		Targets: map[scheduler.Kind]func(string) error{scheduler.KindReport: report.CheckTarget, scheduler.KindITSMSync: a.syncs.CheckTarget}})
	// Backup checks judge RPOs by the impact model's roll-down, and the
	// impact model's gaps ask backup which CIs have targets: the roll-down
	// is looked up when a check runs, by then both exist.
	s.Backups = backup.NewService(pool, rt, backup.Options{RequiredRPO: a.requiredRPO, Schedules: s.Schedules,
		Secrets: a.cfg.secrets(), Roots: a.cfg.BackupRoots, OutboundPolicy: a.cfg.outbound()})
	s.Impact = impact.NewService(pool, rt, a.graphs, impact.WithBackupCoverage(s.Backups), impact.WithBackupEvidence(s.Backups))
	// Feasibility uses the step durations executions measured, and
	// staleness the drills that proved a runbook; both sit above runbooks,
	// so they are looked up when a runbook is read.
	s.Runbooks = runbooks.NewService(pool, rt, runbooks.Options{
		Model: runbooks.NewPGModel(pool, s.Impact), Backups: runbooks.NewPGBackups(pool, rt), Measured: a, Drills: a})
	s.Executions = execution.NewService(pool, rt, s.Runbooks, execution.Options{Outbound: a.cfg.outbound(), Secrets: a.cfg.secrets()})
	s.Drills = drills.NewService(pool, rt, drills.Options{Runbooks: s.Runbooks, Executions: s.Executions, Schedules: s.Schedules, Impact: s.Impact})
	s.Report = report.NewService(pool, rt, report.Options{Impact: s.Impact, Backups: s.Backups, Runbooks: s.Runbooks, Drills: s.Drills})
	// PDF reports need Chromium; without it HTML and JSON still work and a
	// PDF request says what is missing.
	printer, err := report.NewPrinter("", 0)
	if err != nil {
		rt.Log().Info("PDF reports unavailable", "reason", err.Error())
	}
	s.Reports = report.NewReports(s.Report, report.ReportOptions{ITSM: s.ITSM, Executions: s.Executions, PDF: printer,
		Replica: a.cfg.Replica})
	return a
}

// Measured is the step durations the execution engine measured.
func (a *app) Measured(ctx context.Context, runbookID int64) (map[string]orchestrator.Duration, error) {
	return a.services.Executions.Measured(ctx, runbookID)
}

// Proofs are how the drills capability last proved runbooks.
func (a *app) Proofs(ctx context.Context, runbookIDs []int64) (map[int64]runbooks.Proof, error) {
	return a.services.Drills.Proofs(ctx, runbookIDs)
}

// requiredRPO is a CI's rolled-down RPO requirement, nil when no service
// with an approved BIA needs the CI: what backup checks judge RPO against.
func (a *app) requiredRPO(ctx context.Context, ciKey string) (*orchestrator.Duration, error) {
	r, err := a.services.Impact.Requirements(ctx, ciKey)
	if orchestrator.ErrorCode(err) == orchestrator.ENOTFOUND {
		return nil, nil
	}
	return r.RPO, err
}

// server is the HTTP API over the app's services.
func (a *app) server(opts api.Options) *api.Server {
	opts.Pool, opts.Migrator, opts.Runtime, opts.Services, opts.BaseURL = a.db.Pool, a.db.Migrator, a.rt, a.services, a.cfg.BaseURL
	return api.NewServer(opts)
}

// handler is everything bcdr serves: the API under /api/, its health and
// metrics endpoints, and the web UI everywhere else, and what to call as
// the server shuts down. Both doors share one failed-authentication
// throttle.
func (a *app) handler(opts api.Options) (http.Handler, func()) {
	opts.Throttle = auth.NewThrottle(opts.AuthThrottle)
	apiServer := a.server(opts)
	s := a.services
	ui := web.New(web.Options{Runtime: a.rt, Throttle: opts.Throttle, SecureCookies: opts.HSTS,
		Services: web.Services{Tokens: s.Tokens, CMDB: s.CMDB, ITSM: s.ITSM, Imports: s.Imports, Schedules: s.Schedules, Impact: s.Impact, Runbooks: s.Runbooks, Executions: s.Executions,
			Drills: s.Drills, Report: s.Report, Reports: s.Reports, Backups: s.Backups, Notify: s.Notify, Pool: a.db.Pool}})
	mux := http.NewServeMux()
	for _, p := range []string{"/api/", "/healthz", "/readyz", "/metrics"} {
		mux.Handle(p, apiServer)
	}
	mux.Handle("/", ui)
	return mux, ui.Shutdown
}

// jobs is every kind of job this build knows how to run, with its handler
// over the same services as the API: what the scheduler registers, and so
// the only kinds the API accepts for a schedule. Handlers look the services
// up when they run.
func (a *app) jobs() map[scheduler.Kind]scheduler.Handler {
	return map[scheduler.Kind]scheduler.Handler{
		scheduler.KindBackupCheck: func(ctx context.Context, run scheduler.Run) (string, error) {
			return a.services.Backups.HandleRun(ctx, run)
		},
		scheduler.KindDrill: func(ctx context.Context, run scheduler.Run) (string, error) {
			return a.services.Drills.HandleRun(ctx, run)
		},
		scheduler.KindKitExport: func(ctx context.Context, run scheduler.Run) (string, error) {
			dir, err := a.services.Runbooks.RotateKit(ctx, a.cfg.KitDir, a.cfg.KitKeep, a.rt.Now())
			if err != nil {
				return "", err
			}
			return "wrote continuity kit " + dir, nil
		},
		scheduler.KindReadinessSnapshot: func(ctx context.Context, run scheduler.Run) (string, error) {
			return a.services.Report.HandleRun(ctx, run)
		},
		scheduler.KindReport: func(ctx context.Context, run scheduler.Run) (string, error) {
			return a.services.Reports.HandleRun(ctx, run)
		},
		scheduler.KindITSMSync: func(ctx context.Context, run scheduler.Run) (string, error) {
			return a.syncs.HandleRun(ctx, run)
		},
	}
}

// registerJobs gives the scheduler a handler for every job.
func (a *app) registerJobs(s *scheduler.Scheduler) {
	for kind, handle := range a.jobs() {
		s.Register(kind, handle)
	}
}

// pruneEvery is how often a replica prunes evidence past the retention age.
const pruneEvery = time.Hour

// runRetention prunes, now and then, the schedule runs and backup checks
// older than the retention age, each through its owning service (the
// notification deliverer prunes its outbox itself). A failed round is
// logged and tried again at the next.
func (a *app) runRetention(ctx context.Context) error {
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		runs, err := a.services.Schedules.PruneRuns(ctx, a.cfg.Retention)
		if err == nil {
			var checks int64
			checks, err = a.services.Backups.PruneChecks(ctx, a.cfg.Retention)
			if runs+checks > 0 {
				a.rt.Log().Info("pruned evidence past retention", "retention", a.cfg.Retention, "runs", runs, "checks", checks)
			}
		}
		if err != nil && ctx.Err() == nil {
			a.rt.Log().Warn("retention round failed; trying again later", "error", err)
		}
		t.Reset(pruneEvery)
	}
}
