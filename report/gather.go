package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/runbooks"
)

// inputs is everything readiness reads, for every service at once: a few
// batch reads whatever the number of services, never one per service.
type inputs struct {
	now      time.Time
	services []string
	// bias hold the approved BIAs' RTO, RPO and tier.
	bias       map[string]impact.BIA
	resilience map[string]impact.ServiceResilienceSummary
	// dataDeps are the data-bearing CIs each service needs.
	dataDeps map[string][]string
	// backups: the newest verified backup of every CI with a backup
	// target (nil when none verified); a CI absent has no target.
	backups  map[string]*time.Time
	runbooks map[string][]runbookFact
	policies map[int]drills.Policy
	// drills are each service's completed drills, newest first.
	drills       map[string][]drillFact
	overdue      map[string][]findingFact
	supplierGaps map[string][]impact.Gap
}

// runbookFact is one approved runbook of a service.
type runbookFact struct {
	ID    int64
	Stale bool
	Flags []string
}

// drillFact is one completed drill of a service.
type drillFact struct {
	ID          int64
	Type        string
	CompletedAt time.Time
	Result      string
}

// findingFact is one overdue finding of a service.
type findingFact struct {
	ID    int64
	Title string
}

// batch is the page size readiness reads lists in.
const batch = 1000

// gather reads the inputs, the independent reads in parallel.
func (s *Service) gather(ctx context.Context) (*inputs, error) {
	in := &inputs{now: s.rt.Now()}
	snap, err := s.opts.Impact.Graphs().Current(ctx)
	if err != nil {
		return nil, err
	}
	g := snap.Graph
	in.dataDeps = map[string][]string{}
	for _, n := range g.OfClass(impact.ClassBusinessService) {
		key := g.Key(n)
		in.services = append(in.services, key)
		deps := []string{}
		for _, d := range g.Dependencies(n).Nodes {
			if d != n && snap.DataBearing(d) {
				deps = append(deps, g.Key(d))
			}
		}
		slices.Sort(deps)
		in.dataDeps[key] = deps
	}
	slices.Sort(in.services)
	eg, ctx := errgroup.WithContext(ctx)
	// The resilience model reads the approved BIAs anyway: their RTO and
	// RPO come with it, and the tier follows from the RTO, so the BIAs
	// themselves, costly to read, are not read again.
	eg.Go(func() error {
		settings, err := s.opts.Impact.Settings(ctx)
		if err != nil {
			return err
		}
		all, err := s.opts.Impact.ResilienceAll(ctx)
		in.resilience = make(map[string]impact.ServiceResilienceSummary, len(all.Services))
		in.bias = map[string]impact.BIA{}
		for _, r := range all.Services {
			in.resilience[r.Service] = r
			if r.RTO != nil && r.RPO != nil {
				b := impact.BIA{Service: r.Service, Status: "approved"}
				b.RTO, b.RPO, b.Tier = *r.RTO, *r.RPO, impact.Tier(settings, *r.RTO)
				in.bias[r.Service] = b
			}
		}
		return err
	})
	eg.Go(func() (err error) {
		in.backups = map[string]*time.Time{}
		if s.opts.Backups != nil {
			in.backups, err = s.opts.Backups.VerifiedBackups(ctx, in.now)
		}
		return err
	})
	eg.Go(func() (err error) { in.runbooks, err = s.approvedRunbooks(ctx); return err })
	eg.Go(func() (err error) { in.policies, err = s.policies(ctx); return err })
	eg.Go(func() (err error) { in.drills, err = s.completedDrills(ctx); return err })
	eg.Go(func() (err error) { in.overdue, err = s.overdueFindings(ctx); return err })
	eg.Go(func() (err error) { in.supplierGaps, err = s.supplierGaps(ctx); return err })
	if err := eg.Wait(); err != nil {
		return nil, fmt.Errorf("read readiness inputs: %w", err)
	}
	return in, nil
}

