package report

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// InvocationReviewReport is the invocation review's content: the review as
// the drills package keeps it (the execution with its steps, its timeline,
// the written review and the findings raised from it), each service's
// recovery against both its targets, and the steps that overran.
type InvocationReviewReport struct {
	drills.InvocationReview
	// Recovery is each service's recovery: the execution measures the
	// RTO, the service's approved BIA gives the RPO the data loss is
	// judged against.
	Recovery []InvocationRecovery `json:"recovery"`
	// Overran are the steps that took longer than their estimate.
	Overran []drills.StepOutcome `json:"overran"`
}

// InvocationRecovery is one service's recovery in an invocation against
// its targets; a target or a measure not known is null, and so is its
// verdict.
type InvocationRecovery struct {
	Service     string                 `json:"service"`
	RTO         *orchestrator.Duration `json:"rto"`
	RTOAchieved *orchestrator.Duration `json:"rto_achieved"`
	RTOMet      *bool                  `json:"rto_met"`
	RPO         *orchestrator.Duration `json:"rpo"`
	RPOAchieved *orchestrator.Duration `json:"rpo_achieved"`
	RPOMet      *bool                  `json:"rpo_met"`
}

// invocationReview is the review of a real invocation of the continuity
// plans (连续性计划启动复盘), laid out like a drill's after-action report:
// the invocation, the recovery against the targets, the steps and
// decisions, the timeline, the written review and the findings. A drill's
// execution is refused as drills.InvocationReview refuses it: its review
// is its drill's after-action report.
func (e *Reports) invocationReview(ctx context.Context, q Request, _, _ time.Time) (any, htmlPage, error) {
	r, err := e.r.opts.Drills.InvocationReview(ctx, q.subjectID())
	if err != nil {
		return nil, nil, err
	}
	rep := InvocationReviewReport{InvocationReview: r, Overran: overranSteps(r.Execution)}
	if rep.Recovery, err = e.invocationRecovery(ctx, r.Execution); err != nil {
		return nil, nil, fmt.Errorf("gather review of invocation %d: %w", r.Execution.ID, err)
	}
	return rep, invocationDocument(rep, q.Lang, e.r.rt.Now()), nil
}

// invocationRecovery judges each service's recovery in ex against its RTO
// (as the execution recorded it) and its approved BIA's RPO.
func (e *Reports) invocationRecovery(ctx context.Context, ex execution.Execution) ([]InvocationRecovery, error) {
	keys := make([]string, len(ex.Services))
	for i, m := range ex.Services {
		keys[i] = m.Service
	}
	rpo := map[string]orchestrator.Duration{}
	if e.r.opts.Impact != nil && len(keys) > 0 {
		bias, err := e.r.opts.Impact.ApprovedBIAs(ctx, keys)
		if err != nil {
			return nil, err
		}
		for k, b := range bias {
			rpo[k] = b.RPO
		}
	}
	out := make([]InvocationRecovery, len(ex.Services))
	for i, m := range ex.Services {
		out[i] = InvocationRecovery{Service: m.Service, RTO: m.RTO, RTOAchieved: m.RTOAchieved, RTOMet: m.RTOMet, RPOAchieved: m.RPOAchieved}
		if t, ok := rpo[m.Service]; ok {
			out[i].RPO = &t
			if m.RPOAchieved != nil {
				met := *m.RPOAchieved <= t
				out[i].RPOMet = &met
			}
		}
	}
	return out, nil
}

// overranSteps are the steps of ex that took longer than their estimate.
func overranSteps(ex execution.Execution) []drills.StepOutcome {
	out := []drills.StepOutcome{}
	for _, st := range ex.Steps {
		if st.Elapsed != nil && st.Estimate > 0 && *st.Elapsed > st.Estimate {
			out = append(out, drills.StepOutcome{Runbook: ex.Runbook, Execution: ex.ID, Step: st.ID, Title: st.Title,
				Status: st.Status, Estimate: st.Estimate, Elapsed: st.Elapsed})
		}
	}
	return out
}

// invocationLookup is the invocation review's words in lang: its own,
// then those it shares with the after-action report (the targets, the
// timeline, the written review, the findings), then the common ones.
func invocationLookup(lang string) func(string) string {
	shared := afterActionWords.words(lang)
	return func(key string) string {
		if w, ok := invocationWords[lang][key]; ok {
			return w
		}
		return shared(key)
	}
}

