// Package notify sends outbound notifications (webhooks: generic JSON,
// Slack- and Teams-compatible; and email over SMTP) through a
// transactional outbox.
//
// A capability that records something worth telling people about calls
// Publish inside the transaction that records it, so the notification
// commits or rolls back with the state change. Publish writes one outbox
// row per enabled channel subscribed to the event; the row's unique
// (channel, type + subject + occurrence) key makes publishing the same
// occurrence twice deliver once.
//
// A Deliverer on every replica claims due rows with FOR UPDATE SKIP LOCKED
// under a lease measured on the database clock, POSTs (or mails) them, and
// records the outcome: delivered on 2xx or when the mail server accepts the
// message, otherwise retried with exponential backoff and jitter until
// MaxAttempts, then dead. Delivery is at least once: a replica that dies
// after the receiver got a request but before the outcome was recorded
// loses its lease, and another replica sends the row again. Every attempt
// of a row carries the same Idempotency-Key header (an email the same
// Message-ID), so a receiver that remembers the keys it has processed sees
// each notification once.
package notify

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// EventType names what happened; channels subscribe to types.
type EventType string

// Event types. Channels subscribe to any of EventTypes or to "*" (all);
// EventTest goes only to the channel it is sent to.
const (
	EventCheckFailed       EventType = "check_failed"
	EventCheckRecovered    EventType = "check_recovered"
	EventRPOBreached       EventType = "rpo_breached"
	EventRPORestored       EventType = "rpo_restored"
	EventScheduleMissed    EventType = "schedule_missed"
	EventDrillFinished     EventType = "drill_finished"
	EventInvocationStarted EventType = "invocation_started"
	EventDrillStarted      EventType = "drill_started"
	EventStepFailed        EventType = "step_failed"
	EventStepOverdue       EventType = "step_overdue"
	EventDecisionNeeded    EventType = "decision_needed"
	EventRTOAtRisk         EventType = "rto_at_risk"
	EventExecutionFinished EventType = "execution_finished"
	EventFindingOverdue    EventType = "finding_overdue"
	EventDrillReminder     EventType = "drill_reminder"
	EventReportReady       EventType = "report_ready" // a scheduled report was generated and archived
	EventTest              EventType = "test"
)

// AllEvents is the subscription wildcard.
const AllEvents = "*"

// EventTypes lists the types something emits today: the only ones a
// channel may subscribe to and Publish accepts.
var EventTypes = []EventType{EventCheckFailed, EventCheckRecovered, EventRPOBreached, EventRPORestored,
	EventScheduleMissed, EventInvocationStarted, EventDrillStarted, EventStepFailed, EventStepOverdue,
	EventDecisionNeeded, EventRTOAtRisk, EventExecutionFinished, EventDrillFinished, EventFindingOverdue,
	EventDrillReminder, EventReportReady}

// Severity says how urgent an event is.
type Severity string

// Severities, least urgent first.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// Severities lists every severity.
var Severities = []Severity{SeverityInfo, SeverityWarning, SeverityCritical}

// Bounds on what an event carries.
const (
	maxSubjectBytes    = 200
	maxSummaryBytes    = 1000
	maxOccurrenceBytes = 200
	maxDetailsBytes    = 16 << 10
)

// Event is something that happened, as Publish receives it.
type Event struct {
	// Type says what happened.
	Type EventType `json:"type"`
	// Subject is what it happened to, as "kind/id": "backup-target/12",
	// "schedule/3", "service/payments".
	Subject string `json:"subject"`
	// Summary is one human sentence.
	Summary string `json:"summary"`
	// Severity defaults to info.
	Severity Severity `json:"severity"`
	// OccurredAt is when it happened.
	OccurredAt time.Time `json:"occurred_at"`
	// Occurrence tells repeated events of one type about one subject apart:
	// publishing twice with the same type, subject and occurrence delivers
	// once. Use what identifies the occurrence in the caller's records (a
	// check id, a run id) [OccurredAt in RFC 3339 with nanoseconds].
	Occurrence string `json:"occurrence"`
	// Details are extra facts, sent as they are in generic webhooks and as
	// a list of facts in Slack and Teams messages. At most 16 KiB of JSON.
	Details map[string]any `json:"details,omitempty"`
}

// normalize fills defaults and makes the text fields fit: control
// characters are dropped and long text clipped rather than refused, so a
// notification never rolls back the change it reports. What remains an
// error (unknown type or severity, no subject or summary, details that are
// not JSON) is a programming error in the publisher, reported as EINVALID.
func (e *Event) normalize() error {
	if e.Severity == "" {
		e.Severity = SeverityInfo
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = time.Now()
	}
	e.OccurredAt = e.OccurredAt.UTC()
	if e.Occurrence == "" {
		e.Occurrence = e.OccurredAt.Format(time.RFC3339Nano)
	}
	e.Subject = cleanText(e.Subject, maxSubjectBytes)
	e.Summary = cleanText(e.Summary, maxSummaryBytes)
	e.Occurrence = cleanText(e.Occurrence, maxOccurrenceBytes)
	var v orchestrator.Validation
	if e.Type != EventTest && !slices.Contains(EventTypes, e.Type) {
		v.Add("type", "must be one of %s", strings.Join(enumStrings(EventTypes), ", "))
	}
	if !slices.Contains(Severities, e.Severity) {
		v.Add("severity", "must be one of %s", strings.Join(enumStrings(Severities), ", "))
	}
	v.Require("subject", e.Subject)
	v.Require("summary", e.Summary)
	v.Require("occurrence", e.Occurrence)
	if b, err := json.Marshal(e.Details); err != nil {
		v.Add("details", "must be JSON-encodable: %v", err)
	} else if len(b) > maxDetailsBytes {
		e.Details = map[string]any{"omitted": fmt.Sprintf("details were %d bytes, more than the %d allowed", len(b), maxDetailsBytes)}
	}
	return v.Err()
}

// cleanText makes s valid UTF-8 without control characters other than
// newline and tab, at most max bytes.
func cleanText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return clip(strings.TrimSpace(s), max)
}

// dedupKey is unique per occurrence of an event; with the channel it makes
// an outbox row unique.
func (e Event) dedupKey() string {
	return string(e.Type) + "|" + e.Subject + "|" + e.Occurrence
}

// enumStrings lists enum values as strings.
func enumStrings[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// errNotFound names the missing channel.
func errNotFound(id int64) error {
	return orchestrator.Errorf(orchestrator.ENOTFOUND, "notification channel %d not found", id)
}

// describe is the one-line form of an event used in chat messages.
func (e Event) describe() string {
	return fmt.Sprintf("[%s] %s: %s", strings.ToUpper(string(e.Severity)), e.Subject, e.Summary)
}
