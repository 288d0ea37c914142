package execution

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
)

// Get returns the live board of execution id: every step with its state
// (those not yet ready too), who holds it, elapsed against its estimate,
// the critical path that remains, the projected completion and, per
// service, the RTO and RPO achieved or projected.
func (s *Service) Get(ctx context.Context, id int64) (Execution, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+executionColumns+` FROM executions WHERE id = $1`, id)
	if err != nil {
		return Execution{}, fmt.Errorf("read execution %d: %w", id, err)
	}
	ex, err := pgx.CollectExactlyOneRow(rows, scanExecution)
	if errors.Is(err, pgx.ErrNoRows) {
		return Execution{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "execution %d not found", id)
	}
	if err != nil {
		return Execution{}, fmt.Errorf("read execution %d: %w", id, err)
	}
	rows, err = s.pool.Query(ctx, `SELECT step_id, position, kind, runbook_kind, title, ci, owner_role, estimate_ms, mandatory, cleanup,
			depends_on, decision_role, on_reject, status, attempts, replica, ready_at, started_at, finished_at,
			done_by, note, evidence, recovered_at, output, error
		FROM execution_steps WHERE execution_id = $1 ORDER BY position`, id)
	if err != nil {
		return Execution{}, fmt.Errorf("read execution %d steps: %w", id, err)
	}
	ex.Steps, err = pgx.CollectRows(rows, scanStep)
	if err != nil {
		return Execution{}, fmt.Errorf("read execution %d steps: %w", id, err)
	}
	rows, err = s.pool.Query(ctx, `SELECT step_id, id, name, octet_length(content), added_by, added_at
		FROM execution_attachments WHERE execution_id = $1 ORDER BY id`, id)
	if err != nil {
		return Execution{}, fmt.Errorf("read execution %d attachments: %w", id, err)
	}
	index := make(map[string]int, len(ex.Steps))
	for i := range ex.Steps {
		index[ex.Steps[i].ID] = i
	}
	var step string
	var a AttachmentRef
	if _, err := pgx.ForEachRow(rows, []any{&step, &a.ID, &a.Name, &a.Size, &a.AddedBy, &a.AddedAt}, func() error {
		if i, ok := index[step]; ok {
			ex.Steps[i].Attachments = append(ex.Steps[i].Attachments, a)
		}
		return nil
	}); err != nil {
		return Execution{}, fmt.Errorf("read execution %d attachments: %w", id, err)
	}
	ex.board(s.rt.Now())
	return ex, nil
}

func scanStep(r pgx.CollectableRow) (Step, error) {
	var st Step
	var estimate int64
	var role, onReject string
	err := r.Scan(&st.ID, &st.Position, &st.Kind, &st.RunbookKind, &st.Title, &st.CI, &st.OwnerRole, &estimate, &st.Mandatory, &st.Cleanup,
		&st.DependsOn, &role, &onReject, &st.Status, &st.Attempts, &st.HeldBy, &st.ReadyAt, &st.StartedAt,
		&st.FinishedAt, &st.DoneBy, &st.Note, &st.Evidence, &st.RecoveredAt, &st.Output, &st.Error)
	if err != nil {
		return st, err
	}
	st.Estimate = orchestrator.Duration(time.Duration(estimate) * time.Millisecond)
	if st.Kind == KindDecision {
		st.Decision = &runbooks.Decision{Role: orchestrator.Role(role), OnReject: onReject}
	}
	if st.Evidence == nil {
		st.Evidence = []string{}
	}
	st.Attachments = []AttachmentRef{}
	if st.Status != StepRunning {
		st.HeldBy = ""
	}
	return st, nil
}

// board computes what the live board shows from the rows, at now.
func (ex *Execution) board(now time.Time) {
	if ex.FinishedAt != nil {
		now = *ex.FinishedAt
	}
	ex.Elapsed = elapsed(ex.StartedAt, ex.FinishedAt, now)
	ex.Counts = map[string]int{}
	index := make(map[string]int, len(ex.Steps))
	deps := make(map[string][]string, len(ex.Steps))
	for i := range ex.Steps {
		st := &ex.Steps[i]
		index[st.ID] = i
		deps[st.ID] = st.DependsOn
		ex.Counts[st.Status]++
		since := st.StartedAt
		if since == nil {
			since = st.ReadyAt
		}
		if since != nil {
			d := elapsed(*since, st.FinishedAt, now)
			st.Elapsed = &d
			st.Overdue = !ended(st.Status) && st.Estimate > 0 && d > st.Estimate
		}
	}
	// What is left of each step, and the earliest it can finish from now
	// with every step starting as soon as its dependencies are done (the
	// steps are in dependency order).
	finish := make([]time.Duration, len(ex.Steps))
	prev := make([]int, len(ex.Steps))
	for i, st := range ex.Steps {
		left := time.Duration(0)
		if !ended(st.Status) {
			left = time.Duration(st.Estimate)
			if st.Elapsed != nil {
				left = max(left-time.Duration(*st.Elapsed), 0)
			}
		}
		prev[i] = -1
		start := time.Duration(0)
		for _, d := range st.DependsOn {
			if j, ok := index[d]; ok && finish[j] > start {
				start, prev[i] = finish[j], j
			}
		}
		finish[i] = start + left
	}
	last := -1
	for i, st := range ex.Steps {
		if !st.Cleanup && (last < 0 || finish[i] > finish[last]) {
			last = i
		}
	}
	if last >= 0 && ex.Status != StatusSucceeded && ex.Status != StatusAborted {
		ex.Remaining = orchestrator.Duration(finish[last].Round(time.Second))
		for i := last; i >= 0 && !ended(ex.Steps[i].Status); i = prev[i] {
			ex.Steps[i].Critical = true
		}
		if ex.Status == StatusRunning || ex.Status == StatusPaused {
			p := now.Add(finish[last])
			ex.Projected = &p
		}
	}
	for k := range ex.Services {
		ex.measure(&ex.Services[k], index, deps, finish, now)
	}
}

// measure fills a service's achieved RTO and RPO from its verification
// step and the restore steps before it, or its projected recovery.
func (ex *Execution) measure(m *ServiceMeasure, index map[string]int, deps map[string][]string, finish []time.Duration, now time.Time) {
	i := slices.IndexFunc(ex.Steps, func(st Step) bool { return st.RunbookKind == runbooks.KindServiceVerify && st.CI == m.Service })
	if i < 0 {
		return
	}
	v := ex.Steps[i]
	m.VerifyStep = v.ID
	if v.Status == StepSucceeded && v.FinishedAt != nil {
		d := orchestrator.Duration(v.FinishedAt.Sub(ex.StartedAt).Round(time.Second))
		m.RTOAchieved = &d
		if m.RTO != nil {
			met := d <= *m.RTO
			m.RTOMet = &met
		}
		if ex.FailurePoint != nil {
			var oldest *time.Time
			for _, a := range ancestors(deps, v.ID) {
				if r := ex.Steps[index[a]].RecoveredAt; r != nil && (oldest == nil || r.Before(*oldest)) {
					oldest = r
				}
			}
			if oldest != nil {
				loss := orchestrator.Duration(max(ex.FailurePoint.Sub(*oldest), 0).Round(time.Second))
				m.RPOAchieved = &loss
			}
		}
		return
	}
	if ex.Status != StatusRunning && ex.Status != StatusPaused {
		return
	}
	p := now.Add(finish[i])
	m.Projected = &p
	m.AtRisk = m.RTO != nil && p.Sub(ex.StartedAt) > time.Duration(*m.RTO)
}