// approvedRunbooks are the approved runbooks of every service with their
// staleness, read as briefs (never their costly feasibility).
func (s *Service) approvedRunbooks(ctx context.Context) (map[string][]runbookFact, error) {
	var ids []int64
	page := orchestrator.Page{Limit: batch}
	for {
		l, err := s.opts.Runbooks.List(ctx, runbooks.Filter{Status: runbooks.StatusApproved}, page)
		if err != nil {
			return nil, err
		}
		for _, sm := range l.Items {
			ids = append(ids, sm.ID)
		}
		if l.Next == "" {
			break
		}
		if page.After, err = orchestrator.DecodeCursor(l.Next); err != nil {
			return nil, err
		}
	}
	out := map[string][]runbookFact{}
	if len(ids) == 0 {
		return out, nil
	}
	briefs, err := s.opts.Runbooks.Briefs(ctx, ids, runbooks.BriefOptions{Staleness: true, Outline: true})
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		b, ok := briefs[id]
		if !ok || b.Scope.Service == "" || b.Status != runbooks.StatusApproved {
			continue
		}
		out[b.Scope.Service] = append(out[b.Scope.Service], runbookFact{ID: id, Stale: b.Staleness.Stale, Flags: b.Staleness.Flags})
	}
	return out, nil
}

// policies are the drill policies by tier.
func (s *Service) policies(ctx context.Context) (map[int]drills.Policy, error) {
	ps, err := s.opts.Drills.Policies(ctx)
	if err != nil {
		return nil, err
	}
	out := map[int]drills.Policy{}
	for _, p := range ps {
		out[p.Tier] = p
	}
	return out, nil
}

// completedDrills are every service's completed drills, newest first.
func (s *Service) completedDrills(ctx context.Context) (map[string][]drillFact, error) {
	out := map[string][]drillFact{}
	page := orchestrator.Page{Limit: batch}
	for {
		l, err := s.opts.Drills.List(ctx, drills.Filter{Status: drills.StatusCompleted}, page)
		if err != nil {
			return nil, err
		}
		for _, d := range l.Items {
			if d.CompletedAt == nil {
				continue
			}
			f := drillFact{ID: d.ID, Type: d.Type, CompletedAt: *d.CompletedAt}
			if d.Result != nil {
				f.Result = *d.Result
			}
			for _, svc := range d.Services {
				out[svc] = append(out[svc], f)
			}
		}
		if l.Next == "" {
			break
		}
		if page.After, err = orchestrator.DecodeCursor(l.Next); err != nil {
			return nil, err
		}
	}
	for _, ds := range out {
		slices.SortFunc(ds, func(a, b drillFact) int {
			return cmp.Or(b.CompletedAt.Compare(a.CompletedAt), cmp.Compare(b.ID, a.ID))
		})
	}
	return out, nil
}

// overdueFindings are every service's overdue findings.
func (s *Service) overdueFindings(ctx context.Context) (map[string][]findingFact, error) {
	out := map[string][]findingFact{}
	page := orchestrator.Page{Limit: batch}
	for {
		l, err := s.opts.Drills.Findings(ctx, drills.FindingFilter{Overdue: true}, page)
		if err != nil {
			return nil, err
		}
		for _, f := range l.Items {
			for _, svc := range f.Services {
				out[svc] = append(out[svc], findingFact{ID: f.ID, Title: f.Title})
			}
		}
		if l.Next == "" {
			break
		}
		if page.After, err = orchestrator.DecodeCursor(l.Next); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// supplierGaps are the supplier commitments short of each service's
// requirements.
func (s *Service) supplierGaps(ctx context.Context) (map[string][]impact.Gap, error) {
	gaps, err := s.opts.Impact.Gaps(ctx, "")
	if err != nil {
		return nil, err
	}
	out := map[string][]impact.Gap{}
	for _, g := range gaps.Items {
		if g.Kind != impact.GapSupplierRTO && g.Kind != impact.GapSupplierRPO {
			continue
		}
		for _, svc := range g.Services {
			out[svc] = append(out[svc], g)
		}
	}
	return out, nil
}
