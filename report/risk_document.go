package report

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"

	"github.com/bcdr/bcdr/orchestrator/impact"
)

// riskTableRows bounds the register and attention tables of the risk
// report's document; the JSON holds every risk.
const riskTableRows = 200

// document lays the risk report out in lang.
func (rep *RiskReport) document(lang string) *Document {
	w := riskWords.words(lang)
	d := &Document{Lang: lang, Title: w("title"), Subtitle: w("subtitle"), FooterText: w("footer"),
		Facts: []Fact{
			{Label: w("generated"), Value: rep.GeneratedAt.Format("2006-01-02 15:04 UTC")},
			{Label: w("risks"), Value: strconv.Itoa(rep.Summary.Total)},
			{Label: w("total_ale"), Value: formatMoney(rep.Summary.TotalALE, rep.Currency)},
		}}
	d.Sections = append(d.Sections, rep.overviewSections(w)...)
	d.Sections = append(d.Sections, rep.heatmapSection(w), rep.topSection(w), rep.registerSection(w), rep.attentionSection(w))
	return d
}

// overviewSections are the register's size and its distribution by
// threat, level and treatment.
func (rep *RiskReport) overviewSections(w func(string) string) []Section {
	s := rep.Summary
	overview := Section{Level: 2, Heading: w("overview"), Text: []string{w("overview_text")}, Empty: w("no_risks")}
	if s.Total == 0 {
		return []Section{overview}
	}
	overview.Facts = []Fact{
		{Label: w("risks"), Value: strconv.Itoa(s.Total)},
		{Label: w("residual_high"), Value: strconv.Itoa(s.Residual[RiskHigh]), Class: riskClassIf(s.Residual[RiskHigh] > 0, classBad)},
		{Label: w("total_ale"), Value: formatMoney(s.TotalALE, rep.Currency)},
		{Label: w("review_overdue"), Value: strconv.Itoa(s.ReviewOverdue), Class: riskClassIf(s.ReviewOverdue > 0, classWarn)},
		{Label: w("no_owner"), Value: strconv.Itoa(s.NoOwner), Class: riskClassIf(s.NoOwner > 0, classWarn)},
		{Label: w("no_treatment"), Value: strconv.Itoa(s.NoTreatment), Class: riskClassIf(s.NoTreatment > 0, classWarn)},
	}
	overview.Chart = tallyChart(riskTallies(s.ByThreat, impact.Threats, "threat_", w), w("by_threat"))

	levels := Section{Level: 3, Heading: w("levels"), Text: []string{w("levels_text")}}
	t := &Table{Head: []string{w("level"), w("inherent"), w("residual")}, Numeric: []bool{false, true, true}}
	for _, l := range []struct{ key, class string }{{RiskHigh, classBad}, {RiskMedium, classWarn}, {RiskLow, ""}} {
		t.Add(Cell{Text: w("level_" + l.key), Class: l.class}, Cell{Text: strconv.Itoa(s.Inherent[l.key])}, Cell{Text: strconv.Itoa(s.Residual[l.key])})
	}
	levels.Table = t

	treatment := Section{Level: 3, Heading: w("treatment"),
		Chart: tallyChart(riskTallies(s.ByTreatment, impact.Treatments, "treatment_", w), w("treatment"))}
	return []Section{overview, levels, treatment}
}

// riskTallies counts by key, the known keys first in their order with
// their words (prefix + key), any other after them by name; keys counted
// zero times are left out.
func riskTallies(counts map[string]int, known []string, prefix string, w func(string) string) []tally {
	keys := slices.Clone(known)
	var other []string
	for k := range counts {
		if !slices.Contains(known, k) {
			other = append(other, k)
		}
	}
	slices.Sort(other)
	var out []tally
	for _, k := range append(keys, other...) {
		if counts[k] > 0 {
			out = append(out, tally{Label: riskWord(w, prefix, k), Count: counts[k], Colour: colourEstimate})
		}
	}
	slices.SortStableFunc(out, func(a, b tally) int { return cmp.Compare(b.Count, a.Count) })
	return out
}

// heatmapSection draws the inherent and residual heat maps side by side.
func (rep *RiskReport) heatmapSection(w func(string) string) Section {
	sec := Section{Level: 2, Heading: w("heatmaps"), Text: []string{w("heatmaps_text")}}
	grid := func(cells []impact.HeatCell, title string) string {
		return fmt.Sprintf(`<div><h3>%s</h3>%s</div>`, template.HTMLEscapeString(title),
			heatmapChart(riskCells(cells), w("likelihood"), w("impact"), title))
	}
	// The two maps print on one page, whatever space the page has left.
	//nolint:gosec // the titles are escaped and the charts are safe SVG.
	sec.Chart = template.HTML(`<div class="cols" style="break-inside: avoid">` + grid(rep.Heatmap.Inherent, w("inherent_risk")) +
		grid(rep.Heatmap.Residual, w("residual_risk")) + `</div>`)
	return sec
}

// riskCells adapts the register's heat map to the chart's cells; an empty
// grid still draws its 25 cells.
func riskCells(cells []impact.HeatCell) []HeatCellView {
	out := make([]HeatCellView, 0, 25)
	for _, c := range cells {
		out = append(out, HeatCellView{Likelihood: c.Likelihood, Impact: c.Impact, Count: c.Count})
	}
	if len(out) == 0 {
		for l := 1; l <= 5; l++ {
			for i := 1; i <= 5; i++ {
				out = append(out, HeatCellView{Likelihood: l, Impact: i})
			}
		}
	}
	return out
}

