package impact

import (
	"context"

	"github.com/bcdr/bcdr/orchestrator"
)

// CIRequirements is what a CI must meet because of the business services
// that need it (DESIGN.md roll-down): the tightest RTO and RPO among the
// approved BIAs of every service depending on it, and the service that
// sets each. Both are null when no service with an approved BIA needs it.
type CIRequirements struct {
	CI         string                 `json:"ci"`
	RTO        *orchestrator.Duration `json:"rto"`
	RTOService *string                `json:"rto_service"`
	RPO        *orchestrator.Duration `json:"rpo"`
	RPOService *string                `json:"rpo_service"`
}

// targetsOf resolves approved targets to the snapshot's nodes; services
// that left the CMDB since are skipped.
func targetsOf(snap *Snapshot, byKey map[string]Target) map[int32]Target {
	out := make(map[int32]Target, len(byKey))
	for k, t := range byKey {
		if n, ok := snap.Graph.Index(k); ok && snap.Graph.Class(n) == ClassBusinessService {
			out[n] = t
		}
	}
	return out
}

// rollDown reads the current graph and approved targets and returns the
// requirement of every CI.
func (s *Service) rollDown(ctx context.Context) (*Snapshot, []Requirement, map[int32]Target, error) {
	snap, err := s.graphs.Current(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	byKey, err := approvedTargets(ctx, s.pool)
	if err != nil {
		return nil, nil, nil, err
	}
	targets := targetsOf(snap, byKey)
	return snap, snap.Requirements(targets), targets, nil
}

func (snap *Snapshot) describe(n int32, r Requirement) CIRequirements {
	out := CIRequirements{CI: snap.Graph.Key(n)}
	if r.HasRTO() {
		rto, svc := r.RTO, snap.Graph.Key(r.RTOFrom)
		out.RTO, out.RTOService = &rto, &svc
	}
	if r.HasRPO() {
		rpo, svc := r.RPO, snap.Graph.Key(r.RPOFrom)
		out.RPO, out.RPOService = &rpo, &svc
	}
	return out
}

// Requirements returns the required RTO and RPO of the CI with key.
func (s *Service) Requirements(ctx context.Context, key string) (CIRequirements, error) {
	snap, req, _, err := s.rollDown(ctx)
	if err != nil {
		return CIRequirements{}, err
	}
	n, err := snap.node(key)
	if err != nil {
		return CIRequirements{}, err
	}
	return snap.describe(n, req[n]), nil
}

// RequirementsOf returns the requirements of each CI named, by key; a key
// the graph does not know (a CI created since it was read cannot be, as
// reads reload it first) gets no requirement.
func (s *Service) RequirementsOf(ctx context.Context, keys []string) (map[string]CIRequirements, error) {
	snap, req, _, err := s.rollDown(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]CIRequirements, len(keys))
	for _, k := range keys {
		if n, ok := snap.Graph.Index(k); ok {
			out[k] = snap.describe(n, req[n])
		} else {
			out[k] = CIRequirements{CI: k}
		}
	}
	return out, nil
}

// RollDownOver returns the requirement of every node of g (any graph of
// the CMDB, such as a snapshot's) from the approved BIAs in force. When g
// is the cache's current graph it reuses the snapshot's memoised roll-down;
// the result is shared then, and must not be modified.
func (s *Service) RollDownOver(ctx context.Context, g *Graph) ([]Requirement, error) {
	byKey, err := approvedTargets(ctx, s.pool)
	if err != nil {
		return nil, err
	}
	targets := make(map[int32]Target, len(byKey))
	for k, t := range byKey {
		if n, ok := g.Index(k); ok {
			targets[n] = t
		}
	}
	if snap, err := s.graphs.Current(ctx); err == nil && snap.Graph == g {
		return snap.Requirements(targets), nil
	}
	return g.RollDown(targets), nil
}
