package itsm

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
)

// IncidentFilter narrows an incident listing; zero fields match everything.
type IncidentFilter struct {
	Priority     string
	Major        *bool
	Cause        string
	CI           string // key of an affected CI
	Service      string // key of an affected business service
	Status       string
	OpenedAfter  time.Time // opened_at >= OpenedAfter
	OpenedBefore time.Time // opened_at < OpenedBefore
	Q            string    // case-insensitive substring of the title
}

// ListIncidents returns incidents newest first: by opened_at, then id, both
// descending.
func (s *Store) ListIncidents(ctx context.Context, f IncidentFilter, page orchestrator.Page) (orchestrator.List[Incident], error) {
	var w where
	if page.After != "" {
		at, id, err := parseIncidentCursor(page.After)
		if err != nil {
			return orchestrator.List[Incident]{}, err
		}
		w.add("(i.opened_at, i.id) < (" + w.arg(at) + ", " + w.arg(id) + ")")
	}
	if f.Priority != "" {
		w.add("i.priority = " + w.arg(f.Priority))
	}
	if f.Major != nil {
		if *f.Major {
			w.add("i.major")
		} else {
			w.add("NOT i.major")
		}
	}
	if f.Cause != "" {
		w.add("i.cause = " + w.arg(f.Cause))
	}
	if f.Status != "" {
		w.add("i.status = " + w.arg(f.Status))
	}
	// A CI's or service's incidents are fetched by id and sorted, rather
	// than found by walking every incident newest first: with an IN
	// subquery the planner, assuming them spread evenly, walks and probes
	// tens of thousands of rows to fill a page for a busy service.
	if f.CI != "" {
		w.add("i.id = ANY (ARRAY(SELECT l.incident_id FROM incident_cis l WHERE l.ci_id = (SELECT id FROM cis WHERE key = " + w.arg(f.CI) + ")))")
	}
	if f.Service != "" {
		w.add("i.id = ANY (ARRAY(SELECT l.incident_id FROM incident_services l WHERE l.service_id = (SELECT id FROM cis WHERE key = " + w.arg(f.Service) + ")))")
	}
	if !f.OpenedAfter.IsZero() {
		w.add("i.opened_at >= " + w.arg(f.OpenedAfter))
	}
	if !f.OpenedBefore.IsZero() {
		w.add("i.opened_at < " + w.arg(f.OpenedBefore))
	}
	// Title matches are likewise gathered in full through the trigram
	// index and sorted: with a LIMIT the planner walks the table newest
	// first expecting a match every few hundred rows, and for a rare
	// substring walks all of it. A substring most titles contain pays
	// instead (docs/performance.md).
	if f.Q != "" {
		w.add("i.id = ANY (ARRAY(SELECT t.id FROM incidents t WHERE t.title ILIKE " + w.arg("%"+escapeLike(f.Q)+"%") + "))")
	}
	query := `SELECT ` + incidentColumns + ` FROM incidents i WHERE ` + w.sql() +
		` ORDER BY i.opened_at DESC, i.id DESC LIMIT ` + w.arg(page.Limit+1)
	// An unnamed statement is planned with the actual values every time: a
	// cached generic plan would pick one index for every filter value.
	return listRows(ctx, s.pool, "incidents", query, append([]any{pgx.QueryExecModeExec}, w.args...), page.Limit, incidentCursor)
}

// incidentCursor is the keyset position after an incident: its opened_at
// (microseconds, as stored) and id.
func incidentCursor(i Incident) string {
	return strconv.FormatInt(i.OpenedAt.UnixMicro(), 10) + "." + strconv.FormatInt(i.ID, 10)
}

func parseIncidentCursor(s string) (time.Time, int64, error) {
	micros, idText, ok := strings.Cut(s, ".")
	us, err1 := strconv.ParseInt(micros, 10, 64)
	id, err2 := strconv.ParseInt(idText, 10, 64)
	if !ok || err1 != nil || err2 != nil || id < 1 {
		return time.Time{}, 0, badCursor()
	}
	return time.UnixMicro(us).UTC(), id, nil
}

// escapeLike makes s match literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
