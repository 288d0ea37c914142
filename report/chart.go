package report

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// The report's charts are SVG written here rather than by a plotting
// library (README, Dependencies): a line, grouped bars and a 5 × 5 grid
// are a few dozen elements each, the text is laid out by the browser that
// shows or prints the page (so Chinese labels need no font metrics in Go),
// and the colours and sizes follow the report's CSS.

// Chart colours, shared with the report's CSS.
const (
	colourReady    = "#2e7d32"
	colourAtRisk   = "#f9a825"
	colourNotReady = "#c62828"
	colourTarget   = "#455a64"
	colourEstimate = "#1565c0"
	colourAchieved = "#2e7d32"
	colourGrid     = "#e0e0e0"
	colourInk      = "#333"
)

// svgWriter accumulates one SVG document.
type svgWriter struct{ b strings.Builder }

func newSVG(w, h int, title string) *svgWriter {
	s := &svgWriter{}
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" font-size="11" font-family="sans-serif"><title>%s</title>`,
		w, h, w, h, template.HTMLEscapeString(title))
	return s
}

func (s *svgWriter) rect(x, y, w, h float64, fill string) {
	fmt.Fprintf(&s.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x, y, max(w, 0), max(h, 0), fill)
}

func (s *svgWriter) line(x1, y1, x2, y2 float64, stroke string, width float64) {
	fmt.Fprintf(&s.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"/>`, x1, y1, x2, y2, stroke, width)
}

func (s *svgWriter) text(x, y float64, anchor, fill, txt string) {
	fmt.Fprintf(&s.b, `<text x="%.1f" y="%.1f" text-anchor="%s" fill="%s">%s</text>`, x, y, anchor, fill, template.HTMLEscapeString(txt))
}

// small writes a value label beside a bar, smaller than the axis text.
func (s *svgWriter) small(x, y float64, txt string) {
	fmt.Fprintf(&s.b, `<text x="%.1f" y="%.1f" font-size="9" fill="%s">%s</text>`, x, y, colourInk, template.HTMLEscapeString(txt))
}

func (s *svgWriter) html() template.HTML {
	s.b.WriteString(`</svg>`)
	//nolint:gosec // every text and attribute above is escaped or a number.
	return template.HTML(s.b.String())
}

// TrendChart draws the monthly readiness score (0–100) as a line with the
// ready and at-risk thresholds: the same chart in the reports and the UI.
func TrendChart(points []TrendPoint, title string) template.HTML {
	// The right margin holds half of the last month's label.
	const w, h, left, right, top, bottom = 520, 150, 36, 24, 10, 24
	s := newSVG(w, h, title)
	plotW, plotH := float64(w-left-right), float64(h-top-bottom)
	y := func(score float64) float64 { return top + plotH*(1-score/100) }
	for _, g := range []float64{0, 25, 50, 75, 100} {
		s.line(left, y(g), w-right, y(g), colourGrid, 1)
		s.text(left-4, y(g)+4, "end", colourInk, fmt.Sprint(g))
	}
	s.line(left, y(readyFrom), w-right, y(readyFrom), colourReady, 1)
	s.line(left, y(atRiskFrom), w-right, y(atRiskFrom), colourAtRisk, 1)
	if len(points) == 0 {
		return s.html()
	}
	step := plotW
	if len(points) > 1 {
		step = plotW / float64(len(points)-1)
	}
	x := func(i int) float64 {
		if len(points) == 1 {
			return left + plotW/2
		}
		return left + step*float64(i)
	}
	var path strings.Builder
	for i, p := range points {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, x(i), y(p.Score))
	}
	fmt.Fprintf(&s.b, `<path d="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.TrimSpace(path.String()), colourEstimate)
	for i, p := range points {
		fmt.Fprintf(&s.b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, x(i), y(p.Score), colourEstimate)
		if len(points) <= 12 {
			s.text(x(i), h-10, "middle", colourInk, p.Month[2:])
		}
	}
	return s.html()
}

// barSeries is one coloured series of a grouped bar chart.
type barSeries struct {
	Name   string
	Colour string
}

// barGroup is one labelled group: a value per series, nil when unknown.
type barGroup struct {
	Label  string
	Values []*float64
}

// barChart draws horizontal grouped bars, one group per row, with a
// legend; unit labels the values (such as "h").
func barChart(series []barSeries, groups []barGroup, unit, title string) template.HTML {
	const w, left, right, top, barH, gap = 520, 110, 50, 26, 11, 8
	rowH := float64(barH*len(series) + gap)
	h := top + int(math.Ceil(rowH*float64(len(groups)))) + 8
	s := newSVG(w, h, title)
	for i, sr := range series {
		x := float64(left + i*120)
		s.rect(x, 6, 10, 10, sr.Colour)
		s.text(x+14, 15, "start", colourInk, sr.Name)
	}
	peak := 0.0
	for _, g := range groups {
		for _, v := range g.Values {
			if v != nil {
				peak = max(peak, *v)
			}
		}
	}
	if peak == 0 {
		peak = 1
	}
	plotW := float64(w - left - right)
	for gi, g := range groups {
		y0 := float64(top) + rowH*float64(gi)
		s.text(left-6, y0+rowH/2, "end", colourInk, g.Label)
		for si, v := range g.Values {
			y := y0 + float64(si*barH)
			if v == nil {
				s.small(left+2, y+barH-2, "—")
				continue
			}
			bw := plotW * *v / peak
			s.rect(left, y, bw, barH-1, series[si].Colour)
			s.small(left+bw+3, y+barH-2, fmt.Sprintf("%.1f%s", *v, unit))
		}
	}
	return s.html()
}

// heatmapChart draws the 5 × 5 likelihood × impact grid, each cell
// coloured by its score band and labelled with its count.
func heatmapChart(cells []HeatCellView, likelihood, impactLabel, title string) template.HTML {
	const cell, left, top = 34, 40, 8
	w, h := left+5*cell+8, top+5*cell+36
	s := newSVG(w, h, title)
	for _, c := range cells {
		x := float64(left + (c.Impact-1)*cell)
		y := float64(top + (5-c.Likelihood)*cell)
		score := c.Likelihood * c.Impact
		fill := "#c8e6c9"
		switch {
		case score >= 15:
			fill = "#ef9a9a"
		case score >= 8:
			fill = "#ffe082"
		}
		s.rect(x, y, cell-2, cell-2, fill)
		if c.Count > 0 {
			s.text(x+cell/2-1, y+cell/2+4, "middle", colourInk, fmt.Sprint(c.Count))
		}
	}
	for i := 1; i <= 5; i++ {
		s.text(float64(left+(i-1)*cell+cell/2), float64(top+5*cell+12), "middle", colourInk, fmt.Sprint(i))
		s.text(float64(left-8), float64(top+(5-i)*cell+cell/2+4), "end", colourInk, fmt.Sprint(i))
	}
	s.text(float64(left+5*cell/2), float64(h-6), "middle", colourInk, impactLabel)
	fmt.Fprintf(&s.b, `<text x="10" y="%d" transform="rotate(-90 10 %d)" text-anchor="middle" fill="%s">%s</text>`,
		top+5*cell/2, top+5*cell/2, colourInk, template.HTMLEscapeString(likelihood))
	return s.html()
}

// HeatCellView is one cell of a heat map to draw.
type HeatCellView struct {
	Likelihood, Impact, Count int
}
