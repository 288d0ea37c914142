package runbooks

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// PGModel is the Model over the database: the graph, approved BIAs and
// requirements from the impact service (its graph cache kept current
// through cmdb_version), CIs through the CMDB's key resolver, relations
// from the CMDB tables.
type PGModel struct {
	pool    *pgxpool.Pool
	impacts *impact.Service
}

// NewPGModel returns a model over pool answering from impacts, whose graph
// cache may be shared with the rest of the application.
func NewPGModel(pool *pgxpool.Pool, impacts *impact.Service) *PGModel {
	return &PGModel{pool: pool, impacts: impacts}
}

// Graph returns the current CMDB graph.
func (m *PGModel) Graph(ctx context.Context) (*impact.Graph, error) {
	snap, err := m.impacts.Graphs().Current(ctx)
	if err != nil {
		return nil, err
	}
	return snap.Graph, nil
}

// CIs reads the recovery attributes of the CIs with keys.
func (m *PGModel) CIs(ctx context.Context, keys []string) (map[string]CIInfo, error) {
	refs, err := cmdb.Resolve(ctx, m.pool, keys, cmdb.ResolveOptions{})
	if err != nil && !cmdb.IsUnknown(err) {
		return nil, fmt.Errorf("read CIs: %w", err)
	}
	out := make(map[string]CIInfo, len(refs))
	for k, r := range refs {
		out[k] = CIInfo{Key: r.Key, Name: r.Name, Class: r.Class, Site: r.Site, Owner: r.Owner, Status: r.Status,
			DataBearing: r.DataBearing, RecoveryStrategy: r.RecoveryStrategy, RecoveryEstimate: r.RecoveryEstimate}
	}
	return out, nil
}

// Relations reads every relation from the CIs with keys.
func (m *PGModel) Relations(ctx context.Context, keys []string) ([]impact.Edge, error) {
	rows, err := m.pool.Query(ctx, `SELECT f.key, t.key, r.type, r.grp, r.min_up
		FROM relations r JOIN cis f ON f.id = r.from_id JOIN cis t ON t.id = r.to_id
		WHERE f.key = ANY($1) ORDER BY r.id`, keys)
	if err != nil {
		return nil, fmt.Errorf("read relations: %w", err)
	}
	var out []impact.Edge
	var e impact.Edge
	if _, err := pgx.ForEachRow(rows, []any{&e.From, &e.To, &e.Type, &e.Group, &e.MinUp}, func() error {
		out = append(out, e)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read relations: %w", err)
	}
	return out, nil
}

// ApprovedBIA reads the newest approved BIA of service, with the MTPD its
// thresholds give under the settings it was approved with.
func (m *PGModel) ApprovedBIA(ctx context.Context, service string) (BIA, error) {
	bias, err := m.impacts.ApprovedBIAs(ctx, []string{service})
	if err != nil {
		return BIA{}, fmt.Errorf("read BIA of %s: %w", service, err)
	}
	b, ok := bias[service]
	if !ok {
		return BIA{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "%s has no approved BIA", service)
	}
	return BIA{Version: b.Version, Assessment: b.Assessment, MTPD: b.MTPD}, nil
}

// Requirements rolls the approved BIA targets down over g, reusing the
// impact cache's memoised roll-down when g is its current graph.
func (m *PGModel) Requirements(ctx context.Context, g *impact.Graph) ([]impact.Requirement, error) {
	return m.impacts.RollDownOver(ctx, g)
}

// RecoveryPlan asks the impact model for the recovery plan of a scenario.
func (m *PGModel) RecoveryPlan(ctx context.Context, failed []string) (impact.ScenarioPlan, error) {
	return m.impacts.PlanScenario(ctx, failed)
}

// Resilience asks the impact model for a service's scenarios.
func (m *PGModel) Resilience(ctx context.Context, service string) (impact.ServiceResilience, error) {
	return m.impacts.Resilience(ctx, service)
}
