package execution

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
)

// Step actions people take.
const (
	ActComplete = "complete"
	ActFail     = "fail"
	ActSkip     = "skip"
	ActRetry    = "retry"
	ActApprove  = "approve"
	ActReject   = "reject"
)

// Execution controls.
const (
	CtlPause  = "pause"
	CtlResume = "resume"
	CtlAbort  = "abort"
)

// Bounds of what a person attaches to one action.
const (
	maxEvidence    = 20
	maxAttachments = 5
	maxAttachment  = 64 << 10
)

// Attachment is a text file attached to a step: a console transcript, a
// filled-in checklist.
type Attachment struct {
	Name    string `json:"name"`
	Content string `json:"content"`
}

// ActionInput is what a person says with an action.
type ActionInput struct {
	// Note says what was done (complete, approve).
	Note string `json:"note"`
	// Reason says why (fail, skip, reject, abort: required).
	Reason string `json:"reason"`
	// Evidence links what proves it: tickets, screenshots, logs.
	Evidence []string `json:"evidence"`
	// RecoveredAt is the point in time the data was recovered to, on a
	// restore step: the data loss is measured from it.
	RecoveredAt *time.Time `json:"recovered_at"`
	// Attachments are text files kept with the step (complete and fail).
	Attachments []Attachment `json:"attachments"`
}

func (in ActionInput) validate(action string, now time.Time) error {
	var v orchestrator.Validation
	if msg := checkNote(in.Note); msg != "" {
		v.Add("note", "%s", msg)
	}
	if msg := checkNote(in.Reason); msg != "" {
		v.Add("reason", "%s", msg)
	}
	switch action {
	case ActFail, ActSkip, ActReject, CtlAbort:
		if strings.TrimSpace(in.Reason) == "" {
			v.Add("reason", "is required to %s", action)
		}
	}
	if len(in.Evidence) > maxEvidence {
		v.Add("evidence", "must list at most %d links", maxEvidence)
	}
	for i, e := range in.Evidence {
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(e) > 2000 {
			v.Add(fmt.Sprintf("evidence[%d]", i), "must be an http or https link")
		}
	}
	if len(in.Attachments) > 0 && action != ActComplete && action != ActFail {
		v.Add("attachments", "are kept when a step is completed or failed")
	}
	if len(in.Attachments) > maxAttachments {
		v.Add("attachments", "must be at most %d files", maxAttachments)
	}
	for i, a := range in.Attachments {
		f := fmt.Sprintf("attachments[%d]", i)
		name := strings.TrimSpace(a.Name)
		if name == "" || len(name) > 200 || strings.ContainsAny(name, "/\\") || strings.ContainsFunc(name, unicode.IsControl) {
			v.Add(f+".name", "must be a file name of 1 to 200 characters without / or \\")
		}
		switch {
		case len(a.Content) > maxAttachment:
			v.Add(f+".content", "must be at most %d KiB", maxAttachment>>10)
		case !utf8.ValidString(a.Content) || strings.ContainsRune(a.Content, 0):
			v.Add(f+".content", "must be text (UTF-8, no NUL)")
		}
	}
	if in.RecoveredAt != nil {
		if action != ActComplete {
			v.Add("recovered_at", "is recorded when a step is completed")
		} else if in.RecoveredAt.After(now.Add(time.Minute)) {
			v.Add("recovered_at", "must not be in the future")
		}
	}
	return v.Err()
}