// invocationDocument lays the invocation review out in lang.
func invocationDocument(rep InvocationReviewReport, lang string, now time.Time) *Document {
	w := invocationLookup(lang)
	p := postRecovery{w: w}
	ex := rep.Execution
	doc := &Document{Lang: lang, Title: fmt.Sprintf(w("title"), ex.Title), Subtitle: w("subtitle"), FooterText: w("footer")}
	doc.Facts = []Fact{
		{Label: w("execution"), Value: fmt.Sprintf("#%d", ex.ID)},
		{Label: w("runbook"), Value: fmt.Sprintf("#%d v%d %s", ex.Runbook, ex.Version, ex.Title)},
		{Label: w("status"), Value: p.term("es_", ex.Status), Class: executionStatusClass(ex.Status)},
		{Label: w("invoked_by"), Value: orDash(ex.StartedBy)},
		{Label: w("started"), Value: p.stamp(&ex.StartedAt)},
		{Label: w("ended"), Value: p.stamp(ex.FinishedAt)},
		{Label: w("elapsed"), Value: ex.Elapsed.String()},
		{Label: w("review_status"), Value: p.term("rs_", rep.Status)},
		{Label: w("generated"), Value: now.UTC().Format("2006-01-02 15:04 UTC")},
	}
	ended := stepEndings(rep.Timeline)
	rows := make([]postRecoveryTarget, len(rep.Recovery))
	for i, r := range rep.Recovery {
		rows[i] = postRecoveryTarget{Service: r.Service, RTO: r.RTO, RTOAchieved: r.RTOAchieved, RTOMet: r.RTOMet,
			RPO: r.RPO, RPOAchieved: r.RPOAchieved, RPOMet: r.RPOMet}
	}
	doc.Sections = append(doc.Sections, invocationWhy(p, ex), p.targets(w("targets"), w("targets_note"), rows),
		invocationSteps(p, ex, ended))
	role := map[string]string{}
	for _, st := range ex.Steps {
		role[st.ID] = st.OwnerRole
	}
	doc.Sections = append(doc.Sections, p.overran(rep.Overran, w("owner_role"), func(st drills.StepOutcome) string { return orDash(role[st.Step]) }),
		invocationDecisions(p, ex, ended), p.timeline(invocationTimeline(rep), false, true), invocationWritten(p, rep))
	doc.Sections = append(doc.Sections, p.written(rep.Report)...)
	doc.Sections = append(doc.Sections, p.findings(w("findings_note"), rep.Findings, nil)...)
	return doc
}

// executionStatusClass colours an execution's status.
func executionStatusClass(status string) string {
	switch status {
	case execution.StatusSucceeded:
		return classOK
	case execution.StatusFailed, execution.StatusAborted:
		return classBad
	}
	return classWarn
}

// invocationWhy is why the plan was invoked and how the invocation ended.
func invocationWhy(p postRecovery, ex execution.Execution) Section {
	s := Section{Level: 2, Heading: p.w("invocation"), Facts: []Fact{
		{Label: p.w("reason_invoked"), Value: orDash(scenarioWords(ex.Scenario))},
		{Label: p.w("note"), Value: orDash(ex.Note)},
		{Label: p.w("failure_point"), Value: p.stamp(ex.FailurePoint)},
	}}
	if ex.Reason != "" {
		s.Facts = append(s.Facts, Fact{Label: p.w("ended_because"), Value: ex.Reason, Class: executionStatusClass(ex.Status)})
	}
	return s
}

