package drills

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// StartInput starts a drill.
type StartInput struct {
	// FailurePoint is when the rehearsed data loss began, from which the
	// data loss achieved is measured [the start].
	FailurePoint *time.Time `json:"failure_point"`
	Note         string     `json:"note"`
}

// Approve records an admin's approval of a full interruption drill, which
// may then start.
func (s *Service) Approve(ctx context.Context, id int64) (Drill, error) {
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		d, err := getDrill(ctx, tx, id, true)
		if err != nil {
			return err
		}
		switch {
		case d.Type != TypeFullInterruption:
			return orchestrator.Errorf(orchestrator.ECONFLICT, "only a full interruption drill needs approval; drill %d is a %s", id, d.Type)
		case d.Status != StatusPlanned:
			return orchestrator.Errorf(orchestrator.ECONFLICT, "drill %d is %s; only a planned drill can be approved", id, d.Status)
		case d.ApprovedAt != nil:
			return nil
		}
		now := s.rt.Now()
		actor := orchestrator.ActorFrom(ctx).Name
		if _, err := tx.Exec(ctx, `UPDATE drills SET approved_by = $2, approved_at = $3, updated_at = $3 WHERE id = $1`, id, actor, now); err != nil {
			return fmt.Errorf("approve drill %d: %w", id, err)
		}
		if err := event(ctx, tx, id, now, EventApproved, "", "full interruption approved"); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{Action: "approve", Resource: "drills", ResourceID: strconv.FormatInt(id, 10),
			Summary: fmt.Sprintf("full interruption %q approved for %s", d.Title, d.PlannedStart.Format(time.RFC3339))})
	})
	if err != nil {
		return Drill{}, err
	}
	return s.Get(ctx, id)
}

// Start starts a planned drill. A simulation, a technical drill and a full
// interruption start an execution of each runbook in scope, in drill mode
// (automations off, against drill URLs, or live); a tabletop or walkthrough
// opens its own timeline. A full interruption needs an admin's approval
// and, in each runbook, a decision step before any automated step.
func (s *Service) Start(ctx context.Context, id int64, in StartInput) (Drill, error) {
	if len([]rune(in.Note)) > maxText {
		return Drill{}, orchestrator.Invalid("note", "must be at most %d characters", maxText)
	}
	started := false
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		d, err := getDrill(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if d.Status != StatusPlanned {
			return orchestrator.Errorf(orchestrator.ECONFLICT, "drill %d is %s; only a planned drill starts", id, d.Status)
		}
		started, err = s.start(ctx, tx, d, in)
		return err
	})
	if err != nil {
		return Drill{}, err
	}
	if started {
		s.opts.Executions.Wake()
	}
	return s.Get(ctx, id)
}

// start starts d in tx and reports whether it started executions.
func (s *Service) start(ctx context.Context, tx pgx.Tx, d Drill, in StartInput) (bool, error) {
	if d.Type == TypeFullInterruption {
		if d.ApprovedAt == nil {
			return false, orchestrator.Errorf(orchestrator.ECONFLICT, "drill %d is a full interruption: an admin must approve it before it starts", d.ID)
		}
		if err := s.checkDecisionFirst(ctx, d); err != nil {
			return false, err
		}
	}
	now := s.rt.Now()
	executions := []int64{}
	if executes(d.Type) {
		automations := map[string]string{TypeSimulation: execution.AutomationsOff, TypeFullInterruption: execution.AutomationsLive}[d.Type]
		scenario := marshal(map[string]any{"drill": d.ID, "type": d.Type, "scenario": d.Scenario})
		for _, rb := range d.Runbooks {
			ex, err := s.opts.Executions.StartTx(ctx, tx, execution.StartInput{Runbook: rb, Mode: execution.ModeDrill,
				Automations: automations, Scenario: scenario, FailurePoint: in.FailurePoint,
				Note: strings.TrimSpace(fmt.Sprintf("drill %d: %s. %s", d.ID, d.Title, in.Note))})
			if err != nil {
				return false, fmt.Errorf("drill %d: runbook %d: %w", d.ID, rb, err)
			}
			executions = append(executions, ex)
		}
	}
	actor := orchestrator.ActorFrom(ctx).Name
	_, err := tx.Exec(ctx, `UPDATE drills SET status = 'in_progress', executions = $2, started_by = $3, started_at = $4, updated_at = $4
		WHERE id = $1`, d.ID, executions, actor, now)
	if err != nil {
		return false, fmt.Errorf("start drill %d: %w", d.ID, err)
	}
	if d.Schedule != nil {
		// Started by hand or by its schedule, it must not start again.
		if err := s.disableSchedule(ctx, tx, *d.Schedule, d.ID); err != nil {
			return false, err
		}
	}
	detail := d.Type + " drill started"
	if len(executions) > 0 {
		detail += fmt.Sprintf("; executions %s", joinIDs(executions))
	}
	if in.Note != "" {
		detail += ": " + in.Note
	}
	if err := event(ctx, tx, d.ID, now, EventStarted, "", detail); err != nil {
		return false, err
	}
	if len(executions) == 0 {
		// An execution announces itself; a discussion drill is announced here.
		err = notify.Publish(ctx, tx, notify.Event{Type: notify.EventDrillStarted, Subject: subject(d.ID), Occurrence: "start",
			Summary:  fmt.Sprintf("%s drill %q started by %s", d.Type, d.Title, actor),
			Details:  map[string]any{"drill": d.ID, "type": d.Type, "services": d.Services},
			Severity: notify.SeverityInfo})
		if err != nil {
			return false, err
		}
	}
	return len(executions) > 0, audit.Record(ctx, tx, audit.Change{Action: "start", Resource: "drills", ResourceID: strconv.FormatInt(d.ID, 10), Summary: detail})
}

