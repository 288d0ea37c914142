package execution

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/outbound"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/secretref"
	"github.com/bcdr/bcdr/runbooks"
)

// Options configure the engine's calls; zero fields take the defaults in
// brackets.
type Options struct {
	// Outbound is the address policy of the steps' calls.
	Outbound outbound.Policy
	// Transport carries the calls [a transport under Outbound]. Tests
	// may pass their own.
	Transport http.RoundTripper
	// Secrets is the policy {{secret:NAME}} references resolve under, and
	// Lookup reads the environment [os.LookupEnv].
	Secrets secretref.Policy
	Lookup  secretref.Lookup
}

// Service starts executions, shows them, takes people's actions on
// their steps and, in Run, performs the automated steps.
type Service struct {
	pool     *pgxpool.Pool
	rt       orchestrator.Runtime
	runbooks *runbooks.Service
	opts     Options
	// wake tells this process's Run that a step may be ready.
	wake chan struct{}
	// watchers are the live boards of this process waiting for changes.
	watchers watchers
}

// NewService returns the engine over the runbooks service.
func NewService(pool *pgxpool.Pool, rt orchestrator.Runtime, rb *runbooks.Service, opts Options) *Service {
	if opts.Transport == nil {
		opts.Transport = outbound.NewTransport(opts.Outbound)
	}
	return &Service{pool: pool, rt: rt, runbooks: rb, opts: opts, wake: make(chan struct{}, 1)}
}

// StartInput starts an execution.
type StartInput struct {
	Runbook int64  `json:"runbook"`
	Mode    string `json:"mode"`
	// Version is the runbook version to run: an invocation runs the
	// approved one; a drill may name a draft [the approved version, or for
	// a drill of a runbook never approved its draft].
	Version *int `json:"version"`
	// Scenario describes what happened or is simulated (free-form JSON).
	Scenario json.RawMessage `json:"scenario"`
	// FailurePoint is when the data was last good, from which the data
	// loss achieved is measured [the start].
	FailurePoint *time.Time `json:"failure_point"`
	Note         string     `json:"note"`
	// Automations says which automated steps a drill calls: "" as its
	// mode says, AutomationsOff none (a simulation), AutomationsLive their
	// real URLs (a full interruption). An invocation calls every one.
	Automations string `json:"automations"`
}

// Automation settings of a drill.
const (
	AutomationsOff  = "off"
	AutomationsLive = "live"
)

// Start copies the steps of a runbook version into a new execution and
// starts it: the steps without dependencies become ready at once.
func (s *Service) Start(ctx context.Context, in StartInput) (Execution, error) {
	var id int64
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		id, err = s.StartTx(ctx, tx, in)
		return err
	})
	if err != nil {
		return Execution{}, err
	}
	s.Wake()
	return s.Get(ctx, id)
}

