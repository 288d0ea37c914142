package drills

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// lifecycle is a database with one business service, tax, that depends on
// a data-bearing tax-db, its approved runbook, and the drills service over
// the runbooks and execution services, all on a clock moved by hand.
type lifecycle struct {
	t       *testing.T
	pool    *pgxpool.Pool
	clock   *orchestrator.ManualClock
	rb      *runbooks.Service
	engine  *execution.Service
	svc     *Service
	runbook int64
}

// lateProof lets the runbooks service ask the drills service built after it.
type lateProof struct{ s *Service }

func (p *lateProof) Proofs(ctx context.Context, ids []int64) (map[int64]runbooks.Proof, error) {
	return p.s.Proofs(ctx, ids)
}

func newLifecycle(t *testing.T) *lifecycle {
	t.Helper()
	pool := pgtest.New(t)
	clock := orchestrator.NewManualClock(time.Now().Add(-30 * 24 * time.Hour).UTC().Truncate(time.Second))
	rt := orchestrator.Runtime{Clock: clock}
	proof := &lateProof{}
	rb := runbooks.NewService(pool, rt, runbooks.Options{Drills: proof})
	engine := execution.NewService(pool, rt, rb, execution.Options{})
	svc := NewService(pool, rt, Options{Runbooks: rb, Executions: engine})
	proof.s = svc
	f := &lifecycle{t: t, pool: pool, clock: clock, rb: rb, engine: engine, svc: svc}
	ctx := actAs(orchestrator.RoleAdmin, "admin")
	cis := cmdb.NewService(pool)
	_, err := cis.CreateCI(ctx, cmdb.CIInput{Key: "tax", Name: "Tax filing", Class: "business_service"})
	require.NoError(t, err)
	_, err = cis.CreateCI(ctx, cmdb.CIInput{Key: "tax-db", Name: "Tax database", Class: "database", DataBearing: true,
		RecoveryStrategy: "restore", RecoveryEstimate: orchestrator.Duration(30 * time.Minute)})
	require.NoError(t, err)
	_, err = cis.CreateRelation(ctx, cmdb.RelationInput{From: "tax", To: "tax-db", Type: "depends_on"})
	require.NoError(t, err)
	r, err := rb.Create(ctx, runbooks.CreateInput{Service: "tax"})
	require.NoError(t, err)
	_, err = rb.Approve(actAs(orchestrator.RoleContinuityManager, "approver"), strconv.FormatInt(r.ID, 10))
	require.NoError(t, err)
	f.runbook = r.ID
	return f
}

// actAs is a context acting as name with role.
func actAs(role orchestrator.Role, name string) context.Context {
	return orchestrator.WithActor(context.Background(), orchestrator.Actor{Name: name, Role: role})
}

var manager = actAs(orchestrator.RoleContinuityManager, "zhang.wei")

// plan creates a drill of tax with an RTO of 2h and an RPO of 15m.
func (f *lifecycle) plan(typ string, retest bool) Drill {
	f.t.Helper()
	start := f.clock.Now()
	d, err := f.svc.Create(manager, Input{Title: "Tax drill", Type: typ, Services: []string{"tax"}, PlannedStart: &start, Retest: retest,
		Objectives: []string{"restore tax-db from the nightly dump"}, Participants: []Participant{{Name: "wang.fang", Role: "DBA"}},
		Criteria: &Criteria{RTO: map[string]orchestrator.Duration{"tax": orchestrator.Duration(2 * time.Hour)},
			RPO: map[string]orchestrator.Duration{"tax": orchestrator.Duration(15 * time.Minute)}}})
	require.NoError(f.t, err)
	return d
}

// run starts drill id, completes every step after step (clock time each)
// recording the data recovered lost before the failure on the restore,
// and completes the drill.
func (f *lifecycle) run(id int64, step, lost time.Duration) Drill {
	t := f.t
	t.Helper()
	failure := f.clock.Now()
	d, err := f.svc.Start(manager, id, StartInput{FailurePoint: &failure})
	require.NoError(t, err)
	require.Equal(t, StatusInProgress, d.Status)
	require.Len(t, d.Executions, 1)
	operator := actAs(orchestrator.RoleOperator, "wang.fang")
	for range 20 {
		ex, err := f.engine.Get(operator, d.Executions[0])
		require.NoError(t, err)
		if ex.Status != execution.StatusRunning {
			break
		}
		for _, st := range ex.Steps {
			if st.Status != execution.StepWaiting {
				continue
			}
			f.clock.Advance(step)
			in := execution.ActionInput{Note: "done"}
			if st.RunbookKind == runbooks.KindRecover && st.CI == "tax-db" {
				point := failure.Add(-lost)
				in.RecoveredAt = &point
			}
			_, err := f.engine.StepAction(operator, ex.ID, st.ID, execution.ActComplete, in)
			require.NoError(t, err)
		}
	}
	d, err = f.svc.Complete(manager, id, CompleteInput{Report: &Report{WentWell: []string{"the dump restored cleanly"}}})
	require.NoError(t, err)
	require.Equal(t, StatusCompleted, d.Status)
	return d
}

