package impact

import "github.com/bcdr/bcdr/orchestrator"

// Derived are the figures a BIA implies rather than states.
type Derived struct {
	// MTPD is absent when no category ever reaches the intolerable level.
	MTPD *orchestrator.Duration `json:"mtpd,omitempty"`
	// SuggestedRTO is MTPD − WRT, absent when that leaves no time to recover.
	SuggestedRTO *orchestrator.Duration `json:"suggested_rto,omitempty"`
	Tier         int                    `json:"tier"`
}

// Derive computes MTPD, suggested RTO and tier of an assessment.
func Derive(s Settings, a Assessment) Derived {
	d := Derived{Tier: Tier(s, a.RTO)}
	if m, ok := MTPD(s, a.Thresholds); ok {
		d.MTPD = &m
	}
	if r, ok := SuggestedRTO(s, a); ok {
		d.SuggestedRTO = &r
	}
	return d
}

// MTPD is the earliest time point at which any category reaches the
// intolerable level; ok is false when none does.
func MTPD(s Settings, ts []Threshold) (mtpd orchestrator.Duration, ok bool) {
	for _, t := range ts {
		if t.Rating >= s.IntolerableLevel && (!ok || t.At < mtpd) {
			mtpd, ok = t.At, true
		}
	}
	return mtpd, ok
}

// SuggestedRTO is MTPD − WRT: the longest RTO that still leaves the work
// recovery time before the outage becomes intolerable. ok is false without
// an MTPD or when WRT alone already uses it up.
func SuggestedRTO(s Settings, a Assessment) (orchestrator.Duration, bool) {
	m, ok := MTPD(s, a.Thresholds)
	if !ok || m-a.WRT <= 0 {
		return 0, false
	}
	return m - a.WRT, true
}

// Tier maps an RTO to its recovery tier: the first tier whose bound the RTO
// does not exceed, so an RTO exactly on a bound belongs to the tighter tier.
func Tier(s Settings, rto orchestrator.Duration) int {
	for i, b := range s.TierBounds {
		if rto <= b {
			return i
		}
	}
	return len(s.TierBounds)
}

// RatingsAt returns every category's rating after an outage of d: the
// rating of the latest threshold at or before d, 0 before the first.
func RatingsAt(s Settings, ts []Threshold, d orchestrator.Duration) map[string]int {
	out := make(map[string]int, len(s.Categories))
	latest := make(map[string]orchestrator.Duration, len(s.Categories))
	for _, c := range s.Categories {
		out[c] = 0
	}
	for _, t := range ts {
		if _, known := out[t.Category]; !known || t.At > d {
			continue
		}
		if at, seen := latest[t.Category]; !seen || t.At >= at {
			latest[t.Category] = t.At
			out[t.Category] = t.Rating
		}
	}
	return out
}
