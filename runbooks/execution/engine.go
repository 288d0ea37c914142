package execution

import (
	"context"
	"errors"
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
)

// node is what a transition reads of one step.
type node struct {
	rowID     int64
	position  int
	id        string
	title     string
	kind      string
	dependsOn []string
	mandatory bool
	cleanup   bool
	onReject  string
	role      string // a decision's
	callable  bool
	status    string
	// was is the status as read, from which the execution's counts move.
	was      string
	attempts int
	delay    time.Duration
	changed  bool
}

// state is an execution locked for one transition. Its steps are read as
// the transition needs them (the ones it acts on, the ones waiting on a
// step that ended, and theirs), so a transition costs the same in an
// execution of ten steps or ten thousand.
type state struct {
	ctx        context.Context
	tx         pgx.Tx
	id         int64
	title      string
	mode       string
	status     string
	startedBy  string
	reason     string
	measuredAt *time.Time
	finished   bool
	counts     counts
	// recount is set when steps changed in bulk: the counts are read again.
	recount bool
	index   map[string]*node
	// events are the transitions to record, in order.
	events []Event
	// notices are notifications to publish with the transition.
	notices []notify.Event
	now     time.Time
}

func ended(status string) bool {
	switch status {
	case StepSucceeded, StepFailed, StepGaveUp, StepSkipped, StepRejected, StepBypassed, StepCancelled:
		return true
	}
	return false
}

func failedStatus(status string) bool { return status == StepFailed || status == StepGaveUp }

func active(status string) bool {
	return status == StepWaiting || status == StepPending || status == StepRunning
}

// counts are the execution's kept step counts (see the executions table).
type counts struct {
	open, openRecovery, failed, active int
}

// move counts a step of the given kind going from one status to another.
func (c *counts) move(from, to string, cleanup bool) {
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	c.open += b(!ended(to)) - b(!ended(from))
	if !cleanup {
		c.openRecovery += b(!ended(to)) - b(!ended(from))
	}
	c.failed += b(failedStatus(to)) - b(failedStatus(from))
	c.active += b(active(to)) - b(active(from))
}

const nodeColumns = `id, position, step_id, title, kind, depends_on, mandatory, cleanup, on_reject, decision_role, callable,
	status, attempts, delay_ms`

func scanNode(r pgx.CollectableRow) (*node, error) {
	n := &node{}
	var delay int64
	err := r.Scan(&n.rowID, &n.position, &n.id, &n.title, &n.kind, &n.dependsOn, &n.mandatory, &n.cleanup, &n.onReject, &n.role,
		&n.callable, &n.status, &n.attempts, &delay)
	n.delay = time.Duration(delay) * time.Millisecond
	n.was = n.status
	return n, err
}

