package drills

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/runbooks"
)

// Proof tells when a runbook was last proven, by its latest passed drill
// or an admin's waiver, whichever is later, and the latest drill of it
// that failed or passed partially since (runbooks.Drills).
func (s *Service) Proof(ctx context.Context, runbookID int64) (runbooks.Proof, error) {
	var p runbooks.Proof
	var at *time.Time
	err := s.pool.QueryRow(ctx, `SELECT id, completed_at FROM drills
		WHERE status = 'completed' AND result = 'pass' AND $1 = ANY (runbooks)
		ORDER BY completed_at DESC, id DESC LIMIT 1`, runbookID).Scan(&p.Drill, &at)
	switch {
	case err == nil:
		p.At, p.By = *at, runbooks.ProvenByDrill
	case err != pgx.ErrNoRows:
		return p, fmt.Errorf("read last passed drill of runbook %d: %w", runbookID, err)
	}
	var w runbooks.Waiver
	err = s.pool.QueryRow(ctx, `SELECT id, waived_by, waived_at, reason FROM retest_waivers
		WHERE runbook_id = $1 ORDER BY waived_at DESC, id DESC LIMIT 1`, runbookID).Scan(&w.ID, &w.By, &w.At, &w.Reason)
	switch {
	case err == nil:
		if w.At.After(p.At) {
			p = runbooks.Proof{At: w.At, By: runbooks.ProvenByWaiver, Waiver: &w}
		}
	case err != pgx.ErrNoRows:
		return p, fmt.Errorf("read retest waivers of runbook %d: %w", runbookID, err)
	}
	var f runbooks.DrillRef
	err = s.pool.QueryRow(ctx, `SELECT id, result, completed_at FROM drills
		WHERE status = 'completed' AND result IN ('partial', 'fail') AND $1 = ANY (runbooks) AND completed_at > $2
		ORDER BY completed_at DESC, id DESC LIMIT 1`, runbookID, p.At).Scan(&f.ID, &f.Result, &f.At)
	switch {
	case err == nil:
		p.Failed = &f
	case err != pgx.ErrNoRows:
		return p, fmt.Errorf("read failed drills of runbook %d: %w", runbookID, err)
	}
	return p, nil
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
