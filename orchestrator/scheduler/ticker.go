package scheduler

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/robfig/cron/v3"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Tick sizes: schedules handled per transaction, and transactions per tick,
// so one tick stays short however many schedules fall due together.
const (
	tickBatch      = 500
	maxTickBatches = 100
	// maxScan bounds how many past fire times one plan walks through; a
	// longer outage is counted as "more than" this many misses.
	maxScan = 10000
)

// firings is what one tick does for one due schedule: record the missed
// fire times as one row, run the latest fire time still within the
// catch-up window, and move on to the first fire time after now.
type firings struct {
	missed                  int  // fire times older than the catch-up window
	missedMore              bool // missed stopped counting at maxScan
	firstMissed, lastMissed time.Time
	run                     time.Time // zero when nothing is to run
	coalesced               int       // later-noticed fire times folded into run
	next                    time.Time // zero when the expression never fires again
}

// planFirings walks spec's fire times from next (the first one not yet
// handled) up to now. A fire time is on time when it is no older than
// window, which the caller has already widened by the misfire grace.
func planFirings(spec cron.Schedule, next, now time.Time, window time.Duration) firings {
	var p firings
	cutoff := now.Add(-window)
	t := next
	for !t.IsZero() && t.Before(cutoff) {
		if p.missed == 0 {
			p.firstMissed = t
		}
		p.lastMissed = t
		p.missed++
		if p.missed >= maxScan {
			p.missedMore = true
			p.lastMissed = cutoff
			t = firstAtOrAfter(spec, t, cutoff)
			break
		}
		t = spec.Next(t)
	}
	for scanned := 0; !t.IsZero() && !t.After(now); scanned++ {
		if !p.run.IsZero() {
			p.coalesced++
		}
		p.run = t
		if scanned >= maxScan {
			t = spec.Next(now)
			break
		}
		t = spec.Next(t)
	}
	p.next = t
	return p
}

// firstAtOrAfter is the first fire time of spec at or after x, continuing
// the sequence through from.
func firstAtOrAfter(spec cron.Schedule, from, x time.Time) time.Time {
	if every, ok := spec.(cron.ConstantDelaySchedule); ok {
		steps := (x.Sub(from) + every.Delay - 1) / every.Delay
		return from.Add(steps * every.Delay)
	}
	return spec.Next(x.Add(-time.Nanosecond))
}

// jitterOffset is a firing's start delay: derived from the schedule and the
// fire time, so every replica computes the same one.
func jitterOffset(scheduleID int64, fireAt time.Time, jitter time.Duration) time.Duration {
	if jitter <= 0 {
		return 0
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%d/%d", scheduleID, fireAt.UnixMicro())
	ms := int64(jitter / time.Millisecond)
	return time.Duration(h.Sum64()%uint64(ms+1)) * time.Millisecond
}

// dueSchedule is what the tick reads of a schedule whose firing is due.
type dueSchedule struct {
	id       int64
	name     string
	kind     Kind
	target   string
	cron     string
	timezone string
	window   time.Duration
	jitter   time.Duration
	next     time.Time
}

// tickResult counts what a tick did, for metrics.
type tickResult struct {
	schedules int
	fired     map[Kind]int
	missed    map[Kind]int
}

// tick turns every due firing into a run row, batch by batch.
func (s *Scheduler) tick(ctx context.Context) error {
	for range maxTickBatches {
		n, err := s.tickBatch(ctx)
		if err != nil || n < tickBatch {
			return err
		}
	}
	return nil
}

// tickBatch handles up to tickBatch due schedules in one transaction. The
// schedules are locked with SKIP LOCKED, so replicas ticking together share
// the work; the unique (schedule_id, fire_at) key keeps a firing single even
// if two replicas ever plan the same one.
func (s *Scheduler) tickBatch(ctx context.Context) (int, error) {
	start := time.Now()
	res := tickResult{fired: map[Kind]int{}, missed: map[Kind]int{}}
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		due, now, err := s.lockDue(ctx, tx)
		if err != nil || len(due) == 0 {
			return err
		}
		res.schedules = len(due)
		var events []Event
		batch := &pgx.Batch{}
		for _, d := range due {
			s.queueFirings(batch, d, now, &res, &events)
		}
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return fmt.Errorf("record firings: %w", err)
		}
		return s.emit(ctx, tx, events)
	})
	if err != nil {
		return 0, err
	}
	if res.schedules > 0 {
		s.queue.Metrics().ObserveDB("tick", time.Since(start))
	}
	for kind, n := range res.fired {
		s.metrics.firings.WithLabelValues(string(kind)).Add(float64(n))
	}
	for kind, n := range res.missed {
		s.metrics.misses.WithLabelValues(string(kind)).Add(float64(n))
	}
	return res.schedules, nil
}

