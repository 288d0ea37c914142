package drills

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// evidence is what a drill is scored on.
type evidence struct {
	executions []execution.Execution
	events     []Event
	// steps are the steps of each runbook in scope, for drills without
	// executions.
	steps map[int64][]runbooks.Step
	// rto and rpo are each service's targets: the criteria's, else the
	// approved BIA's as the runbooks state them.
	rto, rpo map[string]orchestrator.Duration
}

// evidence gathers what d is scored on.
func (s *Service) evidence(ctx context.Context, d Drill) (evidence, error) {
	ev := evidence{steps: map[int64][]runbooks.Step{}, rto: map[string]orchestrator.Duration{}, rpo: map[string]orchestrator.Duration{}}
	for _, rb := range d.Runbooks {
		r, err := s.opts.Runbooks.Get(ctx, strconv.FormatInt(rb, 10))
		if err != nil {
			return ev, err
		}
		for _, sc := range r.Feasibility.Services {
			if sc.RTO != nil {
				ev.rto[sc.Service] = *sc.RTO
			}
			if sc.RPO != nil {
				ev.rpo[sc.Service] = *sc.RPO
			}
		}
		if !executes(d.Type) {
			if ev.steps[rb], err = s.steps(ctx, rb); err != nil {
				return ev, err
			}
		}
	}
	for svc, t := range d.Criteria.RTO {
		ev.rto[svc] = t
	}
	for svc, t := range d.Criteria.RPO {
		ev.rpo[svc] = t
	}
	for _, id := range d.Executions {
		ex, err := s.opts.Executions.Get(ctx, id)
		if err != nil {
			return ev, err
		}
		ev.executions = append(ev.executions, ex)
	}
	var err error
	ev.events, err = s.Events(ctx, d.ID)
	return ev, err
}

// notDone are the step statuses in which a mandatory step ended without
// being done. Steps an abort cancelled are not counted one by one: the
// abort fails the drill.
var notDone = map[string]bool{execution.StepFailed: true, execution.StepGaveUp: true, execution.StepSkipped: true,
	execution.StepRejected: true}

// score judges a drill (DESIGN.md): fail when an execution was aborted or
// a mandatory step was not done (failed, skipped, never walked or
// confirmed); partial when done but a target was missed or an issue was
// recorded; pass otherwise. A target not measured (no recovered data
// point recorded) is not counted as met or missed, and is said so.
func score(d Drill, ev evidence) (string, Outcome) {
	o := Outcome{Services: []ServiceOutcome{}, Overran: []StepOutcome{}, Missed: []StepOutcome{}, Aborted: []int64{}, Reasons: []string{}}
	failed, missed := false, false
	for _, ex := range ev.executions {
		switch ex.Status {
		case execution.StatusAborted:
			failed = true
			o.Aborted = append(o.Aborted, ex.ID)
			o.Reasons = append(o.Reasons, fmt.Sprintf("execution %d was aborted: %s", ex.ID, ex.Reason))
		case execution.StatusFailed:
			failed = true
			o.Reasons = append(o.Reasons, fmt.Sprintf("execution %d stopped at a failed step", ex.ID))
		}
		for _, st := range ex.Steps {
			so := StepOutcome{Runbook: ex.Runbook, Execution: ex.ID, Step: st.ID, Title: st.Title, Status: st.Status, Estimate: st.Estimate, Elapsed: st.Elapsed}
			if st.Mandatory && !st.Cleanup && notDone[st.Status] {
				o.Missed = append(o.Missed, so)
			}
			if st.Elapsed != nil && st.Estimate > 0 && *st.Elapsed > st.Estimate {
				o.Overran = append(o.Overran, so)
			}
		}
		for _, m := range ex.Services {
			o.Services = append(o.Services, measure(m.Service, m.RTOAchieved, m.RPOAchieved, ev))
		}
	}
	if !executes(d.Type) {
		done := map[string]bool{}
		want := EventWalked
		if d.Type == TypeWalkthrough {
			want = EventConfirmed
		}
		for _, e := range ev.events {
			switch e.Type {
			case want:
				done[e.Step] = true
			case EventIssue:
				o.Issues++
			}
		}
		for _, rb := range d.Runbooks {
			for _, st := range ev.steps[rb] {
				ref := fmt.Sprintf("%d/%s", rb, st.ID)
				if st.Mandatory && !st.Cleanup && !done[ref] {
					o.Missed = append(o.Missed, StepOutcome{Runbook: rb, Step: st.ID, Title: st.Title, Status: "not " + want, Estimate: st.Estimate})
				}
			}
		}
		for _, svc := range d.Services {
			o.Services = append(o.Services, measure(svc, nil, nil, ev))
		}
	} else {
		o.Issues = len(issues(ev.events))
	}
	if len(o.Missed) > 0 {
		failed = true
		o.Reasons = append(o.Reasons, fmt.Sprintf("%d mandatory steps not done", len(o.Missed)))
	}
	for _, so := range o.Services {
		if so.RTOMet != nil && !*so.RTOMet {
			missed = true
			o.Reasons = append(o.Reasons, fmt.Sprintf("%s recovered in %s against an RTO of %s", so.Service, so.RTOAchieved, so.RTO))
		}
		if so.RPOMet != nil && !*so.RPOMet {
			missed = true
			o.Reasons = append(o.Reasons, fmt.Sprintf("%s lost %s of data against an RPO of %s", so.Service, so.RPOAchieved, so.RPO))
		}
		if executes(d.Type) && so.RPO != nil && so.RPOAchieved == nil {
			o.Reasons = append(o.Reasons, fmt.Sprintf("%s: data loss not measured (no step recorded the recovered data point)", so.Service))
		}
	}
	if o.Issues > 0 {
		missed = true
		o.Reasons = append(o.Reasons, fmt.Sprintf("%d issues recorded", o.Issues))
	}
	switch {
	case failed:
		return ResultFail, o
	case missed:
		return ResultPartial, o
	}
	o.Reasons = append([]string{"every target met and every mandatory step done"}, o.Reasons...)
	return ResultPass, o
}