// fetch reads the steps where says (over execution_steps, $1 the
// execution), keeping those already read as they are.
func (st *state) fetch(where string, args ...any) ([]*node, error) {
	rows, err := st.tx.Query(st.ctx, `SELECT `+nodeColumns+` FROM execution_steps WHERE execution_id = $1 AND `+where+` ORDER BY position`,
		append([]any{st.id}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("read execution %d steps: %w", st.id, err)
	}
	got, err := pgx.CollectRows(rows, scanNode)
	if err != nil {
		return nil, fmt.Errorf("read execution %d steps: %w", st.id, err)
	}
	for i, n := range got {
		if known, ok := st.index[n.id]; ok {
			got[i] = known
		} else {
			st.index[n.id] = n
		}
	}
	return got, nil
}

// step returns the named step or a not-found error.
func (st *state) step(id string) (*node, error) {
	if n, ok := st.index[id]; ok {
		return n, nil
	}
	got, err := st.fetch(`step_id = $2`, id)
	if err != nil {
		return nil, err
	}
	if len(got) == 0 {
		return nil, orchestrator.Errorf(orchestrator.ENOTFOUND, "execution %d has no step %q", st.id, clip(id))
	}
	return got[0], nil
}

// set changes a step's status and records the transition.
func (st *state) set(n *node, status, actor, detail string) {
	n.status, n.changed = status, true
	st.event(actor, n.id, "step_"+status, detail)
}

func (st *state) event(actor, step, typ, detail string) {
	st.events = append(st.events, Event{Execution: st.id, At: st.now, Actor: actor, Step: step, Type: typ, Detail: detail})
}

// depends reports how child stands on its dependency dep: done (the
// dependency let it go on), bypass (the dependency is on a branch not
// taken, so is child unless another dependency is done), wait.
func depends(dep *node, child string) string {
	switch dep.status {
	case StepSucceeded:
		if dep.kind == KindDecision && dep.onReject == child {
			return "bypass"
		}
		return "done"
	case StepSkipped:
		return "done"
	case StepBypassed:
		return "bypass"
	case StepRejected:
		if dep.onReject == child {
			return "done"
		}
		return "bypass"
	}
	return "wait"
}

// advance moves on every blocked step whose dependencies all ended, from
// the steps this transition ended (all roots at the start): to ready
// (pending for the engine, waiting for a person) or bypassed, and on from
// those bypassed. Then it settles the execution.
func (st *state) advance(start bool) error {
	if st.status != StatusRunning && st.status != StatusPaused {
		return nil
	}
	var frontier []string
	if start {
		roots, err := st.fetch(`depends_on = '{}'`)
		if err != nil {
			return err
		}
		for _, n := range roots {
			st.ready(n)
		}
	}
	for _, n := range st.index {
		if n.changed && ended(n.status) {
			frontier = append(frontier, n.id)
		}
	}
	for len(frontier) > 0 {
		waiting, err := st.fetch(`status = 'blocked' AND depends_on && $2::text[]`, frontier)
		if err != nil {
			return err
		}
		var deps []string
		for _, n := range waiting {
			for _, d := range n.dependsOn {
				if _, ok := st.index[d]; !ok {
					deps = append(deps, d)
				}
			}
		}
		if len(deps) > 0 {
			if _, err := st.fetch(`step_id = ANY($2::text[])`, deps); err != nil {
				return err
			}
		}
		frontier = frontier[:0]
		for _, n := range waiting {
			if n.status != StepBlocked {
				continue
			}
			if st.ready(n) == StepBypassed {
				frontier = append(frontier, n.id)
			}
		}
	}
	return nil
}

// ready moves a blocked step on if its dependencies allow, and returns
// its status.
func (st *state) ready(n *node) string {
	done, bypass := 0, 0
	for _, d := range n.dependsOn {
		dep, ok := st.index[d]
		if !ok {
			continue
		}
		switch depends(dep, n.id) {
		case "done":
			done++
		case "bypass":
			bypass++
		default:
			return n.status
		}
	}
	switch {
	case bypass > 0 && done == 0:
		st.set(n, StepBypassed, "system", "on a branch the decision did not take")
	case n.callable:
		st.set(n, StepPending, "system", "ready; queued for the engine")
	default:
		st.set(n, StepWaiting, "system", "ready; waiting for a person")
		if n.kind == KindDecision {
			st.notices = append(st.notices, notify.Event{Type: notify.EventDecisionNeeded, Severity: notify.SeverityWarning,
				Subject: st.subject(), Occurrence: n.id + "/" + strconv.Itoa(n.attempts),
				Summary: fmt.Sprintf("execution %d (%s): decision %s %q needs a decision", st.id, st.title, n.id, n.title)})
		}
	}
	return n.status
}

func (st *state) subject() string { return "execution/" + strconv.FormatInt(st.id, 10) }

// settle decides the execution's status from its step counts.
func (st *state) settle() error {
	if st.recount {
		err := st.tx.QueryRow(st.ctx, `SELECT
				count(*) FILTER (WHERE status NOT IN ('succeeded', 'failed', 'gave_up', 'skipped', 'rejected', 'bypassed', 'cancelled')),
				count(*) FILTER (WHERE NOT cleanup AND status NOT IN ('succeeded', 'failed', 'gave_up', 'skipped', 'rejected', 'bypassed', 'cancelled')),
				count(*) FILTER (WHERE status IN ('failed', 'gave_up')),
				count(*) FILTER (WHERE status IN ('waiting', 'pending', 'running'))
			FROM execution_steps WHERE execution_id = $1`, st.id).Scan(&st.counts.open, &st.counts.openRecovery, &st.counts.failed, &st.counts.active)
		if err != nil {
			return fmt.Errorf("count execution %d steps: %w", st.id, err)
		}
	}
	if st.status != StatusRunning && st.status != StatusPaused {
		return nil
	}
	c := st.counts
	if c.openRecovery == 0 && st.measuredAt == nil {
		t := st.now
		st.measuredAt = &t
		st.event("system", "", "measured", "every recovery step has ended; the recovery is measured")
	}
	switch {
	case c.open == 0:
		status := StatusSucceeded
		if c.failed > 0 {
			status = StatusFailed
		}
		st.finish(status, "every step has ended")
	case c.failed > 0 && c.active == 0 && st.status == StatusRunning:
		st.status = StatusFailed
		st.event("system", "", "execution_failed", "a step failed and nothing else can go on: retry, skip or resume from the failed step")
		st.notices = append(st.notices, st.finishedNotice(StatusFailed))
	}
	return nil
}

// finish ends the execution for good.
func (st *state) finish(status, detail string) {
	st.status, st.finished = status, true
	st.event("system", "", "execution_"+status, detail)
	st.notices = append(st.notices, st.finishedNotice(status))
}

func (st *state) finishedNotice(status string) notify.Event {
	sev := notify.SeverityInfo
	if status != StatusSucceeded {
		sev = notify.SeverityCritical
	}
	return notify.Event{Type: notify.EventExecutionFinished, Severity: sev, Subject: st.subject(),
		Occurrence: status + "/" + st.now.UTC().Format(time.RFC3339Nano),
		Summary:    fmt.Sprintf("%s %d (%s) %s", st.mode, st.id, st.title, status),
		Details:    map[string]any{"mode": st.mode, "status": status}}
}

// conflict is the error of an action on a step or execution not in the
// state it needs (another person or replica got there first).
func conflict(format string, args ...any) error {
	return orchestrator.Errorf(orchestrator.ECONFLICT, format, args...)
}

// transition locks execution id, lets change act on its steps, advances
// the DAG from what changed and writes everything, the timeline, the audit
// rows and the notifications in one transaction. Two transitions of one
// execution take turns.
func (s *Service) transition(ctx context.Context, id int64, change func(ctx context.Context, tx pgx.Tx, st *state) error) error {
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		return s.transitionTx(ctx, tx, id, false, change)
	})
}

