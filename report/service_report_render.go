package report

import (
	"fmt"
	"strings"
	"time"
)

// serviceRows is how many rows a table of the service report lists before
// leaving the rest to a note; the counts above each table are complete.
const serviceRows = 25

// document lays the service report out in its language.
func (rep *ServiceReport) document() *Document {
	w := lookup(serviceWords, rep.Lang)
	name := rep.Service
	if rep.Name != "" && rep.Name != rep.Service {
		name = rep.Name + " (" + rep.Service + ")"
	}
	d := &Document{Lang: rep.Lang, Title: w("title") + name, Subtitle: w("subtitle"), FooterText: w("footer"),
		Facts: []Fact{
			{Label: w("service"), Value: rep.Service},
			{Label: w("owner"), Value: orDash(rep.Owner)},
			{Label: w("period"), Value: rep.Period},
			{Label: w("generated"), Value: rep.GeneratedAt.Format("2006-01-02 15:04 UTC")},
		}}
	d.Sections = append(d.Sections, rep.slaSection(w), rep.incidentSection(w), rep.problemSection(w), rep.changeSection(w), rep.releaseSection(w))
	d.Sections = append(d.Sections, rep.continuitySections(w)...)
	return d
}

// slaSection is the service's availability against its SLA.
func (rep *ServiceReport) slaSection(w func(string) string) Section {
	s := rep.SLA
	sec := Section{Level: 2, Heading: w("sla")}
	if s.SLA == "" {
		sec.Text = []string{w("no_sla")}
	}
	achieved := Fact{Label: w("achieved"), Value: formatPercent(s.Achieved)}
	if s.Met != nil {
		achieved.Class = classOK
		if !*s.Met {
			achieved.Class = classBad
		}
	}
	sec.Facts = []Fact{
		{Label: w("sla_name"), Value: orDash(s.SLA)},
		{Label: w("measured_in"), Value: term(w, "measured", s.MeasuredIn)},
		{Label: w("target"), Value: formatPercent(s.Target)},
		achieved,
		{Label: w("previous"), Value: formatPercent(s.Previous)},
		{Label: w("met"), Value: yesNo(w, s.Met)},
		{Label: w("outage"), Value: fmt.Sprintf(w("minutes"), s.OutageMinutes, s.PreviousOutageMinutes)},
		{Label: w("mttr"), Value: formatDuration(s.MTTR)},
	}
	return sec
}

// yesNo writes a judgement: yes, no, or — when there is none.
func yesNo(w func(string) string, b *bool) string {
	switch {
	case b == nil:
		return "—"
	case *b:
		return w("yes")
	}
	return w("no")
}

// incidentSection lists the period's incidents, major ones flagged.
func (rep *ServiceReport) incidentSection(w func(string) string) Section {
	in := rep.Incidents
	sec := Section{Level: 2, Heading: w("incidents"),
		Facts: []Fact{
			{Label: w("this_month"), Value: fmt.Sprintf(w("of_major"), in.Count, in.Major), Class: badIf(in.Major > 0)},
			{Label: w("previous"), Value: fmt.Sprintf(w("of_major"), in.PreviousCount, in.PreviousMajor)},
		}}
	if in.Count == 0 {
		sec.Text = []string{w("no_incidents")}
	}
	t := &Table{Head: []string{w("col_incident"), w("col_title"), w("col_priority"), w("col_major"), w("col_opened"), w("col_restored"),
		w("status"), w("col_invoked")}}
	for _, i := range in.Items {
		major := Cell{Text: "—"}
		if i.Major {
			major = Cell{Text: w("major"), Class: classBad}
		}
		invoked := "—"
		if i.ContinuityInvoked {
			invoked = w("yes")
		}
		t.Add(Cell{Text: orDash(i.ExternalID)}, Cell{Text: i.Title}, Cell{Text: i.Priority}, major, Cell{Text: minute(&i.OpenedAt)},
			Cell{Text: minute(i.RestoredAt)}, Cell{Text: term(w, "incident", i.Status)}, Cell{Text: invoked})
	}
	if len(t.Rows) > 0 {
		sec.Table = t
		t.Limit(serviceRows)
	}
	return sec
}

