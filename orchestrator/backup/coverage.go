package backup

import (
	"context"
	"fmt"
	"time"

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

// VerifiedBackups returns, for every CI with a backup target, the newest
// backup that a check made no later than at verified (nil when none): what
// a restore at failure point at could go back to. As in a CI's status, a
// target whose latest check by then failed proves none of its backups. The
// impact model's recovery plans ask this (impact.BackupEvidence).
func (s *Service) VerifiedBackups(ctx context.Context, at time.Time) (map[string]*time.Time, error) {
	const query = `SELECT c.key, max(v.newest)
		FROM backup_targets t JOIN cis c ON c.id = t.ci_id
		LEFT JOIN LATERAL (SELECT CASE WHEN (SELECT l.status FROM backup_checks l WHERE l.target_id = t.id AND l.started_at <= $1
					ORDER BY l.started_at DESC, l.id DESC LIMIT 1) = 'failed' THEN NULL
				ELSE (SELECT max(b.latest_backup_at) FROM backup_checks b
					WHERE b.target_id = t.id AND b.verified AND b.started_at <= $1 AND b.latest_backup_at <= $1) END AS newest) v ON true
		GROUP BY c.key`
	rows, err := s.pool.Query(ctx, query, at)
	if err != nil {
		return nil, fmt.Errorf("read verified backups: %w", err)
	}
	out := map[string]*time.Time{}
	var (
		key    string
		newest *time.Time
	)
	if _, err := pgx.ForEachRow(rows, []any{&key, &newest}, func() error { out[key] = utc(newest); return nil }); err != nil {
		return nil, fmt.Errorf("read verified backups: %w", err)
	}
	return out, nil
}