// transitionTx is transition inside tx; start readies the root steps.
func (s *Service) transitionTx(ctx context.Context, tx pgx.Tx, id int64, start bool, change func(ctx context.Context, tx pgx.Tx, st *state) error) error {
	st := &state{ctx: ctx, tx: tx, id: id, index: map[string]*node{}}
	err := tx.QueryRow(ctx, `SELECT title, mode, status, started_by, measured_at, coalesce($2::timestamptz, now()),
			open_steps, open_recovery, failed_steps, active_steps
		FROM executions WHERE id = $1 FOR UPDATE`, id, postgres.NowArg(s.rt.Clock)).
		Scan(&st.title, &st.mode, &st.status, &st.startedBy, &st.measuredAt, &st.now,
			&st.counts.open, &st.counts.openRecovery, &st.counts.failed, &st.counts.active)
	if errors.Is(err, pgx.ErrNoRows) {
		return orchestrator.Errorf(orchestrator.ENOTFOUND, "execution %d not found", id)
	}
	if err != nil {
		return fmt.Errorf("read execution %d: %w", id, err)
	}
	if err := change(ctx, tx, st); err != nil {
		return err
	}
	if err := st.advance(start); err != nil {
		return err
	}
	if err := s.saveSteps(st); err != nil {
		return err
	}
	if err := st.settle(); err != nil {
		return err
	}
	return s.save(st)
}

