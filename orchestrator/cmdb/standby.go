package cmdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
)

// standbyLock serialises the writers of standby relations, so that two
// writers cannot each add half of a cycle the other's check did not see.
const standbyLock = `SELECT pg_advisory_xact_lock(hashtext('bcdr.cmdb.standby_relations'))`

// standbyPath finds a chain of standby relations (replicates_to,
// fails_over_to) from $1 to $2 that includes a fails_over_to unless $3
// (the relation to add is one itself), and returns its CI keys, first to
// last. Rings of replicates_to alone are multi-master replication, not a
// standby cycle.
const standbyPath = `WITH RECURSIVE walk(id, path, fo) AS (
		SELECT $1::bigint, ARRAY[$1::bigint], $3::boolean
		UNION ALL
		SELECT r.to_id, walk.path || r.to_id, walk.fo OR r.type = 'fails_over_to' FROM relations r JOIN walk ON r.from_id = walk.id
		WHERE r.type IN ('replicates_to', 'fails_over_to') AND NOT r.to_id = ANY(walk.path)
	)
	SELECT ARRAY(SELECT c.key FROM unnest(path) WITH ORDINALITY p(id, i) JOIN cis c ON c.id = p.id ORDER BY p.i)
	FROM walk WHERE id = $2 AND fo LIMIT 1`

// checkStandbyCycle refuses a standby relation from → to when to already
// fails over, directly or through its own standbys, to from: a standby
// cycle leaves nothing to fail over to. The error names the field "to" and
// the chain.
func checkStandbyCycle(ctx context.Context, tx pgx.Tx, typ, from, to string, fromID, toID int64) error {
	if _, err := tx.Exec(ctx, standbyLock); err != nil {
		return fmt.Errorf("lock standby relations: %w", err)
	}
	var chain []string
	err := tx.QueryRow(ctx, standbyPath, toID, fromID, typ == "fails_over_to").Scan(&chain)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check standby cycle %s → %s: %w", from, to, err)
	}
	var v orchestrator.Validation
	v.Add("to", "%s already fails over to %s (%s), so a standby relation back would form a standby cycle",
		to, from, joinChain(chain))
	return v.Err()
}

func joinChain(keys []string) string {
	out := ""
	for i, k := range keys {
		if i > 0 {
			out += " → "
		}
		out += k
	}
	return out
}
