package backup

import (
	"context"
	"fmt"
	"strconv"

	"github.com/bcdr/bcdr/orchestrator"
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

// required asks for the CI's required RPO, when the service was given a
// way to know it.
func (s *Service) required(ctx context.Context, ciKey string) (*orchestrator.Duration, error) {
	if s.requiredRPO == nil {
		return nil, nil
	}
	rpo, err := s.requiredRPO(ctx, ciKey)
	if err != nil {
		return nil, fmt.Errorf("required RPO of CI %s: %w", ciKey, err)
	}
	return rpo, nil
}

// judgeRPO re-evaluates the CI's RPO after a check, in tx (the transaction
// recording the check), and announces when it becomes breached or stops
// being breached. The state last announced is kept on the target, so each
// change is announced once.
func (s *Service) judgeRPO(ctx context.Context, tx postgres.Querier, t Target, c Check, required *orchestrator.Duration) error {
	if required == nil {
		return nil
	}
	st, err := RPOStatus(ctx, tx, t.CI, *required, s.rt.Now())
	if err != nil {
		return err
	}
	var previous orchestrator.RPOState
	err = tx.QueryRow(ctx, `SELECT rpo_state FROM backup_targets WHERE id = $1 FOR UPDATE`, t.ID).Scan(&previous)
	if err != nil {
		return fmt.Errorf("read RPO state of backup target %d: %w", t.ID, err)
	}
	if st.State == previous {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE backup_targets SET rpo_state = $2 WHERE id = $1`, t.ID, st.State); err != nil {
		return fmt.Errorf("save RPO state of backup target %d: %w", t.ID, err)
	}
	var typ notify.EventType
	switch {
	case st.State == orchestrator.RPOBreached:
		typ = notify.EventRPOBreached
	case previous == orchestrator.RPOBreached && (st.State == orchestrator.RPOCompliant || st.State == orchestrator.RPOAtRisk):
		typ = notify.EventRPORestored
	default:
		return nil
	}
	severity := notify.SeverityInfo
	if typ == notify.EventRPOBreached {
		severity = notify.SeverityCritical
	}
	err = notify.Publish(ctx, tx, notify.Event{
		Type: typ, Subject: "ci/" + t.CI, Severity: severity,
		Summary:    fmt.Sprintf("CI %s: RPO %s (required %s): %s", t.CI, st.State, required, st.Reason),
		OccurredAt: c.StartedAt, Occurrence: "check/" + strconv.FormatInt(c.ID, 10),
		Details: map[string]any{"ci": t.CI, "required_rpo": required.String(), "state": string(st.State), "previous": string(previous)},
	})
	if err != nil {
		return fmt.Errorf("publish RPO event: %w", err)
	}
	return nil
}
