package report

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
)

// Sources of a history point.
const (
	SourceScheduler = "scheduler"
	// SourceDemo marks the demo's points: today's is measured, the earlier
	// ones derived from it so that a trend can be drawn.
	SourceDemo = "demo"
)

// HistoryPoint is the organisation's readiness on one day (UTC).
type HistoryPoint struct {
	Day     string    `json:"day"`
	Score   float64   `json:"score"`
	Status  string    `json:"status"`
	Counts  Counts    `json:"counts"`
	Source  string    `json:"source"`
	TakenAt time.Time `json:"taken_at"`
}

// serviceScore is one service's part of a stored snapshot.
type serviceScore struct {
	Service string `json:"service"`
	Tier    *int   `json:"tier"`
	Score   int    `json:"score"`
	Status  string `json:"status"`
}

// dayLayout writes a history day.
const dayLayout = "2006-01-02"

// Snapshot computes today's readiness and stores it as the day's point,
// replacing one taken earlier the same day: one row per day however many
// replicas or requests take it.
func (s *Service) Snapshot(ctx context.Context) (HistoryPoint, error) {
	org, err := s.Readiness(ctx, Filter{})
	if err != nil {
		return HistoryPoint{}, err
	}
	p := HistoryPoint{Day: org.EvaluatedAt.UTC().Format(dayLayout), Score: org.Score, Status: org.Status,
		Counts: org.Counts, Source: SourceScheduler, TakenAt: org.EvaluatedAt.UTC()}
	services := make([]serviceScore, len(org.Items))
	for i, r := range org.Items {
		services[i] = serviceScore{Service: r.Service, Tier: r.Tier, Score: r.Score, Status: r.Status}
	}
	const upsert = `INSERT INTO readiness_snapshots (day, score, status, counts, services, source, taken_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (day) DO UPDATE SET score = excluded.score, status = excluded.status, counts = excluded.counts,
			services = excluded.services, source = excluded.source, taken_at = excluded.taken_at`
	if _, err := s.pool.Exec(ctx, upsert, p.Day, p.Score, p.Status, p.Counts, services, p.Source, p.TakenAt); err != nil {
		return HistoryPoint{}, fmt.Errorf("store readiness snapshot of %s: %w", p.Day, postgres.Translate(err))
	}
	return p, nil
}

// SeedHistory stores points on the days that have none, for the demo:
// points already there, measured or seeded, are kept.
func (s *Service) SeedHistory(ctx context.Context, points []HistoryPoint) (int, error) {
	rows := make([][]any, len(points))
	for i, p := range points {
		counts, err := json.Marshal(p.Counts)
		if err != nil {
			return 0, err
		}
		rows[i] = []any{p.Day, p.Score, p.Status, string(counts), p.Source, p.TakenAt}
	}
	var n int64
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		for _, r := range rows {
			tag, err := tx.Exec(ctx, `INSERT INTO readiness_snapshots (day, score, status, counts, source, taken_at)
				VALUES ($1, $2, $3, $4::jsonb, $5, $6) ON CONFLICT (day) DO NOTHING`, r...)
			if err != nil {
				return fmt.Errorf("seed readiness history: %w", postgres.Translate(err))
			}
			n += tag.RowsAffected()
		}
		return nil
	})
	return int(n), err
}

// History returns the daily points from from to to (days, UTC,
// inclusive), oldest first. A zero to is today; a zero from a year before
// to.
func (s *Service) History(ctx context.Context, from, to time.Time) ([]HistoryPoint, error) {
	if to.IsZero() {
		to = s.rt.Now()
	}
	if from.IsZero() {
		from = to.AddDate(-1, 0, 0)
	}
	if from.After(to) {
		return nil, orchestrator.Invalid("from", "must not be after to")
	}
	rows, err := s.pool.Query(ctx, `SELECT day::text, score::float8, status, counts, source, taken_at
		FROM readiness_snapshots WHERE day BETWEEN $1::date AND $2::date ORDER BY day`,
		from.UTC().Format(dayLayout), to.UTC().Format(dayLayout))
	if err != nil {
		return nil, fmt.Errorf("read readiness history: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (HistoryPoint, error) {
		var p HistoryPoint
		err := row.Scan(&p.Day, &p.Score, &p.Status, &p.Counts, &p.Source, &p.TakenAt)
		p.TakenAt = p.TakenAt.UTC()
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("read readiness history: %w", err)
	}
	if out == nil {
		out = []HistoryPoint{}
	}
	return out, nil
}

// HandleRun is the scheduler's readiness_snapshot job.
func (s *Service) HandleRun(ctx context.Context, _ scheduler.Run) (string, error) {
	p, err := s.Snapshot(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("readiness on %s: %.1f (%s)", p.Day, p.Score, p.Status), nil
}
