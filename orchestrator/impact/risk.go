package impact

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// year is the length of the year AROs are expressed per.
const year = 365 * 24 * time.Hour

// likelihoodARO maps a 1–5 likelihood to occurrences per year, for risks
// with no matching incident history.
var likelihoodARO = [...]float64{1: 0.01, 2: 0.1, 3: 0.5, 4: 1, 5: 4}

// ARO is the annual rate of occurrence: matching incidents per year over
// the history window when there are any, else the likelihood mapping. how
// says which, e.g. "7 incidents in 730 days" or "likelihood 3 → 0.5 per
// year"; a likelihood outside 1–5 gives 0.
func ARO(matchingIncidents int, window time.Duration, likelihood int) (value float64, how string) {
	if matchingIncidents > 0 && window > 0 {
		noun := "incidents"
		if matchingIncidents == 1 {
			noun = "incident"
		}
		days := formatNumber(window.Hours() / 24)
		return float64(matchingIncidents) * float64(year) / float64(window),
			fmt.Sprintf("%d %s in %s days", matchingIncidents, noun, days)
	}
	if likelihood < 1 || likelihood >= len(likelihoodARO) {
		return 0, fmt.Sprintf("likelihood %d is outside 1–5", likelihood)
	}
	v := likelihoodARO[likelihood]
	return v, fmt.Sprintf("likelihood %d → %s per year", likelihood, formatNumber(v))
}

// ExpectedOutage is how long an occurrence is expected to last: the median
// of the matching incidents' durations when there are any, else fallback
// (the service's estimated recovery time). The median resists the one
// week-long outage that would dominate a mean.
func ExpectedOutage(incidentDurations []time.Duration, fallback orchestrator.Duration) (orchestrator.Duration, string) {
	if len(incidentDurations) == 0 {
		return fallback, fmt.Sprintf("estimated recovery time %s", fallback)
	}
	ds := slices.Clone(incidentDurations)
	slices.Sort(ds)
	mid := len(ds) / 2
	m := ds[mid]
	if len(ds)%2 == 0 {
		m = ds[mid-1] + (ds[mid]-ds[mid-1])/2
	}
	d := orchestrator.Duration(m.Round(time.Second))
	noun := "incidents"
	if len(ds) == 1 {
		noun = "incident"
	}
	return d, fmt.Sprintf("median of %d matching %s: %s", len(ds), noun, d)
}

// ServiceLoss is the BIA loss of one service taken down by a risk's scope.
type ServiceLoss struct {
	Service string                `json:"service"`
	Outage  orchestrator.Duration `json:"outage"`
	Loss    float64               `json:"loss"`
}

// SLE is the single loss expectancy: the summed loss of every service the
// scope takes down, with the services named (at most five, by loss).
func SLE(losses []ServiceLoss) (float64, string) {
	if len(losses) == 0 {
		return 0, "no service with a BIA goes down"
	}
	sorted := slices.Clone(losses)
	slices.SortStableFunc(sorted, func(a, b ServiceLoss) int {
		switch {
		case a.Loss > b.Loss:
			return -1
		case a.Loss < b.Loss:
			return 1
		}
		return strings.Compare(a.Service, b.Service)
	})
	total := 0.0
	parts := make([]string, 0, 5)
	for i, l := range sorted {
		total += l.Loss
		if i < cap(parts) {
			parts = append(parts, fmt.Sprintf("%s %s after %s", l.Service, formatNumber(l.Loss), l.Outage))
		}
	}
	how := "loss of " + strings.Join(parts, ", ")
	if extra := len(sorted) - len(parts); extra > 0 {
		how += fmt.Sprintf(" and %d more services", extra)
	}
	return total, how
}

// Quantification is a risk in money: ARO × SLE = ALE, each with how it was
// obtained.
type Quantification struct {
	ARO    float64 `json:"aro"`
	AROHow string  `json:"aro_how"`
	SLE    float64 `json:"sle"`
	SLEHow string  `json:"sle_how"`
	ALE    float64 `json:"ale"`
	ALEHow string  `json:"ale_how"`
}

// Quantify combines an ARO and an SLE into the annualised loss expectancy.
func Quantify(aro float64, aroHow string, sle float64, sleHow string) Quantification {
	ale := aro * sle
	return Quantification{
		ARO: aro, AROHow: aroHow,
		SLE: sle, SLEHow: sleHow,
		ALE: ale, ALEHow: fmt.Sprintf("ARO %s × SLE %s = %s", formatNumber(aro), formatNumber(sle), formatNumber(ale)),
	}
}