// checkDecisionFirst refuses a full interruption of a runbook in which an
// automated step could run before a decision step approved the switch.
func (s *Service) checkDecisionFirst(ctx context.Context, d Drill) error {
	for i, rb := range d.Runbooks {
		steps, err := s.steps(ctx, rb)
		if err != nil {
			return err
		}
		deps := map[string][]string{}
		decision := map[string]bool{}
		for _, st := range steps {
			deps[st.ID] = st.DependsOn
			decision[st.ID] = st.Decision != nil
		}
		for _, st := range steps {
			if st.Automation == nil {
				continue
			}
			if !behindDecision(deps, decision, st.ID, map[string]bool{}) {
				return orchestrator.Invalid(fmt.Sprintf("runbooks[%d]", i),
					"runbook %d: automated step %q can run before any decision step; a full interruption needs a decision before the switch", rb, st.ID)
			}
		}
	}
	return nil
}

// behindDecision reports whether every path to step id passes a decision.
func behindDecision(deps map[string][]string, decision map[string]bool, id string, seen map[string]bool) bool {
	if seen[id] {
		return true
	}
	seen[id] = true
	if len(deps[id]) == 0 {
		return false
	}
	for _, dep := range deps[id] {
		if !decision[dep] && !behindDecision(deps, decision, dep, seen) {
			return false
		}
	}
	return true
}

// steps returns the steps a drill of runbook rb walks: its approved
// version's, or its newest version's when it was never approved.
func (s *Service) steps(ctx context.Context, rb int64) ([]runbooks.Step, error) {
	b, err := s.opts.Runbooks.Brief(ctx, strconv.FormatInt(rb, 10), runbooks.BriefOptions{})
	return b.Version.Steps, err
}

// EventInput records something on a drill's timeline: a step walked
// (tabletop) or confirmed by its owner (walkthrough), a decision, an issue
// (which opens a finding when the drill completes), a note, evidence (a
// link or text) or hot-wash answers.
type EventInput struct {
	Type string `json:"type"`
	// Step is "<runbook>/<step id>" for walked, confirmed and, optionally,
	// decision and issue.
	Step   string `json:"step"`
	Detail string `json:"detail"`
}