// minute writes a time to the minute in UTC, or "—" for none.
func minute(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

// problemSection lists the problems behind the period's incidents.
func (rep *ServiceReport) problemSection(w func(string) string) Section {
	t := &Table{Head: []string{w("col_problem"), w("col_title"), w("col_known_error"), w("status"), w("col_opened"), w("col_resolved")}}
	for _, p := range rep.Problems {
		known := "—"
		if p.KnownError {
			known = w("yes")
		}
		t.AddRow(orDash(p.ExternalID), p.Title, known, term(w, "problem", p.Status), day(&p.OpenedAt), day(p.ResolvedAt))
	}
	return Section{Level: 2, Heading: w("problems"), Table: limited(t, serviceRows), Empty: w("no_problems")}
}

// changeSection lists the changes carried out on the service's CIs.
func (rep *ServiceReport) changeSection(w func(string) string) Section {
	c := rep.Changes
	sec := Section{Level: 2, Heading: w("changes"), Text: []string{w("changes_note")},
		Facts: []Fact{
			{Label: w("this_month"), Value: fmt.Sprint(c.Count)},
			{Label: w("major_changes"), Value: fmt.Sprint(c.Major)},
			{Label: w("failed_changes"), Value: fmt.Sprint(c.Failed), Class: badIf(c.Failed > 0)},
			{Label: w("previous"), Value: fmt.Sprint(c.PreviousCount)},
		}}
	if c.Count == 0 {
		sec.Text = append(sec.Text, w("no_changes"))
	}
	t := &Table{Head: []string{w("col_change"), w("col_title"), w("col_type"), w("col_major"), w("status"), w("col_cis"), w("col_implemented")}}
	for _, ch := range c.Items {
		major := "—"
		if ch.Major {
			major = w("major")
		}
		status := Cell{Text: term(w, "change", ch.Status), Class: badIf(ch.Status == "failed" || ch.Status == "rolled_back")}
		t.Add(Cell{Text: orDash(ch.ExternalID)}, Cell{Text: ch.Title}, Cell{Text: term(w, "changetype", ch.Type)}, Cell{Text: major}, status,
			Cell{Text: few(ch.CIs)}, Cell{Text: minute(ch.ImplementedAt)})
	}
	if len(t.Rows) > 0 {
		sec.Table = t
		t.Limit(serviceRows)
	}
	return sec
}

// releaseSection lists the releases deployed to the service's CIs.
func (rep *ServiceReport) releaseSection(w func(string) string) Section {
	r := rep.Releases
	sec := Section{Level: 2, Heading: w("releases"),
		Facts: []Fact{{Label: w("this_month"), Value: fmt.Sprint(r.Count)}, {Label: w("previous"), Value: fmt.Sprint(r.PreviousCount)}}}
	if r.Count == 0 {
		sec.Text = []string{w("no_releases")}
	}
	t := &Table{Head: []string{w("col_version"), w("col_title"), w("col_deployed")}}
	for _, it := range r.Items {
		t.AddRow(it.Version, it.Title, minute(&it.DeployedAt))
	}
	if len(t.Rows) > 0 {
		sec.Table = t
		t.Limit(serviceRows)
	}
	return sec
}

// continuitySections are the continuity section: readiness and targets,
// every lost point, runbooks, drills, RPO, findings and invocations.
func (rep *ServiceReport) continuitySections(w func(string) string) []Section {
	c := rep.Continuity
	r := c.Readiness
	head := Section{Level: 2, Heading: w("continuity"), Text: []string{w("continuity_note")}, NewPage: true,
		Facts: []Fact{{Label: w("readiness"), Value: fmt.Sprintf("%d / 100 · %s", r.Score, term(w, "readiness", r.Status)), Class: statusClass(r.Status)}}}
	if r.CappedBy != "" {
		caps := strings.Split(r.CappedBy, ",")
		for i, cp := range caps {
			caps[i] = term(w, "cap", cp)
		}
		head.Facts = append(head.Facts, Fact{Label: w("capped_by"), Value: strings.Join(caps, ", "), Class: classBad})
	}
	if b := c.BIA; b != nil {
		mtpd := "—"
		if b.MTPD != nil {
			mtpd = b.MTPD.String()
		}
		head.Facts = append(head.Facts,
			Fact{Label: w("tier"), Value: fmt.Sprint(b.Tier)},
			Fact{Label: w("rto"), Value: b.RTO.String()},
			Fact{Label: w("rpo"), Value: b.RPO.String()},
			Fact{Label: w("wrt"), Value: b.WRT.String()},
			Fact{Label: w("mtpd"), Value: mtpd},
			Fact{Label: w("bia_version"), Value: fmt.Sprintf("v%d · %s", b.Version, day(b.ApprovedAt))})
	} else {
		head.Facts = append(head.Facts, Fact{Label: w("bia"), Value: w("no_bia"), Class: classBad})
	}
	return []Section{head, rep.dependencySection(w), rep.lostSection(w), rep.runbookSection(w), rep.drillSection(w), rep.rpoSection(w),
		rep.findingSection(w), rep.invocationSection(w)}
}

// dependencySection draws what the service depends on, with the charts'
// renderer the UI's dependency view uses.
func (rep *ServiceReport) dependencySection(w func(string) string) Section {
	d := rep.Continuity.Dependencies
	sec := Section{Level: 3, Heading: w("deps"), Empty: w("no_deps"), Note: w("deps_note")}
	if len(d.Nodes) > 1 {
		sec.Chart = DependencyChart(d, w("deps")+": "+rep.Service, rep.Lang)
		sec.Facts = []Fact{{Label: w("dep_cis"), Value: fmt.Sprint(len(d.Nodes) - 1)}}
		if len(d.Cycles) > 0 {
			sec.Facts = append(sec.Facts, Fact{Label: w("dep_cycles"), Value: fmt.Sprint(len(d.Cycles)), Class: classWarn})
		}
	}
	return sec
}

// statusClass colours a readiness status.
func statusClass(status string) string {
	switch status {
	case StatusReady:
		return classOK
	case StatusAtRisk:
		return classWarn
	}
	return classBad
}

// lostSection lists the readiness components and every lost point.
func (rep *ServiceReport) lostSection(w func(string) string) Section {
	t := &Table{Head: []string{w("col_component"), w("col_points"), w("col_lost"), w("col_reason")}, Numeric: []bool{false, true, true, false}}
	for _, c := range rep.Continuity.Readiness.Components {
		points := Cell{Text: fmt.Sprintf("%d/%d", c.Points, c.Max), Class: classOK}
		if c.Points < c.Max {
			points.Class = classWarn
		}
		if len(c.Lost) == 0 {
			t.Add(Cell{Text: term(w, "component", c.Name)}, points, Cell{Text: "0"}, Cell{Text: "—"})
		}
		for i, l := range c.Lost {
			name := ""
			if i == 0 {
				name = term(w, "component", c.Name)
			} else {
				points = Cell{}
			}
			t.Add(Cell{Text: name}, points, Cell{Text: fmt.Sprint(l.Points)}, Cell{Text: l.Reason})
		}
	}
	return Section{Level: 3, Heading: w("lost"), Table: t, Note: w("lost_note")}
}

// runbookSection lists the service's runbooks and their staleness.
func (rep *ServiceReport) runbookSection(w func(string) string) Section {
	t := &Table{Head: []string{w("col_runbook"), w("status"), w("col_version"), w("col_approved"), w("col_review_due"), w("col_stale")}}
	for _, rb := range rep.Continuity.Runbooks {
		flags := make([]string, len(rb.Flags))
		for i, f := range rb.Flags {
			flags[i] = term(w, "flag", f)
		}
		stale := Cell{Text: w("not_stale"), Class: classOK}
		if rb.Stale {
			stale = Cell{Text: strings.Join(flags, ", "), Class: classBad}
		}
		if rb.Status != "approved" {
			stale = Cell{Text: "—"}
		}
		t.Add(Cell{Text: runbookName(rb.ID, rb.Title)}, Cell{Text: term(w, "runbook", rb.Status)}, Cell{Text: fmt.Sprintf("v%d", rb.Version)},
			Cell{Text: day(rb.ApprovedAt)}, Cell{Text: day(rb.ReviewDue)}, stale)
	}
	return Section{Level: 3, Heading: w("runbooks"), Table: limited(t, serviceRows), Empty: w("no_runbooks")}
}

// drillSection is the service's last drill and its next one.
func (rep *ServiceReport) drillSection(w func(string) string) Section {
	sec := Section{Level: 3, Heading: w("drills"), Empty: w("no_drills")}
	if d := rep.Continuity.LastDrill; d != nil {
		res := "—"
		if d.Result != nil {
			res = term(w, "result", *d.Result)
		}
		sec.Facts = append(sec.Facts,
			Fact{Label: w("last_drill"), Value: fmt.Sprintf("#%d %s · %s · %s", d.ID, d.Title, term(w, "type", d.Type), day(d.CompletedAt))},
			Fact{Label: w("col_result"), Value: res, Class: resultClass(d.Result)},
			Fact{Label: w("rto_achieved"), Value: formatDuration(d.RTOAchieved)})
		if len(d.Reasons) > 0 {
			sec.Facts = append(sec.Facts, Fact{Label: w("why"), Value: strings.Join(d.Reasons, "; ")})
		}
	}
	if d := rep.Continuity.NextDrill; d != nil {
		sec.Facts = append(sec.Facts, Fact{Label: w("next_drill"), Value: fmt.Sprintf("#%d %s · %s · %s", d.ID, d.Title, term(w, "type", d.Type), day(&d.PlannedStart)),
			Class: badIf(d.PlannedStart.Before(rep.GeneratedAt))})
	}
	return sec
}

// rpoSection is the RPO state of the service's data.
func (rep *ServiceReport) rpoSection(w func(string) string) Section {
	t := &Table{Head: []string{w("col_ci"), w("col_required"), w("col_backup_age"), w("col_state")}}
	for _, r := range rep.Continuity.RPO {
		class := ""
		switch r.State {
		case "breached":
			class = classBad
		case "at_risk", "unknown":
			class = classWarn
		case "compliant":
			class = classOK
		}
		t.Add(Cell{Text: r.CI}, Cell{Text: formatDuration(r.Required)}, Cell{Text: formatDuration(r.Age)},
			Cell{Text: term(w, "rpo", string(r.State)), Class: class})
	}
	return Section{Level: 3, Heading: w("rpo_data"), Table: limited(t, serviceRows), Empty: w("no_rpo")}
}

// findingSection lists the findings open on the service.
func (rep *ServiceReport) findingSection(w func(string) string) Section {
	t := &Table{Head: []string{w("col_id"), w("col_title"), w("owner"), w("col_due"), w("status"), w("col_severity")}}
	for _, f := range rep.Continuity.Findings {
		t.Add(Cell{Text: fmt.Sprint(f.ID)}, Cell{Text: f.Title}, Cell{Text: orDash(f.Owner)}, Cell{Text: day(f.Due), Class: badIf(f.Overdue)},
			Cell{Text: term(w, "finding", f.Status)}, Cell{Text: term(w, "severity", f.Severity), Class: severityClass(f.Severity)})
	}
	return Section{Level: 3, Heading: w("findings"), Table: limited(t, serviceRows), Empty: w("no_findings")}
}

// invocationSection lists the invocations of the service's plans in the
// period.
func (rep *ServiceReport) invocationSection(w func(string) string) Section {
	t := &Table{Head: []string{w("col_execution"), w("col_runbook"), w("status"), w("col_started"), w("col_elapsed")}}
	for _, x := range rep.Continuity.Invocations {
		t.AddRow(fmt.Sprint(x.ID), runbookName(x.Runbook, x.Title), term(w, "execution", x.Status), minute(&x.StartedAt), x.Elapsed.String())
	}
	return Section{Level: 3, Heading: w("invocations"), Table: limited(t, serviceRows), Empty: w("no_invocations")}
}
