package report

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/runbooks"
)

// afterActionReport is a drill's after-action report (演练记录). Its
// content is the drills package's (drills.AfterAction, NIST SP 800-84),
// which its Markdown also writes; the Document lays it out in the same
// order with the results first: the drill, its scope, objectives and
// participants, the result and each service's recovery against its
// targets, the steps missed and overran, the timeline, the written
// review, the hot wash and the findings. A drill not yet completed is
// reported as it stands, as drills.AfterAction does, saying it is not
// scored yet.
func (e *Reports) afterActionReport(ctx context.Context, q Request, _, _ time.Time) (any, htmlPage, error) {
	r, err := e.r.opts.Drills.AfterAction(ctx, q.subjectID())
	if err != nil {
		return nil, nil, err
	}
	names, err := e.afterActionTitles(ctx, r.Drill)
	if err != nil {
		return nil, nil, fmt.Errorf("gather after-action report of drill %d: %w", r.Drill.ID, err)
	}
	return r, afterActionDocument(r, names, q.Lang, e.r.rt.Now()), nil
}

// afterActionNames are what the report names by title where the drill
// holds ids: its runbooks, and the steps of each of its executions.
type afterActionNames struct {
	runbooks map[int64]string
	steps    map[int64]map[string]string
}

// afterActionTitles reads the titles of the drill's runbooks and of its
// executions' steps; without the services to read them the ids stand.
func (e *Reports) afterActionTitles(ctx context.Context, d drills.Drill) (afterActionNames, error) {
	n := afterActionNames{runbooks: map[int64]string{}, steps: map[int64]map[string]string{}}
	if e.r.opts.Runbooks != nil && len(d.Runbooks) > 0 {
		briefs, err := e.r.opts.Runbooks.Briefs(ctx, d.Runbooks, runbooks.BriefOptions{Outline: true})
		if err != nil {
			return n, err
		}
		for id, b := range briefs {
			n.runbooks[id] = b.Title
		}
	}
	if e.opts.Executions == nil {
		return n, nil
	}
	for _, id := range d.Executions {
		ex, err := e.opts.Executions.Get(ctx, id)
		if err != nil {
			return n, err
		}
		n.steps[id] = make(map[string]string, len(ex.Steps))
		for _, st := range ex.Steps {
			n.steps[id][st.ID] = st.Title
		}
	}
	return n, nil
}

// runbook names runbook id: "#id title", or "#id" when its title is not
// known.
func (n afterActionNames) runbook(id int64) string {
	if t, ok := n.runbooks[id]; ok {
		return fmt.Sprintf("#%d %s", id, t)
	}
	return fmt.Sprintf("#%d", id)
}

// afterActionDocument lays the after-action report out in lang.
func afterActionDocument(r drills.AfterAction, n afterActionNames, lang string, now time.Time) *Document {
	w := afterActionWords.words(lang)
	p := postRecovery{w: w}
	d := r.Drill
	doc := &Document{Lang: lang, Title: fmt.Sprintf(w("title"), d.Title), Subtitle: w("subtitle"), FooterText: w("footer")}
	doc.Facts = []Fact{
		{Label: w("drill"), Value: fmt.Sprintf("#%d", d.ID)},
		{Label: w("type"), Value: p.term("type_", d.Type)},
		{Label: w("scenario"), Value: orDash(afterActionScenario(p, d.Scenario))},
		{Label: w("status"), Value: p.term("ds_", d.Status)},
		afterActionResult(p, d),
		{Label: w("planned"), Value: p.stamp(&d.PlannedStart)},
		{Label: w("started"), Value: p.stamp(d.StartedAt)},
		{Label: w("completed"), Value: p.stamp(d.CompletedAt)},
		{Label: w("generated"), Value: now.UTC().Format("2006-01-02 15:04 UTC")},
	}
	doc.Sections = append(doc.Sections, afterActionScope(p, d, n), p.list(w("objectives"), d.Objectives))
	if len(d.Criteria.Other) > 0 {
		c := p.list(w("criteria"), d.Criteria.Other)
		c.Level = 3
		doc.Sections = append(doc.Sections, c)
	}
	doc.Sections = append(doc.Sections, afterActionParticipants(p, d))
	doc.Sections = append(doc.Sections, afterActionResults(p, d, n)...)
	doc.Sections = append(doc.Sections, p.timeline(afterActionTimeline(r, n), true, false))
	written := p.written(d.Report)
	written[0] = afterActionIssues(p, written[0], r.Timeline)
	doc.Sections = append(doc.Sections, written[:3]...)
	doc.Sections = append(doc.Sections, afterActionHotwash(p, r))
	doc.Sections = append(doc.Sections, p.findings(w("findings_note"), r.Findings, r.Verified)...)
	doc.Sections = append(doc.Sections, written[3:]...)
	return doc
}

// afterActionScenario says what a drill rehearses, as the drills
// Markdown does.
func afterActionScenario(p postRecovery, s drills.Scenario) string {
	if s.Ref == "" {
		return s.Text
	}
	return strings.TrimSpace(fmt.Sprintf("%s %s: %s", p.term("sk_", s.Kind), s.Ref, s.Text))
}

// afterActionResult is the drill's result as a fact, coloured.
func afterActionResult(p postRecovery, d drills.Drill) Fact {
	f := Fact{Label: p.w("result"), Value: "—"}
	if d.Result == nil {
		return f
	}
	f.Value = p.term("res_", *d.Result)
	switch *d.Result {
	case drills.ResultPass:
		f.Class = classOK
	case drills.ResultPartial:
		f.Class = classWarn
	default:
		f.Class = classBad
	}
	return f
}

