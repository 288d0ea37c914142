package runbooks

import (
	"time"
)

// Staleness flags (DESIGN.md).
const (
	FlagRetestRequired = "retest_required"
	FlagReviewDue      = "review_due"
	FlagScopeChanged   = "scope_changed"
)

// reviewYears is how long an approval or review holds: the annual review
// (年度审查).
const reviewYears = 1

// Staleness says whether an approved runbook still describes the world:
// each flag comes with what raised it.
type Staleness struct {
	Stale          bool          `json:"stale"`
	Flags          []string      `json:"flags"`
	RetestRequired *RetestDetail `json:"retest_required"`
	Review         *ReviewDetail `json:"review"`
	ScopeChanged   *ScopeDetail  `json:"scope_changed"`
}

// RetestDetail says since when the runbook counts as proven and how (its
// first approval, a passed drill, or an admin's waiver, which reports show
// as a waiver and never as a pass), and what requires a retest since: the
// major or emergency changes and releases that touched its scope, and a
// drill that failed or passed partially.
type RetestDetail struct {
	Since    time.Time `json:"since"`
	ProvenBy string    `json:"proven_by"`
	Drill    *int64    `json:"drill,omitempty"`
	Waiver   *Waiver   `json:"waiver,omitempty"`
	Changes  []Touch   `json:"changes"`
	Failed   *DrillRef `json:"failed_drill"`
}

// Waiver is an admin's decision that a runbook needs no retest, with the
// reason.
type Waiver struct {
	ID     int64     `json:"id"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// DrillRef names a drill and its result.
type DrillRef struct {
	ID     int64     `json:"id"`
	Result string    `json:"result"`
	At     time.Time `json:"at"`
}

// Touch is a change or release that touched CIs in scope.
type Touch struct {
	Kind       string    `json:"kind"`
	ID         int64     `json:"id"`
	ExternalID string    `json:"external_id"`
	Title      string    `json:"title"`
	At         time.Time `json:"at"`
	CIs        []string  `json:"cis"`
}

// ReviewDetail is when the runbook was last approved or reviewed and when
// the next review is due.
type ReviewDetail struct {
	LastAt time.Time `json:"last_at"`
	DueAt  time.Time `json:"due_at"`
	Due    bool      `json:"due"`
}

// ScopeDetail is how the CMDB scope differs from the approved one.
type ScopeDetail struct {
	Approved         string   `json:"approved_fingerprint"`
	Current          string   `json:"current_fingerprint"`
	CIsAdded         []string `json:"cis_added"`
	CIsRemoved       []string `json:"cis_removed"`
	RelationsAdded   []string `json:"relations_added"`
	RelationsRemoved []string `json:"relations_removed"`
}

// reviewDetail computes the review due date from the approval and the
// last review.
func reviewDetail(v Version, now time.Time) *ReviewDetail {
	last := v.Approval.At
	if v.LastReview != nil && v.LastReview.At.After(last) {
		last = v.LastReview.At
	}
	due := last.AddDate(reviewYears, 0, 0)
	return &ReviewDetail{LastAt: last, DueAt: due, Due: !now.Before(due)}
}

// scopeDetail compares the approved scope with the current one; nil when
// they are the same.
func scopeDetail(a *Approval, now scopePrint) *ScopeDetail {
	current := now.fingerprint()
	if current == a.Fingerprint {
		return nil
	}
	d := &ScopeDetail{Approved: a.Fingerprint, Current: current}
	d.CIsAdded, d.CIsRemoved = difference(a.ScopeCIs, now.CIs)
	d.RelationsAdded, d.RelationsRemoved = difference(a.ScopeRelations, now.Relations)
	return d
}

// flags fills Flags and Stale from the details.
func (s *Staleness) flags() {
	s.Flags = []string{}
	if r := s.RetestRequired; r != nil && (len(r.Changes) > 0 || r.Failed != nil) {
		s.Flags = append(s.Flags, FlagRetestRequired)
	}
	if s.Review != nil && s.Review.Due {
		s.Flags = append(s.Flags, FlagReviewDue)
	}
	if s.ScopeChanged != nil {
		s.Flags = append(s.Flags, FlagScopeChanged)
	}
	s.Stale = len(s.Flags) > 0
}