// saveSteps writes the steps a transition changed.
func (s *Service) saveSteps(st *state) error {
	batch := &pgx.Batch{}
	for _, n := range st.index {
		if !n.changed {
			continue
		}
		st.counts.move(n.was, n.status, n.cleanup)
		n.was = n.status
		// Entering a queue state stamps when the step became ready; an
		// automated step waits for its delay first. Ending stamps when.
		batch.Queue(`UPDATE execution_steps SET status = $2,
				ready_at = CASE WHEN $2 IN ('pending', 'waiting') THEN $3 ELSE ready_at END,
				run_after = CASE WHEN $2 = 'pending' THEN $3 + $4::bigint * interval '1 millisecond' ELSE run_after END,
				finished_at = CASE WHEN $2 IN ('succeeded', 'failed', 'gave_up', 'skipped', 'rejected', 'bypassed', 'cancelled')
					THEN coalesce(finished_at, $3) ELSE NULL END,
				started_at = CASE WHEN $2 IN ('blocked', 'pending', 'waiting') THEN NULL ELSE started_at END,
				lease_expires_at = NULL
			WHERE id = $1`, n.rowID, n.status, st.now, n.delay.Milliseconds())
	}
	if batch.Len() == 0 {
		return nil
	}
	if err := st.tx.SendBatch(st.ctx, batch).Close(); err != nil {
		return fmt.Errorf("record steps of execution %d: %w", st.id, err)
	}
	return nil
}

// save writes the execution's row, its timeline, audit rows and
// notifications.
func (s *Service) save(st *state) error {
	var finishedAt *time.Time
	if st.finished {
		finishedAt = &st.now
	}
	c := st.counts
	if _, err := st.tx.Exec(st.ctx, `UPDATE executions SET status = $2, measured_at = $3, finished_at = coalesce(finished_at, $4), updated_at = $5,
			reason = CASE WHEN $6 = '' THEN reason ELSE left($6, 2000) END,
			open_steps = $7, open_recovery = $8, failed_steps = $9, active_steps = $10
		WHERE id = $1`, st.id, st.status, st.measuredAt, finishedAt, st.now, st.reason, c.open, c.openRecovery, c.failed, c.active); err != nil {
		return fmt.Errorf("record execution %d: %w", st.id, err)
	}
	return s.record(st.ctx, st.tx, st.events, st.notices)
}

// record appends events to the timeline and, as one row for the
// transition, to the audit chain, and publishes the notices.
func (s *Service) record(ctx context.Context, tx pgx.Tx, events []Event, notices []notify.Event) error {
	if len(events) > 0 {
		rows := make([][]any, len(events))
		for i, e := range events {
			rows[i] = []any{e.Execution, e.At, e.Actor, e.Step, e.Type, orchestrator.Excerpt(e.Detail, 4000)}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"execution_events"}, []string{"execution_id", "at", "actor", "step_id", "type", "detail"},
			pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("record execution timeline: %w", err)
		}
		// The live boards watching the execution hear of it on commit.
		if _, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, changedChannel, strconv.FormatInt(events[0].Execution, 10)); err != nil {
			return fmt.Errorf("announce execution change: %w", err)
		}
	}
	// One audit row per transition: what caused it, then what followed.
	if len(events) > 0 {
		parts := make([]string, len(events))
		for i, e := range events {
			parts[i] = e.Type
			if e.Step != "" {
				parts[i] = "step " + e.Step + " " + e.Type
			}
			if e.Detail != "" && i == 0 {
				parts[i] += ": " + e.Detail
			}
		}
		if err := audit.Record(ctx, tx, audit.Change{Action: events[0].Type, Resource: "executions",
			ResourceID: strconv.FormatInt(events[0].Execution, 10), Summary: orchestrator.Excerpt(strings.Join(parts, "; "), 1000)}); err != nil {
			return err
		}
	}
	for _, n := range notices {
		n.OccurredAt = s.rt.Now()
		if err := notify.Publish(ctx, tx, n); err != nil {
			return fmt.Errorf("publish execution notification: %w", err)
		}
	}
	return nil
}

// clip shortens user input quoted in messages.
func clip(s string) string { return orchestrator.Excerpt(strings.TrimSpace(s), 80) }

// ancestors lists the steps id depends on, directly or not.
func ancestors(steps map[string][]string, id string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(s string) {
		for _, d := range steps[s] {
			if !seen[d] {
				seen[d] = true
				walk(d)
			}
		}
	}
	walk(id)
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