// afterActionScope is what the drill covered and who ran it; its runbooks,
// whose titles are long, are a table under the facts.
func afterActionScope(p postRecovery, d drills.Drill, n afterActionNames) Section {
	exs := make([]string, len(d.Executions))
	for i, id := range d.Executions {
		exs[i] = "#" + strconv.FormatInt(id, 10)
	}
	retest := p.w("no")
	if d.Retest {
		retest = p.w("yes")
	}
	s := Section{Level: 2, Heading: p.w("scope"), Facts: []Fact{
		{Label: p.w("services_label"), Value: orDash(strings.Join(d.Services, ", "))},
		{Label: p.w("executions"), Value: orDash(strings.Join(exs, ", "))},
		{Label: p.w("retest"), Value: retest},
		{Label: p.w("approved_by"), Value: orDash(d.ApprovedBy)},
		{Label: p.w("started_by"), Value: orDash(d.StartedBy)},
	}}
	t := &Table{Head: []string{"#", p.w("runbook")}, Numeric: []bool{true}}
	for _, id := range d.Runbooks {
		t.AddRow(strconv.FormatInt(id, 10), orDash(n.runbooks[id]))
	}
	t.Limit(postRecoveryRows)
	s.Table = t
	return s
}

// afterActionParticipants lists who took part and the part they played.
func afterActionParticipants(p postRecovery, d drills.Drill) Section {
	s := Section{Level: 2, Heading: p.w("participants"), Empty: p.w("no_participants")}
	t := &Table{Head: []string{p.w("name"), p.w("role")}}
	for _, pt := range d.Participants {
		t.AddRow(pt.Name, pt.Role)
	}
	t.Limit(postRecoveryRows)
	s.Table = t
	return s
}

// afterActionResults are the result and why, each service's recovery
// against its targets, and the mandatory steps missed and the steps
// overran; a drill not completed says it is not scored yet.
func afterActionResults(p postRecovery, d drills.Drill, n afterActionNames) []Section {
	res := Section{Level: 2, Heading: p.w("results"), Facts: []Fact{afterActionResult(p, d)}}
	o := d.Outcome
	if o == nil {
		res.Facts = nil
		res.Empty = p.w("unscored_" + d.Status)
		if res.Empty == "unscored_"+d.Status {
			res.Empty = p.w("unscored_in_progress")
		}
		return []Section{res}
	}
	why := p.list(p.w("why"), o.Reasons)
	why.Level = 3
	rows := make([]postRecoveryTarget, len(o.Services))
	for i, so := range o.Services {
		rows[i] = postRecoveryTarget{Service: so.Service, RTO: so.RTO, RTOAchieved: so.RTOAchieved, RTOMet: so.RTOMet,
			RPO: so.RPO, RPOAchieved: so.RPOAchieved, RPOMet: so.RPOMet}
	}
	targets := p.targets(p.w("targets"), p.w("targets_note"), rows)
	targets.Level = 3
	where := func(st drills.StepOutcome) string { return n.runbook(st.Runbook) }
	missed := Section{Level: 3, Heading: p.w("missed"), Empty: p.w("none_missed")}
	t := &Table{Head: []string{p.w("step"), p.w("runbook"), p.w("status")}}
	for _, st := range o.Missed {
		t.Add(Cell{Text: st.Title}, Cell{Text: where(st)}, Cell{Text: p.term("st_", st.Status), Class: classBad})
	}
	t.Limit(postRecoveryRows)
	missed.Table = t
	return []Section{res, why, targets, missed, p.overran(o.Overran, p.w("runbook"), where)}
}

// afterActionTimeline merges the drill's own timeline (without a source)
// with its executions' (each its execution's id), hot-wash answers left
// to their own section.
func afterActionTimeline(r drills.AfterAction, n afterActionNames) []postRecoveryEvent {
	var out []postRecoveryEvent
	for _, e := range r.Timeline {
		out = append(out, postRecoveryEvent{At: e.At, Actor: e.Actor, Type: e.Type, Step: e.Step, Detail: e.Detail})
	}
	for _, ex := range r.Drill.Executions {
		id := strconv.FormatInt(ex, 10)
		for _, e := range r.Execution[id] {
			step := e.Step
			if t, ok := n.steps[ex][step]; ok {
				step = t
			}
			out = append(out, postRecoveryEvent{At: e.At, Source: "#" + id, Actor: e.Actor, Type: e.Type, Step: step, Detail: e.Detail})
		}
	}
	return out
}

// afterActionIssues adds to the observations the issues recorded on the
// drill's timeline (a tabletop's or walkthrough's), each of which opened
// a finding.
func afterActionIssues(p postRecovery, s Section, timeline []drills.Event) Section {
	t := &Table{Head: []string{p.w("time"), p.w("actor"), p.w("issue")}}
	for _, e := range timeline {
		if e.Type == drills.EventIssue {
			t.AddRow(p.clock(&e.At), e.Actor, e.Detail)
		}
	}
	if len(t.Rows) == 0 {
		return s
	}
	t.Limit(postRecoveryRows)
	s.Table, s.Note = t, p.w("issues_note")
	return s
}

// afterActionHotwash lists every participant's answers to the hot-wash
// questions, in the questions' order.
func afterActionHotwash(p postRecovery, r drills.AfterAction) Section {
	s := Section{Level: 2, Heading: p.w("hotwash"), Empty: p.w("hotwash_none")}
	t := &Table{Head: []string{p.w("participant"), p.w("question"), p.w("answer")}}
	for _, h := range r.Hotwash {
		for _, q := range r.Questions {
			a, ok := h.Answers[q.Key]
			if !ok {
				continue
			}
			question := p.term("hw_", q.Key)
			if question == q.Key {
				question = q.Text
			}
			t.AddRow(h.Participant, question, a)
		}
	}
	t.Limit(postRecoveryRows)
	s.Table = t
	return s
}
