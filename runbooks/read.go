package runbooks

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
)

// Get returns a runbook with its front version, feasibility and staleness.
func (s *Service) Get(ctx context.Context, id string) (Runbook, error) {
	n, err := parseID(id)
	if err != nil {
		return Runbook{}, err
	}
	h, err := getHeader(ctx, s.pool, n, false)
	if err != nil {
		return Runbook{}, err
	}
	vs, err := versions(ctx, s.pool, n)
	if err != nil {
		return Runbook{}, err
	}
	return s.view(ctx, h, vs)
}

// view assembles a Runbook from its row and versions.
func (s *Service) view(ctx context.Context, h header, vs []storedVersion) (Runbook, error) {
	rb := Runbook{ID: h.ID, Title: h.Title, Scope: h.Scope, CreatedAt: h.CreatedAt, UpdatedAt: h.UpdatedAt}
	var approved *storedVersion
	for i := range vs {
		switch vs[i].Status {
		case StatusApproved:
			approved = &vs[i]
			rb.ApprovedVersion = &vs[i].Number
		case StatusDraft:
			rb.DraftVersion = &vs[i].Number
		}
	}
	front := vs[len(vs)-1]
	rb.Version = front.Version
	rb.Status = status(h, approved != nil)
	var err error
	if rb.Feasibility, err = s.feasibility(ctx, h, front.Version); err != nil {
		return Runbook{}, err
	}
	rb.Staleness = Staleness{Flags: []string{}}
	if approved != nil {
		if rb.Staleness, err = s.stalenessOf(ctx, h, vs, approved.Version); err != nil {
			return Runbook{}, err
		}
	}
	return rb, nil
}

// status is the runbook's overall state: retired, approved (a version is
// in force) or draft (never approved).
func status(h header, approved bool) string {
	switch {
	case h.RetiredAt != nil:
		return StatusRetired
	case approved:
		return StatusApproved
	}
	return StatusDraft
}

// Filter narrows a runbook listing.
type Filter struct {
	Service string
	Status  string // draft, approved or retired
}

// List returns runbooks ordered by id.
func (s *Service) List(ctx context.Context, f Filter, page orchestrator.Page) (orchestrator.List[Summary], error) {
	var after int64
	if page.After != "" {
		var err error
		if after, err = strconv.ParseInt(page.After, 10, 64); err != nil {
			return orchestrator.List[Summary]{}, orchestrator.Invalid("after", "is not a cursor returned by this server")
		}
	}
	// One pass over each runbook's versions gives every figure the list
	// shows and filters on.
	const query = `SELECT r.id, r.title, coalesce(c.key, ''), r.failed, r.updated_at, r.retired_at IS NOT NULL,
		vs.approved, vs.draft, vs.latest
		FROM runbooks r LEFT JOIN cis c ON c.id = r.service_id
		CROSS JOIN LATERAL (SELECT max(v.version) FILTER (WHERE v.status = 'approved') AS approved,
			max(v.version) FILTER (WHERE v.status = 'draft') AS draft, max(v.version) AS latest,
			bool_or(v.status <> 'draft') AS settled
			FROM runbook_versions v WHERE v.runbook_id = r.id) vs
		WHERE ($1 = '' OR c.key = $1) AND r.id > $2
		AND ($3 = '' OR ($3 = 'retired') = (r.retired_at IS NOT NULL))
		AND ($3 <> 'approved' OR vs.approved IS NOT NULL)
		AND ($3 <> 'draft' OR NOT coalesce(vs.settled, false))
		ORDER BY r.id LIMIT $4`
	rows, err := s.pool.Query(ctx, query, f.Service, after, f.Status, page.Limit+1)
	if err != nil {
		return orchestrator.List[Summary]{}, fmt.Errorf("list runbooks: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Summary, error) {
		var (
			sm      Summary
			retired bool
		)
		err := row.Scan(&sm.ID, &sm.Title, &sm.Scope.Service, &sm.Scope.Failed, &sm.UpdatedAt, &retired,
			&sm.ApprovedVersion, &sm.DraftVersion, &sm.LatestVersion)
		if len(sm.Scope.Failed) == 0 {
			sm.Scope.Failed = nil
		}
		sm.Status = StatusDraft
		switch {
		case retired:
			sm.Status = StatusRetired
		case sm.ApprovedVersion != nil:
			sm.Status = StatusApproved
		}
		return sm, err
	})
	if err != nil {
		return orchestrator.List[Summary]{}, fmt.Errorf("list runbooks: %w", err)
	}
	return orchestrator.Paginate(items, page.Limit, func(sm Summary) string { return strconv.FormatInt(sm.ID, 10) }), nil
}

// VersionSummary is one version in a runbook's history.
type VersionSummary struct {
	Number     int       `json:"number"`
	Status     string    `json:"status"`
	Steps      int       `json:"steps"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	Approval   *Approval `json:"approval"`
	LastReview *Review   `json:"last_review"`
}

// Versions lists every version of a runbook, oldest first.
func (s *Service) Versions(ctx context.Context, id string) ([]VersionSummary, error) {
	n, err := parseID(id)
	if err != nil {
		return nil, err
	}
	if _, err := getHeader(ctx, s.pool, n, false); err != nil {
		return nil, err
	}
	vs, err := versions(ctx, s.pool, n)
	if err != nil {
		return nil, err
	}
	out := make([]VersionSummary, len(vs))
	for i, v := range vs {
		out[i] = VersionSummary{Number: v.Number, Status: v.Status, Steps: len(v.Steps), CreatedBy: v.CreatedBy,
			CreatedAt: v.CreatedAt, Approval: v.Approval, LastReview: v.LastReview}
	}
	return out, nil
}

// parseVersion reads a version number from a path.
func parseVersion(id int64, s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(s, "v"))
	if err != nil || n < 1 {
		return 0, orchestrator.Errorf(orchestrator.ENOTFOUND, "runbook %d has no version %q", id, clip(s))
	}
	return n, nil
}

// GetVersion returns one version of a runbook.
func (s *Service) GetVersion(ctx context.Context, id, version string) (Version, error) {
	n, err := parseID(id)
	if err != nil {
		return Version{}, err
	}
	num, err := parseVersion(n, version)
	if err != nil {
		return Version{}, err
	}
	if _, err := getHeader(ctx, s.pool, n, false); err != nil {
		return Version{}, err
	}
	sv, err := oneVersion(ctx, s.pool, n, num)
	return sv.Version, err
}

// Diff compares two versions of a runbook.
func (s *Service) Diff(ctx context.Context, id, a, b string) (Diff, error) {
	va, err := s.GetVersion(ctx, id, a)
	if err != nil {
		return Diff{}, err
	}
	vb, err := s.GetVersion(ctx, id, b)
	if err != nil {
		return Diff{}, err
	}
	return diffVersions(va, vb), nil
}
