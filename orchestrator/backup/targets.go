package backup

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
)

// Create adds a target and, in the same transaction, its backup_check
// schedule, whose target is the new target's id.
func (s *Service) Create(ctx context.Context, in TargetInput) (Target, error) {
	vt, err := in.validate()
	if err != nil {
		return Target{}, err
	}
	var id int64
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		ci, err := ciID(ctx, tx, vt.in.CI)
		if err != nil {
			return err
		}
		const insert = `INSERT INTO backup_targets (ci_id, name, kind, config, restore_test, timeout_s, max_age_s)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`
		err = tx.QueryRow(ctx, insert, ci, vt.in.Name, vt.in.Kind, vt.config, vt.in.RestoreTest,
			int64(vt.timeout/time.Second), seconds(vt.maxAge)).Scan(&id)
		if err != nil {
			return fmt.Errorf("insert backup target: %w", postgres.Translate(err))
		}
		if err := createSchedule(ctx, tx, id, vt); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{Action: "create", Resource: "backup-targets", ResourceID: strconv.FormatInt(id, 10),
			Summary: fmt.Sprintf("%s target %q for CI %s at %q", vt.in.Kind, vt.in.Name, vt.in.CI, vt.in.Schedule)})
	})
	if err != nil {
		return Target{}, err
	}
	return s.Get(ctx, id)
}

// Replace overwrites a target and brings its schedule in line (creating
// it again if someone deleted it). A changed expression or time zone
// restarts firing from now, as the scheduler does for its own updates.
func (s *Service) Replace(ctx context.Context, id int64, in TargetInput) (Target, error) {
	vt, err := in.validate()
	if err != nil {
		return Target{}, err
	}
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		ci, err := ciID(ctx, tx, vt.in.CI)
		if err != nil {
			return err
		}
		const update = `UPDATE backup_targets SET ci_id = $2, name = $3, kind = $4, config = $5, restore_test = $6,
				timeout_s = $7, max_age_s = $8, updated_at = now()
			WHERE id = $1 RETURNING schedule_id`
		var scheduleID *int64
		err = tx.QueryRow(ctx, update, id, ci, vt.in.Name, vt.in.Kind, vt.config, vt.in.RestoreTest,
			int64(vt.timeout/time.Second), seconds(vt.maxAge)).Scan(&scheduleID)
		if errors.Is(err, pgx.ErrNoRows) {
			return orchestrator.Errorf(orchestrator.ENOTFOUND, "backup target %d not found", id)
		}
		if err != nil {
			return fmt.Errorf("update backup target %d: %w", id, postgres.Translate(err))
		}
		if scheduleID == nil {
			err = createSchedule(ctx, tx, id, vt)
		} else {
			err = updateSchedule(ctx, tx, *scheduleID, vt)
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{Action: "update", Resource: "backup-targets", ResourceID: strconv.FormatInt(id, 10),
			Summary: fmt.Sprintf("%s target %q for CI %s at %q", vt.in.Kind, vt.in.Name, vt.in.CI, vt.in.Schedule)})
	})
	if err != nil {
		return Target{}, err
	}
	return s.Get(ctx, id)
}

// Delete removes a target, its check history and its schedule.
func (s *Service) Delete(ctx context.Context, id int64) error {
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var name string
		var scheduleID *int64
		err := tx.QueryRow(ctx, `DELETE FROM backup_targets WHERE id = $1 RETURNING name, schedule_id`, id).Scan(&name, &scheduleID)
		if errors.Is(err, pgx.ErrNoRows) {
			return orchestrator.Errorf(orchestrator.ENOTFOUND, "backup target %d not found", id)
		}
		if err != nil {
			return fmt.Errorf("delete backup target %d: %w", id, err)
		}
		if scheduleID != nil {
			if _, err := tx.Exec(ctx, `DELETE FROM schedules WHERE id = $1`, *scheduleID); err != nil {
				return fmt.Errorf("delete schedule of backup target %d: %w", id, err)
			}
			err = audit.Record(ctx, tx, audit.Change{Action: "delete", Resource: "schedules", ResourceID: strconv.FormatInt(*scheduleID, 10),
				Summary: fmt.Sprintf("schedule of backup target %d, deleted with it", id)})
			if err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Change{Action: "delete", Resource: "backup-targets", ResourceID: strconv.FormatInt(id, 10),
			Summary: fmt.Sprintf("target %q", name)})
	})
}

