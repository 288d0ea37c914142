package execution

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/outbound"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/orchestrator/secretref"
	"github.com/bcdr/bcdr/runbooks"
)

// fixture is a database and the engine over it.
type fixture struct {
	t        *testing.T
	pool     *pgxpool.Pool
	rb       *runbooks.Service
	svc      *Service
	runbooks int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool := pgtest.New(t)
	rt := orchestrator.Runtime{}
	rb := runbooks.NewService(pool, rt, runbooks.Options{})
	allow, err := outbound.ParsePolicy("127.0.0.1")
	require.NoError(t, err)
	return &fixture{t: t, pool: pool, rb: rb, svc: NewService(pool, rt, rb, Options{Outbound: allow})}
}

// as is a context acting as name with role.
func as(role orchestrator.Role, name string) context.Context {
	return orchestrator.WithActor(context.Background(), orchestrator.Actor{Name: name, Role: role})
}

// stepSpec is a step to add: deps are indices of earlier specs.
type stepSpec struct {
	title string
	deps  []int
	auto  map[string]any
	dec   map[string]any
	mand  bool
	clean bool
}

// runbook creates a business service and a runbook of it whose steps are exactly specs (the
// generated ones removed), approved unless draft; it returns its id and
// the step ids in spec order.
func (f *fixture) runbook(draft bool, specs ...stepSpec) (int64, []string) {
	t := f.t
	t.Helper()
	ctx := as(orchestrator.RoleAdmin, "admin")
	f.runbooks++
	key := "svc" + strconv.Itoa(f.runbooks)
	_, err := cmdb.NewService(f.pool).CreateCI(ctx, cmdb.CIInput{Key: key, Name: "Service " + key, Class: "business_service"})
	require.NoError(t, err)
	r, err := f.rb.Create(ctx, runbooks.CreateInput{Service: key})
	require.NoError(t, err)
	id := strconv.FormatInt(r.ID, 10)
	ids := make([]string, len(specs))
	for i, sp := range specs {
		deps := []string{}
		for _, d := range sp.deps {
			deps = append(deps, ids[d])
		}
		title, est := sp.title, "1m"
		in := runbooks.StepInput{Title: &title, DependsOn: &deps, Estimate: &est, Mandatory: &sp.mand, Cleanup: &sp.clean}
		if sp.auto != nil {
			in.Automation, _ = json.Marshal(sp.auto)
		}
		before := stepIDs(r)
		r, err = f.rb.AddStep(ctx, id, in)
		require.NoError(t, err)
		for _, s := range stepIDs(r) {
			if !slices.Contains(before, s) {
				ids[i] = s
			}
		}
	}
	for i, sp := range specs {
		if sp.dec == nil {
			continue
		}
		d := sp.dec
		if k, ok := d["on_reject"].(int); ok {
			d["on_reject"] = ids[k]
		}
		raw, _ := json.Marshal(d)
		r, err = f.rb.UpdateStep(ctx, id, ids[i], runbooks.StepInput{Decision: raw})
		require.NoError(t, err)
	}
	for _, s := range stepIDs(r) {
		if !slices.Contains(ids, s) {
			r, err = f.rb.RemoveStep(ctx, id, s)
			require.NoError(t, err)
		}
	}
	if !draft {
		_, err = f.rb.Approve(as(orchestrator.RoleContinuityManager, "approver"), id)
		require.NoError(t, err)
	}
	return r.ID, ids
}

func stepIDs(r runbooks.Runbook) []string {
	out := []string{}
	for _, s := range r.Version.Steps {
		out = append(out, s.ID)
	}
	return out
}

// run performs automated steps until the test ends.
func (f *fixture) run(opts RunOptions) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.svc.Run(ctx, opts)
	}()
	f.t.Cleanup(func() { cancel(); <-done })
}

// wait polls the board until cond holds, failing after limit.
func (f *fixture) wait(id int64, limit time.Duration, cond func(Execution) bool) Execution {
	f.t.Helper()
	var ex Execution
	eventually.TrueWithin(f.t, limit, func() bool {
		got, err := f.svc.Get(context.Background(), id)
		if postgres.IsTransient(err) {
			return false // a connection the test itself cut
		}
		require.NoError(f.t, err)
		ex = got
		return cond(ex)
	}, "execution %d never got there; board: %+v", id, &ex)
	return ex
}

