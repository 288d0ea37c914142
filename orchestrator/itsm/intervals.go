package itsm

import (
	"slices"
	"time"
)

// Interval is the half-open span of time [Start, End).
type Interval struct {
	Start, End time.Time
}

// Duration is the interval's length; zero when End is not after Start.
func (iv Interval) Duration() time.Duration {
	if !iv.End.After(iv.Start) {
		return 0
	}
	return iv.End.Sub(iv.Start)
}

// Clip returns the part of iv within [from, to) and whether it is
// non-empty.
func (iv Interval) Clip(from, to time.Time) (Interval, bool) {
	if iv.Start.Before(from) {
		iv.Start = from
	}
	if iv.End.After(to) {
		iv.End = to
	}
	return iv, iv.End.After(iv.Start)
}

// Union merges intervals into sorted, disjoint ones, dropping empty ones, so
// two incidents that overlap count their common time once.
func Union(ivs []Interval) []Interval {
	sorted := make([]Interval, 0, len(ivs))
	for _, iv := range ivs {
		if iv.End.After(iv.Start) {
			sorted = append(sorted, iv)
		}
	}
	slices.SortFunc(sorted, func(a, b Interval) int { return a.Start.Compare(b.Start) })
	var out []Interval
	for _, iv := range sorted {
		if n := len(out); n > 0 && !iv.Start.After(out[n-1].End) {
			if iv.End.After(out[n-1].End) {
				out[n-1].End = iv.End
			}
			continue
		}
		out = append(out, iv)
	}
	return out
}

// Total is the summed length of intervals (pass them through Union first
// when they may overlap).
func Total(ivs []Interval) time.Duration {
	var d time.Duration
	for _, iv := range ivs {
		d += iv.Duration()
	}
	return d
}
