package backup

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// CIsWithTargets returns the keys of the CIs with at least one backup
// target, whatever their checks say: what the impact model's gap analysis
// asks of backups (impact.BackupCoverage).
func (s *Service) CIsWithTargets(ctx context.Context) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT c.key FROM backup_targets t JOIN cis c ON c.id = t.ci_id`)
	if err != nil {
		return nil, fmt.Errorf("read CIs with backup targets: %w", err)
	}
	out := map[string]bool{}
	var key string
	if _, err := pgx.ForEachRow(rows, []any{&key}, func() error { out[key] = true; return nil }); err != nil {
		return nil, fmt.Errorf("read CIs with backup targets: %w", err)
	}
	return out, nil
}
