package runbooks

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/directory"
)

// services lists the business services a version brings back.
func (v Version) services() []string {
	out := make([]string, 0, len(v.Sections.Requirements))
	for _, r := range v.Sections.Requirements {
		out = append(out, r.Service)
	}
	return out
}

// feasibility gathers the evidence for a version and assesses it, each
// step's estimate replaced by what it took when last performed.
func (s *Service) feasibility(ctx context.Context, h header, v Version) (Feasibility, error) {
	ev, err := s.evidence(ctx, h, v)
	if err != nil {
		return Feasibility{}, err
	}
	steps, measured := v.Steps, 0
	if s.measured != nil {
		took, err := s.measured.Measured(ctx, h.ID)
		if err != nil {
			return Feasibility{}, err
		}
		steps, measured = withMeasured(v.Steps, took)
	}
	f := assess(steps, ev)
	f.MeasuredSteps = measured
	return f, nil
}

// withMeasured returns steps with the estimates of those measured
// replaced, and how many were; steps is left as it is.
func withMeasured(steps []Step, took map[string]orchestrator.Duration) ([]Step, int) {
	if len(took) == 0 {
		return steps, 0
	}
	out := slices.Clone(steps)
	n := 0
	for i := range out {
		if d, ok := took[out[i].ID]; ok {
			out[i].Estimate = d
			n++
		}
	}
	return out, n
}

func (s *Service) evidence(ctx context.Context, h header, v Version) (evidence, error) {
	ev := evidence{Services: v.services(), ScopeCIs: v.ScopeCIs, BIAs: map[string]BIA{},
		RequiredRTO: map[string]orchestrator.Duration{}, RequiredRPO: map[string]orchestrator.Duration{},
		Suppliers: map[string][]directory.Supplier{}, CallTrees: map[string]directory.CallTree{}}
	var err error
	if ev.CIs, err = s.model.CIs(ctx, v.ScopeCIs); err != nil {
		return ev, err
	}
	for _, svc := range ev.Services {
		if err := s.addBIA(ctx, ev.BIAs, svc); err != nil {
			return ev, err
		}
	}
	g, err := s.model.Graph(ctx)
	if err != nil {
		return ev, err
	}
	req, err := s.model.Requirements(ctx, g)
	if err != nil {
		return ev, err
	}
	query := map[string]*orchestrator.Duration{}
	for _, k := range v.ScopeCIs {
		n, ok := g.Index(k)
		if ok && int(n) < len(req) && req[n].HasRTO() {
			ev.RequiredRTO[k] = req[n].RTO
		}
		if ok && int(n) < len(req) && req[n].HasRPO() {
			ev.RequiredRPO[k] = req[n].RPO
		}
		if ci := ev.CIs[k]; ci.DataBearing {
			if d, ok := ev.RequiredRPO[k]; ok {
				query[k] = &d
			} else {
				query[k] = nil
			}
		}
		if ev.CIs[k].Class == directory.ClassSupplierService {
			list, err := s.directory.ListSuppliers(ctx, directory.SupplierFilter{Service: k}, orchestrator.Page{Limit: 100})
			if err != nil {
				return ev, err
			}
			ev.Suppliers[k] = list.Items
		}
	}
	if ev.Backups, err = s.backups.RPOStatus(ctx, query); err != nil {
		return ev, err
	}
	switch {
	case h.Scope.IsScenario():
		plan, err := s.model.RecoveryPlan(ctx, h.Scope.Failed)
		if err != nil {
			return ev, err
		}
		ev.Plan = &plan
	case h.Scope.Service != "":
		r, err := s.model.Resilience(ctx, h.Scope.Service)
		switch orchestrator.ErrorCode(err) {
		case "":
			ev.Resilience = &r
		case orchestrator.ENOTFOUND, orchestrator.EINVALID:
		default:
			return ev, err
		}
	}
	if err := s.people(ctx, h, v, &ev); err != nil {
		return ev, err
	}
	return ev, nil
}

// people reads the call trees the runbook names (its own, else its
// services') and every contact in them or owning a step.
func (s *Service) people(ctx context.Context, h header, v Version, ev *evidence) error {
	ev.TreeServices = v.Sections.CallTree.Services
	var own string
	err := s.pool.QueryRow(ctx, `SELECT key FROM call_trees WHERE runbook = $1`, fmt.Sprint(h.ID)).Scan(&own)
	switch {
	case err == nil:
		t, err := s.directory.GetCallTree(ctx, own)
		if err != nil {
			return err
		}
		ev.CallTrees[runbookTree] = t
		ev.TreeServices = []string{runbookTree}
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("find call tree of runbook %d: %w", h.ID, err)
	default:
		for _, svc := range ev.TreeServices {
			t, err := directory.CallTreeForService(ctx, s.pool, svc)
			switch orchestrator.ErrorCode(err) {
			case "":
				ev.CallTrees[svc] = t
			case orchestrator.ENOTFOUND:
			default:
				return err
			}
		}
	}
	var keys []string
	for _, t := range ev.CallTrees {
		for _, l := range t.Levels {
			keys = append(keys, l.Contacts...)
		}
	}
	for _, st := range v.Steps {
		if st.Owner != "" {
			keys = append(keys, st.Owner)
		}
	}
	slices.Sort(keys)
	contacts, err := directory.ContactsByKeys(ctx, s.pool, slices.Compact(keys))
	if err != nil {
		return err
	}
	ev.Contacts = make(map[string]directory.Contact, len(contacts))
	for _, c := range contacts {
		ev.Contacts[c.Key] = c
	}
	return nil
}

// runbookTree names the runbook's own call tree among the evidence's.
const runbookTree = "(runbook)"
