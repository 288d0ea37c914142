package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bcdr/bcdr/orchestrator/impact"
)

// Bounds on what the BIA report's document lists; the JSON holds all.
const (
	// biaTableRows bounds the targets and findings tables.
	biaTableRows = 200
	// biaDetailed is how many services' impact over time is drawn.
	biaDetailed = 40
)

// document lays the BIA report out in lang.
func (rep *BIAReport) document(lang string) *Document {
	w := biaWords.words(lang)
	d := &Document{Lang: lang, Title: w("title"), Subtitle: w("subtitle"), FooterText: w("footer"),
		Facts: []Fact{
			{Label: w("generated"), Value: rep.GeneratedAt.Format("2006-01-02 15:04 UTC")},
			{Label: w("business_services"), Value: strconv.Itoa(rep.Summary.Services)},
			{Label: w("currency"), Value: rep.Currency},
		}}
	d.Sections = append(d.Sections, rep.summarySection(w), rep.targetsSection(w), rep.findingsSection(w))
	d.Sections = append(d.Sections, rep.impactSections(w)...)
	return d
}

// summarySection counts the services by BIA status and by tier.
func (rep *BIAReport) summarySection(w func(string) string) Section {
	sec := Section{Level: 2, Heading: w("summary"), Text: []string{w("summary_text")}, Empty: w("no_services")}
	s := rep.Summary
	if s.Services == 0 {
		return sec
	}
	pct := float64(s.Approved) * 100 / float64(s.Services)
	sec.Facts = []Fact{
		{Label: w("business_services"), Value: strconv.Itoa(s.Services)},
		{Label: w("approved"), Value: fmt.Sprintf("%d (%.0f%%)", s.Approved, pct), Class: biaClassIf(s.Approved == s.Services, classOK, classWarn)},
		{Label: w("draft_only"), Value: strconv.Itoa(s.Draft), Class: biaClassIf(s.Draft > 0, classWarn, "")},
		{Label: w("no_bia"), Value: strconv.Itoa(s.None), Class: biaClassIf(s.None > 0, classBad, "")},
		{Label: w("exceeds_mtpd"), Value: strconv.Itoa(s.ExceedsMTPD), Class: biaClassIf(s.ExceedsMTPD > 0, classBad, "")},
	}
	var bars []tally
	for tier := range len(rep.settings.TierBounds) + 1 {
		name := strconv.Itoa(tier)
		bars = append(bars, tally{Label: w("tier") + " " + name, Count: s.ByTier[name], Colour: colourEstimate})
	}
	bars = append(bars, tally{Label: w("unassessed"), Count: s.ByTier[tierName(nil)], Colour: colourTarget})
	sec.Chart = tallyChart(bars, w("by_tier"))
	return sec
}

// targetsSection lists every service's targets, most critical first.
func (rep *BIAReport) targetsSection(w func(string) string) Section {
	sec := Section{Level: 2, Heading: w("targets"), Text: []string{w("targets_text")}, Empty: w("no_services")}
	// The acronyms alone head the columns: the full terms, long in
	// Chinese, would squeeze the table.
	t := &Table{Head: []string{w("service"), w("tier"), "MTPD", "RTO", "RPO", w("owner"), w("bia"), w("approved_at"), w("approved_by")},
		Numeric: []bool{false, true, true, true, true}}
	for _, row := range rep.Services {
		bia := Cell{Text: w("no_bia"), Class: classBad}
		switch row.Status {
		case BIAApproved:
			bia = Cell{Text: "v" + strconv.Itoa(*row.Version)}
		case BIADraft:
			bia = Cell{Text: fmt.Sprintf(w("draft_version"), *row.DraftVersion), Class: classWarn}
		}
		tier := "—"
		if row.Tier != nil {
			tier = strconv.Itoa(*row.Tier)
		}
		mtpd := Cell{Text: formatDuration(row.MTPD)}
		if row.exceedsMTPD() {
			mtpd.Class = classBad
		}
		t.Add(Cell{Text: rep.names[row.Service]}, Cell{Text: tier}, mtpd, Cell{Text: formatDuration(row.RTO)},
			Cell{Text: formatDuration(row.RPO)}, Cell{Text: orDash(row.Owner)}, bia, Cell{Text: day(row.ApprovedAt)}, Cell{Text: orDash(row.ApprovedBy)})
	}
	t.Limit(biaTableRows)
	sec.Table = t
	return sec
}

