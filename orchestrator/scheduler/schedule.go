// Package scheduler runs bcdr's cron schedules on any number of replicas,
// each firing exactly once. Schedules and their firings are rows: a tick
// turns due fire times into run rows keyed by (schedule, fire time), workers
// claim runs with FOR UPDATE SKIP LOCKED under a lease renewed by heartbeat
// and measured on the database clock, and a reaper hands runs whose lease
// expired to whichever replica claims them next. Cron expressions are only
// parsed here (robfig/cron/v3); execution is ours.
package scheduler

import (
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // time zones resolve the same on hosts without zoneinfo files
	"unicode/utf8"

	"github.com/robfig/cron/v3"

	"github.com/bcdr/bcdr/orchestrator"
)

// Kind says what a schedule does; each kind has one registered Handler.
// Only kinds that a handler runs can be scheduled (ServiceOptions.Handled).
type Kind string

// The kinds of scheduled work.
const (
	KindBackupCheck    Kind = "backup_check"
	KindDrill          Kind = "drill"
	KindKitExport      Kind = "kit_export"
	KindReport         Kind = "report"
	KindReviewReminder Kind = "review_reminder"
	// KindReadinessSnapshot stores the day's readiness (report package).
	KindReadinessSnapshot Kind = "readiness_snapshot"
	// KindITSMSync pulls records from an ITSM tool's API (itsmsync package).
	KindITSMSync Kind = "itsm_sync"
)

// Kinds lists every kind.
var Kinds = []Kind{KindBackupCheck, KindDrill, KindKitExport, KindReport, KindReviewReminder, KindReadinessSnapshot, KindITSMSync}

// Valid reports whether k is one of the known kinds.
func (k Kind) Valid() bool {
	for _, known := range Kinds {
		if k == known {
			return true
		}
	}
	return false
}

// Limits and defaults of a schedule's settings.
const (
	maxNameBytes         = 200
	maxTargetBytes       = 500
	maxCronBytes         = 200
	minInterval          = time.Minute
	maxCatchUpWindow     = 7 * 24 * time.Hour
	maxJitter            = time.Hour
	maxMaxRun            = 24 * time.Hour
	defaultCatchUpWindow = time.Hour
	defaultMaxRun        = time.Hour
	defaultTimezone      = "UTC"
)

// Schedule is a cron schedule record.
type Schedule struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Kind     Kind   `json:"kind"`
	Target   string `json:"target"`
	Cron     string `json:"cron"`
	Timezone string `json:"timezone"`
	Enabled  bool   `json:"enabled"`
	// CatchUpWindow is how late a firing may be noticed and still run once;
	// firings older than that are recorded as missed.
	CatchUpWindow orchestrator.Duration `json:"catch_up_window"`
	// Jitter delays each run by a fixed-per-firing offset up to this long.
	Jitter orchestrator.Duration `json:"jitter"`
	// MaxRun bounds one run; the handler's context ends after it.
	MaxRun     orchestrator.Duration `json:"max_run"`
	NextFireAt *time.Time            `json:"next_fire_at"`
	CreatedAt  time.Time             `json:"created_at"`
	UpdatedAt  time.Time             `json:"updated_at"`
	CreatedBy  string                `json:"created_by"`
}

// Input carries a new schedule's settings or, for Update, the settings to
// change: nil fields keep their current (or default) value.
type Input struct {
	Name          *string
	Kind          *Kind
	Target        *string
	Cron          *string
	Timezone      *string
	Enabled       *bool
	CatchUpWindow *orchestrator.Duration
	Jitter        *orchestrator.Duration
	MaxRun        *orchestrator.Duration
}

// newSchedule is the schedule every Create starts from.
func newSchedule() Schedule {
	return Schedule{
		Timezone:      defaultTimezone,
		Enabled:       true,
		CatchUpWindow: orchestrator.Duration(defaultCatchUpWindow),
		MaxRun:        orchestrator.Duration(defaultMaxRun),
	}
}

// apply copies the set fields of in onto sc and names the fields that
// changed, for the audit summary.
func (sc *Schedule) apply(in Input) []string {
	var changed []string
	set := func(name string, differs bool) {
		if differs {
			changed = append(changed, name)
		}
	}
	if in.Name != nil {
		set("name", *in.Name != sc.Name)
		sc.Name = *in.Name
	}
	if in.Kind != nil {
		set("kind", *in.Kind != sc.Kind)
		sc.Kind = *in.Kind
	}
	if in.Target != nil {
		set("target", *in.Target != sc.Target)
		sc.Target = *in.Target
	}
	if in.Cron != nil {
		set("cron", *in.Cron != sc.Cron)
		sc.Cron = *in.Cron
	}
	if in.Timezone != nil {
		set("timezone", *in.Timezone != sc.Timezone)
		sc.Timezone = *in.Timezone
	}
	if in.Enabled != nil {
		set("enabled", *in.Enabled != sc.Enabled)
		sc.Enabled = *in.Enabled
	}
	if in.CatchUpWindow != nil {
		set("catch_up_window", *in.CatchUpWindow != sc.CatchUpWindow)
		sc.CatchUpWindow = *in.CatchUpWindow
	}
	if in.Jitter != nil {
		set("jitter", *in.Jitter != sc.Jitter)
		sc.Jitter = *in.Jitter
	}
	if in.MaxRun != nil {
		set("max_run", *in.MaxRun != sc.MaxRun)
		sc.MaxRun = *in.MaxRun
	}
	return changed
}