// invocationSteps lists every step: its status, who did it (a decision's
// taker is on the timeline), and its time against its estimate. A step
// not done by hand says its kind before its title: a column of its own
// would be too narrow for its words.
func invocationSteps(p postRecovery, ex execution.Execution, ended map[string]execution.Event) Section {
	s := Section{Level: 2, Heading: p.w("steps"), Empty: p.w("no_steps")}
	t := &Table{Head: []string{"#", p.w("step"), p.w("status"), p.w("done_by"), p.w("estimate"), p.w("elapsed")},
		Numeric: []bool{true, false, false, false, true, true}}
	for _, st := range ex.Steps {
		elapsed := Cell{Text: p.dur(st.Elapsed)}
		if st.Elapsed != nil && st.Estimate > 0 && *st.Elapsed > st.Estimate {
			elapsed.Class = classWarn
		}
		status := Cell{Text: p.term("st_", st.Status)}
		switch st.Status {
		case execution.StepFailed, execution.StepGaveUp, execution.StepRejected:
			status.Class = classBad
		case execution.StepSkipped:
			status.Class = classWarn
		}
		by := firstWords(st.DoneBy, ended[st.ID].Actor, st.HeldBy)
		title := st.Title
		if st.Kind != execution.KindManual {
			title = "[" + p.term("k_", st.Kind) + "] " + title
		}
		t.Add(Cell{Text: strconv.Itoa(st.Position)}, Cell{Text: title}, status, Cell{Text: orDash(by)}, Cell{Text: st.Estimate.String()}, elapsed)
	}
	t.Limit(postRecoverySteps)
	s.Table = t
	return s
}

// invocationDecisions lists the decision steps: who could decide, what
// was decided, by whom, when and why. A decision is recorded on the
// timeline rather than on its step, so that is where it is read.
func invocationDecisions(p postRecovery, ex execution.Execution, ended map[string]execution.Event) Section {
	s := Section{Level: 2, Heading: p.w("decisions"), Empty: p.w("no_decisions")}
	t := &Table{Head: []string{p.w("step"), p.w("decider_role"), p.w("outcome"), p.w("decided_by"), p.w("time"), p.w("note")}}
	for _, st := range ex.Steps {
		if st.Kind != execution.KindDecision {
			continue
		}
		role := ""
		if st.Decision != nil {
			role = string(st.Decision.Role)
		}
		outcome := Cell{Text: p.term("dec_", st.Status)}
		if outcome.Text == st.Status {
			outcome.Text = p.term("st_", st.Status)
		}
		switch st.Status {
		case execution.StepSucceeded:
			outcome.Class = classOK
		case execution.StepRejected:
			outcome.Class = classBad
		}
		by, at, why := st.DoneBy, st.FinishedAt, firstWords(st.Note, st.Error)
		if e, ok := ended[st.ID]; ok {
			by, at, why = firstWords(by, e.Actor), &e.At, firstWords(why, e.Detail)
		}
		t.Add(Cell{Text: st.Title}, Cell{Text: orDash(role)}, outcome, Cell{Text: orDash(by)}, Cell{Text: p.clock(at)}, Cell{Text: orDash(why)})
	}
	t.Limit(postRecoveryRows)
	s.Table = t
	return s
}

// firstWords is the first of texts that says something.
func firstWords(texts ...string) string {
	for _, t := range texts {
		if strings.TrimSpace(t) != "" {
			return t
		}
	}
	return ""
}

// stepEndings are the events that ended each step, the last when a step
// was retried: who did it, when, and what they said.
func stepEndings(timeline []execution.Event) map[string]execution.Event {
	out := map[string]execution.Event{}
	for _, e := range timeline {
		switch e.Type {
		case "step_succeeded", "step_failed", "step_gave_up", "step_skipped", "step_rejected":
			out[e.Step] = e
		}
	}
	return out
}

// invocationTimeline is the execution's timeline, steps named by title.
func invocationTimeline(rep InvocationReviewReport) []postRecoveryEvent {
	titles := map[string]string{}
	for _, st := range rep.Execution.Steps {
		titles[st.ID] = st.Title
	}
	out := make([]postRecoveryEvent, len(rep.Timeline))
	for i, e := range rep.Timeline {
		step := e.Step
		if t, ok := titles[step]; ok {
			step = t
		}
		out[i] = postRecoveryEvent{At: e.At, Actor: e.Actor, Type: e.Type, Step: step, Detail: e.Detail}
	}
	return out
}

// invocationWritten says whose the written review is, or that nobody
// has written it yet.
func invocationWritten(p postRecovery, rep InvocationReviewReport) Section {
	s := Section{Level: 2, Heading: p.w("review"), Facts: []Fact{{Label: p.w("review_status"), Value: p.term("rs_", rep.Status)}}}
	if rep.UpdatedAt == nil {
		s.Text = []string{p.w("not_written")}
		return s
	}
	s.Facts = append(s.Facts, Fact{Label: p.w("written_by"), Value: orDash(rep.UpdatedBy)}, Fact{Label: p.w("written_at"), Value: p.stamp(rep.UpdatedAt)})
	return s
}