// StepAction applies a person's action to a step of execution id and
// returns the board. Acting on a step not in the state the action needs is
// a conflict (409): of two people completing one step, the second is told
// it was done.
func (s *Service) StepAction(ctx context.Context, id int64, step, action string, in ActionInput) (Execution, error) {
	actor := orchestrator.ActorFrom(ctx)
	if err := in.validate(action, s.rt.Now()); err != nil {
		return Execution{}, err
	}
	err := s.transition(ctx, id, func(ctx context.Context, tx pgx.Tx, st *state) error {
		n, err := st.step(step)
		if err != nil {
			return err
		}
		if st.status == StatusSucceeded || st.status == StatusAborted {
			return conflict("execution %d is %s", st.id, st.status)
		}
		switch action {
		case ActComplete, ActFail:
			if n.status != StepWaiting || n.kind == KindDecision {
				return conflict("step %s is %s, not waiting for a person to do it", n.id, n.status)
			}
			status := StepSucceeded
			if action == ActFail {
				status = StepFailed
			}
			if _, err := tx.Exec(ctx, `UPDATE execution_steps SET done_by = $2, note = $3, evidence = $4, recovered_at = $5,
					error = $6, started_at = coalesce(started_at, ready_at) WHERE id = $1`,
				n.rowID, actor.Name, in.Note, nonNil(in.Evidence), in.RecoveredAt, orchestrator.Excerpt(in.Reason, 2000)); err != nil {
				return fmt.Errorf("record step %s: %w", n.id, err)
			}
			for _, a := range in.Attachments {
				if _, err := tx.Exec(ctx, `INSERT INTO execution_attachments (execution_id, step_id, name, content, added_by, added_at)
					VALUES ($1, $2, $3, $4, $5, $6)`, st.id, n.id, strings.TrimSpace(a.Name), a.Content, actor.Name, st.now); err != nil {
					return fmt.Errorf("attach %q to step %s: %w", clip(a.Name), n.id, err)
				}
			}
			st.set(n, status, actor.Name, firstOf(in.Reason, in.Note))
			if status == StepFailed {
				st.notices = append(st.notices, stepFailedNotice(st, n, in.Reason))
			}
		case ActSkip:
			if ended(n.status) && !failedStatus(n.status) || n.status == StepRunning {
				return conflict("step %s is %s and cannot be skipped", n.id, n.status)
			}
			if n.mandatory && actor.Role != orchestrator.RoleAdmin {
				return orchestrator.Errorf(orchestrator.EFORBIDDEN, "step %s is mandatory: only an admin may skip it", n.id)
			}
			if _, err := tx.Exec(ctx, `UPDATE execution_steps SET done_by = $2, note = $3 WHERE id = $1`, n.rowID, actor.Name, in.Reason); err != nil {
				return fmt.Errorf("record step %s: %w", n.id, err)
			}
			st.set(n, StepSkipped, actor.Name, in.Reason)
			st.reopen(actor.Name)
		case ActRetry:
			return s.retry(ctx, tx, st, n, actor.Name, in.Note)
		case ActApprove, ActReject:
			return decide(st, n, actor, action, in)
		default:
			return orchestrator.Errorf(orchestrator.ENOTFOUND, "no step action %q", clip(action))
		}
		return nil
	})
	if err != nil {
		return Execution{}, err
	}
	s.Wake()
	return s.Get(ctx, id)
}

// retry sends a failed step back to be done again: to the engine under a
// new idempotency key (the failed call is not to be deduplicated away), or
// to a person; a failed execution goes on.
func (s *Service) retry(ctx context.Context, tx pgx.Tx, st *state, n *node, actor, note string) error {
	if !failedStatus(n.status) {
		return conflict("step %s is %s; only a failed step is retried", n.id, n.status)
	}
	if _, err := tx.Exec(ctx, `UPDATE execution_steps SET attempts = 0, replica = '', output = '', error = '', done_by = '',
			idempotency_key = format('bcdr-execution-%s-%s-retry-%s', execution_id, step_id,
				(SELECT count(*) + 1 FROM execution_events WHERE execution_id = $2 AND step_id = $3 AND type = 'step_retried'))
		WHERE id = $1`, n.rowID, st.id, n.id); err != nil {
		return fmt.Errorf("retry step %s: %w", n.id, err)
	}
	st.event(actor, n.id, "step_retried", note)
	next := StepWaiting
	if n.callable {
		next = StepPending
	}
	n.status, n.changed = next, true
	st.reopen(actor)
	return nil
}

// reopen sets a failed execution running again after a person dealt with
// its failed step.
func (st *state) reopen(actor string) {
	if st.status == StatusFailed {
		st.status = StatusRunning
		st.event(actor, "", "execution_resumed", "a failed step was dealt with")
	}
}