func stepOf(ex Execution, id string) Step {
	for _, s := range ex.Steps {
		if s.ID == id {
			return s
		}
	}
	return Step{}
}

// recorder is a loopback endpoint that notes each call.
type recorder struct {
	mu    sync.Mutex
	calls []call
	delay time.Duration
	fail  map[string]int // path → status to answer
}

type call struct {
	path, key  string
	start, end time.Time
}

func newRecorder(t *testing.T, delay time.Duration) (*recorder, string) {
	r := &recorder{delay: delay, fail: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		time.Sleep(r.delay)
		r.mu.Lock()
		r.calls = append(r.calls, call{path: req.URL.Path, key: req.Header.Get(IdempotencyHeader), start: start, end: time.Now()})
		status := r.fail[req.URL.Path]
		r.mu.Unlock()
		if status != 0 {
			w.WriteHeader(status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok","checks":[{"ok":true}]}`))
	}))
	t.Cleanup(srv.Close)
	return r, srv.URL
}

func (r *recorder) byPath() map[string][]call {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]call{}
	for _, c := range r.calls {
		out[c.path] = append(out[c.path], c)
	}
	return out
}

func auto(url string) map[string]any {
	return map[string]any{"method": "POST", "url": url, "timeout": "5s",
		"assertion": map[string]any{"path": "checks.0.ok", "equals": true}}
}

// A diamond runs in order: the two middle steps together, the last only
// after both, each called once with its own idempotency key.
func TestDiamondRunsInOrderAndInParallel(t *testing.T) {
	f := newFixture(t)
	rec, url := newRecorder(t, 300*time.Millisecond)
	rbID, ids := f.runbook(false,
		stepSpec{title: "start", auto: auto(url + "/a")},
		stepSpec{title: "left", deps: []int{0}, auto: auto(url + "/b")},
		stepSpec{title: "right", deps: []int{0}, auto: auto(url + "/c")},
		stepSpec{title: "join", deps: []int{1, 2}, auto: auto(url + "/d")},
	)
	f.run(RunOptions{Workers: 4, Poll: 100 * time.Millisecond})
	ex, err := f.svc.Start(as(orchestrator.RoleContinuityManager, "cm"), StartInput{Runbook: rbID, Mode: ModeInvocation})
	require.NoError(t, err)
	require.Contains(t, []string{StepPending, StepRunning}, stepOf(ex, ids[0]).Status, "queued, or already claimed")
	require.Equal(t, StepBlocked, stepOf(ex, ids[3]).Status, "the board shows steps not yet ready")
	ex = f.wait(ex.ID, 20*time.Second, func(e Execution) bool { return e.Status != StatusRunning })
	require.Equal(t, StatusSucceeded, ex.Status, "%+v", ex.Steps)
	calls := rec.byPath()
	keys := map[string]bool{}
	for _, p := range []string{"/a", "/b", "/c", "/d"} {
		require.Len(t, calls[p], 1, p)
		keys[calls[p][0].key] = true
	}
	require.Len(t, keys, 4, "one idempotency key per step")
	b, c, d := calls["/b"][0], calls["/c"][0], calls["/d"][0]
	require.True(t, b.start.Before(c.end) && c.start.Before(b.end), "the branches overlap")
	require.False(t, d.start.Before(b.end) || d.start.Before(c.end), "the join waits for both")
	require.Contains(t, stepOf(ex, ids[3]).Output, "checks.0.ok = true as expected")
	require.NotNil(t, ex.MeasuredAt)
}

// A drill calls only drill URLs; an automated step without one waits for
// a person, and production is never called.
func TestDrillNeverCallsProduction(t *testing.T) {
	f := newFixture(t)
	prod, produrl := newRecorder(t, 0)
	drill, drillurl := newRecorder(t, 0)
	withDrill := auto(produrl + "/restore")
	withDrill["drill_url"] = drillurl + "/restore"
	rbID, ids := f.runbook(true,
		stepSpec{title: "restore", auto: withDrill},
		stepSpec{title: "fail over", deps: []int{0}, auto: auto(produrl + "/failover")},
	)
	f.run(RunOptions{Workers: 2, Poll: 100 * time.Millisecond})
	_, err := f.svc.Start(as(orchestrator.RoleContinuityManager, "cm"), StartInput{Runbook: rbID, Mode: ModeInvocation})
	require.Error(t, err, "a draft is not invoked")
	ex, err := f.svc.Start(as(orchestrator.RoleContinuityManager, "cm"), StartInput{Runbook: rbID, Mode: ModeDrill})
	require.NoError(t, err)
	ex = f.wait(ex.ID, 10*time.Second, func(e Execution) bool { return stepOf(e, ids[1]).Status == StepWaiting })
	require.Equal(t, StepSucceeded, stepOf(ex, ids[0]).Status)
	require.Len(t, drill.byPath()["/restore"], 1)
	ex, err = f.svc.StepAction(as(orchestrator.RoleOperator, "op"), ex.ID, ids[1], ActComplete, ActionInput{Note: "failed over by hand in the drill"})
	require.NoError(t, err)
	require.Equal(t, StatusSucceeded, ex.Status)
	require.Empty(t, prod.byPath(), "production was never called")
}

