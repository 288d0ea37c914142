package runbooks

import (
	"context"
	"fmt"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// recentKey is what a page asked about runbooks as they are stored now:
// the question and the row versions of the runbooks' rows, versions and
// reviews, which change with every write to them, so a page drawn after an
// edit shows it at once.
type recentKey struct {
	question string
	state    string
}

// stored describes runbooks ids as they are stored now; it changes with
// every write to them.
func (s *Service) stored(ctx context.Context, ids []int64) (string, error) {
	var state string
	err := s.pool.QueryRow(ctx, `SELECT coalesce(string_agg(r.id || ':' || r.xmin::text
			|| '/' || coalesce((SELECT string_agg(v.xmin::text, ',' ORDER BY v.version) FROM runbook_versions v WHERE v.runbook_id = r.id), '')
			|| '/' || coalesce((SELECT string_agg(x.xmin::text, ',' ORDER BY x.id) FROM runbook_reviews x WHERE x.runbook_id = r.id), ''),
			' ' ORDER BY r.id), '')
		FROM runbooks r WHERE r.id = ANY($1)`, ids).Scan(&state)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", runbookIDs(ids), err)
	}
	return state, nil
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
	state, err := s.stored(ctx, []int64{n})
	if err != nil {
		return Runbook{}, err
	}
	if state == "" {
		return Runbook{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "runbook %d not found", n)
	}
	v, err := s.recent.Get(ctx, recentKey{question: "get " + id, state: state}, maxAge, func(ctx context.Context) (any, error) {
		return s.Get(ctx, id)
	})
	if err != nil {
		return Runbook{}, err
	}
	return v.(Runbook), nil
}

// RecentBriefs is Briefs computed at most maxAge ago for the runbooks as
// they are stored now, shared as Recent is: the lists that many people
// look at share one judgement of staleness.
func (s *Service) RecentBriefs(ctx context.Context, ids []int64, opts BriefOptions, maxAge time.Duration) (map[int64]Brief, error) {
	state, err := s.stored(ctx, ids)
	if err != nil {
		return nil, err
	}
	q := fmt.Sprintf("briefs %v %+v", ids, opts)
	v, err := s.recent.Get(ctx, recentKey{question: q, state: state}, maxAge, func(ctx context.Context) (any, error) {
		return s.Briefs(ctx, ids, opts)
	})
	if err != nil {
		return nil, err
	}
	return v.(map[int64]Brief), nil
}
