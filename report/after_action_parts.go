package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
)

// A drill's after-action report and an invocation's review are shaped
// alike (NIST SP 800-84): what was rehearsed or invoked, each service's
// recovery against its targets, the steps that overran, the timeline, the
// written review and the findings. postRecovery lays out those parts for
// both, in one language.
type postRecovery struct {
	w func(key string) string
}

// Bounds of the long tables; the rest is counted in a note, and the JSON
// has every row. An invocation's steps are its story, so more of them are
// listed.
const (
	postRecoveryTimeline = 80
	postRecoveryRows     = 40
	postRecoverySteps    = 120
)

// term is the word for an enumerated value (a drill type, a status), or
// the value itself when it has none.
func (p postRecovery) term(prefix, value string) string {
	if w := p.w(prefix + value); w != prefix+value {
		return w
	}
	return value
}

// stamp writes a time to the minute in UTC, or "—" for none.
func (p postRecovery) stamp(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// clock writes a time in a table as month, day and minute in UTC (the
// year is in the report's facts), joined by a non-breaking hyphen and
// space so that a narrow column keeps it on one line.
func (p postRecovery) clock(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "—"
	}
	return t.UTC().Format("01\u201102\u00a015:04")
}

// dur writes a duration, or "—" for none.
func (p postRecovery) dur(d *orchestrator.Duration) string {
	if d == nil {
		return "—"
	}
	return d.String()
}

// met is a target's verdict as a cell: met, missed, or not measured.
func (p postRecovery) met(b *bool) Cell {
	switch {
	case b == nil:
		return Cell{Text: p.w("not_measured")}
	case *b:
		return Cell{Text: p.w("yes"), Class: classOK}
	}
	return Cell{Text: p.w("no"), Class: classBad}
}

// list is a section of items in words, or saying none were recorded.
func (p postRecovery) list(heading string, items []string) Section {
	s := Section{Level: 2, Heading: heading}
	for _, it := range items {
		if strings.TrimSpace(it) != "" {
			s.Text = append(s.Text, "· "+it)
		}
	}
	if len(s.Text) == 0 {
		s.Empty = p.w("none_recorded")
	}
	return s
}

// written is the written part of a review: observations, what went well
// and what did not, recommendations and actions.
func (p postRecovery) written(r drills.Report) []Section {
	return []Section{
		p.list(p.w("observations"), r.Observations),
		p.list(p.w("went_well"), r.WentWell),
		p.list(p.w("to_improve"), r.ToImprove),
		p.list(p.w("recommendations"), r.Recommendations),
		p.list(p.w("actions"), r.Actions),
	}
}

// postRecoveryTarget is one service's recovery against its targets.
type postRecoveryTarget struct {
	Service                            string
	RTO, RTOAchieved, RPO, RPOAchieved *orchestrator.Duration
	RTOMet, RPOMet                     *bool
}

// targets is the section of the services' recovery against their targets:
// a chart of RTO target against achieved, in hours, and a table of both
// targets.
func (p postRecovery) targets(heading, note string, rows []postRecoveryTarget) Section {
	s := Section{Level: 2, Heading: heading, Empty: p.w("no_targets"), Note: note}
	if len(rows) == 0 {
		return s
	}
	hours := func(d *orchestrator.Duration) *float64 {
		if d == nil {
			return nil
		}
		h := time.Duration(*d).Hours()
		return &h
	}
	groups := make([]barGroup, 0, len(rows))
	t := &Table{Head: []string{p.w("service"), p.w("rto"), p.w("achieved"), p.w("met"), p.w("rpo"), p.w("data_loss"), p.w("met")}}
	for _, r := range rows {
		if r.RTO != nil || r.RTOAchieved != nil {
			groups = append(groups, barGroup{Label: r.Service, Values: []*float64{hours(r.RTO), hours(r.RTOAchieved)}})
		}
		t.Add(Cell{Text: r.Service}, Cell{Text: p.dur(r.RTO)}, Cell{Text: p.dur(r.RTOAchieved)}, p.met(r.RTOMet),
			Cell{Text: p.dur(r.RPO)}, Cell{Text: p.dur(r.RPOAchieved)}, p.met(r.RPOMet))
	}
	if len(groups) > 0 {
		s.Chart = barChart([]barSeries{{p.w("target"), colourTarget}, {p.w("achieved"), colourAchieved}}, groups, "h", p.w("rto_chart"))
	}
	t.Limit(postRecoveryRows)
	s.Table = t
	return s
}

// overran is the section of the steps that took longer than their
// estimate, most over first.
func (p postRecovery) overran(steps []drills.StepOutcome, whereHead string, where func(drills.StepOutcome) string) Section {
	s := Section{Level: 3, Heading: p.w("overran"), Empty: p.w("none_overran")}
	steps = slices.Clone(steps)
	over := func(st drills.StepOutcome) time.Duration {
		if st.Elapsed == nil {
			return 0
		}
		return time.Duration(*st.Elapsed - st.Estimate)
	}
	slices.SortStableFunc(steps, func(a, b drills.StepOutcome) int { return cmp.Compare(over(b), over(a)) })
	t := &Table{Head: []string{p.w("step"), whereHead, p.w("estimate"), p.w("elapsed"), p.w("over_by")}, Numeric: []bool{false, false, true, true, true}}
	for _, st := range steps {
		by := orchestrator.Duration(over(st))
		t.Add(Cell{Text: st.Title}, Cell{Text: where(st)}, Cell{Text: st.Estimate.String()}, Cell{Text: p.dur(st.Elapsed)},
			Cell{Text: "+" + by.String(), Class: classWarn})
	}
	t.Limit(postRecoveryRows)
	s.Table = t
	return s
}

