package itsm

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// IncidentSummary is one incident of a history query, with how long it
// lasted.
type IncidentSummary struct {
	ID         int64      `json:"id"`
	ExternalID string     `json:"external_id"`
	Title      string     `json:"title"`
	Priority   string     `json:"priority"`
	Major      bool       `json:"major"`
	Cause      string     `json:"cause"`
	OpenedAt   time.Time  `json:"opened_at"`
	RestoredAt *time.Time `json:"restored_at"` // restored, else closed; nil while ongoing
	// Duration is RestoredAt − OpenedAt; zero, with Restored false, for an
	// incident that has not been restored.
	Duration orchestrator.Duration `json:"duration"`
	Restored bool                  `json:"restored"`
}

// MatchingIncidents returns the incidents opened in [from, to) with the
// given cause ("" for any) that affect at least one of ciKeys, as an
// affected CI or an affected service (no keys: any incident), oldest first.
// Unknown keys match nothing. The risk model derives a threat's ARO and its
// expected outage from them.
func MatchingIncidents(ctx context.Context, q postgres.Querier, cause string, ciKeys []string, from, to time.Time) ([]IncidentSummary, error) {
	if err := CheckPeriod(from, to); err != nil {
		return nil, err
	}
	if cause != "" && !slices.Contains(Causes, cause) {
		var v orchestrator.Validation
		v.Add("cause", "must be one of %s", strings.Join(Causes, ", "))
		return nil, v.Err()
	}
	var w where
	w.add("i.opened_at >= " + w.arg(from))
	w.add("i.opened_at < " + w.arg(to))
	if cause != "" {
		w.add("i.cause = " + w.arg(cause))
	}
	if len(ciKeys) > 0 {
		keys := w.arg(ciKeys)
		w.add(`i.id IN (SELECT l.incident_id FROM incident_cis l JOIN cis c ON c.id = l.ci_id WHERE c.key = ANY(` + keys + `::text[])
			UNION SELECT l.incident_id FROM incident_services l JOIN cis c ON c.id = l.service_id WHERE c.key = ANY(` + keys + `::text[]))`)
	}
	query := `SELECT i.id, i.external_id, i.title, i.priority, i.major, i.cause, i.opened_at, coalesce(i.restored_at, i.closed_at)
		FROM incidents i WHERE ` + w.sql() + ` ORDER BY i.opened_at, i.id`
	rows, err := q.Query(ctx, query, w.args...)
	if err != nil {
		return nil, fmt.Errorf("match incidents: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (IncidentSummary, error) {
		var s IncidentSummary
		err := row.Scan(&s.ID, &s.ExternalID, &s.Title, &s.Priority, &s.Major, &s.Cause, &s.OpenedAt, &s.RestoredAt)
		if s.RestoredAt != nil {
			s.Restored = true
			s.Duration = roundDuration(s.RestoredAt.Sub(s.OpenedAt))
		}
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("match incidents: %w", err)
	}
	return out, nil
}
