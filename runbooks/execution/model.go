// Package execution runs runbooks: a real invocation of a continuity plan
// or a drill. It copies the steps of one runbook version into an
// execution and walks their DAG: automated steps are claimed by any
// replica through the lease queue and call the systems that recover, with
// one idempotency key per step; manual steps wait for the person who does
// them; decision steps wait for someone with the named role who did not
// start the execution. Every transition is a row of the execution's
// timeline and of the audit chain, in the transaction that makes it, so a
// replica or database lost mid-way loses nothing. The recovery time and
// data loss achieved are measured from the timeline.
//
// It owns the tables executions, execution_steps and execution_events, and
// sits above runbooks, whose versions it reads.
package execution

import (
	"encoding/json"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
)

// Modes of an execution. A drill calls only the drill URLs of automated
// steps: one without a drill URL waits for a person instead.
const (
	ModeInvocation = "invocation"
	ModeDrill      = "drill"
)

// Execution statuses. running → paused ↔ running; running → succeeded when
// every step ended and none failed; → failed when a step failed and nothing
// else can move (resume-from, retry or skip brings it back); → aborted by a
// person or by a rejection without a branch to take.
const (
	StatusRunning   = "running"
	StatusPaused    = "paused"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusAborted   = "aborted"
)

// Step statuses. blocked until every dependency ended; then an automated
// step is pending (queued) and running (leased to a replica), a manual or
// decision step waiting for a person. Ended: succeeded, failed, gave_up
// (its replicas kept dying), skipped (by a person, with a reason),
// rejected (a decision), bypassed (on a branch a decision did not take),
// cancelled (the execution was aborted before it ran).
const (
	StepBlocked   = "blocked"
	StepWaiting   = "waiting"
	StepPending   = "pending"
	StepRunning   = "running"
	StepSucceeded = "succeeded"
	StepFailed    = "failed"
	StepGaveUp    = "gave_up"
	StepSkipped   = "skipped"
	StepRejected  = "rejected"
	StepBypassed  = "bypassed"
	StepCancelled = "cancelled"
)

// Step kinds as an execution sees them.
const (
	KindAutomated = "automated"
	KindManual    = "manual"
	KindDecision  = "decision"
)

// Execution is one run of a runbook version, as the live board shows it.
type Execution struct {
	ID           int64                 `json:"id"`
	Runbook      int64                 `json:"runbook"`
	Version      int                   `json:"version"`
	Title        string                `json:"title"`
	Mode         string                `json:"mode"`
	Automations  string                `json:"automations"`
	Scenario     json.RawMessage       `json:"scenario"`
	FailurePoint *time.Time            `json:"failure_point"`
	Note         string                `json:"note"`
	Status       string                `json:"status"`
	Reason       string                `json:"reason"`
	StartedBy    string                `json:"started_by"`
	StartedAt    time.Time             `json:"started_at"`
	MeasuredAt   *time.Time            `json:"measured_at"`
	FinishedAt   *time.Time            `json:"finished_at"`
	UpdatedAt    time.Time             `json:"updated_at"`
	Elapsed      orchestrator.Duration `json:"elapsed"`
	Counts       map[string]int        `json:"counts"`
	Remaining    orchestrator.Duration `json:"remaining"`
	Projected    *time.Time            `json:"projected_completion"`
	Services     []ServiceMeasure      `json:"services"`
	Steps        []Step                `json:"steps"`
}

// ServiceMeasure is one business service in the execution's scope: its
// RTO target, the recovery time achieved (start → its verification step
// done) and the data loss achieved (failure point → the oldest recovered
// data point among the steps before its verification), and while running
// whether the projected completion keeps the RTO.
type ServiceMeasure struct {
	Service     string                 `json:"service"`
	RTO         *orchestrator.Duration `json:"rto"`
	VerifyStep  string                 `json:"verify_step,omitempty"`
	RTOAchieved *orchestrator.Duration `json:"rto_achieved"`
	RTOMet      *bool                  `json:"rto_met"`
	RPOAchieved *orchestrator.Duration `json:"rpo_achieved"`
	Projected   *time.Time             `json:"projected_recovery,omitempty"`
	AtRisk      bool                   `json:"rto_at_risk"`
}

// Step is one step of an execution: what the runbook said, and what
// happened to it.
type Step struct {
	ID          string                 `json:"id"`
	Position    int                    `json:"position"`
	Kind        string                 `json:"kind"`
	RunbookKind string                 `json:"runbook_kind"`
	Title       string                 `json:"title"`
	CI          string                 `json:"ci,omitempty"`
	OwnerRole   string                 `json:"owner_role"`
	Estimate    orchestrator.Duration  `json:"estimate"`
	Mandatory   bool                   `json:"mandatory"`
	Cleanup     bool                   `json:"cleanup"`
	DependsOn   []string               `json:"depends_on"`
	Decision    *runbooks.Decision     `json:"decision,omitempty"`
	Status      string                 `json:"status"`
	Attempts    int                    `json:"attempts"`
	HeldBy      string                 `json:"held_by,omitempty"`
	ReadyAt     *time.Time             `json:"ready_at"`
	StartedAt   *time.Time             `json:"started_at"`
	FinishedAt  *time.Time             `json:"finished_at"`
	Elapsed     *orchestrator.Duration `json:"elapsed"`
	Overdue     bool                   `json:"overdue"`
	DoneBy      string                 `json:"done_by,omitempty"`
	Note        string                 `json:"note,omitempty"`
	Evidence    []string               `json:"evidence"`
	RecoveredAt *time.Time             `json:"recovered_at"`
	Output      string                 `json:"output,omitempty"`
	Error       string                 `json:"error,omitempty"`
	Critical    bool                   `json:"critical"`
	Attachments []AttachmentRef        `json:"attachments"`
}

// AttachmentRef names a file attached to a step; GET
// /executions/{id}/attachments/{attachment} returns it.
type AttachmentRef struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Size    int       `json:"size"`
	AddedBy string    `json:"added_by"`
	AddedAt time.Time `json:"added_at"`
}

// Event is one row of an execution's timeline.
type Event struct {
	ID        int64     `json:"id"`
	Execution int64     `json:"execution"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Step      string    `json:"step,omitempty"`
	Type      string    `json:"type"`
	Detail    string    `json:"detail"`
}
