package runbooks

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Approve puts the draft in force: it records who and when (the scope
// fingerprint and BIA versions it was built on are the draft's), and the
// version in force until now is superseded.
func (s *Service) Approve(ctx context.Context, id string) (Runbook, error) {
	n, err := parseID(id)
	if err != nil {
		return Runbook{}, err
	}
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockLive(ctx, tx, n, "is retired"); err != nil {
			return err
		}
		vs, err := versions(ctx, tx, n)
		if err != nil {
			return err
		}
		draft := vs[len(vs)-1]
		if draft.Status != StatusDraft {
			return orchestrator.Errorf(orchestrator.ECONFLICT, "runbook %d has no draft to approve; version %d is %s", n, draft.Number, draft.Status)
		}
		if err := checkDAG(draft.Steps, "steps"); err != nil {
			return err
		}
		now, actor := s.rt.Now(), orchestrator.ActorFrom(ctx)
		if _, err := tx.Exec(ctx, `UPDATE runbook_versions SET status = 'superseded', ended_at = $2
			WHERE runbook_id = $1 AND status = 'approved'`, n, now); err != nil {
			return fmt.Errorf("supersede runbook %d: %w", n, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE runbook_versions SET status = 'approved', approved_at = $3, approved_by = $4
			WHERE runbook_id = $1 AND version = $2`, n, draft.Number, now, actor.Name); err != nil {
			return fmt.Errorf("approve runbook %d: %w", n, postgres.Translate(err))
		}
		if err := touch(ctx, tx, n, now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{Action: "approve", Resource: "runbooks", ResourceID: fmt.Sprintf("%d v%d", n, draft.Number),
			Summary: fmt.Sprintf("scope %s, BIA versions %v", draft.fingerprint[:12], draft.biaVersions)})
	})
	if err != nil {
		return Runbook{}, err
	}
	return s.Get(ctx, id)
}

// ReviewInput records an annual review: what the reviewer found and
// decided.
type ReviewInput struct {
	Notes string `json:"notes"`
	// Outcome is ReviewFit, ReviewUpdateNeeded or ReviewRetire [fit].
	Outcome string   `json:"outcome"`
	Actions []string `json:"actions"`
}

// Outcomes of an annual review.
const (
	ReviewFit          = "fit"
	ReviewUpdateNeeded = "update_needed"
	ReviewRetire       = "retire"
)

// maxReviewActions bounds the actions one review decides.
const maxReviewActions = 50

// Review records the annual review (年度审查) of the version in force,
// which restarts its twelve months.
func (s *Service) Review(ctx context.Context, id string, in ReviewInput) (Runbook, error) {
	n, err := parseID(id)
	if err != nil {
		return Runbook{}, err
	}
	var v orchestrator.Validation
	if msg := checkText(in.Notes, maxNotes, false, true); msg != "" {
		v.Add("notes", "%s", msg)
	}
	if in.Outcome == "" {
		in.Outcome = ReviewFit
	}
	if in.Outcome != ReviewFit && in.Outcome != ReviewUpdateNeeded && in.Outcome != ReviewRetire {
		v.Add("outcome", "must be fit, update_needed or retire")
	}
	if len(in.Actions) > maxReviewActions {
		v.Add("actions", "at most %d", maxReviewActions)
	}
	for i, a := range in.Actions {
		if msg := checkText(a, maxNotes, true, false); msg != "" {
			v.Add(fmt.Sprintf("actions[%d]", i), "%s", msg)
		}
	}
	if in.Outcome == ReviewUpdateNeeded && len(in.Actions) == 0 {
		v.Add("actions", "name the updates the review found necessary")
	}
	if err := v.Err(); err != nil {
		return Runbook{}, err
	}
	if in.Actions == nil {
		in.Actions = []string{}
	}
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockLive(ctx, tx, n, "is retired"); err != nil {
			return err
		}
		var version int
		err = tx.QueryRow(ctx, `SELECT version FROM runbook_versions WHERE runbook_id = $1 AND status = 'approved'`, n).Scan(&version)
		if errors.Is(err, pgx.ErrNoRows) {
			return orchestrator.Errorf(orchestrator.ECONFLICT, "runbook %d has no approved version to review", n)
		}
		if err != nil {
			return fmt.Errorf("review runbook %d: %w", n, err)
		}
		actor := orchestrator.ActorFrom(ctx)
		if _, err := tx.Exec(ctx, `INSERT INTO runbook_reviews (runbook_id, version, reviewed_at, reviewed_by, notes, outcome, actions)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, n, version, s.rt.Now(), actor.Name, in.Notes, in.Outcome, in.Actions); err != nil {
			return fmt.Errorf("review runbook %d: %w", n, postgres.Translate(err))
		}
		return audit.Record(ctx, tx, audit.Change{Action: "review", Resource: "runbooks", ResourceID: fmt.Sprintf("%d v%d", n, version),
			Summary: fmt.Sprintf("annual review (%s): %s", in.Outcome, clip(in.Notes))})
	})
	if err != nil {
		return Runbook{}, err
	}
	return s.Get(ctx, id)
}

// Retire takes a runbook out of force: its approved and draft versions are
// retired and kept, and its service may get a new runbook.
func (s *Service) Retire(ctx context.Context, id string) (Runbook, error) {
	n, err := parseID(id)
	if err != nil {
		return Runbook{}, err
	}
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := lockLive(ctx, tx, n, "is already retired"); err != nil {
			return err
		}
		now, actor := s.rt.Now(), orchestrator.ActorFrom(ctx)
		if _, err := tx.Exec(ctx, `UPDATE runbook_versions SET status = 'retired', ended_at = $2
			WHERE runbook_id = $1 AND status IN ('approved', 'draft')`, n, now); err != nil {
			return fmt.Errorf("retire runbook %d: %w", n, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE runbooks SET retired_at = $2, retired_by = $3, updated_at = $2 WHERE id = $1`, n, now, actor.Name); err != nil {
			return fmt.Errorf("retire runbook %d: %w", n, err)
		}
		return audit.Record(ctx, tx, audit.Change{Action: "retire", Resource: "runbooks", ResourceID: fmt.Sprint(n), Summary: "retired"})
	})
	if err != nil {
		return Runbook{}, err
	}
	return s.Get(ctx, id)
}
