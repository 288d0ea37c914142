package runbooks

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/itsm"
)

// inForce is an approved runbook as staleness judges it: its row, every
// version, and the version in force.
type inForce struct {
	h        header
	versions []storedVersion
	version  Version
}

// staleness checks approved runbooks against the ITSM records, the
// calendar, the CMDB and their drills, by runbook id. A runbook counts as
// proven from its first approval until a change touches its scope or a
// drill of it fails; only a passed drill or an admin's waiver proves it
// again, so approving a new version does not. However many runbooks it
// judges, it reads their proofs, the changes touching their scopes and
// their current scopes' relations in one go each.
func (s *Service) staleness(ctx context.Context, rbs []inForce) (map[int64]Staleness, error) {
	if len(rbs) == 0 {
		return map[int64]Staleness{}, nil
	}
	ids := make([]int64, len(rbs))
	for i, r := range rbs {
		ids[i] = r.h.ID
	}
	proofs := map[int64]Proof{}
	if s.drills != nil {
		var err error
		if proofs, err = s.drills.Proofs(ctx, ids); err != nil {
			return nil, err
		}
	}
	since := make(map[int64]Proof, len(rbs))
	for _, r := range rbs {
		since[r.h.ID] = provenSince(r.versions, proofs[r.h.ID])
	}
	retests, err := s.retests(ctx, rbs, since)
	if err != nil {
		return nil, err
	}
	changed, err := s.scopeChanges(ctx, rbs)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]Staleness, len(rbs))
	now := s.rt.Now()
	for _, r := range rbs {
		id := r.h.ID
		st := Staleness{Review: reviewDetail(r.version, now), RetestRequired: retests[id], ScopeChanged: changed[id]}
		st.flags()
		out[id] = st
	}
	return out, nil
}

// stalenessOf judges one approved runbook, whose version in force is v.
func (s *Service) stalenessOf(ctx context.Context, h header, vs []storedVersion, v Version) (Staleness, error) {
	st, err := s.staleness(ctx, []inForce{{h: h, versions: vs, version: v}})
	return st[h.ID], err
}

// provenSince is how a runbook was last proven: by its first approval
// unless the drills' proof p is later, with the drill that failed since.
func provenSince(vs []storedVersion, p Proof) Proof {
	var first time.Time
	for _, v := range vs {
		if v.Approval != nil && (first.IsZero() || v.Approval.At.Before(first)) {
			first = v.Approval.At
		}
	}
	proof := Proof{At: first, By: ProvenByApproval}
	if p.At.After(first) {
		proof = p
	}
	if p.Failed != nil && p.Failed.At.After(proof.At) {
		proof.Failed = p.Failed
	}
	return proof
}

// retests lists, for each runbook, the changes and releases that touched
// its approved scope after it was last proven. One query reads every touch
// of any of the scopes since the earliest of those times; each runbook
// keeps those of its own CIs after its own.
func (s *Service) retests(ctx context.Context, rbs []inForce, since map[int64]Proof) (map[int64]*RetestDetail, error) {
	var all []string
	for _, r := range rbs {
		all = append(all, r.version.Approval.ScopeCIs...)
	}
	slices.Sort(all)
	// CIs deleted since approval are no longer touched by anything.
	cis, err := cmdb.Resolve(ctx, s.pool, slices.Compact(all), cmdb.ResolveOptions{})
	if err != nil && !cmdb.IsUnknown(err) {
		return nil, fmt.Errorf("resolve runbook scopes: %w", err)
	}
	scopes := make(map[int64]map[int64]string, len(rbs)) // runbook → CI id → key
	var ids []int64
	var earliest time.Time
	for _, r := range rbs {
		keys := map[int64]string{}
		for _, k := range r.version.Approval.ScopeCIs {
			if ci, ok := cis[k]; ok && keys[ci.ID] == "" {
				keys[ci.ID] = ci.Key
				ids = append(ids, ci.ID)
			}
		}
		scopes[r.h.ID] = keys
		if at := since[r.h.ID].At; earliest.IsZero() || at.Before(earliest) {
			earliest = at
		}
	}
	slices.Sort(ids)
	touches, err := itsm.ChangesTouching(ctx, s.pool, slices.Compact(ids), earliest)
	if err != nil {
		return nil, err
	}
	byCI := map[int64][]int{} // CI id → indexes into touches
	for i, t := range touches {
		for _, ci := range t.CIIDs {
			byCI[ci] = append(byCI[ci], i)
		}
	}
	out := make(map[int64]*RetestDetail, len(rbs))
	for _, r := range rbs {
		p := since[r.h.ID]
		d := &RetestDetail{Since: p.At, ProvenBy: p.By, Waiver: p.Waiver, Failed: p.Failed, Changes: []Touch{}}
		if p.By == ProvenByDrill {
			d.Drill = &p.Drill
		}
		for _, i := range touchesOf(byCI, scopes[r.h.ID]) {
			if t := touches[i]; t.At.After(p.At) {
				d.Changes = append(d.Changes, touchOf(t, scopes[r.h.ID]))
			}
		}
		out[r.h.ID] = d
	}
	return out, nil
}

// touchesOf returns the indexes of the touches of any CI of scope, in
// the order the touches came.
func touchesOf(byCI map[int64][]int, scope map[int64]string) []int {
	var out []int
	for ci := range scope {
		out = append(out, byCI[ci]...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// touchOf is touch t as a runbook reports it: with the keys of the CIs of
// its scope that t touched.
func touchOf(t itsm.Touch, scope map[int64]string) Touch {
	c := Touch{Kind: t.Kind, ID: t.ID, ExternalID: t.ExternalID, Title: t.Title, At: t.At, CIs: []string{}}
	for _, ci := range t.CIIDs {
		if k, ok := scope[ci]; ok {
			c.CIs = append(c.CIs, k)
		}
	}
	slices.Sort(c.CIs)
	return c
}

// scopeChanges resolves each runbook's scope on the current graph and
// compares it with the approved one; a runbook whose scope is unchanged
// is left out. A scope that no longer resolves (its service left the
// CMDB) has no CIs. One query reads the relations of every scope.
func (s *Service) scopeChanges(ctx context.Context, rbs []inForce) (map[int64]*ScopeDetail, error) {
	g, err := s.model.Graph(ctx)
	if err != nil {
		return nil, err
	}
	keys := make(map[int64][]string, len(rbs))
	var all []string
	for _, r := range rbs {
		res, err := resolveScope(g, r.h.Scope)
		switch {
		case err == nil:
			keys[r.h.ID] = res.keys(g)
			all = append(all, keys[r.h.ID]...)
		case orchestrator.ErrorCode(err) != orchestrator.EINVALID:
			return nil, err
		}
	}
	slices.Sort(all)
	rels, err := s.model.Relations(ctx, slices.Compact(all))
	if err != nil {
		return nil, err
	}
	from := map[string][]impact.Edge{}
	for _, e := range rels {
		from[e.From] = append(from[e.From], e)
	}
	out := map[int64]*ScopeDetail{}
	for _, r := range rbs {
		var own []impact.Edge
		for _, k := range keys[r.h.ID] {
			own = append(own, from[k]...)
		}
		if d := scopeDetail(r.version.Approval, newScopePrint(keys[r.h.ID], own)); d != nil {
			out[r.h.ID] = d
		}
	}
	return out, nil
}