// Record adds a row to a drill's timeline.
func (s *Service) Record(ctx context.Context, id int64, in EventInput) (Event, error) {
	var v orchestrator.Validation
	allowed := []string{EventWalked, EventConfirmed, EventDecision, EventIssue, EventNote, EventEvidence}
	if !slices.Contains(allowed, in.Type) {
		v.Add("type", "must be one of %s", strings.Join(allowed, ", "))
	}
	checkText(&v, "detail", in.Detail, 8000, in.Type != EventWalked && in.Type != EventConfirmed)
	if err := v.Err(); err != nil {
		return Event{}, err
	}
	var e Event
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		d, err := getDrill(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := s.checkEvent(ctx, d, in); err != nil {
			return err
		}
		e = Event{Drill: id, At: s.rt.Now(), Actor: orchestrator.ActorFrom(ctx).Name, Type: in.Type, Step: in.Step, Detail: strings.TrimSpace(in.Detail)}
		err = tx.QueryRow(ctx, `INSERT INTO drill_events (drill_id, at, actor, type, step, detail) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			id, e.At, e.Actor, e.Type, e.Step, e.Detail).Scan(&e.ID)
		if err != nil {
			return fmt.Errorf("record drill %d event: %w", id, err)
		}
		_, err = tx.Exec(ctx, `UPDATE drills SET updated_at = $2 WHERE id = $1`, id, e.At)
		return err
	})
	return e, err
}

// checkEvent checks that an event fits the drill: its status, its type and
// the step it names.
func (s *Service) checkEvent(ctx context.Context, d Drill, in EventInput) error {
	switch {
	case d.Status == StatusCancelled || d.Status == StatusPlanned && in.Type != EventNote:
		return orchestrator.Errorf(orchestrator.ECONFLICT, "drill %d is %s", d.ID, d.Status)
	case d.Status == StatusCompleted && in.Type != EventNote && in.Type != EventEvidence:
		return orchestrator.Errorf(orchestrator.ECONFLICT, "drill %d is completed: only notes and evidence may be added", d.ID)
	case in.Type == EventWalked && d.Type != TypeTabletop:
		return orchestrator.Invalid("type", "steps are walked in a tabletop; this drill is a %s", d.Type)
	case in.Type == EventConfirmed && d.Type != TypeWalkthrough:
		return orchestrator.Invalid("type", "owners confirm steps in a walkthrough; this drill is a %s", d.Type)
	}
	if in.Step == "" {
		if in.Type == EventWalked || in.Type == EventConfirmed {
			return orchestrator.Invalid("step", "is required: \"<runbook>/<step id>\"")
		}
		return nil
	}
	rb, step, ok := strings.Cut(in.Step, "/")
	n, err := strconv.ParseInt(rb, 10, 64)
	if !ok || err != nil || !slices.Contains(d.Runbooks, n) {
		return orchestrator.Invalid("step", "must be \"<runbook>/<step id>\" with a runbook in the drill's scope (%s)", joinIDs(d.Runbooks))
	}
	steps, err := s.steps(ctx, n)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(steps, func(st runbooks.Step) bool { return st.ID == step }) {
		return orchestrator.Invalid("step", "runbook %d has no step %q", n, step)
	}
	return nil
}

// CompleteInput completes a drill with the written part of its
// after-action report.
type CompleteInput struct {
	Report *Report `json:"report"`
}

// Complete scores a drill in progress (pass, partial or fail, DESIGN.md),
// records what it achieved, opens a finding for every missed target,
// mandatory step not done and issue recorded, and, when it passed, verifies
// the open findings of its scope that waited for this retest. A drill with
// executions completes once every execution ended.
func (s *Service) Complete(ctx context.Context, id int64, in CompleteInput) (Drill, error) {
	if in.Report != nil {
		if err := checkReport(*in.Report); err != nil {
			return Drill{}, err
		}
	}
	d, err := s.Get(ctx, id)
	if err != nil {
		return Drill{}, err
	}
	if d.Status != StatusInProgress {
		return Drill{}, orchestrator.Errorf(orchestrator.ECONFLICT, "drill %d is %s; only a drill in progress completes", id, d.Status)
	}
	ev, err := s.evidence(ctx, d)
	if err != nil {
		return Drill{}, err
	}
	for _, ex := range ev.executions {
		if ex.FinishedAt == nil && ex.Status != execution.StatusFailed {
			return Drill{}, orchestrator.Errorf(orchestrator.ECONFLICT, "execution %d of drill %d is %s: finish or abort it first", ex.ID, id, ex.Status)
		}
	}
	result, outcome := score(d, ev)
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		locked, err := getDrill(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if locked.Status != StatusInProgress || locked.UpdatedAt != d.UpdatedAt {
			return orchestrator.Errorf(orchestrator.ECONFLICT, "drill %d changed while it was being scored; try again", id)
		}
		return s.completeTx(ctx, tx, d, result, outcome, in.Report, ev.events)
	})
	if err != nil {
		return Drill{}, err
	}
	return s.Get(ctx, id)
}

// completeTx writes a drill's result and what follows from it.
func (s *Service) completeTx(ctx context.Context, tx pgx.Tx, d Drill, result string, outcome Outcome, report *Report, events []Event) error {
	now := s.rt.Now()
	if report == nil {
		report = &d.Report
	}
	_, err := tx.Exec(ctx, `UPDATE drills SET status = 'completed', result = $2, outcome = $3, report = $4, completed_at = $5, updated_at = $5
		WHERE id = $1`, d.ID, result, marshal(outcome), marshal(report), now)
	if err != nil {
		return fmt.Errorf("complete drill %d: %w", d.ID, err)
	}
	detail := fmt.Sprintf("%s: %s", result, strings.Join(outcome.Reasons, "; "))
	if err := event(ctx, tx, d.ID, now, EventCompleted, "", detail); err != nil {
		return err
	}
	opened, err := s.openFindings(ctx, tx, d, outcome, events)
	if err != nil {
		return err
	}
	verified := 0
	if result == ResultPass {
		if verified, err = s.verifyFindings(ctx, tx, d, now); err != nil {
			return err
		}
	}
	severity := notify.SeverityInfo
	if result != ResultPass {
		severity = notify.SeverityWarning
	}
	err = notify.Publish(ctx, tx, notify.Event{Type: notify.EventDrillFinished, Subject: subject(d.ID), Occurrence: "complete",
		Severity: severity, Summary: fmt.Sprintf("%s drill %q: %s", d.Type, d.Title, detail),
		Details: map[string]any{"drill": d.ID, "result": result, "findings_opened": opened, "findings_verified": verified}})
	if err != nil {
		return err
	}
	return audit.Record(ctx, tx, audit.Change{Action: "complete", Resource: "drills", ResourceID: strconv.FormatInt(d.ID, 10),
		Summary: fmt.Sprintf("%s; %d findings opened, %d verified", detail, opened, verified)})
}

// Cancel cancels a drill that has not completed, aborting its executions.
func (s *Service) Cancel(ctx context.Context, id int64, reason string) (Drill, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 2000 {
		return Drill{}, orchestrator.Invalid("reason", "say why the drill is cancelled, in at most 2000 characters")
	}
	d, err := s.Get(ctx, id)
	if err != nil {
		return Drill{}, err
	}
	if d.Status == StatusCompleted || d.Status == StatusCancelled {
		return Drill{}, orchestrator.Errorf(orchestrator.ECONFLICT, "drill %d is %s", id, d.Status)
	}
	for _, ex := range d.Executions {
		_, err := s.opts.Executions.Control(ctx, ex, execution.CtlAbort, execution.ActionInput{Reason: "drill cancelled: " + reason})
		if err != nil && orchestrator.ErrorCode(err) != orchestrator.ECONFLICT {
			return Drill{}, err
		}
	}
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		locked, err := getDrill(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if locked.Status == StatusCompleted || locked.Status == StatusCancelled {
			return orchestrator.Errorf(orchestrator.ECONFLICT, "drill %d is %s", id, locked.Status)
		}
		now := s.rt.Now()
		if _, err := tx.Exec(ctx, `UPDATE drills SET status = 'cancelled', updated_at = $2 WHERE id = $1`, id, now); err != nil {
			return fmt.Errorf("cancel drill %d: %w", id, err)
		}
		if locked.Schedule != nil && s.opts.Schedules != nil {
			if err := s.disableSchedule(ctx, tx, *locked.Schedule, id); err != nil {
				return err
			}
		}
		if err := event(ctx, tx, id, now, EventCancelled, "", reason); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{Action: "cancel", Resource: "drills", ResourceID: strconv.FormatInt(id, 10), Summary: reason})
	})
	if err != nil {
		return Drill{}, err
	}
	return s.Get(ctx, id)
}

// subject names a drill in notifications.
func subject(id int64) string { return "drill/" + strconv.FormatInt(id, 10) }

// joinIDs writes ids as "1, 2, 3".
func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ", ")
}

// checkReport checks the written part of an after-action report.
func checkReport(r Report) error {
	var v orchestrator.Validation
	checkList(&v, "report.observations", r.Observations)
	checkList(&v, "report.went_well", r.WentWell)
	checkList(&v, "report.to_improve", r.ToImprove)
	checkList(&v, "report.recommendations", r.Recommendations)
	checkList(&v, "report.actions", r.Actions)
	return v.Err()
}
