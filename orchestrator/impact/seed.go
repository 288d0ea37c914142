package impact

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Write outcomes of an idempotent write.
const (
	Inserted  = "inserted"
	Updated   = "updated"
	Unchanged = "unchanged"
)

// InitSettings stores settings unless some were saved before, so a seed
// never overrides what an admin chose. It reports whether it stored them.
func (s *Service) InitSettings(ctx context.Context, in Settings) (bool, error) {
	if err := in.Validate(); err != nil {
		return false, err
	}
	stored := false
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO bia_settings (id, settings, updated_by) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING`,
			in, "seed")
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		stored = true
		return audit.Record(ctx, tx, audit.Change{Action: "create", Resource: "settings", ResourceID: "bia", Summary: "initial settings"})
	})
	return stored, err
}

// UpsertRisk writes a risk identified by its source and external id: it
// inserts it, updates it when any field differs, or leaves it alone, and
// says which. Seeding the same register twice changes nothing.
func (s *Service) UpsertRisk(ctx context.Context, in RiskInput) (string, error) {
	if in.ExternalID == "" {
		return "", fmt.Errorf("upsert risk %q: an external id is required", in.Title)
	}
	outcome := Unchanged
	err := s.writeRisk(ctx, &in, "import", func(tx pgx.Tx) error {
		const upsert = `INSERT INTO risks AS r (title, threat, scope_cis, scope_sites, scope_suppliers, description, likelihood, impact,
				controls, residual_likelihood, residual_impact, treatment, owner, review_date, source, external_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::text::date, $15, $16)
			ON CONFLICT (source, external_id) DO UPDATE SET title = EXCLUDED.title, threat = EXCLUDED.threat,
				scope_cis = EXCLUDED.scope_cis, scope_sites = EXCLUDED.scope_sites, scope_suppliers = EXCLUDED.scope_suppliers,
				description = EXCLUDED.description, likelihood = EXCLUDED.likelihood, impact = EXCLUDED.impact,
				controls = EXCLUDED.controls, residual_likelihood = EXCLUDED.residual_likelihood,
				residual_impact = EXCLUDED.residual_impact, treatment = EXCLUDED.treatment, owner = EXCLUDED.owner,
				review_date = EXCLUDED.review_date, updated_at = now()
			WHERE (r.title, r.threat, r.scope_cis, r.scope_sites, r.scope_suppliers, r.description, r.likelihood, r.impact,
				r.controls, r.residual_likelihood, r.residual_impact, r.treatment, r.owner, r.review_date)
				IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.threat, EXCLUDED.scope_cis, EXCLUDED.scope_sites,
				EXCLUDED.scope_suppliers, EXCLUDED.description, EXCLUDED.likelihood, EXCLUDED.impact, EXCLUDED.controls,
				EXCLUDED.residual_likelihood, EXCLUDED.residual_impact, EXCLUDED.treatment, EXCLUDED.owner, EXCLUDED.review_date)
			RETURNING xmax = 0`
		var inserted bool
		err := tx.QueryRow(ctx, upsert, riskArgs(in)...).Scan(&inserted)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return errUnchanged
		case err != nil:
			return err
		case inserted:
			outcome = Inserted
		default:
			outcome = Updated
		}
		return nil
	}, func() string { return in.Source + "/" + in.ExternalID })
	if errors.Is(err, errUnchanged) {
		return Unchanged, nil
	}
	return outcome, err
}

// errUnchanged rolls back an upsert that found nothing to change, so no
// audit row records it.
var errUnchanged = errors.New("unchanged")
