package main

import (
	"context"

	"github.com/bcdr/bcdr/api"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/auth"
	"github.com/bcdr/bcdr/orchestrator/backup"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/directory"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/runbooks"
)

// app is bcdr's composition root: every service, the graph cache and the
// importer registry, built once over one pool, so that the API, scheduled
// work and the command line share one graph and one clock.
type app struct {
	db       *database
	rt       orchestrator.Runtime
	graphs   *impact.GraphCache
	services api.Services
}

// newApp wires every service over db's pool.
func newApp(db *database) *app {
	rt := orchestrator.Runtime{Logger: db.logger}
	graphs := impact.NewGraphCache(db.Pool, rt)
	impacts := impact.NewService(db.Pool, rt, graphs)
	return &app{db: db, rt: rt, graphs: graphs, services: api.Services{
		Tokens:    auth.NewService(db.Pool),
		CMDB:      cmdb.NewService(db.Pool),
		Imports:   importRegistry(),
		Directory: directory.NewService(db.Pool, rt),
		ITSM:      itsm.NewStore(db.Pool),
		Schedules: scheduler.NewService(db.Pool, nil),
		Notify:    notify.NewService(db.Pool, rt),
		Impact:    impacts,
		Backups:   backup.NewService(db.Pool, rt, backup.Options{RequiredRPO: requiredRPO(impacts)}),
		Runbooks: runbooks.NewService(db.Pool, rt, runbooks.Options{
			Model: runbooks.NewPGModel(db.Pool, graphs), Backups: runbooks.NewPGBackups(db.Pool, rt)}),
	}}
}

// importRegistry is every importable record type; the API, the command
// line and the demo share it.
func importRegistry() importer.Registry {
	return importer.NewRegistry(cmdb.CIImport(), cmdb.RelationImport(),
		directory.ContactImport(), directory.CallTreeImport(), directory.SupplierImport(), directory.SLAImport(),
		itsm.IncidentImport(), itsm.ProblemImport(), itsm.ChangeImport(), itsm.ReleaseImport())
}

// requiredRPO is a CI's rolled-down RPO requirement, nil when no service
// with an approved BIA needs the CI: what backup checks judge RPO against.
func requiredRPO(impacts *impact.Service) func(context.Context, string) (*orchestrator.Duration, error) {
	return func(ctx context.Context, ciKey string) (*orchestrator.Duration, error) {
		r, err := impacts.Requirements(ctx, ciKey)
		if orchestrator.ErrorCode(err) == orchestrator.ENOTFOUND {
			return nil, nil
		}
		return r.RPO, err
	}
}

// server is the HTTP API over the app's services.
func (a *app) server(cfg *config, opts api.Options) *api.Server {
	opts.Pool, opts.Migrator, opts.Runtime, opts.Services, opts.BaseURL = a.db.Pool, a.db.Migrator, a.rt, a.services, cfg.BaseURL
	return api.NewServer(opts)
}

// registerJobs gives the scheduler a handler for every kind of job this
// build knows how to run, over the same services as the API.
func (a *app) registerJobs(s *scheduler.Scheduler, cfg *config) {
	backup.RegisterHandlers(s, a.services.Backups)
	kits := a.services.Runbooks
	s.Register(scheduler.KindKitExport, func(ctx context.Context, run scheduler.Run) (string, error) {
		dir, err := kits.RotateKit(ctx, cfg.KitDir, cfg.KitKeep, a.rt.Now())
		if err != nil {
			return "", err
		}
		return "wrote continuity kit " + dir, nil
	})
}
