package report

import (
	"fmt"
	"html/template"
)

// tally is one labelled count of a tallyChart.
type tally struct {
	Label  string
	Count  int
	Colour string
}

// tallyChart draws counts as horizontal bars, one row each, labelled with
// the count. barChart's labels carry a decimal, right for hours and wrong
// for a number of services or risks; the BIA and risk reports count.
func tallyChart(rows []tally, title string) template.HTML {
	const w, left, right, top, barH, gap = 520, 170, 40, 4, 14, 6
	h := top + len(rows)*(barH+gap) + 4
	s := newSVG(w, h, title)
	peak := 1
	for _, r := range rows {
		peak = max(peak, r.Count)
	}
	plotW := float64(w - left - right)
	for i, r := range rows {
		y := float64(top + i*(barH+gap))
		s.text(left-6, y+barH-3, "end", colourInk, r.Label)
		bw := plotW * float64(r.Count) / float64(peak)
		s.rect(left, y, bw, barH, r.Colour)
		s.small(left+bw+4, y+barH-3, fmt.Sprint(r.Count))
	}
	return s.html()
}
