package backup

import (
	"context"
	"time"

	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// PruneChecks deletes the checks that started longer than age ago, and
// returns how many. Each target keeps its newest check (its last status)
// and its newest verified check (what its RPO is judged by), however old.
func (s *Service) PruneChecks(ctx context.Context, age time.Duration) (int64, error) {
	const prune = `DELETE FROM backup_checks WHERE id IN (
		SELECT c.id FROM backup_checks c
		WHERE c.started_at < coalesce($1::timestamptz, now()) - $2::bigint * interval '1 second'
		  AND c.id <> (SELECT max(n.id) FROM backup_checks n WHERE n.target_id = c.target_id)
		  AND c.id IS DISTINCT FROM (SELECT max(v.id) FROM backup_checks v WHERE v.target_id = c.target_id AND v.verified)
		ORDER BY c.started_at LIMIT $3)`
	return postgres.Prune(ctx, s.pool, "backup checks", prune, postgres.NowArg(s.rt.Clock), int64(age/time.Second))
}
