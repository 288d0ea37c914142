package report

import (
	"fmt"
	"strings"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/runbooks"
)

// Rows the annual review lists in a table before leaving the rest to a
// note; the counts above each table are always complete.
const (
	annualRunbookRows = 40
	annualActionRows  = 40
	annualDrillRows   = 40
	annualFindingRows = 30
)

// document lays the annual review out in its language.
func (rep *AnnualReview) document() *Document {
	w := lookup(annualWords, rep.Lang)
	d := &Document{Lang: rep.Lang, Title: w("title"), Subtitle: fmt.Sprintf(w("subtitle"), rep.Year), FooterText: w("footer"),
		Facts: []Fact{
			{Label: w("year"), Value: fmt.Sprint(rep.Year)},
			{Label: w("as_of"), Value: day(&rep.AsOf)},
			{Label: w("generated"), Value: rep.GeneratedAt.Format("2006-01-02 15:04 UTC")},
		}}
	d.Sections = append(d.Sections, rep.reviewSections(w)...)
	d.Sections = append(d.Sections, rep.drillSections(w)...)
	d.Sections = append(d.Sections, rep.improvementSections(w)...)
	return d
}

// limited is t limited to n rows.
func limited(t *Table, n int) *Table {
	t.Limit(n)
	return t
}

// reviewSections are the plan reviews: the counts, every approved runbook
// and the actions the reviews decided.
func (rep *AnnualReview) reviewSections(w func(string) string) []Section {
	r := rep.Reviews
	head := Section{Level: 2, Heading: w("reviews"), Text: []string{w("reviews_note")},
		Facts: []Fact{{Label: w("approved_rbs"), Value: fmt.Sprint(r.Runbooks)}}}
	for _, st := range reviewStates {
		f := Fact{Label: term(w, "state", st), Value: fmt.Sprint(r.ByState[st])}
		if st == ReviewStateOverdue && r.ByState[st] > 0 {
			f.Class = classBad
		}
		head.Facts = append(head.Facts, f)
	}
	for _, o := range []string{runbooks.ReviewFit, runbooks.ReviewUpdateNeeded, runbooks.ReviewRetire} {
		head.Facts = append(head.Facts, Fact{Label: w("outcomes") + ": " + term(w, "outcome", o), Value: fmt.Sprint(r.ByOutcome[o])})
	}
	list := &Table{Head: []string{w("col_runbook"), w("col_covers"), w("col_approved"), w("col_due"), w("col_state"), w("col_reviewed"),
		w("col_outcome"), w("col_flags")}}
	actions := &Table{Head: []string{w("col_runbook"), w("col_reviewed"), w("owner"), w("col_outcome"), w("col_action")}}
	for _, it := range r.Items {
		reviewed, outcome := "—", "—"
		if it.Review != nil {
			reviewed, outcome = day(&it.Review.At)+" · "+it.Review.By, term(w, "outcome", it.Review.Outcome)
			for _, a := range it.Review.Actions {
				actions.AddRow(runbookName(it.Runbook, it.Title), day(&it.Review.At), it.Review.By, outcome, a)
			}
		}
		flags := make([]string, len(it.Flags))
		for i, f := range it.Flags {
			flags[i] = term(w, "flag", f)
		}
		// A service's runbook is known by its service; a scenario's by
		// its title.
		covers := it.Service
		if covers == "" {
			covers = it.Title
		}
		list.Add(Cell{Text: fmt.Sprintf("#%d", it.Runbook)}, Cell{Text: covers}, Cell{Text: day(&it.ApprovedAt)},
			Cell{Text: day(&it.DueAt)}, Cell{Text: term(w, "state", it.State), Class: reviewClass(it.State)},
			Cell{Text: reviewed}, Cell{Text: outcome}, Cell{Text: orDash(strings.Join(flags, ", "))})
	}
	return []Section{head,
		{Level: 3, Heading: w("runbook_list"), Table: limited(list, annualRunbookRows), Empty: w("no_runbooks")},
		{Level: 3, Heading: w("actions"), Table: limited(actions, annualActionRows), Empty: w("no_actions")},
	}
}

// runbookName names a runbook in a table: its id and title.
func runbookName(id int64, title string) string { return fmt.Sprintf("#%d %s", id, title) }

// reviewClass colours a review state.
func reviewClass(state string) string {
	switch state {
	case ReviewStateOverdue:
		return classBad
	case ReviewStateDue:
		return classWarn
	case ReviewStateReviewed:
		return classOK
	}
	return ""
}

// resultClass colours a drill's result.
func resultClass(result *string) string {
	if result == nil {
		return ""
	}
	switch *result {
	case drills.ResultPass:
		return classOK
	case drills.ResultPartial:
		return classWarn
	case drills.ResultFail:
		return classBad
	}
	return ""
}

