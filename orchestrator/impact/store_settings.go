package impact

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// loadSettings returns the stored BIA settings, or the defaults when none
// were ever saved.
func loadSettings(ctx context.Context, q postgres.Querier) (Settings, error) {
	var s Settings
	err := q.QueryRow(ctx, `SELECT settings FROM bia_settings WHERE id = 1`).Scan(&s)
	if errors.Is(err, pgx.ErrNoRows) {
		return DefaultSettings(), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("load BIA settings: %w", err)
	}
	return s, nil
}

// Settings returns the organisation-wide BIA settings.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	return loadSettings(ctx, s.pool)
}

// ReplaceSettings validates and stores new BIA settings. Existing versions
// keep the settings they were validated with; drafts are checked against
// the new ones when approved.
func (s *Service) ReplaceSettings(ctx context.Context, in Settings) (Settings, error) {
	if err := in.Validate(); err != nil {
		return Settings{}, err
	}
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		const upsert = `INSERT INTO bia_settings (id, settings, updated_by) VALUES (1, $1, $2)
			ON CONFLICT (id) DO UPDATE SET settings = $1, updated_by = $2, updated_at = now()`
		if _, err := tx.Exec(ctx, upsert, in, orchestrator.ActorFrom(ctx).Name); err != nil {
			return fmt.Errorf("save BIA settings: %w", postgres.Translate(err))
		}
		return audit.Record(ctx, tx, audit.Change{Action: "update", Resource: "settings", ResourceID: "bia",
			Summary: fmt.Sprintf("%d categories, %d time points, intolerable at %d, %s", len(in.Categories),
				len(in.TimePoints), in.IntolerableLevel, in.Currency)})
	})
	if err != nil {
		return Settings{}, err
	}
	return s.Settings(ctx)
}
