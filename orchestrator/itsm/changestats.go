package itsm

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// ChangeStats are the change figures of a period [From, To): changes count
// in it by their implemented_at, releases by their deployed_at.
type ChangeStats struct {
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	Implemented int       `json:"implemented"`
	Failed      int       `json:"failed"`
	RolledBack  int       `json:"rolled_back"`
	// FailureRate is (failed + rolled back) / (implemented + failed +
	// rolled back), 0 to 1; nil when no change was carried out.
	FailureRate *float64 `json:"failure_rate"`
	// PerCI lists the CIs most touched by major or emergency changes and
	// by releases, busiest first.
	PerCI []CIChanges `json:"per_ci"`
}

// CIChanges counts what touched one CI in a period. A change both major
// and of type emergency counts in both columns.
type CIChanges struct {
	CI               string `json:"ci"`
	MajorChanges     int    `json:"major_changes"`
	EmergencyChanges int    `json:"emergency_changes"`
	Releases         int    `json:"releases"`
}

// ChangeFigures computes the change failure rate of [from, to) and the
// perCI busiest CIs by major/emergency changes carried out (implemented,
// failed or rolled back) and releases deployed (deployed, failed or rolled
// back) in the period.
func ChangeFigures(ctx context.Context, q postgres.Querier, from, to time.Time, perCI int) (ChangeStats, error) {
	if err := CheckPeriod(from, to); err != nil {
		return ChangeStats{}, err
	}
	st := ChangeStats{From: from, To: to, PerCI: []CIChanges{}}
	const outcomes = `SELECT count(*) FILTER (WHERE status = 'implemented'), count(*) FILTER (WHERE status = 'failed'),
			count(*) FILTER (WHERE status = 'rolled_back')
		FROM changes WHERE implemented_at >= $1 AND implemented_at < $2`
	if err := q.QueryRow(ctx, outcomes, from, to).Scan(&st.Implemented, &st.Failed, &st.RolledBack); err != nil {
		return ChangeStats{}, fmt.Errorf("count change outcomes: %w", err)
	}
	if done := st.Implemented + st.Failed + st.RolledBack; done > 0 {
		rate := float64(st.Failed+st.RolledBack) / float64(done)
		st.FailureRate = &rate
	}
	const busiest = `WITH ch AS (
			SELECT l.ci_id, count(*) FILTER (WHERE c.major) AS major, count(*) FILTER (WHERE c.type = 'emergency') AS emergency
			FROM changes c JOIN change_cis l ON l.change_id = c.id
			WHERE (c.major OR c.type = 'emergency') AND c.status IN ('implemented', 'failed', 'rolled_back')
			  AND c.implemented_at >= $1 AND c.implemented_at < $2
			GROUP BY l.ci_id),
		rel AS (
			SELECT l.ci_id, count(*) AS releases
			FROM releases r JOIN release_cis l ON l.release_id = r.id
			WHERE r.status <> 'planned' AND r.deployed_at >= $1 AND r.deployed_at < $2
			GROUP BY l.ci_id)
		SELECT ci.key, coalesce(ch.major, 0), coalesce(ch.emergency, 0), coalesce(rel.releases, 0)
		FROM ch FULL JOIN rel ON rel.ci_id = ch.ci_id JOIN cis ci ON ci.id = coalesce(ch.ci_id, rel.ci_id)
		ORDER BY coalesce(ch.major, 0) + coalesce(ch.emergency, 0) + coalesce(rel.releases, 0) DESC, ci.key
		LIMIT $3`
	rows, err := q.Query(ctx, busiest, from, to, perCI)
	if err != nil {
		return ChangeStats{}, fmt.Errorf("count changes per CI: %w", err)
	}
	per, err := pgx.CollectRows(rows, pgx.RowToStructByPos[CIChanges])
	if err != nil {
		return ChangeStats{}, fmt.Errorf("count changes per CI: %w", err)
	}
	if per != nil {
		st.PerCI = per
	}
	return st, nil
}

// Touch is a change or release that touched some of a set of CIs.
type Touch struct {
	Kind       string    `json:"kind"` // change or release
	ID         int64     `json:"id"`
	ExternalID string    `json:"external_id"`
	Title      string    `json:"title"` // a release's version and title
	At         time.Time `json:"at"`    // implemented_at or deployed_at
	CIIDs      []int64   `json:"ci_ids"`
}

// ChangesTouching returns the implemented major or emergency changes and
// the deployed releases that touched any of ciIDs after since, oldest first,
// each with the CIs of the set it touched. Runbook staleness uses it: such a
// touch after a runbook's last passed drill means it needs a retest.
func ChangesTouching(ctx context.Context, q postgres.Querier, ciIDs []int64, since time.Time) ([]Touch, error) {
	if len(ciIDs) == 0 {
		return nil, nil
	}
	// A join with the set rather than "l.ci_id = ANY($1)": over the 4,000
	// CIs of a drill programme's runbooks that took 0.4–5 s from a pooled
	// connection's cached statement (against 2 ms planned for the values),
	// the join takes milliseconds.
	const query = `WITH touched AS (SELECT DISTINCT unnest($1::bigint[]) AS ci_id)
		SELECT 'change', c.id, c.external_id, c.title, c.implemented_at, array_agg(l.ci_id ORDER BY l.ci_id)
		FROM changes c JOIN change_cis l ON l.change_id = c.id JOIN touched t ON t.ci_id = l.ci_id
		WHERE c.status = 'implemented' AND (c.major OR c.type = 'emergency') AND c.implemented_at > $2
		GROUP BY c.id
		UNION ALL
		SELECT 'release', r.id, r.external_id, trim(r.version || ' ' || r.title), r.deployed_at, array_agg(l.ci_id ORDER BY l.ci_id)
		FROM releases r JOIN release_cis l ON l.release_id = r.id JOIN touched t ON t.ci_id = l.ci_id
		WHERE r.status = 'deployed' AND r.deployed_at > $2
		GROUP BY r.id
		ORDER BY 5, 1, 2`
	rows, err := q.Query(ctx, query, ciIDs, since)
	if err != nil {
		return nil, fmt.Errorf("find changes touching CIs: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Touch])
	if err != nil {
		return nil, fmt.Errorf("find changes touching CIs: %w", err)
	}
	return out, nil
}
