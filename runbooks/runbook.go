package runbooks

import (
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// Version statuses: a draft is approved, an approved version is superseded
// by the next approval or retired with its runbook. Every version is kept.
const (
	StatusDraft      = "draft"
	StatusApproved   = "approved"
	StatusSuperseded = "superseded"
	StatusRetired    = "retired"
)

// Step kinds. Generated steps are recover/verify pairs per CI, a service
// verification per business service and one hand-back; users add custom
// steps.
const (
	KindRecover       = "recover"
	KindVerify        = "verify"
	KindServiceVerify = "service_verify"
	KindHandback      = "handback"
	KindCustom        = "custom"
)

// Step is one thing to do during a recovery. Steps form a DAG through
// DependsOn (step ids); steps whose dependencies are done may run in
// parallel.
type Step struct {
	ID        string                `json:"id"`
	Kind      string                `json:"kind"`
	CI        string                `json:"ci,omitempty"`
	Title     string                `json:"title"`
	Text      string                `json:"text"`
	OwnerRole string                `json:"owner_role"`
	Owner     string                `json:"owner,omitempty"`
	Estimate  orchestrator.Duration `json:"estimate"`
	Mandatory bool                  `json:"mandatory"`
	DependsOn []string              `json:"depends_on"`
	// Automation is nil for a manual step.
	Automation *Automation `json:"automation,omitempty"`
	// Decision makes the step a decision (a go/no-go) that someone with
	// its role, other than the person who started the execution, approves
	// or rejects; nil for other steps.
	Decision *Decision `json:"decision,omitempty"`
	// Cleanup marks a clean-up or failback step: run after the recovery
	// is measured, and a drill is not closed until it is done or waived.
	Cleanup bool `json:"cleanup,omitempty"`
}

// Decision is what a decision step asks for.
type Decision struct {
	// Role is the role of whoever may decide (admin may always).
	Role orchestrator.Role `json:"role"`
	// OnReject is the step, depending on this one, that a rejection
	// takes; it is passed over on approval, and the steps depending on
	// the decision other than it are passed over on rejection. Empty: a
	// rejection stops the execution.
	OnReject string `json:"on_reject,omitempty"`
}

// Scope says what a runbook recovers from: the loss of one business service
// or a scenario of failed CIs (a site, a ransomware scope, a supplier).
type Scope struct {
	Service string   `json:"service,omitempty"`
	Failed  []string `json:"failed,omitempty"`
}

// IsScenario reports whether the scope is a failure scenario.
func (s Scope) IsScenario() bool { return s.Service == "" }

// Approval is who approved a version, when, and what it was built on.
type Approval struct {
	By          string    `json:"by"`
	At          time.Time `json:"at"`
	Fingerprint string    `json:"fingerprint"`
	// BIAVersions are the approved BIA versions of the runbook's services.
	BIAVersions map[string]int `json:"bia_versions"`
	ScopeCIs    []string       `json:"scope_cis"`
	// ScopeRelations are the relations among ScopeCIs as fingerprinted,
	// kept so a changed scope can be explained.
	ScopeRelations []string `json:"scope_relations"`
}

// Review is an annual review (年度审查) of an approved version.
type Review struct {
	By      string    `json:"by"`
	At      time.Time `json:"at"`
	Notes   string    `json:"notes"`
	Outcome string    `json:"outcome"`
	Actions []string  `json:"actions"`
}

// Version is one version of a runbook's content.
type Version struct {
	Number   int      `json:"number"`
	Status   string   `json:"status"`
	Steps    []Step   `json:"steps"`
	Sections Sections `json:"sections"`
	// ScopeCIs is the CMDB scope the steps were generated over, in key
	// order; Redundant lists scope CIs left out of the steps because
	// enough of their redundancy group is recovered.
	ScopeCIs  []string  `json:"scope_cis"`
	Redundant []string  `json:"redundant"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	Approval  *Approval `json:"approval"`
	// LastReview is the latest annual review of this version.
	LastReview *Review    `json:"last_review"`
	EndedAt    *time.Time `json:"ended_at"`
	// nextStep numbers the next added step, so a removed step's id is
	// never reused and diffs stay truthful.
	nextStep int
}

// Runbook is a runbook as a client reads it: identity, the version in
// front (the draft if there is one, else the approved or last version),
// and what is computed on read about it.
type Runbook struct {
	ID              int64       `json:"id"`
	Title           string      `json:"title"`
	Scope           Scope       `json:"scope"`
	Status          string      `json:"status"`
	ApprovedVersion *int        `json:"approved_version"`
	DraftVersion    *int        `json:"draft_version"`
	Version         Version     `json:"version"`
	Feasibility     Feasibility `json:"feasibility"`
	Staleness       Staleness   `json:"staleness"`
	CreatedAt       time.Time   `json:"created_at"`
	UpdatedAt       time.Time   `json:"updated_at"`
}

// Summary is a runbook in a list.
type Summary struct {
	ID              int64     `json:"id"`
	Title           string    `json:"title"`
	Scope           Scope     `json:"scope"`
	Status          string    `json:"status"`
	ApprovedVersion *int      `json:"approved_version"`
	DraftVersion    *int      `json:"draft_version"`
	LatestVersion   int       `json:"latest_version"`
	UpdatedAt       time.Time `json:"updated_at"`
}
