package runbooks

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// edit runs change on the runbook's draft inside one transaction. An
// approved runbook without a draft gets a new draft version, a copy of the
// approved one, first; a retired runbook cannot be edited.
func (s *Service) edit(ctx context.Context, id, action string, change func(sv *storedVersion) (string, error)) (Runbook, error) {
	n, err := parseID(id)
	if err != nil {
		return Runbook{}, err
	}
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockLive(ctx, tx, n, "is retired and can no longer be edited"); err != nil {
			return err
		}
		vs, err := versions(ctx, tx, n)
		if err != nil {
			return err
		}
		sv := vs[len(vs)-1]
		fresh := sv.Status != StatusDraft
		if fresh {
			sv = s.newDraft(ctx, sv)
		}
		summary, err := change(&sv)
		if err != nil {
			return err
		}
		if fresh {
			err = insertVersion(ctx, tx, n, sv)
		} else {
			err = saveDraft(ctx, tx, n, sv)
		}
		if err != nil {
			return err
		}
		if err := touch(ctx, tx, n, s.rt.Now()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{Action: action, Resource: "runbooks",
			ResourceID: fmt.Sprintf("%d v%d", n, sv.Number), Summary: summary})
	})
	if err != nil {
		return Runbook{}, err
	}
	return s.Get(ctx, id)
}

// newDraft copies a version into the next draft.
func (s *Service) newDraft(ctx context.Context, from storedVersion) storedVersion {
	sv := from
	sv.Version.Steps = slices.Clone(from.Steps)
	sv.Number, sv.Status = from.Number+1, StatusDraft
	sv.CreatedAt, sv.CreatedBy = s.rt.Now(), orchestrator.ActorFrom(ctx).Name
	sv.Approval, sv.LastReview, sv.EndedAt = nil, nil, nil
	sv.biaVersions = biaJSON(from.biaVersions)
	return sv
}

// AddStep adds a custom step to the draft.
func (s *Service) AddStep(ctx context.Context, id string, in StepInput) (Runbook, error) {
	return s.edit(ctx, id, "add-step", func(sv *storedVersion) (string, error) {
		v := &sv.Version
		sid, err := addStep(v, in)
		return "added step " + sid, err
	})
}

// UpdateStep changes some fields of a step of the draft.
func (s *Service) UpdateStep(ctx context.Context, id, step string, in StepInput) (Runbook, error) {
	return s.edit(ctx, id, "update-step", func(sv *storedVersion) (string, error) {
		v := &sv.Version
		return "changed step " + clip(step), updateStep(v, step, in)
	})
}

// RemoveStep removes a step from the draft.
func (s *Service) RemoveStep(ctx context.Context, id, step string) (Runbook, error) {
	return s.edit(ctx, id, "remove-step", func(sv *storedVersion) (string, error) {
		v := &sv.Version
		return "removed step " + clip(step), removeStep(v, step)
	})
}

// OrderInput is the new order of every step of a runbook.
type OrderInput struct {
	Order []string `json:"order"`
}

// ReorderSteps puts the draft's steps in a new order.
func (s *Service) ReorderSteps(ctx context.Context, id string, in OrderInput) (Runbook, error) {
	return s.edit(ctx, id, "reorder-steps", func(sv *storedVersion) (string, error) {
		v := &sv.Version
		return "reordered steps", reorderSteps(v, in.Order)
	})
}

// ReplaceSections replaces the draft's editable sections.
func (s *Service) ReplaceSections(ctx context.Context, id string, in SectionsInput) (Runbook, error) {
	return s.edit(ctx, id, "update-sections", func(sv *storedVersion) (string, error) {
		v := &sv.Version
		return "changed sections", applySections(v, in)
	})
}

// Regenerate replaces the draft's content with a fresh generation from the
// CMDB and BIAs as they are now (edits to the draft are replaced).
func (s *Service) Regenerate(ctx context.Context, id string) (Runbook, error) {
	n, err := parseID(id)
	if err != nil {
		return Runbook{}, err
	}
	h, err := getHeader(ctx, s.pool, n, false)
	if err != nil {
		return Runbook{}, err
	}
	_, gen, err := s.generate(ctx, h.Scope)
	if err != nil {
		return Runbook{}, err
	}
	return s.edit(ctx, id, "regenerate", func(sv *storedVersion) (string, error) {
		steps, next := carryIDs(sv.Steps, gen.Steps, sv.nextStep)
		sv.Steps, sv.Sections, sv.ScopeCIs, sv.Redundant, sv.nextStep = steps, gen.Sections, gen.ScopeCIs, gen.Redundant, next
		sv.scopeRelations, sv.fingerprint, sv.biaVersions = gen.scopeRelations, gen.fingerprint, gen.biaVersions
		return fmt.Sprintf("regenerated: %d steps over %d CIs", len(steps), len(gen.ScopeCIs)), nil
	})
}

// carryIDs gives regenerated steps the ids their counterparts (same kind
// and CI) had, and fresh ids from next to the rest, so a diff across a
// regeneration shows what really changed.
func carryIDs(old, fresh []Step, next int) ([]Step, int) {
	type slot struct{ kind, ci string }
	ids := map[slot]string{}
	for _, s := range old {
		if s.Kind != KindCustom {
			ids[slot{s.Kind, s.CI}] = s.ID
		}
	}
	rename := make(map[string]string, len(fresh))
	out := make([]Step, len(fresh))
	for i, s := range fresh {
		id, ok := ids[slot{s.Kind, s.CI}]
		if !ok {
			id = "s" + strconv.Itoa(next)
			next++
		}
		rename[s.ID] = id
		out[i] = s
		out[i].ID = id
	}
	for i := range out {
		deps := make([]string, len(out[i].DependsOn))
		for k, d := range out[i].DependsOn {
			deps[k] = rename[d]
		}
		out[i].DependsOn = deps
	}
	return out, next
}
