package backup

import (
	"context"
	"fmt"
	"strconv"

	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// failing reports whether a check status means the backup is not proven.
func failing(status CheckStatus) bool { return status == StatusFailed || status == StatusError }

// publishTransition tells the notification channels when a target starts
// failing or recovers, inside the transaction that records the check. A
// target that keeps failing is announced once, not at every check.
func publishTransition(ctx context.Context, q postgres.Querier, t Target, c Check, previous CheckStatus) error {
	var (
		typ      notify.EventType
		severity notify.Severity
	)
	switch {
	case failing(c.Status) && !failing(previous):
		typ, severity = notify.EventCheckFailed, notify.SeverityCritical
	case !failing(c.Status) && failing(previous):
		typ, severity = notify.EventCheckRecovered, notify.SeverityInfo
	default:
		return nil
	}
	err := notify.Publish(ctx, q, notify.Event{
		Type: typ, Subject: "backup-target/" + strconv.FormatInt(t.ID, 10), Severity: severity,
		Summary:    fmt.Sprintf("backup check of %q (%s, CI %s): %s — %s", t.Name, t.Kind, t.CI, c.Status, c.Message),
		OccurredAt: c.StartedAt, Occurrence: "check/" + strconv.FormatInt(c.ID, 10),
		Details: map[string]any{"ci": t.CI, "kind": t.Kind, "status": c.Status, "previous": previous},
	})
	if err != nil {
		return fmt.Errorf("publish backup check event: %w", err)
	}
	return nil
}
