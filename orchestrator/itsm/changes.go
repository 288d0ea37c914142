package itsm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Change is a change to one or more CIs.
type Change struct {
	ID            int64      `json:"id"`
	Source        string     `json:"source"`
	ExternalID    string     `json:"external_id"`
	Title         string     `json:"title"`
	Type          string     `json:"type"`
	Risk          string     `json:"risk"`
	Major         bool       `json:"major"`
	Status        string     `json:"status"`
	AffectedCIs   []string   `json:"affected_cis"`
	PlannedStart  *time.Time `json:"planned_start"`
	PlannedEnd    *time.Time `json:"planned_end"`
	ActualStart   *time.Time `json:"actual_start"`
	ActualEnd     *time.Time `json:"actual_end"`
	ImplementedAt *time.Time `json:"implemented_at"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// ChangeInput is what a client sends to create or replace a change, and
// what one row of a change import holds.
type ChangeInput struct {
	Source       string     `json:"source"`
	ExternalID   string     `json:"external_id"`
	Title        string     `json:"title"`
	Type         string     `json:"type"`
	Risk         string     `json:"risk"`
	Major        bool       `json:"major"`
	Status       string     `json:"status"`
	AffectedCIs  []string   `json:"affected_cis"`
	PlannedStart *time.Time `json:"planned_start"`
	PlannedEnd   *time.Time `json:"planned_end"`
	ActualStart  *time.Time `json:"actual_start"`
	ActualEnd    *time.Time `json:"actual_end"`
}

// changeTransitions lists where each change status may move on update:
// requested → approved → implemented | failed | rolled_back, and an
// implemented change may still be rolled back. Staying put is always legal.
var changeTransitions = map[string][]string{
	"requested":   {"approved"},
	"approved":    {"implemented", "failed", "rolled_back"},
	"implemented": {"rolled_back"},
}

// ChangeTransitionAllowed reports whether a change may move from one status
// to another.
func ChangeTransitionAllowed(from, to string) bool {
	return from == to || slices.Contains(changeTransitions[from], to)
}

// changeDone are the statuses of a change that was carried out.
var changeDone = []string{"implemented", "failed", "rolled_back"}

// UnmarshalJSON decodes strictly, naming any malformed time field.
func (in *ChangeInput) UnmarshalJSON(b []byte) error {
	type plain ChangeInput
	return decodeStrict(b, (*plain)(in))
}

// Normalize trims text and keys, defaults the status to requested, the
// type to normal, the risk to low and the source to defaultSource ("" keeps
// a stored source).
func (in *ChangeInput) Normalize(defaultSource string) {
	trim(&in.Source, &in.ExternalID, &in.Title, &in.Type, &in.Risk, &in.Status)
	trimKeys(in.AffectedCIs)
	defaultTo(&in.Type, "normal")
	defaultTo(&in.Risk, "low")
	defaultTo(&in.Status, "requested")
	defaultTo(&in.Source, defaultSource)
}

// Validate checks a change without the database. A change that was carried
// out (implemented, failed or rolled back) needs its actual start.
func (in *ChangeInput) Validate() error {
	var v orchestrator.Validation
	checkIdentity(&v, in.Source, in.ExternalID)
	checkText(&v, "title", in.Title, maxTitle, true, false)
	checkOneOf(&v, "type", in.Type, ChangeTypes)
	checkOneOf(&v, "risk", in.Risk, ChangeRisks)
	checkOneOf(&v, "status", in.Status, ChangeStatuses)
	checkKeys(&v, "affected_cis", in.AffectedCIs)
	checkTime(&v, "planned_start", in.PlannedStart, false)
	checkTime(&v, "planned_end", in.PlannedEnd, false)
	checkTime(&v, "actual_start", in.ActualStart, slices.Contains(changeDone, in.Status))
	checkTime(&v, "actual_end", in.ActualEnd, false)
	checkOrder(&v, "planned_end", in.PlannedEnd, "planned_start", in.PlannedStart)
	checkOrder(&v, "actual_end", in.ActualEnd, "actual_start", in.ActualStart)
	if in.ActualEnd != nil && in.ActualStart == nil {
		v.Add("actual_start", "is required when actual_end is set")
	}
	return v.Err()
}

var changeColumns = `c.id, c.source, c.external_id, c.title, c.type, c.risk, c.major, c.status, ` + changeCIs.keysOf("c") + `,
	c.planned_start, c.planned_end, c.actual_start, c.actual_end, c.implemented_at, c.created_at, c.updated_at`

// CreateChange records a new change in any status (history arrives with
// its outcome).
func (s *Store) CreateChange(ctx context.Context, in ChangeInput) (Change, error) {
	return saveInTx(ctx, s.pool, 0, in, saveChange)
}

// UpdateChange replaces change id. Its status may only move along the
// change lifecycle; anything else is invalid, naming status.
func (s *Store) UpdateChange(ctx context.Context, id int64, in ChangeInput) (Change, error) {
	return saveInTx(ctx, s.pool, id, in, saveChange)
}

func saveChange(ctx context.Context, tx pgx.Tx, id int64, in ChangeInput) (Change, error) {
	var v orchestrator.Validation
	if id != 0 {
		var from string
		err := tx.QueryRow(ctx, `SELECT status FROM changes WHERE id = $1 FOR UPDATE`, id).Scan(&from)
		if errors.Is(err, pgx.ErrNoRows) {
			return Change{}, notFound("change", id)
		}
		if err != nil {
			return Change{}, fmt.Errorf("read change %d: %w", id, err)
		}
		if !ChangeTransitionAllowed(from, in.Status) {
			next := strings.Join(changeTransitions[from], ", ")
			if next == "" {
				next = "nothing (it is final)"
			}
			v.Add("status", "cannot move from %s to %s; from %s a change may move to %s", from, in.Status, from, next)
		}
	}
	cis, err := resolveKeys(ctx, tx, &v, "affected_cis", in.AffectedCIs, false)
	if err != nil {
		return Change{}, err
	}
	if err := v.Err(); err != nil {
		return Change{}, err
	}
	args := []any{in.Source, in.ExternalID, in.Title, in.Type, in.Risk, in.Major, in.Status,
		in.PlannedStart, in.PlannedEnd, in.ActualStart, in.ActualEnd}
	const insert = `WITH n AS (SELECT nextval(pg_get_serial_sequence('changes', 'id')) AS id)
		INSERT INTO changes (id, source, external_id, title, type, risk, major, status,
			planned_start, planned_end, actual_start, actual_end)
		SELECT n.id, $1, coalesce(nullif($2, ''), 'CHG-' || n.id), $3, $4, $5, $6, $7, $8, $9, $10, $11 FROM n
		RETURNING id`
	const update = `UPDATE changes SET source = coalesce(nullif($1, ''), source),
			external_id = coalesce(nullif($2, ''), external_id), title = $3, type = $4, risk = $5, major = $6,
			status = $7, planned_start = $8, planned_end = $9, actual_start = $10, actual_end = $11, updated_at = now()
		WHERE id = $12 RETURNING id`
	id, action, err := writeRow(ctx, tx, "change", insert, update, id, args)
	if err != nil {
		return Change{}, err
	}
	if err := changeCIs.replace(ctx, tx, id, cis); err != nil {
		return Change{}, err
	}
	c, err := getChange(ctx, tx, id)
	if err != nil {
		return Change{}, err
	}
	return c, recordAudit(ctx, tx, action, "changes", id,
		fmt.Sprintf("change %s %s (%s, %s)", c.ExternalID, summaryText(c.Title), c.Type, c.Status))
}

// Change returns one change.
func (s *Store) Change(ctx context.Context, id int64) (Change, error) {
	return getChange(ctx, s.pool, id)
}

func getChange(ctx context.Context, q postgres.Querier, id int64) (Change, error) {
	return getRow[Change](ctx, q, "change", `SELECT `+changeColumns+` FROM changes c WHERE c.id = $1`, id)
}

// DeleteChange removes a change and its links.
func (s *Store) DeleteChange(ctx context.Context, id int64) error {
	const del = `DELETE FROM changes WHERE id = $1 RETURNING external_id, title`
	return s.deleteRow(ctx, "change", "changes", del, id)
}

// ChangeFilter narrows a change listing; zero fields match everything.
type ChangeFilter struct {
	Type              string
	Status            string
	Major             *bool
	CI                string    // key of an affected CI
	ImplementedAfter  time.Time // implemented_at >= ImplementedAfter
	ImplementedBefore time.Time // implemented_at < ImplementedBefore
}

// ListChanges returns changes newest (highest id) first.
func (s *Store) ListChanges(ctx context.Context, f ChangeFilter, page orchestrator.Page) (orchestrator.List[Change], error) {
	w, err := beforeID("c", page.After)
	if err != nil {
		return orchestrator.List[Change]{}, err
	}
	if f.Type != "" {
		w.add("c.type = " + w.arg(f.Type))
	}
	if f.Status != "" {
		w.add("c.status = " + w.arg(f.Status))
	}
	if f.Major != nil {
		w.add("c.major = " + w.arg(*f.Major))
	}
	if f.CI != "" {
		w.add("c.id IN (SELECT l.change_id FROM change_cis l WHERE l.ci_id = (SELECT id FROM cis WHERE key = " + w.arg(f.CI) + "))")
	}
	if !f.ImplementedAfter.IsZero() {
		w.add("c.implemented_at >= " + w.arg(f.ImplementedAfter))
	}
	if !f.ImplementedBefore.IsZero() {
		w.add("c.implemented_at < " + w.arg(f.ImplementedBefore))
	}
	query := `SELECT ` + changeColumns + ` FROM changes c WHERE ` + w.sql() + ` ORDER BY c.id DESC LIMIT ` + w.arg(page.Limit+1)
	return listRows(ctx, s.pool, "changes", query, w.args, page.Limit, func(c Change) string { return strconv.FormatInt(c.ID, 10) })
}