// StartTx is Start inside the caller's transaction, for a capability that
// starts executions together with its own records (a drill); it returns
// the new execution's id. The caller calls Wake once it committed.
func (s *Service) StartTx(ctx context.Context, tx pgx.Tx, in StartInput) (int64, error) {
	var v orchestrator.Validation
	if in.Mode != ModeInvocation && in.Mode != ModeDrill {
		v.Add("mode", "must be invocation or drill")
	}
	switch {
	case in.Automations != "" && in.Automations != AutomationsOff && in.Automations != AutomationsLive:
		v.Add("automations", "must be off or live, or empty for what the mode says")
	case in.Automations != "" && in.Mode == ModeInvocation:
		v.Add("automations", "an invocation calls every automated step; only a drill may turn them off or live")
	}
	if in.Runbook < 1 {
		v.Add("runbook", "is required: the id of a runbook")
	}
	if msg := checkNote(in.Note); msg != "" {
		v.Add("note", "%s", msg)
	}
	scenario := bytes.TrimSpace(in.Scenario)
	if len(scenario) > 0 && string(scenario) != "null" && scenario[0] != '{' {
		v.Add("scenario", "must be an object describing the disruption, or null")
	}
	if err := v.Err(); err != nil {
		return 0, err
	}
	rb, err := s.runbooks.Get(ctx, strconv.FormatInt(in.Runbook, 10))
	if err != nil {
		if orchestrator.ErrorCode(err) == orchestrator.ENOTFOUND {
			return 0, orchestrator.Invalid("runbook", "no such runbook")
		}
		return 0, err
	}
	number, err := pickVersion(rb, in)
	if err != nil {
		return 0, err
	}
	ver, err := s.runbooks.GetVersion(ctx, strconv.FormatInt(in.Runbook, 10), strconv.Itoa(number))
	if err != nil {
		return 0, err
	}
	if len(ver.Steps) == 0 {
		return 0, orchestrator.Invalid("runbook", "has no steps")
	}
	targets := map[string]*int64{}
	for _, sc := range rb.Feasibility.Services {
		var rto *int64
		if sc.RTO != nil {
			secs := int64(time.Duration(*sc.RTO) / time.Second)
			rto = &secs
		}
		targets[sc.Service] = rto
	}
	if rb.Scope.Service != "" {
		if _, ok := targets[rb.Scope.Service]; !ok {
			targets[rb.Scope.Service] = nil
		}
	}
	if len(scenario) == 0 {
		scenario = []byte("null")
	}
	in.Scenario = scenario
	return s.start(ctx, tx, in, number, rb.Title, targets, ver.Steps)
}

// start writes a new execution of steps, version number of runbook
// in.Runbook, and readies its first steps.
func (s *Service) start(ctx context.Context, tx pgx.Tx, in StartInput, number int, title string, targets map[string]*int64, steps []runbooks.Step) (int64, error) {
	actor := orchestrator.ActorFrom(ctx)
	scenario := in.Scenario
	var id int64
	now := s.rt.Now()
	recovery := 0
	for _, st := range steps {
		if !st.Cleanup {
			recovery++
		}
	}
	err := tx.QueryRow(ctx, `INSERT INTO executions (runbook_id, version, title, targets, mode, scenario, failure_point, note,
			started_by, started_at, updated_at, open_steps, open_recovery, automations)
		VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, coalesce($9::timestamptz, now())), $8, $10,
			coalesce($9::timestamptz, now()), coalesce($9::timestamptz, now()), $11, $12, $13) RETURNING id`,
		in.Runbook, number, title, targets, in.Mode, scenario, in.FailurePoint, in.Note, postgres.NowArg(s.rt.Clock), actor.Name,
		len(steps), recovery, in.Automations).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("start execution: %w", err)
	}
	rows := make([][]any, len(steps))
	for i, st := range steps {
		spec, err := json.Marshal(st)
		if err != nil {
			return 0, err
		}
		kind, callable, delay := KindManual, false, int64(0)
		onReject, role := "", ""
		switch {
		case st.Decision != nil:
			kind, onReject, role = KindDecision, st.Decision.OnReject, string(st.Decision.Role)
		case st.Automation != nil:
			kind = KindAutomated
			switch in.Automations {
			case AutomationsOff:
			case AutomationsLive:
				callable = true
			default:
				callable = in.Mode == ModeInvocation || st.Automation.DrillURL != ""
			}
			delay = time.Duration(st.Automation.Delay).Milliseconds()
		}
		deps := st.DependsOn
		if deps == nil {
			deps = []string{}
		}
		rows[i] = []any{id, st.ID, i, spec, kind, st.Kind, st.Title, st.CI, st.OwnerRole, time.Duration(st.Estimate).Milliseconds(), role,
			deps, st.Mandatory, st.Cleanup, onReject, callable, delay, fmt.Sprintf("bcdr-execution-%d-%s", id, st.ID), now}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"execution_steps"}, []string{"execution_id", "step_id", "position", "spec", "kind",
		"runbook_kind", "title", "ci", "owner_role", "estimate_ms", "decision_role",
		"depends_on", "mandatory", "cleanup", "on_reject", "callable", "delay_ms", "idempotency_key", "run_after"}, pgx.CopyFromRows(rows)); err != nil {
		return 0, fmt.Errorf("start execution: copy steps: %w", err)
	}
	err = s.transitionTx(ctx, tx, id, true, func(_ context.Context, _ pgx.Tx, st *state) error {
		detail := fmt.Sprintf("%s of runbook %d version %d (%s)", in.Mode, in.Runbook, number, title)
		if in.Note != "" {
			detail += ": " + in.Note
		}
		st.event(actor.Name, "", "execution_started", detail)
		typ := notify.EventDrillStarted
		if in.Mode == ModeInvocation {
			typ = notify.EventInvocationStarted
		}
		st.notices = append(st.notices, notify.Event{Type: typ, Severity: notify.SeverityWarning, Subject: st.subject(), Occurrence: "start",
			Summary: fmt.Sprintf("%s of %q started by %s", in.Mode, title, actor.Name),
			Details: map[string]any{"runbook": in.Runbook, "version": number, "mode": in.Mode}})
		return nil
	})
	return id, err
}