func (s *Scheduler) lockDue(ctx context.Context, tx pgx.Tx) ([]dueSchedule, time.Time, error) {
	var now time.Time
	if err := tx.QueryRow(ctx, `SELECT coalesce($1::timestamptz, now())`, postgres.NowArg(s.rt.Clock)).Scan(&now); err != nil {
		return nil, now, fmt.Errorf("read clock: %w", err)
	}
	const query = `SELECT id, name, kind, target, cron, timezone, catch_up_window_s, jitter_s, next_fire_at
		FROM schedules WHERE enabled AND next_fire_at <= $1
		ORDER BY next_fire_at LIMIT $2 FOR UPDATE SKIP LOCKED`
	rows, err := tx.Query(ctx, query, now, tickBatch)
	if err != nil {
		return nil, now, fmt.Errorf("find due schedules: %w", err)
	}
	due, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (dueSchedule, error) {
		var d dueSchedule
		var window, jitter int64
		err := row.Scan(&d.id, &d.name, &d.kind, &d.target, &d.cron, &d.timezone, &window, &jitter, &d.next)
		d.window, d.jitter = time.Duration(window)*time.Second, time.Duration(jitter)*time.Second
		return d, err
	})
	if err != nil {
		return nil, now, fmt.Errorf("find due schedules: %w", err)
	}
	return due, now, nil
}

// queueFirings adds to batch the rows for one due schedule and the move of
// its next fire time. Callbacks count only rows actually inserted.
func (s *Scheduler) queueFirings(batch *pgx.Batch, d dueSchedule, now time.Time, res *tickResult, events *[]Event) {
	spec, err := s.specs.get(d.cron, d.timezone)
	if err != nil {
		// A schedule edited outside the API: stop firing it and say why once.
		s.logger.Error("schedule has an invalid cron expression; disabling it", "schedule", d.id, "error", err)
		batch.Queue(`UPDATE schedules SET next_fire_at = NULL WHERE id = $1`, d.id)
		return
	}
	p := planFirings(spec, d.next, now, max(d.window, s.opts.MisfireGrace))
	const insert = `INSERT INTO schedule_runs (schedule_id, fire_at, run_after, status, finished_at, error, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (schedule_id, fire_at) DO NOTHING RETURNING ` + runColumns
	if p.missed > 0 {
		msg := missedMessage(p, d.window)
		batch.Queue(insert, d.id, p.firstMissed, p.firstMissed, StatusMissed, now, msg, now).QueryRow(func(row pgx.Row) error {
			run, err := readRun(row)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("record missed firings of schedule %d: %w", d.id, err)
			}
			res.missed[d.kind] += p.missed
			run.ScheduleName, run.Kind, run.Target = d.name, d.kind, d.target
			*events = append(*events, Event{Run: run})
			return nil
		})
	}
	if !p.run.IsZero() {
		runAfter := p.run.Add(jitterOffset(d.id, p.run, d.jitter))
		batch.Queue(insert, d.id, p.run, runAfter, StatusPending, nil, "", now).QueryRow(func(row pgx.Row) error {
			_, err := readRun(row)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("record firing of schedule %d: %w", d.id, err)
			}
			res.fired[d.kind]++
			return nil
		})
	}
	var next *time.Time
	if !p.next.IsZero() {
		n := p.next.UTC()
		next = &n
	}
	batch.Queue(`UPDATE schedules SET next_fire_at = $2 WHERE id = $1`, d.id, next)
}

func missedMessage(p firings, window time.Duration) string {
	count := fmt.Sprint(p.missed)
	if p.missedMore {
		count = "more than " + count
	}
	return fmt.Sprintf("missed %s firing(s) from %s to %s: noticed later than the catch-up window (%s) allows",
		count, p.firstMissed.UTC().Format(time.RFC3339), p.lastMissed.UTC().Format(time.RFC3339), orchestrator.Duration(window))
}
