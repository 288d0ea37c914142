package backup

import (
	"context"
	"fmt"
	"time"

	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Retention prunes in batches of pruneBatch rows, at most pruneBatches
// statements a call, so no statement holds many row locks for long; what
// is left is pruned by the next call.
const (
	pruneBatch   = 1000
	pruneBatches = 20
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
	var total int64
	for range pruneBatches {
		tag, err := s.pool.Exec(ctx, prune, postgres.NowArg(s.rt.Clock), int64(age/time.Second), pruneBatch)
		if err != nil {
			return total, fmt.Errorf("prune backup checks: %w", err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < pruneBatch {
			break
		}
	}
	return total, nil
}
