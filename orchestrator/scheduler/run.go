package scheduler

import (
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Status is where a run is in its life.
type Status string

// Run statuses. pending → running → succeeded | failed; a running run whose
// lease expires, or whose handler meets the database failing, goes back to
// pending. missed and cancelled are final states of firings that never ran.
const (
	StatusPending   Status = "pending"
	StatusRunning   Status = "running"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	StatusMissed    Status = "missed"
	StatusCancelled Status = "cancelled"
)

// Statuses lists every status.
var Statuses = []Status{StatusPending, StatusRunning, StatusSucceeded, StatusFailed, StatusMissed, StatusCancelled}

// Valid reports whether s is one of the known statuses.
func (s Status) Valid() bool {
	for _, known := range Statuses {
		if s == known {
			return true
		}
	}
	return false
}

// Bounds of what a run stores about its outcome.
const (
	maxOutputBytes = 4096
	maxErrorBytes  = 2048
)

// Run is one firing of a schedule and, once claimed, its execution.
type Run struct {
	ID         int64     `json:"id"`
	ScheduleID int64     `json:"schedule_id"`
	FireAt     time.Time `json:"fire_at"`
	// RunAfter is FireAt plus the firing's jitter offset.
	RunAfter time.Time `json:"run_after"`
	// Manual marks a run fired on request rather than by the cron expression.
	Manual         bool       `json:"manual"`
	Status         Status     `json:"status"`
	Attempts       int        `json:"attempts"`
	Replica        string     `json:"replica"`
	LeaseExpiresAt *time.Time `json:"lease_expires_at"`
	HeartbeatAt    *time.Time `json:"heartbeat_at"`
	StartedAt      *time.Time `json:"started_at"`
	FinishedAt     *time.Time `json:"finished_at"`
	Output         string     `json:"output"`
	Error          string     `json:"error"`
	CreatedAt      time.Time  `json:"created_at"`

	// What the handler needs from the schedule; filled when a run is claimed.
	ScheduleName string        `json:"-"`
	Kind         Kind          `json:"-"`
	Target       string        `json:"-"`
	MaxRun       time.Duration `json:"-"`
}

const runColumns = `id, schedule_id, fire_at, run_after, manual, status, attempts, replica,
	lease_expires_at, heartbeat_at, started_at, finished_at, output, error, created_at`

// runColumnsOf is runColumns qualified by a table alias, for joins.
func runColumnsOf(alias string) string {
	cols := strings.Split(runColumns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

func scanRun(row pgx.CollectableRow) (Run, error) { return readRun(row) }

// readRun scans one row of runColumns.
func readRun(row pgx.Row) (Run, error) {
	var r Run
	err := row.Scan(&r.ID, &r.ScheduleID, &r.FireAt, &r.RunAfter, &r.Manual, &r.Status, &r.Attempts, &r.Replica,
		&r.LeaseExpiresAt, &r.HeartbeatAt, &r.StartedAt, &r.FinishedAt, &r.Output, &r.Error, &r.CreatedAt)
	return r, err
}

// scanClaimedRun reads a run joined with the schedule fields a handler needs.
func scanClaimedRun(row pgx.CollectableRow) (Run, error) {
	var r Run
	var maxRunS int64
	err := row.Scan(&r.ID, &r.ScheduleID, &r.FireAt, &r.RunAfter, &r.Manual, &r.Status, &r.Attempts, &r.Replica,
		&r.LeaseExpiresAt, &r.HeartbeatAt, &r.StartedAt, &r.FinishedAt, &r.Output, &r.Error, &r.CreatedAt,
		&r.ScheduleName, &r.Kind, &r.Target, &maxRunS)
	r.MaxRun = time.Duration(maxRunS) * time.Second
	return r, err
}
