package impact

import (
	"regexp"

	"github.com/bcdr/bcdr/orchestrator"
)

// CategoryFinancial is the impact category whose thresholds may carry a
// loss amount; LossAt reads only this category.
const CategoryFinancial = "financial"

// MaxRating is the highest impact rating (severe); ratings run 0–4.
const MaxRating = 4

// Limits on settings keep BIAs small enough to validate and display.
const (
	maxCategories = 20
	maxTimePoints = 20
	maxTierBounds = 10
)

var (
	categoryPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// Settings are the organisation-wide BIA parameters every assessment is
// rated against.
type Settings struct {
	// Categories are the impact categories a threshold may name.
	Categories []string `json:"categories"`
	// TimePoints are the outage durations thresholds are rated at, ascending.
	TimePoints []orchestrator.Duration `json:"time_points"`
	// IntolerableLevel is the rating at which an outage becomes intolerable;
	// the first time point reaching it is the MTPD.
	IntolerableLevel int `json:"intolerable_level"`
	// TierBounds are the inclusive upper RTO bounds of tiers 0, 1, ...; an RTO
	// above the last bound is tier len(TierBounds).
	TierBounds []orchestrator.Duration `json:"tier_bounds"`
	// Currency is the ISO 4217 code loss amounts are expressed in.
	Currency string `json:"currency"`
}

// DefaultSettings returns the DESIGN.md defaults.
func DefaultSettings() Settings {
	return Settings{
		Categories:       []string{"financial", "operational", "customer", "regulatory", "reputational"},
		TimePoints:       []orchestrator.Duration{hours(1), hours(4), hours(8), hours(24), hours(72), hours(168)},
		IntolerableLevel: 4,
		TierBounds:       []orchestrator.Duration{hours(1), hours(4), hours(24), hours(72)},
		Currency:         "EUR",
	}
}

func hours(n int64) orchestrator.Duration {
	return orchestrator.DurationFromSeconds(n * 3600)
}

// Validate reports every field that would make assessments ambiguous:
// unknown or repeated categories, unordered time points or tier bounds.
func (s Settings) Validate() error {
	var v orchestrator.Validation
	s.validateCategories(&v)
	validateAscending(&v, "time_points", s.TimePoints, maxTimePoints)
	validateAscending(&v, "tier_bounds", s.TierBounds, maxTierBounds)
	if s.IntolerableLevel < 1 || s.IntolerableLevel > MaxRating {
		v.Add("intolerable_level", "must be between 1 and %d", MaxRating)
	}
	if !currencyPattern.MatchString(s.Currency) {
		v.Add("currency", "must be a three-letter ISO 4217 code such as EUR")
	}
	return v.Err()
}

func (s Settings) validateCategories(v *orchestrator.Validation) {
	switch {
	case len(s.Categories) == 0:
		v.Add("categories", "must name at least one category")
		return
	case len(s.Categories) > maxCategories:
		v.Add("categories", "must name at most %d categories", maxCategories)
		return
	}
	seen := make(map[string]bool, len(s.Categories))
	for i, c := range s.Categories {
		field := indexed("categories", i)
		switch {
		case !categoryPattern.MatchString(c):
			v.Add(field, "must be lower-case letters, digits or _ (at most 40), starting with a letter")
		case seen[c]:
			v.Add(field, "%s is listed twice", c)
		}
		seen[c] = true
	}
}

// validateAscending requires a non-empty, strictly increasing list of
// positive durations, because both time points and tier bounds are looked
// up by position.
func validateAscending(v *orchestrator.Validation, field string, ds []orchestrator.Duration, limit int) {
	switch {
	case len(ds) == 0:
		v.Add(field, "must list at least one duration")
		return
	case len(ds) > limit:
		v.Add(field, "must list at most %d durations", limit)
		return
	}
	for i, d := range ds {
		switch {
		case d <= 0:
			v.Add(indexed(field, i), "must be greater than 0")
		case i > 0 && d <= ds[i-1]:
			v.Add(indexed(field, i), "%s must be later than %s", d, ds[i-1])
		}
	}
}

func (s Settings) hasCategory(c string) bool {
	for _, k := range s.Categories {
		if k == c {
			return true
		}
	}
	return false
}

func (s Settings) hasTimePoint(d orchestrator.Duration) bool {
	for _, t := range s.TimePoints {
		if t == d {
			return true
		}
	}
	return false
}