// topSection ranks the costliest risks with the services they take down.
func (rep *RiskReport) topSection(w func(string) string) Section {
	sec := Section{Level: 2, Heading: w("top"), Text: []string{w("top_text")}, Empty: w("no_risks")}
	t := &Table{Head: []string{"#", w("risk"), w("aro"), rep.inCurrency(w("sle")), rep.inCurrency(w("ale")), w("services_hit")},
		Numeric: []bool{true, false, true, true, true}}
	for i, r := range rep.Top {
		hit := make([]string, 0, len(r.Services)+len(r.Unpriced))
		for _, s := range r.Services {
			hit = append(hit, s.Service)
		}
		for _, s := range r.Unpriced {
			hit = append(hit, s+" ("+w("unpriced")+")")
		}
		t.Add(Cell{Text: strconv.Itoa(i + 1)}, Cell{Text: r.Title}, Cell{Text: strconv.FormatFloat(r.ARO, 'f', -1, 64)},
			Cell{Text: formatMoney(r.SLE, "")}, Cell{Text: formatMoney(r.ALE, ""), Class: classBad},
			Cell{Text: orDash(few(hit))})
	}
	sec.Table = t
	return sec
}

// registerSection lists every risk, highest residual score first.
func (rep *RiskReport) registerSection(w func(string) string) Section {
	sec := Section{Level: 2, Heading: w("register"), Text: []string{w("register_text")}, Empty: w("no_risks"), NewPage: true}
	t := &Table{Head: []string{"ID", w("risk"), w("threat"), w("inherent"), w("residual"), rep.inCurrency(w("ale")), w("owner"), w("treatment"), w("review")},
		Numeric: []bool{true, false, false, false, false, true}}
	for _, r := range rep.Register {
		review := Cell{Text: "—", Class: classWarn}
		if r.ReviewDate != nil {
			review = Cell{Text: *r.ReviewDate}
		}
		if r.ReviewOverdue {
			review = Cell{Text: review.Text + " (" + w("overdue") + ")", Class: classBad}
		}
		t.Add(Cell{Text: strconv.FormatInt(r.ID, 10)}, Cell{Text: r.Title}, Cell{Text: riskWord(w, "threat_", r.Threat)},
			riskScore(r.Likelihood, r.Impact, r.InherentScore), riskScore(r.ResidualLikelihood, r.ResidualImpact, r.ResidualScore),
			Cell{Text: formatMoney(r.ALE, "")}, Cell{Text: orDash(r.Owner), Class: riskClassIf(r.Owner == "", classWarn)},
			Cell{Text: riskWord(w, "treatment_", r.Treatment)}, review)
	}
	riskLimit(t, &sec, w)
	sec.Table = t
	return sec
}

// attentionSection lists the risks lacking an owner, a treatment or a
// timely review.
func (rep *RiskReport) attentionSection(w func(string) string) Section {
	sec := Section{Level: 2, Heading: w("attention"), Text: []string{w("attention_text")}, Empty: w("no_attention")}
	t := &Table{Head: []string{"ID", w("risk"), w("issue")}, Numeric: []bool{true}}
	for _, a := range rep.Attention {
		reasons := make([]string, len(a.Reasons))
		for i, r := range a.Reasons {
			reasons[i] = w("reason_" + r)
		}
		t.Add(Cell{Text: strconv.FormatInt(a.ID, 10)}, Cell{Text: a.Title}, Cell{Text: strings.Join(reasons, "; "), Class: classWarn})
	}
	riskLimit(t, &sec, w)
	sec.Table = t
	return sec
}

// riskScore writes likelihood × impact = score, kept on one line, coloured
// by its level.
func riskScore(likelihood, impact, score int) Cell {
	c := Cell{Text: fmt.Sprintf("%d\u00a0×\u00a0%d\u00a0=\u00a0%d", likelihood, impact, score)}
	switch riskLevel(score) {
	case RiskHigh:
		c.Class = classBad
	case RiskMedium:
		c.Class = classWarn
	}
	return c
}

// inCurrency is a money column's heading, naming the currency its
// amounts are in.
func (rep *RiskReport) inCurrency(heading string) string {
	if rep.Currency == "" {
		return heading
	}
	return heading + " (" + rep.Currency + ")"
}

// riskWord is the word for prefix + key, or key itself when there is
// none (a threat or treatment this report does not know), "—" for none.
func riskWord(w func(string) string, prefix, key string) string {
	if key == "" {
		return "—"
	}
	if word := w(prefix + key); word != prefix+key {
		return word
	}
	return key
}

// riskLimit keeps the first riskTableRows rows of t and says in sec's
// note how many are left out.
func riskLimit(t *Table, sec *Section, w func(string) string) {
	t.Limit(riskTableRows)
	if t.Hidden > 0 {
		sec.Note = fmt.Sprintf("%d %s", t.Hidden, w("more"))
	}
}

// riskClassIf is class when cond holds, else none.
func riskClassIf(cond bool, class string) string {
	if cond {
		return class
	}
	return ""
}
