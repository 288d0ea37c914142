package itsm

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Problem is the underlying cause of one or more incidents.
type Problem struct {
	ID          int64      `json:"id"`
	Source      string     `json:"source"`
	ExternalID  string     `json:"external_id"`
	Title       string     `json:"title"`
	RootCause   string     `json:"root_cause"`
	KnownError  bool       `json:"known_error"`
	Workaround  string     `json:"workaround"`
	Status      string     `json:"status"`
	IncidentIDs []int64    `json:"incident_ids"`
	OpenedAt    time.Time  `json:"opened_at"`
	ResolvedAt  *time.Time `json:"resolved_at"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// ProblemInput is what a client sends to create or replace a problem, and
// what one row of a problem import holds. The link between a problem and
// its incidents is one relation seen from both sides (an incident's
// problem_id): IncidentIDs absent (nil) leaves the links as they are, a list
// (even empty) makes the linked incidents exactly that list.
type ProblemInput struct {
	Source      string     `json:"source"`
	ExternalID  string     `json:"external_id"`
	Title       string     `json:"title"`
	RootCause   string     `json:"root_cause"`
	KnownError  bool       `json:"known_error"`
	Workaround  string     `json:"workaround"`
	Status      string     `json:"status"`
	IncidentIDs []int64    `json:"incident_ids"`
	OpenedAt    time.Time  `json:"opened_at"`
	ResolvedAt  *time.Time `json:"resolved_at"`
}

// UnmarshalJSON decodes strictly, naming any malformed time field.
func (in *ProblemInput) UnmarshalJSON(b []byte) error {
	type plain ProblemInput
	return decodeStrict(b, (*plain)(in))
}

// Normalize trims text, defaults the status to open (known_error for a
// known error) and the source to defaultSource ("" keeps a stored source).
func (in *ProblemInput) Normalize(defaultSource string) {
	trim(&in.Source, &in.ExternalID, &in.Title, &in.Status)
	if in.Status == "" {
		in.Status = "open"
		if in.KnownError {
			in.Status = "known_error"
		}
	}
	defaultTo(&in.Source, defaultSource)
}

// Validate checks a problem without the database.
func (in *ProblemInput) Validate() error {
	var v orchestrator.Validation
	checkIdentity(&v, in.Source, in.ExternalID)
	checkText(&v, "title", in.Title, maxTitle, true, false)
	checkText(&v, "root_cause", in.RootCause, maxText, false, true)
	checkText(&v, "workaround", in.Workaround, maxText, false, true)
	checkOneOf(&v, "status", in.Status, ProblemStatuses)
	if in.Status == "known_error" && !in.KnownError {
		v.Add("known_error", "must be true when status is known_error")
	}
	if len(in.IncidentIDs) > maxKeys {
		v.Add("incident_ids", "must list at most %d incidents", maxKeys)
	}
	for i, id := range in.IncidentIDs {
		if id < 1 {
			v.Add(fmt.Sprintf("incident_ids[%d]", i), "must be a positive incident id")
		}
	}
	checkTime(&v, "opened_at", &in.OpenedAt, true)
	checkTime(&v, "resolved_at", in.ResolvedAt, false)
	checkOrder(&v, "resolved_at", in.ResolvedAt, "opened_at", &in.OpenedAt)
	return v.Err()
}

const problemColumns = `p.id, p.source, p.external_id, p.title, p.root_cause, p.known_error, p.workaround, p.status,
	ARRAY(SELECT i.id FROM incidents i WHERE i.problem_id = p.id ORDER BY i.id),
	p.opened_at, p.resolved_at, p.created_at, p.updated_at`

// CreateProblem records a new problem.
func (s *Store) CreateProblem(ctx context.Context, in ProblemInput) (Problem, error) {
	return saveInTx(ctx, s.pool, 0, in, saveProblem)
}

// UpdateProblem replaces problem id. A blank source or external_id keeps
// the stored one.
func (s *Store) UpdateProblem(ctx context.Context, id int64, in ProblemInput) (Problem, error) {
	return saveInTx(ctx, s.pool, id, in, saveProblem)
}

func saveProblem(ctx context.Context, tx pgx.Tx, id int64, in ProblemInput) (Problem, error) {
	if err := checkIncidentsExist(ctx, tx, in.IncidentIDs); err != nil {
		return Problem{}, err
	}
	args := []any{in.Source, in.ExternalID, in.Title, in.RootCause, in.KnownError, in.Workaround, in.Status, in.OpenedAt, in.ResolvedAt}
	const insert = `WITH n AS (SELECT nextval(pg_get_serial_sequence('problems', 'id')) AS id)
		INSERT INTO problems (id, source, external_id, title, root_cause, known_error, workaround, status, opened_at, resolved_at)
		SELECT n.id, $1, coalesce(nullif($2, ''), 'PRB-' || n.id), $3, $4, $5, $6, $7, $8, $9 FROM n
		RETURNING id`
	const update = `UPDATE problems SET source = coalesce(nullif($1, ''), source),
			external_id = coalesce(nullif($2, ''), external_id), title = $3, root_cause = $4, known_error = $5,
			workaround = $6, status = $7, opened_at = $8, resolved_at = $9, updated_at = now()
		WHERE id = $10 RETURNING id`
	id, action, err := writeRow(ctx, tx, "problem", insert, update, id, args)
	if err != nil {
		return Problem{}, err
	}
	if in.IncidentIDs != nil {
		const unlink = `UPDATE incidents SET problem_id = NULL, updated_at = now() WHERE problem_id = $1 AND id <> ALL($2::bigint[])`
		const link = `UPDATE incidents SET problem_id = $1, updated_at = now()
			WHERE id = ANY($2::bigint[]) AND problem_id IS DISTINCT FROM $1`
		for _, stmt := range []string{unlink, link} {
			if _, err := tx.Exec(ctx, stmt, id, in.IncidentIDs); err != nil {
				return Problem{}, fmt.Errorf("link problem %d to incidents: %w", id, err)
			}
		}
	}
	p, err := getProblem(ctx, tx, id)
	if err != nil {
		return Problem{}, err
	}
	return p, recordAudit(ctx, tx, action, "problems", id,
		fmt.Sprintf("problem %s %s (%s, %d incidents)", p.ExternalID, summaryText(p.Title), p.Status, len(p.IncidentIDs)))
}

// checkIncidentsExist is a field error on incident_ids naming every id that
// is not an incident.
func checkIncidentsExist(ctx context.Context, q postgres.Querier, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	const query = `SELECT k.id FROM unnest($1::bigint[]) AS k (id)
		WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = k.id) ORDER BY k.id`
	rows, err := q.Query(ctx, query, ids)
	if err != nil {
		return fmt.Errorf("check incidents: %w", err)
	}
	missing, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("check incidents: %w", err)
	}
	if len(missing) == 0 {
		return nil
	}
	names := make([]string, len(missing))
	for i, id := range missing {
		names[i] = strconv.FormatInt(id, 10)
	}
	var v orchestrator.Validation
	v.Add("incident_ids", "unknown incidents: %s", strings.Join(names, ", "))
	return v.Err()
}

// Problem returns one problem.
func (s *Store) Problem(ctx context.Context, id int64) (Problem, error) {
	return getProblem(ctx, s.pool, id)
}

func getProblem(ctx context.Context, q postgres.Querier, id int64) (Problem, error) {
	return getRow[Problem](ctx, q, "problem", `SELECT `+problemColumns+` FROM problems p WHERE p.id = $1`, id)
}

// DeleteProblem removes a problem; its incidents stay, unlinked.
func (s *Store) DeleteProblem(ctx context.Context, id int64) error {
	const del = `DELETE FROM problems WHERE id = $1 RETURNING external_id, title`
	return s.deleteRow(ctx, "problem", "problems", del, id)
}

// ProblemFilter narrows a problem listing; zero fields match everything.
type ProblemFilter struct {
	Status     string
	KnownError *bool
}

// ListProblems returns problems newest (highest id) first.
func (s *Store) ListProblems(ctx context.Context, f ProblemFilter, page orchestrator.Page) (orchestrator.List[Problem], error) {
	w, err := beforeID("p", page.After)
	if err != nil {
		return orchestrator.List[Problem]{}, err
	}
	if f.Status != "" {
		w.add("p.status = " + w.arg(f.Status))
	}
	if f.KnownError != nil {
		w.add("p.known_error = " + w.arg(*f.KnownError))
	}
	query := `SELECT ` + problemColumns + ` FROM problems p WHERE ` + w.sql() + ` ORDER BY p.id DESC LIMIT ` + w.arg(page.Limit+1)
	return listRows(ctx, s.pool, "problems", query, w.args, page.Limit, func(p Problem) string { return strconv.FormatInt(p.ID, 10) })
}