// pickVersion chooses the runbook version an execution runs.
func pickVersion(rb runbooks.Runbook, in StartInput) (int, error) {
	if in.Mode == ModeInvocation {
		if in.Version != nil && (rb.ApprovedVersion == nil || *in.Version != *rb.ApprovedVersion) {
			return 0, orchestrator.Invalid("version", "must be the approved version or left out")
		}
		if rb.ApprovedVersion == nil {
			return 0, orchestrator.Invalid("runbook", "has no approved version; approve it, or run a drill of the draft")
		}
		return *rb.ApprovedVersion, nil
	}
	switch {
	case in.Version != nil:
		return *in.Version, nil
	case rb.ApprovedVersion != nil:
		return *rb.ApprovedVersion, nil
	case rb.DraftVersion != nil:
		return *rb.DraftVersion, nil
	}
	return 0, orchestrator.Invalid("runbook", "has no version")
}

func checkNote(s string) string {
	if len([]rune(s)) > 4000 {
		return "must be at most 4000 characters"
	}
	return ""
}

// Wake tells the worker loop of this replica that a step may be ready.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Filter narrows the execution list.
type Filter struct {
	Runbook int64
	Status  string
	Mode    string
}

// List returns executions, newest first.
func (s *Service) List(ctx context.Context, f Filter, page orchestrator.Page) (orchestrator.List[Execution], error) {
	before := int64(0)
	if page.After != "" {
		n, err := strconv.ParseInt(page.After, 10, 64)
		if err != nil {
			return orchestrator.List[Execution]{}, orchestrator.Invalid("after", "is not a cursor returned by this server")
		}
		before = n
	}
	rows, err := s.pool.Query(ctx, `SELECT `+executionColumns+` FROM executions
		WHERE ($1 = 0 OR id < $1) AND ($2 = 0 OR runbook_id = $2) AND ($3 = '' OR status = $3) AND ($4 = '' OR mode = $4)
		ORDER BY id DESC LIMIT $5`, before, f.Runbook, f.Status, f.Mode, page.Limit+1)
	if err != nil {
		return orchestrator.List[Execution]{}, fmt.Errorf("list executions: %w", err)
	}
	items, err := pgx.CollectRows(rows, scanExecution)
	if err != nil {
		return orchestrator.List[Execution]{}, fmt.Errorf("list executions: %w", err)
	}
	now := s.rt.Now()
	for i := range items {
		items[i].Elapsed = elapsed(items[i].StartedAt, items[i].FinishedAt, now)
		items[i].Steps = []Step{}
		items[i].Services = []ServiceMeasure{}
	}
	return orchestrator.Paginate(items, page.Limit, func(e Execution) string { return strconv.FormatInt(e.ID, 10) }), nil
}