func (f *lifecycle) runbookNow() runbooks.Runbook {
	f.t.Helper()
	r, err := f.rb.Get(manager, strconv.FormatInt(f.runbook, 10))
	require.NoError(f.t, err)
	return r
}

// A drill that misses its RTO passes partially and opens a finding that
// needs a retest; the runbook is retest_required, and regenerating and
// approving it does not change that; only a later passed drill of the
// same scope verifies the finding and clears the flag.
func TestDrillRetestClosesFindingOnlyOnPass(t *testing.T) {
	t.Parallel()
	f := newLifecycle(t)
	require.NotContains(t, f.runbookNow().Staleness.Flags, runbooks.FlagRetestRequired)

	slow := f.run(f.plan(TypeSimulation, false).ID, time.Hour, 5*time.Minute)
	require.Equal(t, ResultPartial, *slow.Result, "%+v", slow.Outcome)
	require.Len(t, slow.Outcome.Services, 1)
	so := slow.Outcome.Services[0]
	require.False(t, *so.RTOMet)
	require.True(t, *so.RPOMet)
	require.Equal(t, orchestrator.Duration(5*time.Minute), *so.RPOAchieved)
	require.NotEmpty(t, slow.Outcome.Overran, "hour-long steps overran their estimates")

	found, err := f.svc.Findings(manager, FindingFilter{Drill: slow.ID}, orchestrator.Page{Limit: 10})
	require.NoError(t, err)
	require.Len(t, found.Items, 1, "%+v", found.Items)
	finding := found.Items[0]
	require.Equal(t, SourceDrill, finding.Source)
	require.True(t, finding.Retest)
	require.Equal(t, []int64{f.runbook}, finding.Runbooks)
	require.Equal(t, []string{"tax"}, finding.Services)
	require.Contains(t, finding.Title, "missed its RTO")

	rb := f.runbookNow()
	require.Contains(t, rb.Staleness.Flags, runbooks.FlagRetestRequired)
	require.Equal(t, slow.ID, rb.Staleness.RetestRequired.Failed.ID)

	// The defect: a regenerated, unchanged draft approved cleared the flag.
	f.clock.Advance(time.Hour)
	id := strconv.FormatInt(f.runbook, 10)
	_, err = f.rb.Regenerate(manager, id)
	require.NoError(t, err)
	_, err = f.rb.Approve(actAs(orchestrator.RoleContinuityManager, "approver"), id)
	require.NoError(t, err)
	require.Contains(t, f.runbookNow().Staleness.Flags, runbooks.FlagRetestRequired, "approval is not a retest")

	// Nobody marks it verified by hand; resolving it is fine.
	_, err = f.svc.UpdateFinding(manager, finding.ID, FindingInput{Status: ptr(FindingVerified)})
	require.Equal(t, "status", orchestrator.ErrorFields(err)[0].Field)
	resolved, err := f.svc.UpdateFinding(manager, finding.ID, FindingInput{Status: ptr(FindingResolved), Resolution: ptr("restore script parallelised")})
	require.NoError(t, err)
	require.Equal(t, FindingResolved, resolved.Status)

	// A retest that fails too leaves it open.
	f.clock.Advance(time.Hour)
	aborted := f.plan(TypeSimulation, true)
	_, err = f.svc.Start(manager, aborted.ID, StartInput{})
	require.NoError(t, err)
	aborted, err = f.svc.Get(manager, aborted.ID)
	require.NoError(t, err)
	_, err = f.engine.Control(manager, aborted.Executions[0], execution.CtlAbort, execution.ActionInput{Reason: "lab network down"})
	require.NoError(t, err)
	aborted, err = f.svc.Complete(manager, aborted.ID, CompleteInput{})
	require.NoError(t, err)
	require.Equal(t, ResultFail, *aborted.Result)
	still, err := f.svc.Finding(manager, finding.ID)
	require.NoError(t, err)
	require.Equal(t, FindingResolved, still.Status)

	// The retest that passes verifies it and proves the runbook.
	f.clock.Advance(time.Hour)
	retest := f.run(f.plan(TypeSimulation, true).ID, 10*time.Minute, 5*time.Minute)
	require.Equal(t, ResultPass, *retest.Result, "%+v", retest.Outcome)
	verified, err := f.svc.Finding(manager, finding.ID)
	require.NoError(t, err)
	require.Equal(t, FindingVerified, verified.Status)
	require.Equal(t, retest.ID, *verified.VerifiedBy)
	rb = f.runbookNow()
	require.NotContains(t, rb.Staleness.Flags, runbooks.FlagRetestRequired, "%+v", rb.Staleness.RetestRequired)
	require.Equal(t, runbooks.ProvenByDrill, rb.Staleness.RetestRequired.ProvenBy)
	require.Equal(t, retest.ID, *rb.Staleness.RetestRequired.Drill)

	report, err := f.svc.AfterAction(manager, retest.ID)
	require.NoError(t, err)
	require.Len(t, report.Verified, 2, "the RTO miss and the aborted retest")
	md := string(report.Markdown())
	for _, want := range []string{"演练记录 After-action report", "结果 Result: pass", "restore tax-db from the nightly dump", "wang.fang (DBA)", "verified by this drill"} {
		require.Contains(t, md, want)
	}
}