// findingsSection lists the services without an approved BIA and the
// approved BIAs whose recovery would come after their MTPD.
func (rep *BIAReport) findingsSection(w func(string) string) Section {
	sec := Section{Level: 2, Heading: w("findings"), Text: []string{w("findings_text")}, Empty: w("no_findings")}
	rows := make(map[string]BIAServiceRow, len(rep.Services))
	for _, r := range rep.Services {
		rows[r.Service] = r
	}
	t := &Table{Head: []string{w("service"), w("finding")}}
	for _, f := range rep.Findings {
		text := w("finding_no_bia")
		row := rows[f.Service]
		switch {
		case f.Kind == impact.GapExceedsMTPD:
			text = fmt.Sprintf(w("finding_mtpd"), row.RTO, row.WRT, *row.RTO+*row.WRT, f.MTPD)
		case f.Version != nil:
			text += "; " + fmt.Sprintf(w("draft_awaits"), *f.Version)
		}
		t.Add(Cell{Text: rep.names[f.Service]}, Cell{Text: text, Class: classBad})
	}
	t.Limit(biaTableRows)
	sec.Table = t
	return sec
}

// impactSections draw the impact over time of each service with an
// approved BIA, most critical first, up to biaDetailed of them.
func (rep *BIAReport) impactSections(w func(string) string) []Section {
	head := Section{Level: 2, Heading: w("impact"), Text: []string{w("impact_text")}, NewPage: true}
	var secs []Section
	approved := 0
	for _, row := range rep.Services {
		if row.Status != BIAApproved {
			continue
		}
		approved++
		if approved <= biaDetailed {
			secs = append(secs, rep.impactSection(row, w))
		}
	}
	switch {
	case approved == 0:
		head.Text = append(head.Text, w("no_approved"))
	case approved > biaDetailed:
		head.Note = fmt.Sprintf(w("not_detailed"), approved-biaDetailed)
	}
	return append([]Section{head}, secs...)
}

// impactSection is one service's targets and the loss and ratings of an
// outage at each time point.
func (rep *BIAReport) impactSection(row BIAServiceRow, w func(string) string) Section {
	sec := Section{Level: 3, Heading: fmt.Sprintf("%s · %s %d · v%d", rep.names[row.Service], w("tier"), *row.Tier, *row.Version)}
	targets := []string{
		w("rto") + " " + row.RTO.String(), w("rpo") + " " + row.RPO.String(), w("wrt") + " " + row.WRT.String(),
		w("mtpd") + " " + formatDuration(row.MTPD), fmt.Sprintf("%s %.0f%%", w("mbco"), *row.MBCO),
	}
	sec.Text = []string{strings.Join(targets, " · ")}
	if d := row.Dependencies; d != nil {
		sec.Text = append(sec.Text, fmt.Sprintf(w("depends_on"), d.CIs, d.DataBearing, d.Suppliers, d.Services))
	}
	categories := rep.categories(row)
	loss := w("loss")
	if row.Currency != "" {
		loss += " (" + row.Currency + ")"
	}
	t := &Table{Head: []string{w("outage"), loss}, Numeric: []bool{true, true}}
	for _, c := range categories {
		t.Head = append(t.Head, biaCategory(w, c))
		t.Numeric = append(t.Numeric, true)
	}
	t.Head = append(t.Head, w("beyond"))
	intolerable := rep.settings.IntolerableLevel
	for _, p := range row.Impact {
		cells := []Cell{{Text: p.After.String()}, {Text: formatMoney(p.Loss, "")}}
		for _, c := range categories {
			r := p.Ratings[c]
			cell := Cell{Text: strconv.Itoa(r)}
			switch {
			case intolerable > 0 && r >= intolerable:
				cell.Class = classBad
			case intolerable > 1 && r == intolerable-1:
				cell.Class = classWarn
			}
			cells = append(cells, cell)
		}
		var beyond []string
		if p.RTOBreached {
			beyond = append(beyond, "RTO")
		}
		if p.MTPDBreached {
			beyond = append(beyond, "MTPD")
		}
		cells = append(cells, Cell{Text: orDash(strings.Join(beyond, ", ")), Class: biaClassIf(p.MTPDBreached, classBad, "")})
		t.Add(cells...)
	}
	sec.Table = t
	return sec
}

// categories are the impact categories a service's impact is shown in:
// those of the settings, then any other its BIA rates.
func (rep *BIAReport) categories(row BIAServiceRow) []string {
	out := append([]string{}, rep.settings.Categories...)
	seen := map[string]bool{}
	for _, c := range out {
		seen[c] = true
	}
	var extra []string
	for _, p := range row.Impact {
		for c := range p.Ratings {
			if !seen[c] {
				seen[c] = true
				extra = append(extra, c)
			}
		}
	}
	slices.Sort(extra)
	return append(out, extra...)
}

// biaCategory names an impact category: in words when it is one of the
// defaults, else as the settings spell it.
func biaCategory(w func(string) string, c string) string {
	if name := w("category_" + c); name != "category_"+c {
		return name
	}
	return c
}

// biaClassIf is class when cond holds, else otherwise.
func biaClassIf(cond bool, class, otherwise string) string {
	if cond {
		return class
	}
	return otherwise
}