// measure compares one service's achieved recovery with its targets.
func measure(svc string, rto, rpo *orchestrator.Duration, ev evidence) ServiceOutcome {
	so := ServiceOutcome{Service: svc, RTOAchieved: rto, RPOAchieved: rpo}
	if t, ok := ev.rto[svc]; ok {
		so.RTO = &t
		if rto != nil {
			met := *rto <= t
			so.RTOMet = &met
		}
	}
	if t, ok := ev.rpo[svc]; ok {
		so.RPO = &t
		if rpo != nil {
			met := *rpo <= t
			so.RPOMet = &met
		}
	}
	return so
}

// openFindings raises a finding for every missed target, mandatory step
// not done and issue recorded, each once, and returns how many it opened.
func (s *Service) openFindings(ctx context.Context, tx pgx.Tx, d Drill, o Outcome, events []Event) (int, error) {
	var raise []Finding
	base := func(origin, severity, title, description string) Finding {
		origin = fmt.Sprintf("drill/%d/%s", d.ID, origin)
		id := d.ID
		return Finding{Source: SourceDrill, Severity: severity, Title: title, Description: description, Status: FindingOpen,
			Services: d.Services, Runbooks: d.Runbooks, CIs: []string{}, Retest: true, Drill: &id, Origin: &origin}
	}
	for _, so := range o.Services {
		if so.RTOMet != nil && !*so.RTOMet {
			f := base("rto/"+so.Service, "high", fmt.Sprintf("%s missed its RTO in drill %d", so.Service, d.ID),
				fmt.Sprintf("Recovered in %s against an RTO of %s in the %s drill %q.", so.RTOAchieved, so.RTO, d.Type, d.Title))
			f.Services = []string{so.Service}
			raise = append(raise, f)
		}
		if so.RPOMet != nil && !*so.RPOMet {
			f := base("rpo/"+so.Service, "high", fmt.Sprintf("%s missed its RPO in drill %d", so.Service, d.ID),
				fmt.Sprintf("Lost %s of data against an RPO of %s in the %s drill %q.", so.RPOAchieved, so.RPO, d.Type, d.Title))
			f.Services = []string{so.Service}
			raise = append(raise, f)
		}
	}
	for _, ex := range o.Aborted {
		raise = append(raise, base(fmt.Sprintf("aborted/%d", ex), "high", fmt.Sprintf("Drill %d was aborted", d.ID),
			fmt.Sprintf("Execution %d of the %s drill %q was aborted before the recovery ended: %s", ex, d.Type, d.Title, strings.Join(o.Reasons, "; "))))
	}
	for _, st := range o.Missed {
		f := base(fmt.Sprintf("step/%d/%s", st.Runbook, st.Step), "high",
			fmt.Sprintf("Mandatory step %q of runbook %d not done in drill %d", st.Title, st.Runbook, d.ID),
			fmt.Sprintf("Step %s ended %s in the %s drill %q.", st.Step, st.Status, d.Type, d.Title))
		f.Runbooks = []int64{st.Runbook}
		raise = append(raise, f)
	}
	for _, e := range issues(events) {
		f := base("issue/"+strconv.FormatInt(e.ID, 10), "medium", orchestrator.Excerpt(e.Detail, 200),
			fmt.Sprintf("Issue recorded by %s in the %s drill %q: %s", e.Actor, d.Type, d.Title, e.Detail))
		raise = append(raise, f)
	}
	opened := 0
	for _, f := range raise {
		if _, err := s.insertFinding(ctx, tx, f); err != nil {
			return opened, err
		}
		opened++
	}
	return opened, nil
}

// issues picks the issues out of a drill's timeline.
func issues(events []Event) []Event {
	var out []Event
	for _, e := range events {
		if e.Type == EventIssue {
			out = append(out, e)
		}
	}
	return out
}

// verifyFindings marks verified the findings needing a retest that a
// passed drill d proves: raised before it started, scoped to runbooks all
// of which it drilled (or, without runbooks, to services all of which it
// drilled).
func (s *Service) verifyFindings(ctx context.Context, tx pgx.Tx, d Drill, now time.Time) (int, error) {
	tag, err := tx.Exec(ctx, `UPDATE findings SET status = 'verified', verified_by = $1, verified_at = $4, updated_at = $4,
			resolved_at = coalesce(resolved_at, $4)
		WHERE retest AND status <> 'verified' AND created_at <= $5
		AND ((cardinality(runbooks) > 0 AND runbooks <@ $2) OR (cardinality(runbooks) = 0 AND cardinality(services) > 0 AND services <@ $3))`,
		d.ID, d.Runbooks, d.Services, now, d.StartedAt)
	if err != nil {
		return 0, fmt.Errorf("verify findings of drill %d: %w", d.ID, err)
	}
	n := int(tag.RowsAffected())
	if n == 0 {
		return 0, nil
	}
	return n, audit.Record(ctx, tx, audit.Change{Action: "verify", Resource: "findings", ResourceID: "drill " + strconv.FormatInt(d.ID, 10),
		Summary: fmt.Sprintf("%d findings verified by the pass of drill %d", n, d.ID)})
}
