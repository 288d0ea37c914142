package impact

import (
	"math"
	"slices"
	"strconv"

	"github.com/bcdr/bcdr/orchestrator"
)

// lossPoint is one known value of the cumulative loss curve.
type lossPoint struct {
	at     orchestrator.Duration
	amount float64
}

// LossAt is the cumulative financial loss after an outage of d, read from
// the financial thresholds that carry an amount. The curve starts at 0 at
// t=0, is linear between points, and beyond the last point continues at
// the slope of the last segment (from the origin when there is one point).
// Without amounts the loss is 0.
func LossAt(ts []Threshold, d orchestrator.Duration) float64 {
	pts := lossPoints(ts)
	if len(pts) == 0 || d <= 0 {
		return 0
	}
	prev := lossPoint{}
	for _, p := range pts {
		if d <= p.at {
			return interpolate(prev, p, d)
		}
		prev = p
	}
	before := lossPoint{}
	if len(pts) > 1 {
		before = pts[len(pts)-2]
	}
	return interpolate(before, prev, d)
}

// lossPoints sorts the amounts by time and drops points at t≤0 or at a time
// already seen, which would make a segment vertical.
func lossPoints(ts []Threshold) []lossPoint {
	var pts []lossPoint
	for _, t := range ts {
		if t.Category == CategoryFinancial && t.Amount != nil && t.At > 0 {
			pts = append(pts, lossPoint{t.At, *t.Amount})
		}
	}
	slices.SortStableFunc(pts, func(a, b lossPoint) int { return compareDuration(a.at, b.at) })
	return slices.CompactFunc(pts, func(a, b lossPoint) bool { return a.at == b.at })
}

// interpolate evaluates the line through a and b at d, which may lie
// beyond b.
func interpolate(a, b lossPoint, d orchestrator.Duration) float64 {
	frac := float64(d-a.at) / float64(b.at-a.at)
	return a.amount + frac*(b.amount-a.amount)
}

// formatNumber writes an amount or rate for an explanation: at most three
// decimals, no exponent, no trailing zeros.
func formatNumber(v float64) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64)
}
