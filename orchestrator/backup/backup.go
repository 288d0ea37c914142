// Package backup proves, with the real backup tools, that the data a
// recovery relies on exists, is intact and is recent enough for its RPO.
//
// A backup target binds a CI to a backup (a restic or borg repository, a
// pgBackRest stanza, a pg_basebackup directory, files, or an HTTP endpoint
// reporting on a backup system). A check runs the tool with a timeout, a
// clean environment and bounded output capture, and records its status, the
// latest backup time, whether integrity was proven (verified) and the size.
// Secrets are referenced (environment variable names, file paths), never
// stored. RPO status compares the newest verified backup with a required RPO.
package backup

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// Kind is the kind of backup a target checks.
type Kind string

// The kinds of backup target.
const (
	KindRestic       Kind = "restic"
	KindBorg         Kind = "borg"
	KindPgBackRest   Kind = "pgbackrest"
	KindPgBaseBackup Kind = "pg_basebackup"
	KindFile         Kind = "file"
	KindHTTP         Kind = "http"
)

// Kinds lists every kind.
var Kinds = []Kind{KindRestic, KindBorg, KindPgBackRest, KindPgBaseBackup, KindFile, KindHTTP}

// CheckStatus is the outcome of one check.
type CheckStatus string

// Check outcomes: ok (the backup is there and passed every configured
// test), warning (usable but something needs attention, such as an age
// beyond max_age), failed (the backup is missing, incomplete or corrupt),
// error (the check itself could not run: tool missing, repository
// unreachable, timeout, bad credentials).
const (
	StatusOK      CheckStatus = "ok"
	StatusWarning CheckStatus = "warning"
	StatusFailed  CheckStatus = "failed"
	StatusError   CheckStatus = "error"
)

// CheckStatuses lists every check status.
var CheckStatuses = []CheckStatus{StatusOK, StatusWarning, StatusFailed, StatusError}

// Triggers say who asked for a check.
const (
	TriggerManual   = "manual"
	TriggerSchedule = "schedule"
)

// Limits of what a target and a check store.
const (
	maxNameBytes    = 200
	maxMessageBytes = 1024
	// MaxOutputBytes bounds the output excerpt kept with each check.
	MaxOutputBytes = 4096
	defaultTimeout = 30 * time.Minute
	// maxTimeout leaves room under the scheduler's 24h max run time.
	maxTimeout = 23 * time.Hour
)

// Target is a backup target record.
type Target struct {
	ID   int64  `json:"id"`
	CI   string `json:"ci"`
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// Schedule and Timezone are those of the target's backup_check
	// schedule; both are empty when that schedule was deleted.
	Schedule   string `json:"schedule"`
	Timezone   string `json:"timezone"`
	ScheduleID *int64 `json:"schedule_id"`
	// Config is the kind's settings, normalised; it holds secret
	// references only.
	Config      json.RawMessage        `json:"config"`
	RestoreTest bool                   `json:"restore_test"`
	Timeout     orchestrator.Duration  `json:"timeout"`
	MaxAge      *orchestrator.Duration `json:"max_age"`
	LastCheck   *Check                 `json:"last_check"`
	CreatedAt   time.Time              `json:"created_at"`
	UpdatedAt   time.Time              `json:"updated_at"`
}

// TargetInput is what a client sends to create or replace a target.
// Durations are strings so that a bad one is reported under its field.
type TargetInput struct {
	CI          string          `json:"ci"`
	Name        string          `json:"name"`
	Kind        Kind            `json:"kind"`
	Schedule    string          `json:"schedule"`
	Timezone    string          `json:"timezone"`
	Config      json.RawMessage `json:"config"`
	RestoreTest bool            `json:"restore_test"`
	Timeout     string          `json:"timeout"`
	MaxAge      string          `json:"max_age"`
}

// Check is the recorded result of one check.
type Check struct {
	ID             int64                 `json:"id"`
	TargetID       int64                 `json:"target_id"`
	Trigger        string                `json:"trigger"`
	Status         CheckStatus           `json:"status"`
	LatestBackupAt *time.Time            `json:"latest_backup_at"`
	Verified       bool                  `json:"verified"`
	SizeBytes      *int64                `json:"size_bytes"`
	Attempts       int                   `json:"attempts"`
	StartedAt      time.Time             `json:"started_at"`
	Duration       orchestrator.Duration `json:"duration"`
	Message        string                `json:"message"`
	Output         string                `json:"output"`
}

// Result is what a checker finds, before it is recorded.
type Result struct {
	Status         CheckStatus
	LatestBackupAt *time.Time
	Verified       bool
	SizeBytes      *int64
	// Attempts counts HTTP requests for the http kind, 1 otherwise.
	Attempts int
	Message  string
	Output   string
}

// with returns r with a status and message; failed and error results
// prove nothing, so they are never verified.
func (r Result) with(status CheckStatus, format string, args ...any) Result {
	r.Status = status
	r.Message = fmt.Sprintf(format, args...)
	if status == StatusFailed || status == StatusError {
		r.Verified = false
	}
	return r
}
