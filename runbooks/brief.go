package runbooks

import (
	"context"
	"slices"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
)

// Brief is what the capabilities above runbooks read of one: its title,
// scope and status, the version a drill of it exercises (the approved one,
// or the newest of a runbook never approved), the business services that
// version covers and, when asked for, its staleness — never its
// feasibility, which is what makes Get costly.
type Brief struct {
	ID       int64    `json:"id"`
	Title    string   `json:"title"`
	Scope    Scope    `json:"scope"`
	Status   string   `json:"status"`
	Version  Version  `json:"version"`
	Services []string `json:"services"`
	// Staleness is judged only with BriefOptions.Staleness, and only for
	// an approved runbook.
	Staleness Staleness `json:"staleness"`
}

// BriefOptions say what a Brief includes beyond the cheap parts, or
// leaves out of them.
type BriefOptions struct {
	Staleness bool
	// Outline leaves the version's steps and sections out, which are most
	// of its size, for readers of many runbooks that need only their
	// scopes and staleness.
	Outline bool
}

// Brief returns the brief of runbook id.
func (s *Service) Brief(ctx context.Context, id string, opts BriefOptions) (Brief, error) {
	n, err := parseID(id)
	if err != nil {
		return Brief{}, err
	}
	bs, err := s.Briefs(ctx, []int64{n}, opts)
	if err != nil {
		return Brief{}, err
	}
	b, ok := bs[n]
	if !ok {
		return Brief{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "runbook %d not found", n)
	}
	return b, nil
}

// Briefs returns the briefs of the runbooks ids, by id; unknown ids are
// left out. It reads them together, in a few queries whatever their
// number, which is what lets a drill programme read every approved
// runbook of a large organisation at once.
func (s *Service) Briefs(ctx context.Context, ids []int64, opts BriefOptions) (map[int64]Brief, error) {
	hs, err := headers(ctx, s.pool, ids)
	if err != nil {
		return nil, err
	}
	vss, err := versionsOf(ctx, s.pool, ids, opts.Outline)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]Brief, len(hs))
	var keys []string
	var approved []inForce
	for id, h := range hs {
		vs := vss[id]
		if len(vs) == 0 {
			continue // not yet visible: created after the headers were read
		}
		b, v := brief(h, vs)
		out[id] = b
		keys = append(keys, b.Version.ScopeCIs...)
		if v != nil && opts.Staleness {
			approved = append(approved, inForce{h: h, versions: vs, version: *v})
		}
	}
	slices.Sort(keys)
	cis, err := s.model.CIs(ctx, slices.Compact(keys))
	if err != nil {
		return nil, err
	}
	st, err := s.staleness(ctx, approved)
	if err != nil {
		return nil, err
	}
	for id, b := range out {
		b.Services = briefServices(b, cis)
		if x, ok := st[id]; ok {
			b.Staleness = x
		}
		out[id] = b
	}
	return out, nil
}

// brief is a runbook's brief but for its services and staleness, and the
// version in force, nil when none.
func brief(h header, vs []storedVersion) (Brief, *Version) {
	b := Brief{ID: h.ID, Title: h.Title, Scope: h.Scope, Version: vs[len(vs)-1].Version, Staleness: Staleness{Flags: []string{}}}
	var approved *Version
	for i := range vs {
		if vs[i].Status == StatusApproved {
			approved = &vs[i].Version
			b.Version = *approved
		}
	}
	b.Status = status(h, approved != nil)
	return b, approved
}

// briefServices lists the business services among the CIs of b's version
// and the service the runbook recovers, in key order.
func briefServices(b Brief, cis map[string]CIInfo) []string {
	out := []string{}
	for _, k := range b.Version.ScopeCIs {
		if ci, ok := cis[k]; ok && ci.Class == cmdb.ClassBusinessService {
			out = append(out, k)
		}
	}
	if b.Scope.Service != "" && !slices.Contains(out, b.Scope.Service) {
		out = append(out, b.Scope.Service)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