// Two people completing one step: one wins, the other is told (409).
func TestManualStepCompletedOnce(t *testing.T) {
	f := newFixture(t)
	rbID, ids := f.runbook(false, stepSpec{title: "call the DBA"}, stepSpec{title: "restore", deps: []int{0}})
	ex, err := f.svc.Start(as(orchestrator.RoleContinuityManager, "cm"), StartInput{Runbook: rbID, Mode: ModeInvocation,
		FailurePoint: ptr(time.Now().Add(-time.Hour))})
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			_, errs[i] = f.svc.StepAction(as(orchestrator.RoleOperator, "op"+strconv.Itoa(i)), ex.ID, ids[0], ActComplete, ActionInput{Note: "done"})
		})
	}
	wg.Wait()
	codes := []string{orchestrator.ErrorCode(errs[0]), orchestrator.ErrorCode(errs[1])}
	slices.Sort(codes)
	require.Equal(t, []string{"", orchestrator.ECONFLICT}, codes)

	_, err = f.svc.StepAction(as(orchestrator.RoleOperator, "op"), ex.ID, ids[1], ActSkip, ActionInput{})
	require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err), "a skip needs a reason")
	_, err = f.svc.StepAction(as(orchestrator.RoleOperator, "op"), ex.ID, ids[1], ActComplete,
		ActionInput{RecoveredAt: ptr(time.Now().Add(time.Hour))})
	require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err), "a recovered point in the future")
	ex, err = f.svc.StepAction(as(orchestrator.RoleOperator, "op"), ex.ID, ids[1], ActComplete,
		ActionInput{RecoveredAt: ptr(time.Now().Add(-90 * time.Minute)), Evidence: []string{"https://tickets.example/123"}})
	require.NoError(t, err)
	require.Equal(t, StatusSucceeded, ex.Status)
	require.Equal(t, []string{"https://tickets.example/123"}, stepOf(ex, ids[1]).Evidence)

	events, err := f.svc.Events(context.Background(), ex.ID, 0, 100)
	require.NoError(t, err)
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	require.Equal(t, []string{"execution_started", "step_waiting", "step_succeeded", "step_waiting", "step_succeeded", "measured", "execution_succeeded"}, types)
}

