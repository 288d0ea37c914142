package notify

import (
	"context"
	"fmt"
	"strconv"

	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
)

// SchedulerHook is a scheduler.Options.OnEvent that publishes
// schedule_missed for every run recorded as missed, in the transaction
// that records it. Other outcomes are left to the capabilities that own
// the work (a failed backup check publishes check_failed itself).
func SchedulerHook() scheduler.EventHook {
	return func(ctx context.Context, q postgres.Querier, ev scheduler.Event) error {
		run := ev.Run
		if run.Status != scheduler.StatusMissed {
			return nil
		}
		name := run.ScheduleName
		if name == "" {
			name = "#" + strconv.FormatInt(run.ScheduleID, 10)
		}
		return Publish(ctx, q, Event{
			Type:       EventScheduleMissed,
			Subject:    "schedule/" + strconv.FormatInt(run.ScheduleID, 10),
			Summary:    clip(fmt.Sprintf("Schedule %q (%s) %s", name, run.Kind, run.Error), maxSummaryBytes),
			Severity:   SeverityWarning,
			OccurredAt: run.CreatedAt,
			Occurrence: "run/" + strconv.FormatInt(run.ID, 10),
			Details: map[string]any{
				"schedule_id": run.ScheduleID, "schedule_name": run.ScheduleName, "kind": string(run.Kind),
				"target": run.Target, "run_id": run.ID, "first_missed_at": run.FireAt, "message": run.Error,
			},
		})
	}
}
