package backup

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
)

// RegisterHandlers makes s run backup checks: a run of kind backup_check
// checks the target whose id is the schedule's target and records the
// result. A check that finds the backup failed, or cannot run, fails the
// run too, so the run history and the scheduler's events show it; the
// check's details are in the target's check history.
func RegisterHandlers(s *scheduler.Scheduler, svc *Service) {
	s.Register(scheduler.KindBackupCheck, svc.HandleRun)
}

// HandleRun is the scheduler handler for kind backup_check. The check is
// recorded, with its events, in the transaction that finishes the run: once
// per run, and not at all by a replica whose lease was taken over. A
// database failure while loading the target is returned as it is, so the
// scheduler queues the run again.
func (s *Service) HandleRun(ctx context.Context, run scheduler.Run) (string, error) {
	id, err := strconv.ParseInt(run.Target, 10, 64)
	if err != nil || id < 1 {
		return "", fmt.Errorf("schedule %d: target %q is not a backup target id", run.ScheduleID, run.Target)
	}
	c, err := s.check(ctx, id)
	if err != nil {
		if orchestrator.ErrorCode(err) == orchestrator.ENOTFOUND {
			return "", fmt.Errorf("backup target %d no longer exists; delete schedule %d", id, run.ScheduleID)
		}
		return "", err
	}
	runID := run.ID
	err = scheduler.RecordOnFinish(ctx, func(ctx context.Context, q postgres.Querier) error {
		_, _, err := s.recordTx(ctx, q, c, TriggerSchedule, &runID)
		return err
	})
	if err != nil {
		return "", err
	}
	r := c.result
	summary := fmt.Sprintf("check of backup target %d: %s: %s", id, r.Status, r.Message)
	if failing(r.Status) {
		return r.Output, fmt.Errorf("%s", summary)
	}
	return summary + "\n" + r.Output, nil
}

func logLevel(st CheckStatus) slog.Level {
	switch st {
	case StatusOK:
		return slog.LevelInfo
	case StatusWarning, StatusFailed:
		return slog.LevelWarn
	}
	return slog.LevelError
}

func slogAttrs(t Target, r Result, took time.Duration) []slog.Attr {
	return []slog.Attr{slog.Int64("target", t.ID), slog.String("ci", t.CI), slog.String("kind", string(t.Kind)),
		slog.String("status", string(r.Status)), slog.Bool("verified", r.Verified), slog.Duration("took", took),
		slog.String("message", r.Message)}
}