// drillSections are the year's drills: counts, coverage by tier and the
// list.
func (rep *AnnualReview) drillSections(w func(string) string) []Section {
	dr := rep.Drills
	head := Section{Level: 2, Heading: w("drills"), Text: []string{w("drills_note")}, NewPage: true,
		Facts: []Fact{{Label: w("planned"), Value: fmt.Sprint(dr.Planned)}}}
	for _, st := range drillStatuses {
		head.Facts = append(head.Facts, Fact{Label: term(w, "drill", st), Value: fmt.Sprint(dr.ByStatus[st])})
	}
	for _, res := range []string{drills.ResultPass, drills.ResultPartial, drills.ResultFail} {
		f := Fact{Label: w("completed") + ": " + term(w, "result", res), Value: fmt.Sprint(dr.Results[res])}
		f.Class = resultClass(&res)
		if dr.Results[res] == 0 {
			f.Class = ""
		}
		head.Facts = append(head.Facts, f)
	}
	cov := dr.Coverage
	head.Facts = append(head.Facts,
		Fact{Label: w("cov_met"), Value: fmt.Sprintf("%d / %d", cov.Met, cov.Services)},
		Fact{Label: w("cov_overdue"), Value: fmt.Sprint(cov.Overdue), Class: badIf(cov.Overdue > 0)},
		Fact{Label: w("cov_critical"), Value: fmt.Sprintf("%d / %d", cov.CriticalUncovered, cov.Critical), Class: badIf(cov.CriticalUncovered > 0)})
	tiers := &Table{Head: []string{w("col_tier"), w("col_required"), w("col_services"), w("col_met"), w("col_overdue")},
		Numeric: []bool{false, false, true, true, true}}
	for _, t := range dr.ByTier {
		met := Cell{Text: fmt.Sprint(t.Met), Class: classOK}
		if t.Met < t.Services {
			met.Class = classWarn
		}
		tiers.Add(Cell{Text: fmt.Sprint(t.Tier)}, Cell{Text: fmt.Sprintf(w("per_year"), term(w, "type", t.Required.Type), t.Required.Count)},
			Cell{Text: fmt.Sprint(t.Services)}, met, Cell{Text: fmt.Sprint(t.Overdue), Class: badIf(t.Overdue > 0)})
	}
	list := &Table{Head: []string{w("col_drill"), w("col_type"), w("col_drill_services"), w("col_planned"), w("status"), w("col_completed"), w("col_result")}}
	for _, it := range dr.Items {
		res := "—"
		if it.Result != nil {
			res = term(w, "result", *it.Result)
		}
		list.Add(Cell{Text: fmt.Sprintf("#%d %s", it.ID, it.Title)}, Cell{Text: term(w, "type", it.Type)}, Cell{Text: few(it.Services)},
			Cell{Text: day(&it.PlannedStart)}, Cell{Text: term(w, "drill", it.Status)}, Cell{Text: day(it.CompletedAt)},
			Cell{Text: res, Class: resultClass(it.Result)})
	}
	return []Section{head,
		{Level: 3, Heading: w("by_tier"), Table: tiers, Empty: w("no_coverage")},
		{Level: 3, Heading: w("drill_list"), Table: limited(list, annualDrillRows), Empty: w("no_drills")},
	}
}

// badIf is the class of a figure that is bad when cond holds.
func badIf(cond bool) string {
	if cond {
		return classBad
	}
	return ""
}

// improvementSections are the service improvement summary: the year's
// figures, tables by source and severity, and the open findings.
func (rep *AnnualReview) improvementSections(w func(string) string) []Section {
	im := rep.Improvements
	head := Section{Level: 2, Heading: w("improve"), Text: []string{w("improve_note")}, NewPage: true,
		Facts: []Fact{
			{Label: w("opened"), Value: fmt.Sprint(im.Opened)},
			{Label: w("closed"), Value: fmt.Sprint(im.Closed)},
			{Label: w("open"), Value: fmt.Sprint(im.Open)},
			{Label: w("overdue"), Value: fmt.Sprint(im.Overdue), Class: badIf(im.Overdue > 0)},
		}}
	bySource := findingCountSection(w, w("by_source"), w("col_source"), "source", im.BySource)
	bySeverity := findingCountSection(w, w("by_severity"), w("col_severity"), "severity", im.BySeverity)
	open := &Table{Head: []string{w("col_id"), w("col_title"), w("service"), w("owner"), w("col_due_date"), w("status"), w("col_severity"), w("col_source")}}
	for _, f := range im.OpenItems {
		open.Add(Cell{Text: fmt.Sprint(f.ID)}, Cell{Text: f.Title}, Cell{Text: orDash(few(f.Services))}, Cell{Text: orDash(f.Owner)},
			Cell{Text: day(f.Due), Class: badIf(f.Overdue)}, Cell{Text: term(w, "finding", f.Status)},
			Cell{Text: term(w, "severity", f.Severity), Class: severityClass(f.Severity)}, Cell{Text: term(w, "source", f.Source)})
	}
	empty := w("no_open")
	if im.Opened+im.Closed+im.Open == 0 {
		empty = w("no_findings")
	}
	return []Section{head, bySource, bySeverity,
		{Level: 3, Heading: w("open_list"), Table: limited(open, annualFindingRows), Empty: empty},
	}
}

// findingCountSection tables the findings counted by one key.
func findingCountSection(w func(string) string, heading, col, kind string, counts []FindingCount) Section {
	t := &Table{Head: []string{col, w("col_opened"), w("col_closed"), w("col_open"), w("col_overdue")},
		Numeric: []bool{false, true, true, true, true}}
	for _, c := range counts {
		t.Add(Cell{Text: term(w, kind, c.Key)}, Cell{Text: fmt.Sprint(c.Opened)}, Cell{Text: fmt.Sprint(c.Closed)},
			Cell{Text: fmt.Sprint(c.Open)}, Cell{Text: fmt.Sprint(c.Overdue), Class: badIf(c.Overdue > 0)})
	}
	return Section{Level: 3, Heading: heading, Table: t}
}

// severityClass colours a finding's severity.
func severityClass(s string) string {
	switch s {
	case "critical":
		return classBad
	case "high":
		return classWarn
	}
	return ""
}
