// Package drills proves the continuity plans: the drill policy per tier,
// the yearly programme and its calendar feed, drills of five types run
// (through the execution engine where something is executed) and scored
// pass, partial or fail, the after-action report, the improvement register
// (服务改进汇总表) whose findings close only when a later drill of their
// scope passes, retest waivers, and the review of every real invocation.
//
// It owns the tables drill_policies, drill_programmes, drills,
// drill_events, findings, retest_waivers, invocation_reviews and
// drill_calendar_feeds, and sits above runbooks and runbooks/execution.
package drills

import (
	"encoding/json"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// Drill types (ISO 22301 exercise methods), from discussion to a real
// failover; each behaves differently.
const (
	// TypeTabletop walks the steps as a discussion: steps walked,
	// decisions and issues recorded on the drill's timeline, nothing run.
	TypeTabletop = "tabletop"
	// TypeWalkthrough has each step's owner confirm their part.
	TypeWalkthrough = "walkthrough"
	// TypeSimulation runs the runbook in drill mode with automations off.
	TypeSimulation = "simulation"
	// TypeTechnical runs the runbook in drill mode, calling the drill URLs
	// of automated steps, clean-up tracked.
	TypeTechnical = "technical"
	// TypeFullInterruption is a real failover in an approved window: an
	// admin approves it, and its execution runs as an invocation that
	// stops at a decision before the switch.
	TypeFullInterruption = "full_interruption"
)

// Types lists the drill types, least disruptive first.
var Types = []string{TypeTabletop, TypeWalkthrough, TypeSimulation, TypeTechnical, TypeFullInterruption}

// executes reports whether a drill of type t runs its runbooks through the
// execution engine.
func executes(t string) bool {
	return t == TypeSimulation || t == TypeTechnical || t == TypeFullInterruption
}

// Drill statuses: planned → in_progress → completed, or cancelled.
const (
	StatusPlanned    = "planned"
	StatusInProgress = "in_progress"
	StatusCompleted  = "completed"
	StatusCancelled  = "cancelled"
)

// Results (DESIGN.md): pass when every target was met and every mandatory
// step done; partial when done but a target missed; fail when aborted or a
// mandatory step failed.
const (
	ResultPass    = "pass"
	ResultPartial = "partial"
	ResultFail    = "fail"
)

// Scenario kinds.
const (
	ScenarioRisk       = "risk"
	ScenarioDisruption = "disruption"
	ScenarioText       = "text"
)

// Scenario is what a drill rehearses: a risk from the register (Ref is its
// id), a disruption from the resilience model (Ref names it, e.g.
// "site:dc-main"), or free text.
type Scenario struct {
	Kind string `json:"kind"`
	Ref  string `json:"ref,omitempty"`
	Text string `json:"text"`
}

// Participant is someone taking part in a drill and the part they play.
type Participant struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// Criteria are a drill's success criteria: the approved RTO and RPO of
// each service unless overridden, and any others in words.
type Criteria struct {
	RTO   map[string]orchestrator.Duration `json:"rto,omitempty"`
	RPO   map[string]orchestrator.Duration `json:"rpo,omitempty"`
	Other []string                         `json:"other,omitempty"`
}

// Drill is one exercise of one or more runbooks.
type Drill struct {
	ID            int64         `json:"id"`
	ProgrammeYear *int          `json:"programme_year"`
	Title         string        `json:"title"`
	Type          string        `json:"type"`
	Scenario      Scenario      `json:"scenario"`
	Services      []string      `json:"services"`
	Runbooks      []int64       `json:"runbooks"`
	Participants  []Participant `json:"participants"`
	Objectives    []string      `json:"objectives"`
	Criteria      Criteria      `json:"criteria"`
	PlannedStart  time.Time     `json:"planned_start"`
	Retest        bool          `json:"retest"`
	Status        string        `json:"status"`
	ApprovedBy    string        `json:"approved_by,omitempty"`
	ApprovedAt    *time.Time    `json:"approved_at"`
	Executions    []int64       `json:"executions"`
	StartedBy     string        `json:"started_by,omitempty"`
	StartedAt     *time.Time    `json:"started_at"`
	CompletedAt   *time.Time    `json:"completed_at"`
	Result        *string       `json:"result"`
	Outcome       *Outcome      `json:"outcome"`
	Report        Report        `json:"report"`
	Schedule      *int64        `json:"schedule"`
	CreatedBy     string        `json:"created_by"`
	CreatedAt     time.Time     `json:"created_at"`
	UpdatedAt     time.Time     `json:"updated_at"`
}

// Outcome is what a completed drill achieved, as scored.
type Outcome struct {
	Services []ServiceOutcome `json:"services"`
	// Overran lists the steps that took longer than their estimate.
	Overran []StepOutcome `json:"overran"`
	// Missed lists the mandatory steps not done: failed, skipped or never
	// walked or confirmed.
	Missed []StepOutcome `json:"missed"`
	// Aborted lists the executions aborted before the recovery ended.
	Aborted []int64 `json:"aborted"`
	// Issues counts the issues recorded on a tabletop's or walkthrough's
	// timeline.
	Issues int `json:"issues"`
	// Reasons says, in words, why the result is what it is.
	Reasons []string `json:"reasons"`
}

// ServiceOutcome is one service's recovery in a drill against its targets.
type ServiceOutcome struct {
	Service     string                 `json:"service"`
	RTO         *orchestrator.Duration `json:"rto"`
	RTOAchieved *orchestrator.Duration `json:"rto_achieved"`
	RTOMet      *bool                  `json:"rto_met"`
	RPO         *orchestrator.Duration `json:"rpo"`
	RPOAchieved *orchestrator.Duration `json:"rpo_achieved"`
	RPOMet      *bool                  `json:"rpo_met"`
}

// StepOutcome is one step named in an outcome.
type StepOutcome struct {
	Runbook   int64                  `json:"runbook"`
	Execution int64                  `json:"execution,omitempty"`
	Step      string                 `json:"step"`
	Title     string                 `json:"title"`
	Status    string                 `json:"status"`
	Estimate  orchestrator.Duration  `json:"estimate"`
	Elapsed   *orchestrator.Duration `json:"elapsed,omitempty"`
}

// Report is the written part of an after-action report (NIST SP 800-84):
// the rest (scope, objectives, participants, timeline, results, findings)
// comes from the drill's records.
type Report struct {
	Observations    []string `json:"observations"`
	WentWell        []string `json:"went_well"`
	ToImprove       []string `json:"to_improve"`
	Recommendations []string `json:"recommendations"`
	Actions         []string `json:"actions"`
}

// Event is one row of a drill's own timeline: what was walked, confirmed,
// decided or found in a tabletop or walkthrough, notes, evidence and
// hot-wash answers in any drill.
type Event struct {
	ID     int64     `json:"id"`
	Drill  int64     `json:"drill"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Type   string    `json:"type"`
	Step   string    `json:"step,omitempty"`
	Detail string    `json:"detail"`
}

// Event types.
const (
	EventStarted   = "started"
	EventWalked    = "walked"
	EventConfirmed = "confirmed"
	EventDecision  = "decision"
	EventIssue     = "issue"
	EventNote      = "note"
	EventEvidence  = "evidence"
	EventHotwash   = "hotwash"
	EventCompleted = "completed"
	EventCancelled = "cancelled"
	EventApproved  = "approved"
)

// marshal encodes v for a jsonb column; the values here always encode.
func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
