package drills

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/runbooks"
)

// Proofs tells when each of the runbooks runbookIDs was last proven, by
// its latest passed drill or an admin's waiver, whichever is later, and
// the latest drill of it that failed or passed partially since
// (runbooks.Drills). It reads the latest passed drill, waiver and failed
// drill of every runbook in one query each.
func (s *Service) Proofs(ctx context.Context, runbookIDs []int64) (map[int64]runbooks.Proof, error) {
	out := map[int64]runbooks.Proof{}
	passed, err := s.latestDrills(ctx, runbookIDs, "pass")
	if err != nil {
		return nil, err
	}
	for id, d := range passed {
		out[id] = runbooks.Proof{At: d.At, By: runbooks.ProvenByDrill, Drill: d.ID}
	}
	waivers, err := s.latestWaivers(ctx, runbookIDs)
	if err != nil {
		return nil, err
	}
	for id, w := range waivers {
		if w.At.After(out[id].At) {
			out[id] = runbooks.Proof{At: w.At, By: runbooks.ProvenByWaiver, Waiver: &w}
		}
	}
	failed, err := s.latestDrills(ctx, runbookIDs, "partial", "fail")
	if err != nil {
		return nil, err
	}
	// The latest failed drill is the latest since the proof, if any is.
	for id, f := range failed {
		if p := out[id]; f.At.After(p.At) {
			p.Failed = &f
			out[id] = p
		}
	}
	return out, nil
}

// latestDrills returns, by runbook, the latest completed drill of each of
// runbookIDs with one of results.
func (s *Service) latestDrills(ctx context.Context, runbookIDs []int64, results ...string) (map[int64]runbooks.DrillRef, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (rb) rb, d.id, d.result, d.completed_at
		FROM drills d CROSS JOIN LATERAL unnest(d.runbooks) rb
		WHERE d.runbooks && $1 AND rb = ANY($1) AND d.status = 'completed' AND d.result = ANY($2)
		ORDER BY rb, d.completed_at DESC, d.id DESC`, runbookIDs, results)
	if err != nil {
		return nil, fmt.Errorf("read latest drills of runbooks: %w", err)
	}
	out := map[int64]runbooks.DrillRef{}
	var (
		rb int64
		d  runbooks.DrillRef
	)
	if _, err := pgx.ForEachRow(rows, []any{&rb, &d.ID, &d.Result, &d.At}, func() error {
		out[rb] = d
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read latest drills of runbooks: %w", err)
	}
	return out, nil
}

// latestWaivers returns, by runbook, the latest waiver of the retest of
// each of runbookIDs.
func (s *Service) latestWaivers(ctx context.Context, runbookIDs []int64) (map[int64]runbooks.Waiver, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (runbook_id) runbook_id, id, waived_by, waived_at, reason
		FROM retest_waivers WHERE runbook_id = ANY($1)
		ORDER BY runbook_id, waived_at DESC, id DESC`, runbookIDs)
	if err != nil {
		return nil, fmt.Errorf("read retest waivers of runbooks: %w", err)
	}
	out := map[int64]runbooks.Waiver{}
	var (
		rb int64
		w  runbooks.Waiver
	)
	if _, err := pgx.ForEachRow(rows, []any{&rb, &w.ID, &w.By, &w.At, &w.Reason}, func() error {
		out[rb] = w
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read retest waivers of runbooks: %w", err)
	}
	return out, nil
}

// WaiverInput waives a runbook's retest.
type WaiverInput struct {
	Reason string `json:"reason"`
}

// Waive records an admin's waiver of a runbook's retest: its
// retest_required clears as of now, reported as a waiver, not a pass.
func (s *Service) Waive(ctx context.Context, runbookID int64, in WaiverInput) (runbooks.Waiver, error) {
	reason := strings.TrimSpace(in.Reason)
	if n := len([]rune(reason)); n < 10 || n > 2000 {
		return runbooks.Waiver{}, orchestrator.Invalid("reason", "say why no retest is needed, in 10 to 2000 characters")
	}
	if _, err := s.opts.Runbooks.Brief(ctx, strconv.FormatInt(runbookID, 10), runbooks.BriefOptions{}); err != nil {
		return runbooks.Waiver{}, err
	}
	w := runbooks.Waiver{By: orchestrator.ActorFrom(ctx).Name, At: s.rt.Now(), Reason: reason}
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO retest_waivers (runbook_id, reason, waived_by, waived_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			runbookID, reason, w.By, w.At).Scan(&w.ID)
		if err != nil {
			return fmt.Errorf("waive retest of runbook %d: %w", runbookID, postgres.Translate(err))
		}
		return audit.Record(ctx, tx, audit.Change{Action: "waive_retest", Resource: "runbooks", ResourceID: strconv.FormatInt(runbookID, 10),
			Summary: "retest waived: " + orchestrator.Excerpt(reason, 200)})
	})
	return w, err
}
