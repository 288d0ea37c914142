package itsm

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Incident is an unplanned interruption of, or reduction in the quality of,
// a service or CI.
type Incident struct {
	ID                int64      `json:"id"`
	Source            string     `json:"source"`
	ExternalID        string     `json:"external_id"`
	Title             string     `json:"title"`
	Description       string     `json:"description"`
	Priority          string     `json:"priority"`
	Major             bool       `json:"major"`
	Cause             string     `json:"cause"`
	AffectedCIs       []string   `json:"affected_cis"`
	AffectedServices  []string   `json:"affected_services"`
	OpenedAt          time.Time  `json:"opened_at"`
	RestoredAt        *time.Time `json:"restored_at"`
	ClosedAt          *time.Time `json:"closed_at"`
	ProblemID         *int64     `json:"problem_id"`
	ContinuityInvoked bool       `json:"continuity_invoked"`
	Status            string     `json:"status"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

// IncidentInput is what a client sends to create or replace an incident,
// and what one row of an incident import holds. Affected CIs and services
// are CI keys; services must be of class business_service.
type IncidentInput struct {
	Source            string     `json:"source"`
	ExternalID        string     `json:"external_id"`
	Title             string     `json:"title"`
	Description       string     `json:"description"`
	Priority          string     `json:"priority"`
	Major             bool       `json:"major"`
	Cause             string     `json:"cause"`
	AffectedCIs       []string   `json:"affected_cis"`
	AffectedServices  []string   `json:"affected_services"`
	OpenedAt          time.Time  `json:"opened_at"`
	RestoredAt        *time.Time `json:"restored_at"`
	ClosedAt          *time.Time `json:"closed_at"`
	ProblemID         *int64     `json:"problem_id"`
	ContinuityInvoked bool       `json:"continuity_invoked"`
}

// UnmarshalJSON decodes strictly, naming any malformed time field.
func (in *IncidentInput) UnmarshalJSON(b []byte) error {
	type plain IncidentInput
	return decodeStrict(b, (*plain)(in))
}

// Normalize trims text and keys and sets the source to defaultSource when
// it is blank (pass "" to keep a stored record's source on update). The
// external id stays blank when absent; the store then makes one from the id.
func (in *IncidentInput) Normalize(defaultSource string) {
	trim(&in.Source, &in.ExternalID, &in.Title, &in.Priority, &in.Cause)
	trimKeys(in.AffectedCIs)
	trimKeys(in.AffectedServices)
	defaultTo(&in.Source, defaultSource)
}

// Validate checks an incident without the database.
func (in *IncidentInput) Validate() error {
	var v orchestrator.Validation
	checkIdentity(&v, in.Source, in.ExternalID)
	checkText(&v, "title", in.Title, maxTitle, true, false)
	checkText(&v, "description", in.Description, maxText, false, true)
	checkOneOf(&v, "priority", in.Priority, Priorities)
	checkOneOf(&v, "cause", in.Cause, Causes)
	checkKeys(&v, "affected_cis", in.AffectedCIs)
	checkKeys(&v, "affected_services", in.AffectedServices)
	checkTime(&v, "opened_at", &in.OpenedAt, true)
	checkTime(&v, "restored_at", in.RestoredAt, false)
	checkTime(&v, "closed_at", in.ClosedAt, false)
	checkOrder(&v, "restored_at", in.RestoredAt, "opened_at", &in.OpenedAt)
	checkOrder(&v, "closed_at", in.ClosedAt, "opened_at", &in.OpenedAt)
	if in.ProblemID != nil && *in.ProblemID < 1 {
		v.Add("problem_id", "must be a positive problem id")
	}
	return v.Err()
}

var incidentColumns = `i.id, i.source, i.external_id, i.title, i.description, i.priority, i.major, i.cause, ` +
	incidentCIs.keysOf("i") + `, ` + incidentServices.keysOf("i") + `,
	i.opened_at, i.restored_at, i.closed_at, i.problem_id, i.continuity_invoked, i.status, i.created_at, i.updated_at`

// CreateIncident records a new incident.
func (s *Store) CreateIncident(ctx context.Context, in IncidentInput) (Incident, error) {
	return saveInTx(ctx, s.pool, 0, in, saveIncident)
}

// UpdateIncident replaces incident id. A blank source or external_id keeps
// the stored one.
func (s *Store) UpdateIncident(ctx context.Context, id int64, in IncidentInput) (Incident, error) {
	return saveInTx(ctx, s.pool, id, in, saveIncident)
}

// saveIncident inserts (id 0) or updates an incident, its links and the
// audit row, and returns it as stored.
func saveIncident(ctx context.Context, tx pgx.Tx, id int64, in IncidentInput) (Incident, error) {
	var v orchestrator.Validation
	cis, err := resolveKeys(ctx, tx, &v, "affected_cis", in.AffectedCIs, false)
	if err != nil {
		return Incident{}, err
	}
	services, err := resolveKeys(ctx, tx, &v, "affected_services", in.AffectedServices, true)
	if err != nil {
		return Incident{}, err
	}
	if in.ProblemID != nil {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM problems WHERE id = $1)`, *in.ProblemID).Scan(&exists); err != nil {
			return Incident{}, fmt.Errorf("check problem: %w", err)
		}
		if !exists {
			v.Add("problem_id", "problem %d does not exist", *in.ProblemID)
		}
	}
	if err := v.Err(); err != nil {
		return Incident{}, err
	}
	args := []any{in.Source, in.ExternalID, in.Title, in.Description, in.Priority, in.Major, in.Cause,
		in.OpenedAt, in.RestoredAt, in.ClosedAt, in.ProblemID, in.ContinuityInvoked}
	const insert = `WITH n AS (SELECT nextval(pg_get_serial_sequence('incidents', 'id')) AS id)
		INSERT INTO incidents (id, source, external_id, title, description, priority, major, cause,
			opened_at, restored_at, closed_at, problem_id, continuity_invoked)
		SELECT n.id, $1, coalesce(nullif($2, ''), 'INC-' || n.id), $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM n
		RETURNING id`
	const update = `UPDATE incidents SET source = coalesce(nullif($1, ''), source),
			external_id = coalesce(nullif($2, ''), external_id), title = $3, description = $4, priority = $5,
			major = $6, cause = $7, opened_at = $8, restored_at = $9, closed_at = $10, problem_id = $11,
			continuity_invoked = $12, updated_at = now()
		WHERE id = $13 RETURNING id`
	id, action, err := writeRow(ctx, tx, "incident", insert, update, id, args)
	if err != nil {
		return Incident{}, err
	}
	if err := incidentCIs.replace(ctx, tx, id, cis); err != nil {
		return Incident{}, err
	}
	if err := incidentServices.replace(ctx, tx, id, services); err != nil {
		return Incident{}, err
	}
	inc, err := getIncident(ctx, tx, id)
	if err != nil {
		return Incident{}, err
	}
	return inc, recordAudit(ctx, tx, action, "incidents", id,
		fmt.Sprintf("incident %s %s %s", inc.ExternalID, inc.Priority, summaryText(inc.Title)))
}

// Incident returns one incident.
func (s *Store) Incident(ctx context.Context, id int64) (Incident, error) {
	return getIncident(ctx, s.pool, id)
}

func getIncident(ctx context.Context, q postgres.Querier, id int64) (Incident, error) {
	return getRow[Incident](ctx, q, "incident", `SELECT `+incidentColumns+` FROM incidents i WHERE i.id = $1`, id)
}

// DeleteIncident removes an incident and its links.
func (s *Store) DeleteIncident(ctx context.Context, id int64) error {
	const del = `DELETE FROM incidents WHERE id = $1 RETURNING external_id, title`
	return s.deleteRow(ctx, "incident", "incidents", del, id)
}
