package drills

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// dueReminder is a planned drill whose reminder is due.
type dueReminder struct {
	id           int64
	title, typ   string
	services     []string
	participants []byte
	start        time.Time
	days         int
}

// remind publishes one drill_reminder per planned drill that starts within
// its programme's reminder_days (7 for a drill outside a programme), once:
// the drill's reminded_at records it, in the transaction that publishes.
// Channels subscribed to drill_reminder hear it, with the participants and
// their roles in the details. It returns how many drills were reminded.
func (s *Service) remind(ctx context.Context) (int, error) {
	n := 0
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.rt.Now()
		rows, err := tx.Query(ctx, `SELECT d.id, d.title, d.type, d.services, d.participants, d.planned_start,
				coalesce((p.settings->>'reminder_days')::int, $2)
			FROM drills d LEFT JOIN drill_programmes p ON p.year = d.programme_year
			WHERE d.status = 'planned' AND d.reminded_at IS NULL AND d.planned_start > $1
			AND d.planned_start <= $1 + make_interval(days => coalesce((p.settings->>'reminder_days')::int, $2))
			ORDER BY d.planned_start, d.id
			FOR UPDATE OF d SKIP LOCKED`, now, defaultReminderDays)
		if err != nil {
			return fmt.Errorf("read drills to remind: %w", err)
		}
		due, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (dueReminder, error) {
			var r dueReminder
			err := row.Scan(&r.id, &r.title, &r.typ, &r.services, &r.participants, &r.start, &r.days)
			return r, err
		})
		if err != nil {
			return fmt.Errorf("read drills to remind: %w", err)
		}
		for _, r := range due {
			if err := publishReminder(ctx, tx, r, now); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE drills SET reminded_at = $2 WHERE id = $1`, r.id, now); err != nil {
				return fmt.Errorf("mark drill %d reminded: %w", r.id, err)
			}
		}
		n = len(due)
		return nil
	})
	return n, err
}

// publishReminder queues one drill's reminder.
func publishReminder(ctx context.Context, tx pgx.Tx, r dueReminder, now time.Time) error {
	var participants []Participant
	if err := json.Unmarshal(r.participants, &participants); err != nil {
		return fmt.Errorf("drill %d participants: %w", r.id, err)
	}
	names := make([]string, len(participants))
	for i, p := range participants {
		names[i] = p.Name
		if p.Role != "" {
			names[i] += " (" + p.Role + ")"
		}
	}
	inDays := int(r.start.Sub(now).Hours() / 24)
	when := "in " + strconv.Itoa(inDays) + " days"
	if inDays < 1 {
		when = "within a day"
	}
	err := notify.Publish(ctx, tx, notify.Event{
		Type:       notify.EventDrillReminder,
		Subject:    subject(r.id),
		Summary:    fmt.Sprintf("%s drill %q of %s starts %s, at %s", r.typ, r.title, strings.Join(r.services, ", "), when, r.start.UTC().Format(time.RFC3339)),
		OccurredAt: now,
		Occurrence: "reminder " + r.start.UTC().Format(time.RFC3339),
		Details: map[string]any{"drill": r.id, "type": r.typ, "services": r.services, "planned_start": r.start.UTC(),
			"participants": names},
	})
	if err != nil {
		return fmt.Errorf("remind drill %d: %w", r.id, err)
	}
	return nil
}
