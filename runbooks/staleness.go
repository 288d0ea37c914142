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

// RetestDetail lists the major or emergency changes and the releases that
// touched the scope since the runbook was last proven.
type RetestDetail struct {
	Since   time.Time `json:"since"`
	Changes []Touch   `json:"changes"`
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
	if s.RetestRequired != nil && len(s.RetestRequired.Changes) > 0 {
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
