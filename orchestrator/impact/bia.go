package impact

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bcdr/bcdr/orchestrator"
)

// Text limits keep a BIA displayable and bound the work of validating one.
const (
	maxJustification = 2000
	maxListItem      = 200
	maxListItems     = 100
)

// Threshold rates one impact category at one outage duration.
type Threshold struct {
	Category string                `json:"category"`
	At       orchestrator.Duration `json:"at"`
	Rating   int                   `json:"rating"`
	// Amount is the cumulative financial loss at At, in the settings'
	// currency; only the financial category carries one.
	Amount        *float64 `json:"amount,omitempty"`
	Justification string   `json:"justification,omitempty"`
}

// Assessment is the content of one BIA version of a business service.
type Assessment struct {
	Thresholds []Threshold           `json:"thresholds"`
	RTO        orchestrator.Duration `json:"rto"`
	RPO        orchestrator.Duration `json:"rpo"`
	WRT        orchestrator.Duration `json:"wrt"`
	// MBCO is the minimum service level, in percent, acceptable while
	// recovering.
	MBCO            float64  `json:"mbco"`
	CriticalPeriods []string `json:"critical_periods"`
	VitalRecords    []string `json:"vital_records"`
	People          []string `json:"people"`
	Suppliers       []string `json:"suppliers"`
}

// Validate checks an assessment against the settings it is rated with and
// returns an EINVALID error naming every field at fault. The settings are
// assumed valid.
func Validate(s Settings, a Assessment) error {
	var v orchestrator.Validation
	validateThresholds(&v, s, a.Thresholds)
	// An MTPD read from faulty thresholds would blame RTO for their fault.
	validateTargets(&v, s, a, v.Err() == nil)
	validateList(&v, "critical_periods", a.CriticalPeriods)
	validateList(&v, "vital_records", a.VitalRecords)
	validateList(&v, "people", a.People)
	validateList(&v, "suppliers", a.Suppliers)
	return v.Err()
}

func validateTargets(v *orchestrator.Validation, s Settings, a Assessment, checkMTPD bool) {
	if a.RTO <= 0 {
		v.Add("rto", "must be greater than 0")
	}
	if a.RPO < 0 {
		v.Add("rpo", "must not be negative")
	}
	if a.WRT < 0 {
		v.Add("wrt", "must not be negative")
	}
	if math.IsNaN(a.MBCO) || a.MBCO < 0 || a.MBCO > 100 {
		v.Add("mbco", "must be a percentage between 0 and 100")
	}
	if mtpd, ok := MTPD(s, a.Thresholds); checkMTPD && ok && a.RTO > 0 && a.WRT >= 0 && a.RTO+a.WRT > mtpd {
		v.Add("rto", "RTO %s + WRT %s = %s exceeds MTPD %s", a.RTO, a.WRT, a.RTO+a.WRT, mtpd)
	}
}

// validateThresholds checks each threshold on its own, then the ordering
// rules per category over the thresholds that passed, so one typo does not
// cascade into ordering errors.
func validateThresholds(v *orchestrator.Validation, s Settings, ts []Threshold) {
	if limit := len(s.Categories) * len(s.TimePoints); len(ts) > limit {
		v.Add("thresholds", "must hold at most %d entries (one per category and time point)", limit)
		return
	}
	type slot struct {
		category string
		at       orchestrator.Duration
	}
	seen := make(map[slot]int, len(ts))
	byCategory := make(map[string][]int)
	for i, t := range ts {
		field := indexed("thresholds", i)
		ok := validateThreshold(v, s, field, t)
		if prev, dup := seen[slot{t.Category, t.At}]; dup {
			v.Add(field, "duplicates thresholds[%d] (%s at %s)", prev, t.Category, t.At)
			continue
		}
		seen[slot{t.Category, t.At}] = i
		if ok {
			byCategory[t.Category] = append(byCategory[t.Category], i)
		}
	}
	// Settings order, not map order, so the same input lists its errors in
	// the same order every time.
	for _, c := range s.Categories {
		validateOrder(v, ts, byCategory[c])
	}
}

func validateThreshold(v *orchestrator.Validation, s Settings, field string, t Threshold) bool {
	ok := true
	if !s.hasCategory(t.Category) {
		v.Add(field+".category", "unknown category %q; use one of %s", t.Category, strings.Join(s.Categories, ", "))
		ok = false
	}
	if !s.hasTimePoint(t.At) {
		v.Add(field+".at", "%s is not a time point; use one of %s", t.At, joinDurations(s.TimePoints))
		ok = false
	}
	if t.Rating < 0 || t.Rating > MaxRating {
		v.Add(field+".rating", "must be between 0 and %d", MaxRating)
		ok = false
	}
	if t.Amount != nil {
		switch {
		case t.Category != CategoryFinancial && s.hasCategory(t.Category):
			v.Add(field+".amount", "only the %s category carries an amount", CategoryFinancial)
			ok = false
		case math.IsNaN(*t.Amount) || math.IsInf(*t.Amount, 0) || *t.Amount < 0:
			v.Add(field+".amount", "must be a non-negative number")
			ok = false
		}
	}
	if msg := checkText(t.Justification, maxJustification); msg != "" {
		v.Add(field+".justification", "%s", msg)
	}
	return ok
}

// validateOrder enforces that ratings and cumulative amounts never fall as
// an outage goes on; idx are the thresholds of one category.
func validateOrder(v *orchestrator.Validation, ts []Threshold, idx []int) {
	slices.SortFunc(idx, func(a, b int) int { return compareDuration(ts[a].At, ts[b].At) })
	lastAmount := -1
	for k, i := range idx {
		t := ts[i]
		if k > 0 {
			if p := ts[idx[k-1]]; t.Rating < p.Rating {
				v.Add(indexed("thresholds", i)+".rating", "%s rating %d at %s is lower than %d at %s; ratings may not decrease over time",
					t.Category, t.Rating, t.At, p.Rating, p.At)
			}
		}
		if t.Amount == nil {
			continue
		}
		if lastAmount >= 0 {
			if p := ts[lastAmount]; *t.Amount < *p.Amount {
				v.Add(indexed("thresholds", i)+".amount", "cumulative loss %s at %s is lower than %s at %s; amounts may not decrease over time",
					formatNumber(*t.Amount), t.At, formatNumber(*p.Amount), p.At)
			}
		}
		lastAmount = i
	}
}

func validateList(v *orchestrator.Validation, field string, list []string) {
	if len(list) > maxListItems {
		v.Add(field, "must hold at most %d entries", maxListItems)
		return
	}
	for i, s := range list {
		if strings.TrimSpace(s) == "" {
			v.Add(indexed(field, i), "must not be blank")
		} else if msg := checkText(s, maxListItem); msg != "" {
			v.Add(indexed(field, i), "%s", msg)
		}
	}
}

// checkText rejects text that would corrupt reports: invalid UTF-8, control
// characters other than line breaks, or more than limit characters.
func checkText(s string, limit int) string {
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case utf8.RuneCountInString(s) > limit:
		return fmt.Sprintf("must be at most %d characters", limit)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }):
		return "must not contain control characters"
	}
	return ""
}

func indexed(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

func joinDurations(ds []orchestrator.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = d.String()
	}
	return strings.Join(parts, ", ")
}

func compareDuration(a, b orchestrator.Duration) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
