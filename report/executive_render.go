package report

import (
	"bytes"
	"cmp"
	"embed"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

//go:embed templates/*.html templates/*.css
var templateFS embed.FS

// executiveTemplate is the report's one page template: inline CSS and SVG,
// nothing fetched, no script, so the file stands alone and prints alike.
var executiveTemplate = template.Must(template.New("executive.html").Funcs(template.FuncMap{
	"dur":   formatDuration,
	"money": formatMoney,
	"pct":   formatPercent,
	"day":   func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"join":  strings.Join,
	"deref": func(b *bool) bool { return b != nil && *b },
	"few":   few,
	"css":   reportCSS,
}).ParseFS(templateFS, "templates/executive.html"))

// view is what the template draws.
type view struct {
	R        *ExecutiveReport
	T        map[string]string
	Trend    template.HTML
	RTOChart template.HTML
	Heatmap  template.HTML
	// RPOShown are the RPO rows listed: every one not compliant, then
	// compliant ones up to the list limit.
	RPOShown  []RPORow
	RPOHidden int
	// RTOHidden counts the tier 0–1 services the RTO chart leaves out.
	RTOHidden int
	// WorstShown are the costliest services of the worst scenario listed
	// on page one; WorstHidden counts the others.
	WorstShown  []ScenarioLoss
	WorstHidden int
	HTMLLang    string
}

// Bounds of what the page draws of a large organisation; the JSON has
// every row.
const (
	rpoShown = 40
	rtoDrawn = 30
)

// furthestPastTarget keeps the n rows whose estimate or achieved recovery
// is furthest past the target, in their order.
func furthestPastTarget(rows []RTORow, n int) []RTORow {
	over := func(r RTORow) float64 {
		worst := 0.0
		for _, d := range []*orchestrator.Duration{r.Estimate, r.Achieved} {
			if d != nil && r.Target > 0 {
				worst = max(worst, float64(*d)/float64(r.Target))
			}
		}
		return worst
	}
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(over(rows[b]), over(rows[a])) })
	idx = idx[:n]
	slices.Sort(idx)
	out := make([]RTORow, n)
	for i, j := range idx {
		out[i] = rows[j]
	}
	return out
}

// worstShown is how many services of the worst scenario page one lists.
const worstShown = 6

// HTML writes the report as one self-contained HTML document.
func (rep *ExecutiveReport) HTML() ([]byte, error) {
	t := labels[rep.Lang]
	v := view{R: rep, T: t, HTMLLang: rep.Lang,
		Trend: TrendChart(rep.Readiness.Trend, t["trend"]),

		Heatmap: heatmapChart(residualCells(rep), t["likelihood"], t["impact"], t["heatmap"]),
	}
	// Those not compliant first, as far as the list goes.
	attention := func(r RPORow) bool { return r.State != orchestrator.RPOCompliant && r.State != orchestrator.RPOUnknown }
	for _, first := range []bool{true, false} {
		for _, r := range rep.RPO.Items {
			if attention(r) == first && len(v.RPOShown) < rpoShown {
				v.RPOShown = append(v.RPOShown, r)
			}
		}
	}
	v.RPOHidden = len(rep.RPO.Items) - len(v.RPOShown)
	rto := rep.RTO
	if len(rto) > rtoDrawn {
		rto = furthestPastTarget(rto, rtoDrawn)
		v.RTOHidden = len(rep.RTO) - rtoDrawn
	}
	if w := rep.WorstScenario; w != nil {
		v.WorstShown = w.Services[:min(len(w.Services), worstShown)]
		v.WorstHidden = len(w.Services) - len(v.WorstShown)
	}
	v.RTOChart = rtoChart(rto, t)
	var buf bytes.Buffer
	if err := executiveTemplate.Execute(&buf, v); err != nil {
		return nil, fmt.Errorf("render executive report: %w", err)
	}
	return buf.Bytes(), nil
}

// Footer is what a printed copy's footer says before the page number.
func (rep *ExecutiveReport) Footer() string { return labels[rep.Lang]["page"] }

// rtoChart draws target, estimate and achieved RTO per critical service,
// in hours.
func rtoChart(rows []RTORow, t map[string]string) template.HTML {
	if len(rows) == 0 {
		return ""
	}
	hours := func(d *orchestrator.Duration) *float64 {
		if d == nil {
			return nil
		}
		h := time.Duration(*d).Hours()
		return &h
	}
	groups := make([]barGroup, len(rows))
	for i, r := range rows {
		target := r.Target
		groups[i] = barGroup{Label: r.Service, Values: []*float64{hours(&target), hours(r.Estimate), hours(r.Achieved)}}
	}
	series := []barSeries{{t["target"], colourTarget}, {t["estimate"], colourEstimate}, {t["achieved"], colourAchieved}}
	return barChart(series, groups, "h", t["rto"])
}

func residualCells(rep *ExecutiveReport) []HeatCellView {
	out := make([]HeatCellView, 0, 25)
	for _, c := range rep.Risks.Heatmap.Residual {
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

// few lists up to five names and counts the rest.
func few(names []string) string {
	const shown = 5
	if len(names) <= shown {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s +%d", strings.Join(names[:shown], ", "), len(names)-shown)
}

func formatDuration(d any) string {
	switch v := d.(type) {
	case orchestrator.Duration:
		return v.String()
	case *orchestrator.Duration:
		if v == nil {
			return "—"
		}
		return v.String()
	}
	return "—"
}

// formatMoney writes an amount with thousands separators, no decimals.
func formatMoney(amount float64, currency string) string {
	n := int64(amount + 0.5)
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return strings.TrimSpace(b.String() + " " + currency)
}

func formatPercent(p *float64) string {
	if p == nil {
		return "—"
	}
	return fmt.Sprintf("%.2f%%", *p)
}