// A decision is taken by someone with its role who did not start the
// execution; a rejection takes the branch it names and passes over the
// other.
func TestDecisionRolesAndBranches(t *testing.T) {
	f := newFixture(t)
	rbID, ids := f.runbook(false,
		stepSpec{title: "go/no-go: fail over to dc-dr?", dec: map[string]any{"role": "continuity_manager", "on_reject": 2}},
		stepSpec{title: "fail over", deps: []int{0}},
		stepSpec{title: "recover in place", deps: []int{0}},
		stepSpec{title: "after recovering in place", deps: []int{2}},
		stepSpec{title: "after failing over", deps: []int{1}},
		stepSpec{title: "verify", deps: []int{3, 4}},
	)
	ex, err := f.svc.Start(as(orchestrator.RoleContinuityManager, "cm"), StartInput{Runbook: rbID, Mode: ModeInvocation})
	require.NoError(t, err)
	require.Equal(t, StepWaiting, stepOf(ex, ids[0]).Status)
	_, err = f.svc.StepAction(as(orchestrator.RoleContinuityManager, "cm"), ex.ID, ids[0], ActApprove, ActionInput{})
	require.Equal(t, orchestrator.EFORBIDDEN, orchestrator.ErrorCode(err), "the starter cannot decide")
	_, err = f.svc.StepAction(as(orchestrator.RoleOperator, "op"), ex.ID, ids[0], ActApprove, ActionInput{})
	require.Equal(t, orchestrator.EFORBIDDEN, orchestrator.ErrorCode(err), "nor can another role")
	_, err = f.svc.StepAction(as(orchestrator.RoleOperator, "op"), ex.ID, ids[1], ActComplete, ActionInput{})
	require.Equal(t, orchestrator.ECONFLICT, orchestrator.ErrorCode(err), "steps after the decision wait for it")
	ex, err = f.svc.StepAction(as(orchestrator.RoleContinuityManager, "cm2"), ex.ID, ids[0], ActReject, ActionInput{Reason: "dc-dr is flooded too"})
	require.NoError(t, err)
	require.Equal(t, StepRejected, stepOf(ex, ids[0]).Status)
	require.Equal(t, StepBypassed, stepOf(ex, ids[1]).Status)
	require.Equal(t, StepBypassed, stepOf(ex, ids[4]).Status, "the branch not taken is passed over whole")
	require.Equal(t, StepWaiting, stepOf(ex, ids[2]).Status)
	for _, s := range []string{ids[2], ids[3], ids[5]} {
		ex, err = f.svc.StepAction(as(orchestrator.RoleOperator, "op"), ex.ID, s, ActComplete, ActionInput{})
		require.NoError(t, err, s)
	}
	require.Equal(t, StatusSucceeded, ex.Status)

	// Without a branch, a rejection stops the execution.
	rbID, ids = f.runbook(false, stepSpec{title: "go?", dec: map[string]any{"role": "executive"}}, stepSpec{title: "go", deps: []int{0}})
	ex, err = f.svc.Start(as(orchestrator.RoleContinuityManager, "cm"), StartInput{Runbook: rbID, Mode: ModeDrill})
	require.NoError(t, err)
	ex, err = f.svc.StepAction(as(orchestrator.RoleExecutive, "ceo"), ex.ID, ids[0], ActReject, ActionInput{Reason: "not now"})
	require.NoError(t, err)
	require.Equal(t, StatusAborted, ex.Status)
	require.Equal(t, StepCancelled, stepOf(ex, ids[1]).Status)
	require.Contains(t, ex.Reason, "not now")
}

// A step that fails stops its branch; the execution fails once nothing
// else can move, and resuming from the failed step calls it again under
// a new key, leaving what succeeded alone.
func TestFailureAndResumeFrom(t *testing.T) {
	f := newFixture(t)
	rec, url := newRecorder(t, 0)
	rec.fail["/b"] = http.StatusBadGateway
	a := auto(url + "/a")
	b := auto(url + "/b")
	rbID, ids := f.runbook(false, stepSpec{title: "a", auto: a}, stepSpec{title: "b", deps: []int{0}, auto: b},
		stepSpec{title: "c", deps: []int{1}, mand: true})
	f.run(RunOptions{Workers: 2, Poll: 100 * time.Millisecond})
	ex, err := f.svc.Start(as(orchestrator.RoleContinuityManager, "cm"), StartInput{Runbook: rbID, Mode: ModeInvocation})
	require.NoError(t, err)
	ex = f.wait(ex.ID, 10*time.Second, func(e Execution) bool { return e.Status == StatusFailed })
	require.Equal(t, StepFailed, stepOf(ex, ids[1]).Status)
	require.Contains(t, stepOf(ex, ids[1]).Error, "HTTP 502")
	require.Equal(t, StepBlocked, stepOf(ex, ids[2]).Status)

	rec.mu.Lock()
	delete(rec.fail, "/b")
	rec.mu.Unlock()
	_, err = f.svc.StepAction(as(orchestrator.RoleOperator, "op"), ex.ID, ids[2], ActSkip, ActionInput{Reason: "not needed"})
	require.Equal(t, orchestrator.EFORBIDDEN, orchestrator.ErrorCode(err), "only an admin skips a mandatory step")
	_, err = f.svc.ResumeFrom(as(orchestrator.RoleContinuityManager, "cm"), ex.ID, ids[1], ActionInput{Note: "upstream fixed"})
	require.NoError(t, err)
	ex = f.wait(ex.ID, 10*time.Second, func(e Execution) bool { return stepOf(e, ids[2]).Status == StepWaiting })
	calls := rec.byPath()
	require.Len(t, calls["/a"], 1, "what succeeded is not repeated")
	require.Len(t, calls["/b"], 2)
	require.NotEqual(t, calls["/b"][0].key, calls["/b"][1].key, "a person's retry is a new call")
	_, err = f.svc.Control(as(orchestrator.RoleContinuityManager, "cm"), ex.ID, CtlAbort, ActionInput{Reason: "drill over"})
	require.NoError(t, err)
	_, err = f.svc.StepAction(as(orchestrator.RoleOperator, "op"), ex.ID, ids[2], ActComplete, ActionInput{})
	require.Equal(t, orchestrator.ECONFLICT, orchestrator.ErrorCode(err))
}