// decide approves or rejects a decision step. The decider needs the
// decision's role (or admin) and must not be who started the execution.
func decide(st *state, n *node, actor orchestrator.Actor, action string, in ActionInput) error {
	if n.kind != KindDecision {
		return conflict("step %s is not a decision", n.id)
	}
	if n.status != StepWaiting {
		return conflict("decision %s is %s, not waiting for a decision", n.id, n.status)
	}
	if actor.Name == st.startedBy {
		return orchestrator.Errorf(orchestrator.EFORBIDDEN, "decision %s must be taken by someone other than %s, who started the execution", n.id, actor.Name)
	}
	role := orchestrator.Role(n.role)
	if actor.Role != role && actor.Role != orchestrator.RoleAdmin {
		return orchestrator.Errorf(orchestrator.EFORBIDDEN, "decision %s is for the role %s", n.id, role)
	}
	if action == ActApprove {
		st.set(n, StepSucceeded, actor.Name, firstOf(in.Note, "approved"))
		return nil
	}
	st.set(n, StepRejected, actor.Name, in.Reason)
	if n.onReject == "" {
		return st.abort(actor.Name, fmt.Sprintf("decision %s rejected: %s", n.id, in.Reason))
	}
	return nil
}

// abort stops the execution: no step that has not started will.
func (st *state) abort(actor, reason string) error {
	if _, err := st.tx.Exec(st.ctx, `UPDATE execution_steps SET status = 'cancelled', finished_at = $2
		WHERE execution_id = $1 AND status IN ('blocked', 'waiting', 'pending')`, st.id, st.now); err != nil {
		return fmt.Errorf("abort execution %d: %w", st.id, err)
	}
	for _, m := range st.index {
		if !ended(m.status) && m.status != StepRunning {
			m.status, m.changed = StepCancelled, false
		}
	}
	st.recount = true
	st.reason = reason
	st.finish(StatusAborted, reason)
	st.events[len(st.events)-1].Actor = actor
	return nil
}

// Control pauses, resumes or aborts execution id; ResumeFrom is the other
// way back from a failure.
func (s *Service) Control(ctx context.Context, id int64, action string, in ActionInput) (Execution, error) {
	actor := orchestrator.ActorFrom(ctx)
	if err := in.validate(action, s.rt.Now()); err != nil {
		return Execution{}, err
	}
	err := s.transition(ctx, id, func(_ context.Context, _ pgx.Tx, st *state) error {
		switch {
		case action == CtlPause && st.status == StatusRunning:
			st.status = StatusPaused
			st.event(actor.Name, "", "execution_paused", in.Reason)
		case action == CtlResume && st.status == StatusPaused:
			st.status = StatusRunning
			st.event(actor.Name, "", "execution_resumed", in.Note)
		case action == CtlAbort && (st.status == StatusRunning || st.status == StatusPaused || st.status == StatusFailed):
			return st.abort(actor.Name, in.Reason)
		case action != CtlPause && action != CtlResume && action != CtlAbort:
			return orchestrator.Errorf(orchestrator.ENOTFOUND, "no execution action %q", clip(action))
		default:
			return conflict("execution %d is %s and cannot %s", st.id, st.status, action)
		}
		return nil
	})
	if err != nil {
		return Execution{}, err
	}
	s.Wake()
	return s.Get(ctx, id)
}

// ResumeFrom restarts a failed execution from one of its failed steps,
// leaving what succeeded alone.
func (s *Service) ResumeFrom(ctx context.Context, id int64, step string, in ActionInput) (Execution, error) {
	actor := orchestrator.ActorFrom(ctx)
	if err := in.validate(ActRetry, s.rt.Now()); err != nil {
		return Execution{}, err
	}
	err := s.transition(ctx, id, func(ctx context.Context, tx pgx.Tx, st *state) error {
		if st.status != StatusFailed {
			return conflict("execution %d is %s; only a failed execution resumes from a step", st.id, st.status)
		}
		n, err := st.step(step)
		if err != nil {
			return err
		}
		return s.retry(ctx, tx, st, n, actor.Name, firstOf(in.Note, "resumed from this step"))
	})
	if err != nil {
		return Execution{}, err
	}
	s.Wake()
	return s.Get(ctx, id)
}

func firstOf(values ...string) string {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// AttachmentFile is an attached file as downloaded.
type AttachmentFile struct {
	Step    string
	Name    string
	Content string
}

// Attachment returns attachment id of execution exec.
func (s *Service) Attachment(ctx context.Context, exec, id int64) (AttachmentFile, error) {
	var a AttachmentFile
	err := s.pool.QueryRow(ctx, `SELECT step_id, name, content FROM execution_attachments WHERE execution_id = $1 AND id = $2`,
		exec, id).Scan(&a.Step, &a.Name, &a.Content)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, orchestrator.Errorf(orchestrator.ENOTFOUND, "execution %d has no attachment %d", exec, id)
	}
	return a, err
}
