package demo

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/directory"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/itsm"
)

// Registry is every importable record type: the composition root's
// importer, the demo's and the tests' of what sits above them.
func Registry() importer.Registry {
	return importer.NewRegistry(cmdb.CIImport(), cmdb.RelationImport(),
		directory.ContactImport(), directory.CallTreeImport(), directory.SupplierImport(), directory.SLAImport(),
		itsm.IncidentImport(), itsm.ProblemImport(), itsm.ChangeImport(), itsm.ReleaseImport())
}

// SeedAt is seeding the whole demo organisation anchored at now, as an
// administrator, in the shape a seeded test template takes
// (pgtest.Seeded).
func SeedAt(now time.Time) func(context.Context, *pgxpool.Pool) error {
	return func(ctx context.Context, pool *pgxpool.Pool) error {
		ctx = orchestrator.WithActor(ctx, orchestrator.Actor{Name: "test", Role: orchestrator.RoleAdmin})
		_, err := Seed(ctx, pool, Registry(), Options{Now: now})
		return err
	}
}