// Steps of a paused or aborted execution never start.
func TestPausedAndAbortedStepsDoNotStart(t *testing.T) {
	f := newFixture(t)
	rec, url := newRecorder(t, 0)
	slow := auto(url + "/later")
	slow["delay"] = "1s"
	rbID, ids := f.runbook(false, stepSpec{title: "later", auto: slow})
	f.run(RunOptions{Workers: 2, Poll: 100 * time.Millisecond})
	ex, err := f.svc.Start(as(orchestrator.RoleContinuityManager, "cm"), StartInput{Runbook: rbID, Mode: ModeInvocation})
	require.NoError(t, err)
	_, err = f.svc.Control(as(orchestrator.RoleContinuityManager, "cm"), ex.ID, CtlPause, ActionInput{})
	require.NoError(t, err)
	time.Sleep(1500 * time.Millisecond)
	require.Empty(t, rec.byPath(), "a paused execution's steps wait")
	ex, err = f.svc.Control(as(orchestrator.RoleContinuityManager, "cm"), ex.ID, CtlAbort, ActionInput{Reason: "false alarm"})
	require.NoError(t, err)
	require.Equal(t, StatusAborted, ex.Status)
	require.Equal(t, StepCancelled, stepOf(ex, ids[0]).Status)
	time.Sleep(500 * time.Millisecond)
	require.Empty(t, rec.byPath())
	_, err = f.svc.Control(as(orchestrator.RoleContinuityManager, "cm"), ex.ID, CtlResume, ActionInput{})
	require.Equal(t, orchestrator.ECONFLICT, orchestrator.ErrorCode(err))
}

func ptr[T any](v T) *T { return &v }

// The database dropping every connection while a step runs loses
// nothing: the outcome is recorded once the pool reconnects.
func TestDatabaseConnectionsLostMidStep(t *testing.T) {
	f := newFixture(t)
	rec, url := newRecorder(t, time.Second)
	rbID, ids := f.runbook(false, stepSpec{title: "slow", auto: auto(url + "/slow")}, stepSpec{title: "next", deps: []int{0}, auto: auto(url + "/next")})
	f.run(RunOptions{Workers: 2, Poll: 100 * time.Millisecond})
	ex, err := f.svc.Start(as(orchestrator.RoleContinuityManager, "cm"), StartInput{Runbook: rbID, Mode: ModeInvocation})
	require.NoError(t, err)
	f.wait(ex.ID, 10*time.Second, func(e Execution) bool { return stepOf(e, ids[0]).Status == StepRunning })
	_, err = f.pool.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	require.NoError(t, err)
	ex = f.wait(ex.ID, 30*time.Second, func(e Execution) bool { return e.Status != StatusRunning })
	require.Equal(t, StatusSucceeded, ex.Status)
	require.Len(t, rec.byPath()["/slow"], 1)
	require.Len(t, rec.byPath()["/next"], 1)
}

// What a step took in the latest execution it succeeded in is what the
// runbook's feasibility uses next.
func TestMeasuredDurations(t *testing.T) {
	f := newFixture(t)
	_, url := newRecorder(t, 1100*time.Millisecond)
	rbID, ids := f.runbook(false, stepSpec{title: "slow", auto: auto(url + "/slow")}, stepSpec{title: "by hand", deps: []int{0}})
	m, err := f.svc.Measured(context.Background(), rbID)
	require.NoError(t, err)
	require.Empty(t, m, "nothing measured before an execution")
	f.run(RunOptions{Workers: 2, Poll: 100 * time.Millisecond})
	ex, err := f.svc.Start(as(orchestrator.RoleContinuityManager, "cm"), StartInput{Runbook: rbID, Mode: ModeInvocation})
	require.NoError(t, err)
	f.wait(ex.ID, 10*time.Second, func(e Execution) bool { return stepOf(e, ids[1]).Status == StepWaiting })
	time.Sleep(1100 * time.Millisecond)
	_, err = f.svc.StepAction(as(orchestrator.RoleOperator, "op"), ex.ID, ids[1], ActComplete, ActionInput{})
	require.NoError(t, err)
	m, err = f.svc.Measured(context.Background(), rbID)
	require.NoError(t, err)
	require.Len(t, m, 2)
	for _, id := range ids {
		require.GreaterOrEqual(t, m[id], orchestrator.Duration(time.Second), id)
		require.Less(t, m[id], orchestrator.Duration(5*time.Second), id)
	}
}

