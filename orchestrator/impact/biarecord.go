package impact

import (
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// BIA statuses: a draft is being edited; an approved version is frozen and
// the newest approved one is in force.
const (
	StatusDraft    = "draft"
	StatusApproved = "approved"
)

// BIA is one version of a business service's impact analysis: the
// assessment as entered, the figures derived from it with the settings it
// was validated against, and who wrote and approved it.
type BIA struct {
	Service string `json:"service"`
	Version int    `json:"version"`
	Status  string `json:"status"`
	Assessment
	Derived
	// Currency is the one the financial amounts are in.
	Currency   string     `json:"currency"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	UpdatedBy  string     `json:"updated_by"`
	ApprovedAt *time.Time `json:"approved_at"`
	ApprovedBy string     `json:"approved_by"`

	settings Settings
}

// Loss is what an outage of a given length costs a service according to
// one BIA version.
type Loss struct {
	Service  string                `json:"service"`
	Version  int                   `json:"version"`
	Status   string                `json:"status"`
	After    orchestrator.Duration `json:"after"`
	Loss     float64               `json:"loss"`
	Currency string                `json:"currency"`
	// Ratings are every category's rating after the outage.
	Ratings map[string]int `json:"ratings"`
	// RTOBreached: the outage lasts longer than the RTO.
	RTOBreached bool `json:"rto_breached"`
	// MTPDBreached: the outage lasts longer than the MTPD, i.e. past the
	// point at which it became intolerable.
	MTPDBreached bool `json:"mtpd_breached"`
}

// At evaluates the BIA for an outage of d.
func (b BIA) At(d orchestrator.Duration) Loss {
	l := Loss{Service: b.Service, Version: b.Version, Status: b.Status, After: d, Currency: b.Currency,
		Loss:    LossAt(b.Thresholds, d),
		Ratings: RatingsAt(b.settings, b.Thresholds, d),
	}
	l.RTOBreached = d > b.RTO
	if m, ok := MTPD(b.settings, b.Thresholds); ok {
		l.MTPDBreached = d > m
	}
	return l
}

// normalize gives the assessment's lists their empty values, so a stored
// BIA reads back as it was written and JSON shows [] rather than null.
func (a *Assessment) normalize() {
	for _, l := range []*[]string{&a.CriticalPeriods, &a.VitalRecords, &a.People, &a.Suppliers} {
		if *l == nil {
			*l = []string{}
		}
	}
	if a.Thresholds == nil {
		a.Thresholds = []Threshold{}
	}
}