// A waiver clears retest_required and says it was a waiver.
func TestWaiverClearsRetestAsWaiver(t *testing.T) {
	t.Parallel()
	f := newLifecycle(t)
	d := f.run(f.plan(TypeSimulation, false).ID, 2*time.Hour, time.Minute)
	require.Equal(t, ResultPartial, *d.Result)
	require.Contains(t, f.runbookNow().Staleness.Flags, runbooks.FlagRetestRequired)

	_, err := f.svc.Waive(actAs(orchestrator.RoleAdmin, "admin"), f.runbook, WaiverInput{Reason: "short"})
	require.Equal(t, "reason", orchestrator.ErrorFields(err)[0].Field)
	f.clock.Advance(time.Minute)
	w, err := f.svc.Waive(actAs(orchestrator.RoleAdmin, "admin"), f.runbook, WaiverInput{Reason: "the lab clock was wrong; the RTO was met in production"})
	require.NoError(t, err)
	rb := f.runbookNow()
	require.NotContains(t, rb.Staleness.Flags, runbooks.FlagRetestRequired)
	require.Equal(t, runbooks.ProvenByWaiver, rb.Staleness.RetestRequired.ProvenBy)
	require.Equal(t, w.ID, rb.Staleness.RetestRequired.Waiver.ID)
}

// A tabletop is scored on the steps walked and the issues recorded.
func TestTabletopScoring(t *testing.T) {
	t.Parallel()
	f := newLifecycle(t)
	d := f.plan(TypeTabletop, false)
	_, err := f.svc.Record(manager, d.ID, EventInput{Type: EventIssue, Detail: "x"})
	require.Equal(t, orchestrator.ECONFLICT, orchestrator.ErrorCode(err), "not started yet")
	d, err = f.svc.Start(manager, d.ID, StartInput{})
	require.NoError(t, err)
	require.Empty(t, d.Executions, "a tabletop runs nothing")

	steps, err := f.svc.steps(manager, f.runbook)
	require.NoError(t, err)
	ref := func(st runbooks.Step) string { return strconv.FormatInt(f.runbook, 10) + "/" + st.ID }
	_, err = f.svc.Record(manager, d.ID, EventInput{Type: EventConfirmed, Step: ref(steps[0])})
	require.Equal(t, "type", orchestrator.ErrorFields(err)[0].Field, "owners confirm in walkthroughs")
	_, err = f.svc.Record(manager, d.ID, EventInput{Type: EventWalked, Step: "99/x"})
	require.Equal(t, "step", orchestrator.ErrorFields(err)[0].Field)
	for _, st := range steps[1:] {
		_, err := f.svc.Record(manager, d.ID, EventInput{Type: EventWalked, Step: ref(st)})
		require.NoError(t, err)
	}
	_, err = f.svc.Record(manager, d.ID, EventInput{Type: EventIssue, Step: ref(steps[0]), Detail: "nobody knew where the dump is kept"})
	require.NoError(t, err)
	d, err = f.svc.Complete(manager, d.ID, CompleteInput{})
	require.NoError(t, err)
	mandatoryFirst := steps[0].Mandatory
	if mandatoryFirst {
		require.Equal(t, ResultFail, *d.Result, "the first step was never walked: %+v", d.Outcome)
		require.Len(t, d.Outcome.Missed, 1)
	} else {
		require.Equal(t, ResultPartial, *d.Result)
	}
	require.Equal(t, 1, d.Outcome.Issues)
	found, err := f.svc.Findings(manager, FindingFilter{Drill: d.ID}, orchestrator.Page{Limit: 10})
	require.NoError(t, err)
	titles := []string{}
	for _, fd := range found.Items {
		titles = append(titles, fd.Title)
	}
	require.Contains(t, strings.Join(titles, "|"), "nobody knew where the dump is kept")
}