// A target that times out or answers wrongly fails its step, saying why.
func TestTargetTimesOutOrAnswersWrongly(t *testing.T) {
	f := newFixture(t)
	_, slowURL := newRecorder(t, 3*time.Second)
	_, url := newRecorder(t, 0)
	slow := auto(slowURL + "/slow")
	slow["timeout"] = "1s"
	wrong := auto(url + "/wrong")
	wrong["assertion"] = map[string]any{"path": "status", "equals": "recovered"}
	missing := auto(url + "/missing")
	missing["assertion"] = map[string]any{"path": "checks.5.ok", "equals": nil}
	status := auto(url + "/status")
	status["expected_status"] = 201
	rbID, ids := f.runbook(false, stepSpec{title: "slow", auto: slow}, stepSpec{title: "wrong", auto: wrong},
		stepSpec{title: "missing", auto: missing}, stepSpec{title: "status", auto: status})
	f.run(RunOptions{Workers: 4, Poll: 100 * time.Millisecond})
	ex, err := f.svc.Start(as(orchestrator.RoleContinuityManager, "cm"), StartInput{Runbook: rbID, Mode: ModeInvocation})
	require.NoError(t, err)
	ex = f.wait(ex.ID, 20*time.Second, func(e Execution) bool { return e.Status != StatusRunning })
	require.Equal(t, StatusFailed, ex.Status)
	for i, want := range []string{"deadline exceeded", `assertion: status is "ok", expected "recovered"`,
		"assertion: the response has no checks.5.ok", "HTTP 200 from POST " + url + "/status"} {
		st := stepOf(ex, ids[i])
		require.Equal(t, StepFailed, st.Status, st.Title)
		require.Contains(t, st.Error, want, st.Title)
	}
	require.Contains(t, stepOf(ex, ids[3]).Error, "expected 201")
}

// A secret in a step's URL reaches the target but never the step's
// output or error.
func TestSecretsStayOutOfOutput(t *testing.T) {
	f := newFixture(t)
	f.svc.opts.Secrets = secretref.Policy{}
	f.svc.opts.Lookup = func(name string) (string, bool) {
		if name == "BCDR_SECRET_DR_TOKEN" {
			return "hunter2", true
		}
		return "", false
	}
	rec, url := newRecorder(t, 0)
	rec.fail["/refused"] = http.StatusForbidden
	a := auto(url + "/refused?token={{secret:BCDR_SECRET_DR_TOKEN}}")
	a["headers"] = map[string]string{"Authorization": "Bearer {{secret:BCDR_SECRET_DR_TOKEN}}"}
	down := auto("http://127.0.0.1:1/down?token={{secret:BCDR_SECRET_DR_TOKEN}}")
	rbID, ids := f.runbook(false, stepSpec{title: "refused", auto: a}, stepSpec{title: "down", auto: down})
	f.run(RunOptions{Workers: 2, Poll: 100 * time.Millisecond})
	ex, err := f.svc.Start(as(orchestrator.RoleContinuityManager, "cm"), StartInput{Runbook: rbID, Mode: ModeInvocation})
	require.NoError(t, err)
	ex = f.wait(ex.ID, 20*time.Second, func(e Execution) bool { return e.Status != StatusRunning })
	for _, id := range ids {
		st := stepOf(ex, id)
		require.Equal(t, StepFailed, st.Status)
		require.NotContains(t, st.Error+st.Output, "hunter2", st.Title)
	}
	require.Len(t, rec.byPath()["/refused"], 1, "the call was made, with the secret")
	events, err := f.svc.Events(context.Background(), ex.ID, 0, 100)
	require.NoError(t, err)
	for _, e := range events {
		require.NotContains(t, e.Detail, "hunter2")
	}
}