// scheduleName is the unique name of a target's schedule.
func scheduleName(id int64) string { return fmt.Sprintf("backup target %d", id) }

// createSchedule inserts the target's backup_check schedule and links it.
// The scheduler package opens its own transaction for Create, so the row is
// written here, in ours, with the same columns and the same first firing
// (the first cron time after the database's now).
func createSchedule(ctx context.Context, tx pgx.Tx, id int64, vt validTarget) error {
	var now time.Time
	if err := tx.QueryRow(ctx, `SELECT now()`).Scan(&now); err != nil {
		return fmt.Errorf("read database clock: %w", err)
	}
	const insert = `INSERT INTO schedules (name, kind, target, cron, timezone, max_run_s, next_fire_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`
	var scheduleID int64
	err := tx.QueryRow(ctx, insert, scheduleName(id), scheduler.KindBackupCheck, strconv.FormatInt(id, 10), vt.in.Schedule,
		vt.in.Timezone, int64(vt.maxRun()/time.Second), nextFire(vt, now), orchestrator.ActorFrom(ctx).Name).Scan(&scheduleID)
	if err != nil {
		return fmt.Errorf("create schedule of backup target %d: %w", id, postgres.Translate(err))
	}
	if _, err := tx.Exec(ctx, `UPDATE backup_targets SET schedule_id = $2 WHERE id = $1`, id, scheduleID); err != nil {
		return fmt.Errorf("link schedule of backup target %d: %w", id, err)
	}
	return audit.Record(ctx, tx, audit.Change{Action: "create", Resource: "schedules", ResourceID: strconv.FormatInt(scheduleID, 10),
		Summary: fmt.Sprintf("schedule %q: %s %q at %q (%s)", scheduleName(id), scheduler.KindBackupCheck, strconv.FormatInt(id, 10),
			vt.in.Schedule, vt.in.Timezone)})
}

// updateSchedule keeps the target's schedule in step with the target.
func updateSchedule(ctx context.Context, tx pgx.Tx, scheduleID int64, vt validTarget) error {
	var now time.Time
	var cron, tz string
	err := tx.QueryRow(ctx, `SELECT now(), cron, timezone FROM schedules WHERE id = $1 FOR UPDATE`, scheduleID).Scan(&now, &cron, &tz)
	if err != nil {
		return fmt.Errorf("load schedule %d: %w", scheduleID, err)
	}
	if cron == vt.in.Schedule && tz == vt.in.Timezone {
		_, err = tx.Exec(ctx, `UPDATE schedules SET max_run_s = $2, updated_at = $3 WHERE id = $1`,
			scheduleID, int64(vt.maxRun()/time.Second), now)
	} else {
		_, err = tx.Exec(ctx, `UPDATE schedules SET cron = $2, timezone = $3, max_run_s = $4, next_fire_at = $5, updated_at = $6
			WHERE id = $1`, scheduleID, vt.in.Schedule, vt.in.Timezone, int64(vt.maxRun()/time.Second), nextFire(vt, now), now)
	}
	if err != nil {
		return fmt.Errorf("update schedule %d: %w", scheduleID, postgres.Translate(err))
	}
	return audit.Record(ctx, tx, audit.Change{Action: "update", Resource: "schedules", ResourceID: strconv.FormatInt(scheduleID, 10),
		Summary: fmt.Sprintf("schedule %d follows its backup target: %q (%s)", scheduleID, vt.in.Schedule, vt.in.Timezone)})
}

// nextFire is the first firing after now, nil when there is none.
func nextFire(vt validTarget, now time.Time) *time.Time {
	next := vt.spec.Next(now)
	if next.IsZero() {
		return nil
	}
	next = next.UTC()
	return &next
}

func seconds(d *time.Duration) *int64 {
	if d == nil {
		return nil
	}
	return ptr(int64(*d / time.Second))
}