// findings is the section of the findings raised, with their status and
// due dates, under a note of where they come from; verified, when not
// nil, are the earlier findings a drill proved fixed.
func (p postRecovery) findings(note string, raised, verified []drills.Finding) []Section {
	s := Section{Level: 2, Heading: p.w("findings"), Empty: p.w("no_findings"), Text: []string{note}}
	t := &Table{Head: []string{"#", p.w("severity"), p.w("finding"), p.w("owner"), p.w("status"), p.w("due")}}
	for _, f := range raised {
		due := Cell{Text: "—"}
		if f.DueDate != nil {
			// Non-breaking hyphens keep the date on one line.
			due.Text = strings.ReplaceAll(f.DueDate.String(), "-", "\u2011")
		}
		if f.Overdue {
			due.Text += " (" + p.w("overdue") + ")"
			due.Class = classBad
		}
		t.Add(Cell{Text: fmt.Sprint(f.ID)}, Cell{Text: p.term("sev_", f.Severity)}, Cell{Text: f.Title}, Cell{Text: orDash(f.Owner)},
			Cell{Text: p.term("fs_", f.Status), Class: findingStatusClass(f.Status)}, due)
	}
	t.Limit(postRecoveryRows)
	s.Table = t
	out := []Section{s}
	if verified == nil {
		return out
	}
	v := Section{Level: 3, Heading: p.w("verified"), Empty: p.w("none_verified")}
	vt := &Table{Head: []string{"#", p.w("finding"), p.w("verified_at")}}
	for _, f := range verified {
		vt.Add(Cell{Text: fmt.Sprint(f.ID)}, Cell{Text: f.Title}, Cell{Text: p.clock(f.VerifiedAt), Class: classOK})
	}
	vt.Limit(postRecoveryRows)
	v.Table = vt
	return append(out, v)
}

// findingStatusClass colours a finding's status: verified is done, resolved
// waits for its proof.
func findingStatusClass(status string) string {
	switch status {
	case drills.FindingVerified:
		return classOK
	case drills.FindingResolved:
		return ""
	}
	return classWarn
}

// postRecoveryEvent is one row of a timeline: a drill's own events and its
// executions' merged, or an invocation's.
type postRecoveryEvent struct {
	At     time.Time
	Source string
	Actor  string
	Type   string
	Step   string
	Detail string
}

// quietEvents are the transitions a timeline in print leaves out: steps
// becoming ready or claimed say nothing a reader acts on.
var quietEvents = map[string]bool{"step_blocked": true, "step_waiting": true, "step_pending": true, "step_running": true}

// routineEvent is the event a timeline too long to print whole leaves out
// next: a step done as planned, which the steps and the JSON still show,
// so that what went wrong, what was decided and how it ended stay in.
const routineEvent = "step_succeeded"

// timeline is the section of events in time order, the quiet ones left
// out, and the routine ones too when listed elsewhere (routineElsewhere)
// or when there are more than a page holds.
func (p postRecovery) timeline(events []postRecoveryEvent, withSource, routineElsewhere bool) Section {
	s := Section{Level: 2, Heading: p.w("timeline"), Empty: p.w("no_timeline")}
	events = slices.DeleteFunc(slices.Clone(events), func(e postRecoveryEvent) bool { return quietEvents[e.Type] })
	slices.SortStableFunc(events, func(a, b postRecoveryEvent) int { return a.At.Compare(b.At) })
	note := p.w("timeline_note")
	if routineElsewhere || len(events) > postRecoveryTimeline {
		routine := 0
		events = slices.DeleteFunc(events, func(e postRecoveryEvent) bool {
			if e.Type == routineEvent {
				routine++
				return true
			}
			return false
		})
		note += " " + fmt.Sprintf(p.w("routine_left_out"), routine)
	}
	// Short columns of names and numbers, and one of words, so that a
	// narrow column never breaks a Chinese word.
	head := []string{p.w("time"), p.w("actor"), p.w("what_happened")}
	if withSource {
		head = slices.Insert(head, 1, p.w("source"))
	}
	t := &Table{Head: head}
	for _, e := range events {
		what := p.term("ev_", e.Type)
		if e.Step != "" {
			what += " · " + e.Step
		}
		if e.Detail != "" {
			what += p.w("colon") + clipCell(e.Detail)
		}
		row := []Cell{{Text: p.clock(&e.At)}, {Text: orDash(e.Actor)}, {Text: what, Class: timelineEventClass(e.Type)}}
		if withSource {
			row = slices.Insert(row, 1, Cell{Text: orDash(e.Source)})
		}
		t.Add(row...)
	}
	t.Limit(postRecoveryTimeline)
	s.Table = t
	s.Note = note
	return s
}

// timelineEventClass colours the events that went wrong.
func timelineEventClass(typ string) string {
	switch typ {
	case "step_failed", "step_gave_up", "step_rejected", "execution_failed", "execution_aborted", drills.EventIssue, drills.EventCancelled:
		return classBad
	case "step_skipped", "execution_paused":
		return classWarn
	}
	return ""
}

// clipCell shortens a long text for a table cell; the JSON has it whole.
func clipCell(s string) string {
	const limit = 240
	r := []rune(s)
	if len(r) <= limit {
		return s
	}
	return string(r[:limit]) + "…"
}

// scenarioWords says what an execution's free-form scenario describes:
// its text, or the object as written.
func scenarioWords(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var obj map[string]any
	if json.Unmarshal(raw, &obj) == nil {
		for _, k := range []string{"text", "description", "summary"} {
			if s, ok := obj[k].(string); ok && strings.TrimSpace(s) != "" {
				return s
			}
		}
	}
	return clipCell(string(raw))
}
