package itsm

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

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
//
// Each filter is answered by the index that finds its page without reading
// more than it returns, or, where none can, by gathering the filter's few
// matches and sorting them (docs/performance.md has the plans and costs):
//   - service: the service's links carry the incident's opened_at, so the
//     page is the first entries of the service's part of their index;
//   - ci: the CI's incidents (a hundred or two) are fetched by id and
//     sorted, rather than found by walking every incident newest first,
//     which the planner, assuming them spread evenly, would otherwise do;
//   - q: title matches are read through the trigram index and sorted.
//     The index is asked for the search text's longest word only: the
//     trigrams of a short word such as "ci" occur in nearly every title, and
//     reading their posting lists cost ten times the rest of the search.
//     The whole text is then checked on the matches.
//   - the rest walk an index on (filter, opened_at, id) backwards.
func (s *Store) ListIncidents(ctx context.Context, f IncidentFilter, page orchestrator.Page) (orchestrator.List[Incident], error) {
	var w where
	// Columns of the ordering: the service's links when they drive, else
	// the incident's own.
	at, id := "i.opened_at", "i.id"
	from := "incidents i"
	if f.Service != "" {
		at, id = "s.opened_at", "s.incident_id"
		from = "incident_services s JOIN incidents i ON i.id = s.incident_id"
		w.add("s.service_id = (SELECT id FROM cis WHERE key = " + w.arg(f.Service) + ")")
	}
	if page.After != "" {
		after, afterID, err := parseIncidentCursor(page.After)
		if err != nil {
			return orchestrator.List[Incident]{}, err
		}
		w.add("(" + at + ", " + id + ") < (" + w.arg(after) + ", " + w.arg(afterID) + ")")
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
	if !f.OpenedAfter.IsZero() {
		w.add(at + " >= " + w.arg(f.OpenedAfter))
	}
	if !f.OpenedBefore.IsZero() {
		w.add(at + " < " + w.arg(f.OpenedBefore))
	}
	if f.CI != "" {
		w.add("i.id = ANY (ARRAY(SELECT l.incident_id FROM incident_cis l WHERE l.ci_id = (SELECT id FROM cis WHERE key = " + w.arg(f.CI) + ")))")
	}
	if f.Q != "" {
		pattern := "%" + escapeLike(f.Q) + "%"
		word := searchWord(f.Q)
		if word == "" {
			word = pattern
		} else {
			word = "%" + word + "%"
		}
		if f.Service == "" {
			// The matches are read once, fenced off by OFFSET 0 so the
			// whole-text check stays out of the index condition.
			from = "(SELECT * FROM incidents t WHERE t.title ILIKE " + w.arg(word) + " OFFSET 0) i"
		} else {
			w.add("i.id = ANY (ARRAY(SELECT t.id FROM incidents t WHERE t.title ILIKE " + w.arg(word) + "))")
		}
		if word != pattern {
			w.add("i.title ILIKE " + w.arg(pattern))
		}
	}
	query := `SELECT ` + incidentListColumns + ` FROM ` + from + ` WHERE ` + w.sql() +
		` ORDER BY ` + at + ` DESC, ` + id + ` DESC LIMIT ` + w.arg(page.Limit+1)
	// Each combination of filters is its own statement, prepared once per
	// connection. Its plan does not depend on the values: every shape above
	// has one right index whatever the filter matches, so PostgreSQL may
	// keep a generic plan and skip planning (0.6 ms, more than executing).
	rows, err := s.pool.Query(ctx, query, w.args...)
	if err != nil {
		return orchestrator.List[Incident]{}, fmt.Errorf("list incidents: %w", err)
	}
	var (
		items         = make([]Incident, 0, page.Limit+1)
		links         [][2][]int64 // each item's CI and service ids
		inc           Incident
		cis, services []int64
		version       int64
	)
	// Scanning into fields directly costs a fifth of matching columns to
	// the struct by reflection on every row.
	targets := []any{&inc.ID, &inc.Source, &inc.ExternalID, &inc.Title, &inc.Description, &inc.Priority, &inc.Major,
		&inc.Cause, &cis, &services, &inc.OpenedAt, &inc.RestoredAt, &inc.ClosedAt, &inc.ProblemID,
		&inc.ContinuityInvoked, &inc.Status, &inc.CreatedAt, &inc.UpdatedAt, &version}
	_, err = pgx.ForEachRow(rows, targets, func() error {
		items = append(items, inc)
		links = append(links, [2][]int64{cis, services})
		inc, cis, services = Incident{}, nil, nil
		return nil
	})
	if err != nil {
		return orchestrator.List[Incident]{}, fmt.Errorf("list incidents: %w", err)
	}
	if err := s.keys.name(ctx, s.pool, version, items, links); err != nil {
		return orchestrator.List[Incident]{}, fmt.Errorf("list incidents: %w", err)
	}
	return orchestrator.Paginate(items, page.Limit, incidentCursor), nil
}

// incidentListColumns are incidentColumns with the affected CIs and
// services as ids, named from the CI key cache, and the cmdb_version the
// statement read them at. Joining cis and sorting the keys for each row
// took two thirds of the database's time for a page.
var incidentListColumns = `i.id, i.source, i.external_id, i.title, i.description, i.priority, i.major, i.cause,
	ARRAY(SELECT l.ci_id FROM incident_cis l WHERE l.incident_id = i.id),
	ARRAY(SELECT l.service_id FROM incident_services l WHERE l.incident_id = i.id),
	i.opened_at, i.restored_at, i.closed_at, i.problem_id, i.continuity_invoked, i.status, i.created_at, i.updated_at,
	(SELECT v.version FROM cmdb_version v WHERE v.id = 1)`

// searchWord is the longest run of letters and digits in a title search
// of at least three of them, or "" when there is none. Every
// title that contains the search text contains it, and the trigram index
// finds it without the trigrams at the search's word boundaries.
func searchWord(q string) string {
	best, run, start := "", 0, -1
	flush := func(end int) {
		if start >= 0 && run >= 3 && run > len([]rune(best)) {
			best = q[start:end]
		}
		start, run = -1, 0
	}
	for i, r := range q {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			run++
			continue
		}
		flush(i)
	}
	flush(len(q))
	return best
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
