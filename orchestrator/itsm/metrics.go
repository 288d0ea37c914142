package itsm

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Year is the length of a year in incident rates.
const Year = 365 * 24 * time.Hour

// maxPeriod bounds a figures period.
const maxPeriod = 50 * Year

// Scope selects the incidents a figure counts: those listing the CI among
// their affected CIs or, for a business service, among their affected
// services or affected CIs. Failures of the CIs a service depends on are not
// propagated here; the impact model does that.
type Scope struct {
	Key     string
	Service bool
}

// Stats are the incident figures of one CI or business service over
// [From, To).
type Stats struct {
	Key  string    `json:"key"`
	Kind string    `json:"kind"` // ci or service
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Incidents opened in the period, and those of them that were severe
	// (major, P1 or P2).
	Incidents       int `json:"incidents"`
	SevereIncidents int `json:"severe_incidents"`
	// OutageMinutes is the time within the period during which at least one
	// incident was open and not yet restored (overlaps counted once; an
	// incident never restored or closed lasts until the period's end or now).
	OutageMinutes float64 `json:"outage_minutes"`
	// MTBF is (period − severe outage) / severe incidents; MTTR is the mean
	// restored − opened of the severe incidents that were restored. Nil when
	// there is nothing to average.
	MTBF *orchestrator.Duration `json:"mtbf"`
	MTTR *orchestrator.Duration `json:"mttr"`
	// ByCause counts the period's incidents per cause category, with the
	// rate per year.
	ByCause map[string]CauseRate `json:"by_cause"`
}

// CauseRate is how often incidents of one cause occurred.
type CauseRate struct {
	Incidents int     `json:"incidents"`
	PerYear   float64 `json:"per_year"`
}

// incidentSpan is one incident as the figures see it.
type incidentSpan struct {
	Severe   bool
	Cause    string
	OpenedAt time.Time
	EndedAt  *time.Time // restored, else closed; nil while ongoing
}

// CheckPeriod validates a figures period, naming from or to.
func CheckPeriod(from, to time.Time) error {
	var v orchestrator.Validation
	switch {
	case !to.After(from):
		v.Add("to", "must be after from")
	case to.Sub(from) > maxPeriod:
		v.Add("from", "the period must be at most 50 years")
	}
	return v.Err()
}

// IncidentStats computes the incident figures of a CI or business service
// over [from, to). An unknown key, or a service key that is not a business
// service, is not_found.
func IncidentStats(ctx context.Context, q postgres.Querier, scope Scope, from, to time.Time) (Stats, error) {
	if err := CheckPeriod(from, to); err != nil {
		return Stats{}, err
	}
	id, err := scopeID(ctx, q, scope)
	if err != nil {
		return Stats{}, err
	}
	spans, err := scopeSpans(ctx, q, id, scope.Service, from, to)
	if err != nil {
		return Stats{}, err
	}
	st := computeStats(spans, from, to, time.Now())
	st.Key, st.Kind = scope.Key, "ci"
	if scope.Service {
		st.Kind = "service"
	}
	return st, nil
}

// scopeID resolves the scope's key.
func scopeID(ctx context.Context, q postgres.Querier, scope Scope) (int64, error) {
	ci, err := cmdb.ResolveOne(ctx, q, scope.Key, cmdb.ResolveOptions{Field: "key"})
	switch {
	case cmdb.IsUnknown(err) || (err == nil && scope.Service && ci.Class != classBusinessService):
		what := "CI"
		if scope.Service {
			what = "business service"
		}
		return 0, orchestrator.Errorf(orchestrator.ENOTFOUND, "%s %q not found", what, scope.Key)
	case err != nil:
		return 0, fmt.Errorf("resolve %q: %w", scope.Key, err)
	}
	return ci.ID, nil
}

// scopeSpans loads the incidents affecting CI id that overlap [from, to).
func scopeSpans(ctx context.Context, q postgres.Querier, id int64, service bool, from, to time.Time) ([]incidentSpan, error) {
	affecting := `SELECT incident_id FROM incident_cis WHERE ci_id = $1`
	if service {
		affecting += ` UNION SELECT incident_id FROM incident_services WHERE service_id = $1`
	}
	query := `SELECT i.major OR i.priority IN ('P1', 'P2'), i.cause, i.opened_at, coalesce(i.restored_at, i.closed_at)
		FROM incidents i
		WHERE i.id IN (` + affecting + `) AND i.opened_at < $3
		  AND (coalesce(i.restored_at, i.closed_at) IS NULL OR coalesce(i.restored_at, i.closed_at) > $2)
		ORDER BY i.opened_at, i.id`
	rows, err := q.Query(ctx, query, id, from, to)
	if err != nil {
		return nil, fmt.Errorf("load incidents of CI %d: %w", id, err)
	}
	spans, err := pgx.CollectRows(rows, pgx.RowToStructByPos[incidentSpan])
	if err != nil {
		return nil, fmt.Errorf("load incidents of CI %d: %w", id, err)
	}
	return spans, nil
}

// outageOf is the span's outage interval; an ongoing incident lasts until
// the earlier of to and now.
func (s incidentSpan) outageOf(to, now time.Time) Interval {
	end := to
	if now.Before(end) {
		end = now
	}
	if s.EndedAt != nil {
		end = *s.EndedAt
	}
	return Interval{Start: s.OpenedAt, End: end}
}

// computeStats derives the figures from the incidents overlapping [from, to).
func computeStats(spans []incidentSpan, from, to, now time.Time) Stats {
	st := Stats{From: from, To: to, ByCause: map[string]CauseRate{}}
	var all, severe []Interval
	var repairs []time.Duration
	for _, s := range spans {
		iv := s.outageOf(to, now)
		if c, ok := iv.Clip(from, to); ok {
			all = append(all, c)
		}
		if s.OpenedAt.Before(from) || !s.OpenedAt.Before(to) {
			continue
		}
		st.Incidents++
		cr := st.ByCause[s.Cause]
		cr.Incidents++
		st.ByCause[s.Cause] = cr
		if !s.Severe {
			continue
		}
		st.SevereIncidents++
		if c, ok := iv.Clip(from, to); ok {
			severe = append(severe, c)
		}
		if s.EndedAt != nil {
			repairs = append(repairs, s.EndedAt.Sub(s.OpenedAt))
		}
	}
	period := to.Sub(from)
	st.OutageMinutes = Total(Union(all)).Minutes()
	years := float64(period) / float64(Year)
	for cause, cr := range st.ByCause {
		cr.PerYear = float64(cr.Incidents) / years
		st.ByCause[cause] = cr
	}
	if st.SevereIncidents > 0 {
		mtbf := roundDuration((period - Total(Union(severe))) / time.Duration(st.SevereIncidents))
		st.MTBF = &mtbf
	}
	if len(repairs) > 0 {
		var sum time.Duration
		for _, r := range repairs {
			sum += r
		}
		mttr := roundDuration(sum / time.Duration(len(repairs)))
		st.MTTR = &mttr
	}
	return st
}

// roundDuration rounds to whole seconds, the precision of durations.
func roundDuration(d time.Duration) orchestrator.Duration {
	return orchestrator.Duration(d.Round(time.Second))
}