// validate checks every field, naming each one at fault, and returns the
// parsed cron expression. When needHandler is set the kind must also be
// one of handled, the kinds a handler runs, so that no schedule is accepted
// only for every run to fail; the target must pass its kind's check in
// targets, if there is one.
func (sc *Schedule) validate(handled []Kind, needHandler bool, targets map[Kind]func(string) error) (cron.Schedule, error) {
	var v orchestrator.Validation
	sc.Name = strings.TrimSpace(sc.Name)
	v.Require("name", sc.Name)
	checkText(&v, "name", sc.Name, maxNameBytes)
	switch {
	case !sc.Kind.Valid() && needHandler:
		v.Add("kind", "must be one of the kinds that can be scheduled: %s", kindList(handled))
	case !sc.Kind.Valid():
		v.Add("kind", "must be one of %s", kindList(Kinds))
	case needHandler && !slices.Contains(handled, sc.Kind):
		v.Add("kind", "no handler runs %s schedules yet; the kinds that can be scheduled are: %s", sc.Kind, kindList(handled))
	}
	checkText(&v, "target", sc.Target, maxTargetBytes)
	if check := targets[sc.Kind]; check != nil {
		if err := check(sc.Target); err != nil {
			v.Add("target", "%s", err.Error())
		}
	}
	spec, fields := parse(sc.Cron, sc.Timezone)
	for _, f := range fields {
		v.Add(f.Field, "%s", f.Message)
	}
	checkDuration(&v, "catch_up_window", sc.CatchUpWindow, 0, maxCatchUpWindow)
	checkDuration(&v, "jitter", sc.Jitter, 0, maxJitter)
	checkDuration(&v, "max_run", sc.MaxRun, time.Second, maxMaxRun)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return spec, nil
}

// kindList is kinds for a message: "backup_check, kit_export".
func kindList(kinds []Kind) string {
	if len(kinds) == 0 {
		return "none"
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

func checkText(v *orchestrator.Validation, field, s string, max int) {
	switch {
	case len(s) > max:
		v.Add(field, "must be at most %d bytes", max)
	case !utf8.ValidString(s):
		v.Add(field, "must be valid UTF-8")
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		v.Add(field, "must not contain control characters")
	}
}

func checkDuration(v *orchestrator.Validation, field string, d orchestrator.Duration, min, max time.Duration) {
	if time.Duration(d) < min || time.Duration(d) > max {
		v.Add(field, "must be from %s to %s", orchestrator.Duration(min), orchestrator.Duration(max))
	}
}

// ParseCron reads a cron expression (five fields, or a descriptor such as
// @daily, @hourly or "@every 15m") evaluated in the IANA time zone named by
// timezone. Errors are EINVALID and name the field at fault: "cron" with
// the parser's message, or "timezone".
func ParseCron(expr, timezone string) (cron.Schedule, error) {
	spec, fields := parse(expr, timezone)
	if len(fields) > 0 {
		return nil, &orchestrator.Error{Code: orchestrator.EINVALID, Message: "invalid schedule", Fields: fields}
	}
	return spec, nil
}

func parse(expr, timezone string) (cron.Schedule, []orchestrator.FieldError) {
	var fields []orchestrator.FieldError
	bad := func(field, format string, args ...any) {
		fields = append(fields, orchestrator.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	loc, err := loadZone(timezone)
	if err != nil {
		bad("timezone", "%s", err)
	}
	expr = strings.TrimSpace(expr)
	switch {
	case expr == "":
		bad("cron", "is required")
	case len(expr) > maxCronBytes:
		bad("cron", "must be at most %d bytes", maxCronBytes)
	case !utf8.ValidString(expr) || strings.ContainsFunc(expr, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }):
		bad("cron", "must be printable text")
	case strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ="):
		bad("cron", "must not name a time zone; use the timezone field")
	default:
		spec, err := parseSpec(expr)
		if err != nil {
			bad("cron", "%s", err)
			break
		}
		if msg := checkSpec(spec); msg != "" {
			bad("cron", "%s", msg)
			break
		}
		if len(fields) == 0 {
			return inZone(spec, loc), nil
		}
	}
	return nil, fields
}

// parseSpec runs the standard parser, turning a panic on hostile input into
// an error.
func parseSpec(expr string) (spec cron.Schedule, err error) {
	defer func() {
		if v := recover(); v != nil {
			spec, err = nil, fmt.Errorf("cannot parse %q", expr)
		}
	}()
	return cron.ParseStandard(expr)
}

// checkSpec rejects expressions that fire too often or never.
func checkSpec(spec cron.Schedule) string {
	if every, ok := spec.(cron.ConstantDelaySchedule); ok {
		if every.Delay < minInterval {
			return fmt.Sprintf("@every interval must be at least %s", orchestrator.Duration(minInterval))
		}
		return ""
	}
	if spec.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return "never fires (no matching date within five years)"
	}
	return ""
}

// inZone evaluates a five-field or descriptor schedule in loc; the parser
// defaults to the process's local zone, which must never leak in.
func inZone(spec cron.Schedule, loc *time.Location) cron.Schedule {
	if s, ok := spec.(*cron.SpecSchedule); ok {
		s.Location = loc
	}
	return spec
}

// loadZone resolves an IANA time zone name. "Local" is refused: it would
// mean a different zone on each replica.
func loadZone(name string) (*time.Location, error) {
	switch {
	case name == "":
		return nil, fmt.Errorf("is required (an IANA name such as Europe/Berlin or UTC)")
	case name == "Local" || len(name) > 64:
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (use an IANA name such as Europe/Berlin)", name)
	}
	return loc, nil
}