const executionColumns = `id, runbook_id, version, title, mode, automations, scenario, failure_point, note, status, reason, started_by, started_at,
	measured_at, finished_at, updated_at, targets`

func scanExecution(r pgx.CollectableRow) (Execution, error) {
	var e Execution
	var targets map[string]*int64
	err := r.Scan(&e.ID, &e.Runbook, &e.Version, &e.Title, &e.Mode, &e.Automations, &e.Scenario, &e.FailurePoint, &e.Note, &e.Status, &e.Reason,
		&e.StartedBy, &e.StartedAt, &e.MeasuredAt, &e.FinishedAt, &e.UpdatedAt, &targets)
	e.Services = make([]ServiceMeasure, 0, len(targets))
	for svc, rto := range targets {
		m := ServiceMeasure{Service: svc}
		if rto != nil {
			d := orchestrator.Duration(time.Duration(*rto) * time.Second)
			m.RTO = &d
		}
		e.Services = append(e.Services, m)
	}
	slices.SortFunc(e.Services, func(a, b ServiceMeasure) int { return strings.Compare(a.Service, b.Service) })
	return e, err
}

func elapsed(from time.Time, to *time.Time, now time.Time) orchestrator.Duration {
	end := now
	if to != nil {
		end = *to
	}
	return orchestrator.Duration(end.Sub(from).Round(time.Second))
}

// Events returns the timeline of execution id after event after, oldest
// first, at most limit.
func (s *Service) Events(ctx context.Context, id, after int64, limit int) ([]Event, error) {
	if _, err := s.status(ctx, id); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT id, execution_id, at, actor, step_id, type, detail FROM execution_events
		WHERE execution_id = $1 AND id > $2 ORDER BY id LIMIT $3`, id, after, limit)
	if err != nil {
		return nil, fmt.Errorf("read execution timeline: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
		var e Event
		return e, r.Scan(&e.ID, &e.Execution, &e.At, &e.Actor, &e.Step, &e.Type, &e.Detail)
	})
}

// status returns an execution's status, or not found.
func (s *Service) status(ctx context.Context, id int64) (string, error) {
	var st string
	err := s.pool.QueryRow(ctx, `SELECT status FROM executions WHERE id = $1`, id).Scan(&st)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", orchestrator.Errorf(orchestrator.ENOTFOUND, "execution %d not found", id)
	}
	return st, err
}

// Ended reports whether execution id has ended for good (succeeded or
// aborted); a failed one may still be resumed.
func (s *Service) Ended(ctx context.Context, id int64) (bool, error) {
	st, err := s.status(ctx, id)
	return st == StatusSucceeded || st == StatusAborted, err
}

// Measured returns, for each step of runbook id, the duration it took in
// the latest execution of the runbook in which it succeeded: from when it
// started (or, for a person's step, became ready) to when it ended. The
// runbook's feasibility uses these in place of estimates.
func (s *Service) Measured(ctx context.Context, runbookID int64) (map[string]orchestrator.Duration, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT ON (st.step_id) st.step_id,
			extract(epoch FROM st.finished_at - coalesce(st.started_at, st.ready_at))::bigint
		FROM execution_steps st JOIN executions e ON e.id = st.execution_id
		WHERE e.runbook_id = $1 AND st.status = 'succeeded' AND st.finished_at IS NOT NULL
		  AND coalesce(st.started_at, st.ready_at) IS NOT NULL
		ORDER BY st.step_id, e.id DESC`, runbookID)
	if err != nil {
		return nil, fmt.Errorf("read measured step durations: %w", err)
	}
	out := map[string]orchestrator.Duration{}
	var step string
	var secs int64
	_, err = pgx.ForEachRow(rows, []any{&step, &secs}, func() error {
		out[step] = orchestrator.Duration(time.Duration(max(secs, 0)) * time.Second)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read measured step durations: %w", err)
	}
	return out, nil
}
