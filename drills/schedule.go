package drills

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// Targets of the drill schedules an approved programme creates.
const (
	// targetReminders is a programme's daily housekeeping: reminders of
	// drills to come, drills whose executions ended scored, overdue
	// findings notified.
	targetReminders = "reminders"
	// targetDrillPrefix prefixes a drill's id: its schedule starts it.
	targetDrillPrefix = "drill/"
)

// schedulerActor is who the scheduler acts as.
var schedulerActor = orchestrator.Actor{Name: "scheduler", Role: orchestrator.RoleContinuityManager}

// HandleRun is the scheduler's job for kind drill: target "drill/<id>"
// starts that drill if it is still planned (once: its schedule is then
// disabled), target "reminders" does the programme's daily housekeeping.
func (s *Service) HandleRun(ctx context.Context, run scheduler.Run) (string, error) {
	ctx = orchestrator.WithActor(ctx, schedulerActor)
	if run.Target == targetReminders {
		return s.housekeeping(ctx)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(run.Target, targetDrillPrefix), 10, 64)
	if !strings.HasPrefix(run.Target, targetDrillPrefix) || err != nil || id < 1 {
		return "", fmt.Errorf("schedule %d: target %q is neither %q nor \"drill/<id>\"", run.ScheduleID, run.Target, targetReminders)
	}
	return s.startScheduled(ctx, id, run.ScheduleID)
}

// startScheduled starts drill id from its schedule and disables the
// schedule, in one transaction: a run repeated after a lost lease finds the
// drill started and does nothing.
func (s *Service) startScheduled(ctx context.Context, id, schedule int64) (string, error) {
	var msg string
	started := false
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		d, err := getDrill(ctx, tx, id, true)
		if orchestrator.ErrorCode(err) == orchestrator.ENOTFOUND {
			msg = fmt.Sprintf("drill %d no longer exists", id)
			return s.disableSchedule(ctx, tx, schedule, id)
		}
		if err != nil {
			return err
		}
		if d.Status != StatusPlanned {
			msg = fmt.Sprintf("drill %d is %s: nothing to start", id, d.Status)
			return s.disableSchedule(ctx, tx, schedule, id)
		}
		if started, err = s.start(ctx, tx, d, StartInput{Note: "started by its schedule"}); err != nil {
			return err
		}
		msg = fmt.Sprintf("started %s drill %d %q", d.Type, id, d.Title)
		return nil
	})
	if err != nil {
		return "", err
	}
	if started {
		s.opts.Executions.Wake()
	}
	return msg, nil
}

// disableSchedule turns off a drill's schedule once it has nothing more
// to start.
func (s *Service) disableSchedule(ctx context.Context, tx pgx.Tx, schedule, drill int64) error {
	if s.opts.Schedules == nil {
		return nil
	}
	off := false
	_, err := s.opts.Schedules.UpdateTx(ctx, tx, schedule, scheduler.Input{Enabled: &off}, scheduler.Owner{Noun: "drill", ID: drill})
	if orchestrator.ErrorCode(err) == orchestrator.ENOTFOUND {
		return nil
	}
	return err
}

// housekeeping is the programme's daily run: reminders of drills to come,
// drills whose executions all ended scored, overdue findings notified.
func (s *Service) housekeeping(ctx context.Context) (string, error) {
	reminded, err := s.remind(ctx)
	if err != nil {
		return "", err
	}
	scored, err := s.completeEnded(ctx)
	if err != nil {
		return "", err
	}
	overdue, err := s.noticeOverdue(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d drill reminders sent, %d drills scored, %d findings newly overdue", reminded, scored, overdue), nil
}

// completeEnded scores the drills in progress whose executions all ended
// and returns how many it completed.
func (s *Service) completeEnded(ctx context.Context) (int, error) {
	list, err := s.List(ctx, Filter{Status: StatusInProgress}, orchestrator.Page{Limit: orchestrator.MaxPageLimit})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range list.Items {
		if len(d.Executions) == 0 {
			continue
		}
		ended := true
		for _, id := range d.Executions {
			ex, err := s.opts.Executions.Get(ctx, id)
			if err != nil {
				return n, err
			}
			ended = ended && (ex.Status == execution.StatusSucceeded || ex.Status == execution.StatusAborted)
		}
		if !ended {
			continue
		}
		_, err := s.Complete(ctx, d.ID, CompleteInput{})
		switch orchestrator.ErrorCode(err) {
		case "":
			n++
		case orchestrator.ECONFLICT: // completed meanwhile by a person
		default:
			return n, err
		}
	}
	return n, nil
}

// noticeOverdue notifies each finding the day it becomes overdue, once,
// and returns how many it notified.
func (s *Service) noticeOverdue(ctx context.Context) (int, error) {
	today := s.today()
	n := 0
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE findings SET overdue_noticed = $1
			WHERE due_date < $1 AND status IN ('open', 'in_progress') AND overdue_noticed IS NULL
			RETURNING id, severity, title, owner, due_date`, today)
		if err != nil {
			return fmt.Errorf("find overdue findings: %w", err)
		}
		type overdue struct {
			ID                     int64
			Severity, Title, Owner string
			Due                    any
		}
		found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[overdue])
		if err != nil {
			return fmt.Errorf("find overdue findings: %w", err)
		}
		for _, f := range found {
			sev := notify.SeverityWarning
			if f.Severity == "critical" {
				sev = notify.SeverityCritical
			}
			err := notify.Publish(ctx, tx, notify.Event{Type: notify.EventFindingOverdue, Subject: "finding/" + strconv.FormatInt(f.ID, 10),
				Occurrence: "overdue", Severity: sev, Summary: fmt.Sprintf("finding %d is overdue: %s", f.ID, f.Title),
				Details: map[string]any{"finding": f.ID, "severity": f.Severity, "owner": f.Owner, "due_date": f.Due}})
			if err != nil {
				return err
			}
		}
		n = len(found)
		return nil
	})
	return n, err
}