// A full interruption starts only once an admin approved it, and only
// with a decision before its automated steps.
func TestFullInterruptionNeedsApprovalAndDecision(t *testing.T) {
	t.Parallel()
	f := newLifecycle(t)
	d := f.plan(TypeFullInterruption, false)
	_, err := f.svc.Start(manager, d.ID, StartInput{})
	require.Equal(t, orchestrator.ECONFLICT, orchestrator.ErrorCode(err))
	require.Contains(t, err.Error(), "admin must approve")
	_, err = f.svc.Approve(manager, d.ID)
	require.NoError(t, err, "the service trusts the route table for the role")
	d, err = f.svc.Get(manager, d.ID)
	require.NoError(t, err)
	require.NotNil(t, d.ApprovedAt)

	// An automated switch with no decision in front of it is refused.
	id := strconv.FormatInt(f.runbook, 10)
	title, est := "Switch DNS to the DR site", "5m"
	auto := []byte(`{"url":"https://dns.example.com/switch","method":"POST"}`)
	_, err = f.rb.AddStep(manager, id, runbooks.StepInput{Title: &title, Estimate: &est, Automation: auto})
	require.NoError(t, err)
	_, err = f.rb.Approve(actAs(orchestrator.RoleContinuityManager, "approver"), id)
	require.NoError(t, err)
	_, err = f.svc.Start(manager, d.ID, StartInput{})
	require.Equal(t, "runbooks[0]", orchestrator.ErrorFields(err)[0].Field, "%v", err)
	require.Contains(t, orchestrator.ErrorFields(err)[0].Message, "decision")
}

// The scheduler's run starts a planned drill once; a repeated run finds it
// started and does nothing.
func TestScheduledStartRunsOnce(t *testing.T) {
	t.Parallel()
	f := newLifecycle(t)
	d := f.plan(TypeSimulation, false)
	run := scheduler.Run{ID: 1, ScheduleID: 7, Target: "drill/" + strconv.FormatInt(d.ID, 10)}
	msg, err := f.svc.HandleRun(context.Background(), run)
	require.NoError(t, err)
	require.Contains(t, msg, "started simulation drill")
	msg, err = f.svc.HandleRun(context.Background(), run)
	require.NoError(t, err)
	require.Contains(t, msg, "nothing to start")
	d, err = f.svc.Get(manager, d.ID)
	require.NoError(t, err)
	require.Len(t, d.Executions, 1)
	require.Equal(t, "scheduler", d.StartedBy)

	_, err = f.svc.HandleRun(context.Background(), scheduler.Run{Target: "drill/x"})
	require.Error(t, err)
}

// Pure scoring: pass, partial and fail as DESIGN.md defines them.
func TestScore(t *testing.T) {
	t.Parallel()
	hour := orchestrator.Duration(time.Hour)
	rto := func(d time.Duration) *orchestrator.Duration { v := orchestrator.Duration(d); return &v }
	ex := func(status string, achieved time.Duration, steps ...execution.Step) execution.Execution {
		return execution.Execution{ID: 1, Runbook: 3, Status: status, Steps: steps,
			Services: []execution.ServiceMeasure{{Service: "tax", RTOAchieved: rto(achieved)}}}
	}
	done := execution.Step{ID: "s1", Mandatory: true, Status: execution.StepSucceeded}
	ev := func(executions ...execution.Execution) evidence {
		return evidence{executions: executions, rto: map[string]orchestrator.Duration{"tax": hour}, rpo: map[string]orchestrator.Duration{}}
	}
	d := Drill{ID: 9, Type: TypeTechnical, Services: []string{"tax"}, Runbooks: []int64{3}}
	for name, c := range map[string]struct {
		ev   evidence
		want string
	}{
		"met":                    {ev(ex(execution.StatusSucceeded, 50*time.Minute, done)), ResultPass},
		"rto missed":             {ev(ex(execution.StatusSucceeded, 70*time.Minute, done)), ResultPartial},
		"aborted":                {ev(ex(execution.StatusAborted, 10*time.Minute, done)), ResultFail},
		"mandatory step failed":  {ev(ex(execution.StatusFailed, 10*time.Minute, execution.Step{ID: "s2", Mandatory: true, Status: execution.StepFailed})), ResultFail},
		"optional step skipped":  {ev(ex(execution.StatusSucceeded, 10*time.Minute, done, execution.Step{ID: "s3", Status: execution.StepSkipped})), ResultPass},
		"mandatory step skipped": {ev(ex(execution.StatusSucceeded, 10*time.Minute, execution.Step{ID: "s4", Mandatory: true, Status: execution.StepSkipped})), ResultFail},
		"clean-up left":          {ev(ex(execution.StatusSucceeded, 10*time.Minute, done, execution.Step{ID: "s5", Mandatory: true, Cleanup: true, Status: execution.StepWaiting})), ResultPass},
	} {
		got, o := score(d, c.ev)
		require.Equal(t, c.want, got, "%s: %+v", name, o)
	}
}

func ptr[T any](v T) *T { return &v }
