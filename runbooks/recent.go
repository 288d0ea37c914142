package runbooks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
)

// recentKey is a runbook as it is stored now: its id and the row versions
// of its row, its versions and its reviews, which change with every write
// to them, so a page drawn after an edit shows it at once.
type recentKey struct {
	id    int64
	state string
}

// Recent is Get computed at most maxAge ago for the runbook as it is
// stored now: the people looking at one runbook at once (an invocation's
// operators) share one computation of its feasibility instead of each
// reading the model again. A change to the runbook itself is seen at once;
// a change to what its feasibility reads (the CMDB, BIAs, backups) within
// maxAge. The API's Get always computes afresh.
func (s *Service) Recent(ctx context.Context, id string, maxAge time.Duration) (Runbook, error) {
	n, err := parseID(id)
	if err != nil {
		return Runbook{}, err
	}
	key := recentKey{id: n}
	err = s.pool.QueryRow(ctx, `SELECT r.xmin::text
			|| '/' || coalesce((SELECT string_agg(v.xmin::text, ',' ORDER BY v.version) FROM runbook_versions v WHERE v.runbook_id = r.id), '')
			|| '/' || coalesce((SELECT string_agg(x.xmin::text, ',' ORDER BY x.id) FROM runbook_reviews x WHERE x.runbook_id = r.id), '')
		FROM runbooks r WHERE r.id = $1`, n).Scan(&key.state)
	if errors.Is(err, pgx.ErrNoRows) {
		return Runbook{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "runbook %d not found", n)
	}
	if err != nil {
		return Runbook{}, fmt.Errorf("read runbook %d: %w", n, err)
	}
	return s.recent.Get(ctx, key, maxAge, func(ctx context.Context) (Runbook, error) { return s.Get(ctx, id) })
}
