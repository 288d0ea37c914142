package runbooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// PGModel is the Model over the database: the graph from the impact
// model's cache (kept current through cmdb_version), CIs and relations
// from the CMDB tables, BIAs from the impact model's bia_versions.
type PGModel struct {
	pool   *pgxpool.Pool
	graphs *impact.GraphCache
}

// NewPGModel returns a model over pool answering from graphs, which may be
// shared with the impact service.
func NewPGModel(pool *pgxpool.Pool, graphs *impact.GraphCache) *PGModel {
	return &PGModel{pool: pool, graphs: graphs}
}

// Graph returns the current CMDB graph.
func (m *PGModel) Graph(ctx context.Context) (*impact.Graph, error) {
	snap, err := m.graphs.Current(ctx)
	if err != nil {
		return nil, err
	}
	return snap.Graph, nil
}

// CIs reads the recovery attributes of the CIs with keys.
func (m *PGModel) CIs(ctx context.Context, keys []string) (map[string]CIInfo, error) {
	rows, err := m.pool.Query(ctx, `SELECT key, name, class, site, owner, status, data_bearing, recovery_strategy,
		recovery_estimate_s FROM cis WHERE key = ANY($1)`, keys)
	if err != nil {
		return nil, fmt.Errorf("read CIs: %w", err)
	}
	out := make(map[string]CIInfo, len(keys))
	var (
		ci       CIInfo
		estimate int64
	)
	_, err = pgx.ForEachRow(rows, []any{&ci.Key, &ci.Name, &ci.Class, &ci.Site, &ci.Owner, &ci.Status, &ci.DataBearing,
		&ci.RecoveryStrategy, &estimate}, func() error {
		ci.RecoveryEstimate = orchestrator.DurationFromSeconds(estimate)
		out[ci.Key] = ci
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read CIs: %w", err)
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
	const query = `SELECT b.version, b.assessment, b.settings FROM bia_versions b JOIN cis c ON c.id = b.service_id
		WHERE c.key = $1 AND b.status = 'approved' ORDER BY b.version DESC LIMIT 1`
	var (
		b        BIA
		raw      []byte
		settings impact.Settings
	)
	err := m.pool.QueryRow(ctx, query, service).Scan(&b.Version, &raw, &settings)
	if errors.Is(err, pgx.ErrNoRows) {
		return BIA{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "%s has no approved BIA", service)
	}
	if err != nil {
		return BIA{}, fmt.Errorf("read BIA of %s: %w", service, err)
	}
	if err := json.Unmarshal(raw, &b.Assessment); err != nil {
		return BIA{}, fmt.Errorf("decode BIA of %s: %w", service, err)
	}
	if d, ok := impact.MTPD(settings, b.Assessment.Thresholds); ok {
		b.MTPD = &d
	}
	return b, nil
}

// Requirements rolls the approved BIA targets down over g, reusing the
// impact cache's memoised roll-down when g is its current graph.
func (m *PGModel) Requirements(ctx context.Context, g *impact.Graph) ([]impact.Requirement, error) {
	const query = `SELECT DISTINCT ON (b.service_id) c.key, b.rto_s, b.rpo_s
		FROM bia_versions b JOIN cis c ON c.id = b.service_id
		WHERE b.status = 'approved' AND c.class = 'business_service'
		ORDER BY b.service_id, b.version DESC`
	rows, err := m.pool.Query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("read BIA targets: %w", err)
	}
	targets := map[int32]impact.Target{}
	var (
		key      string
		rto, rpo int64
	)
	if _, err := pgx.ForEachRow(rows, []any{&key, &rto, &rpo}, func() error {
		if n, ok := g.Index(key); ok {
			targets[n] = impact.Target{RTO: orchestrator.DurationFromSeconds(rto), RPO: orchestrator.DurationFromSeconds(rpo)}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read BIA targets: %w", err)
	}
	if snap, err := m.graphs.Current(ctx); err == nil && snap.Graph == g {
		return snap.Requirements(targets), nil
	}
	return g.RollDown(targets), nil
}
