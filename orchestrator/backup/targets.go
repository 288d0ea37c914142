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
	vt, err := in.validate(s.limits)
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
		if err := s.createSchedule(ctx, tx, id, vt); err != nil {
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
// restarts firing from now.
func (s *Service) Replace(ctx context.Context, id int64, in TargetInput) (Target, error) {
	vt, err := in.validate(s.limits)
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
			err = s.createSchedule(ctx, tx, id, vt)
		} else {
			err = s.updateSchedule(ctx, tx, id, *scheduleID, vt)
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
			err = s.schedules.DeleteTx(ctx, tx, *scheduleID, owner(id))
			// A schedule deleted by hand meanwhile needs deleting no more.
			if err != nil && orchestrator.ErrorCode(err) != orchestrator.ENOTFOUND {
				return fmt.Errorf("delete schedule of backup target %d: %w", id, err)
			}
		}
		return audit.Record(ctx, tx, audit.Change{Action: "delete", Resource: "backup-targets", ResourceID: strconv.FormatInt(id, 10),
			Summary: fmt.Sprintf("target %q", name)})
	})
}

// scheduleName is the unique name of a target's schedule.
func scheduleName(id int64) string { return fmt.Sprintf("backup target %d", id) }

// owner is a target as the owner of its schedule.
func owner(id int64) scheduler.Owner { return scheduler.Owner{Noun: "backup target", ID: id} }

// createSchedule adds the target's backup_check schedule and links it.
func (s *Service) createSchedule(ctx context.Context, tx pgx.Tx, id int64, vt validTarget) error {
	kind, target, maxRun := scheduler.KindBackupCheck, strconv.FormatInt(id, 10), orchestrator.Duration(vt.maxRun())
	sc, err := s.schedules.CreateTx(ctx, tx, scheduler.Input{Name: ptr(scheduleName(id)), Kind: &kind, Target: &target,
		Cron: &vt.in.Schedule, Timezone: &vt.in.Timezone, MaxRun: &maxRun})
	if err != nil {
		return fmt.Errorf("create schedule of backup target %d: %w", id, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE backup_targets SET schedule_id = $2 WHERE id = $1`, id, sc.ID); err != nil {
		return fmt.Errorf("link schedule of backup target %d: %w", id, err)
	}
	return nil
}

// updateSchedule keeps the target's schedule in step with the target. A
// changed expression or time zone restarts firing from now.
func (s *Service) updateSchedule(ctx context.Context, tx pgx.Tx, id, scheduleID int64, vt validTarget) error {
	maxRun := orchestrator.Duration(vt.maxRun())
	_, err := s.schedules.UpdateTx(ctx, tx, scheduleID, scheduler.Input{Cron: &vt.in.Schedule, Timezone: &vt.in.Timezone, MaxRun: &maxRun}, owner(id))
	return err
}

func seconds(d *time.Duration) *int64 {
	if d == nil {
		return nil
	}
	return ptr(int64(*d / time.Second))
}
