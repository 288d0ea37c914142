package drills

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// Defaults and bounds of a programme's settings.
const (
	defaultStartTime    = "09:00"
	defaultMaxPerWeek   = 3
	defaultReminderDays = 7
	defaultDrillLength  = 4 * time.Hour
	maxMaxPerWeek       = 100
	maxReminderDays     = 90
	maxDates            = 400
	maxFreezes          = 100
)

// Settings are what a programme is proposed under.
type Settings struct {
	// Timezone is the IANA zone the dates and start_time are in.
	Timezone string `json:"timezone"`
	// StartTime is when each drill starts, local time ("09:00").
	StartTime string `json:"start_time"`
	// Duration is how long a drill is planned to take (its calendar
	// event's length).
	Duration orchestrator.Duration `json:"duration"`
	// MaxPerWeek bounds the drills of one ISO week, counting drills
	// planned outside the programme.
	MaxPerWeek int `json:"max_per_week"`
	// Blackouts and Holidays are dates (YYYY-MM-DD) without drills.
	Blackouts []string `json:"blackouts"`
	Holidays  []string `json:"holidays"`
	// Freezes are change freezes: date ranges without drills.
	Freezes []Freeze `json:"freezes"`
	// Rules give preferred dates by tier or drill type.
	Rules []Rule `json:"rules"`
	// ReminderDays is how many days before a drill its participants are
	// reminded (and the calendar alarm set).
	ReminderDays int `json:"reminder_days"`
}

// Freeze is a change freeze, both dates included.
type Freeze struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason,omitempty"`
}

// SettingsInput is the body of a proposal: every setting optional.
type SettingsInput struct {
	Timezone     *string                `json:"timezone"`
	StartTime    *string                `json:"start_time"`
	Duration     *orchestrator.Duration `json:"duration"`
	MaxPerWeek   *int                   `json:"max_per_week"`
	Blackouts    []string               `json:"blackouts"`
	Holidays     []string               `json:"holidays"`
	Freezes      []Freeze               `json:"freezes"`
	Rules        []Rule                 `json:"rules"`
	ReminderDays *int                   `json:"reminder_days"`
}

// settings validates the input for a programme of year and fills the
// defaults, naming every field at fault.
func (in SettingsInput) settings(year int) (Settings, error) {
	s := Settings{Timezone: "UTC", StartTime: defaultStartTime, Duration: orchestrator.Duration(defaultDrillLength),
		MaxPerWeek: defaultMaxPerWeek, ReminderDays: defaultReminderDays,
		Blackouts: nonNilStrings(in.Blackouts), Holidays: nonNilStrings(in.Holidays), Freezes: in.Freezes, Rules: in.Rules}
	if s.Freezes == nil {
		s.Freezes = []Freeze{}
	}
	if s.Rules == nil {
		s.Rules = []Rule{}
	}
	var v orchestrator.Validation
	if in.Timezone != nil {
		s.Timezone = *in.Timezone
	}
	loc, err := loadZone(s.Timezone)
	if err != nil {
		v.Add("timezone", "%s", err)
		loc = time.UTC
	}
	if in.StartTime != nil {
		s.StartTime = *in.StartTime
	}
	at, err := parseClock(s.StartTime)
	if err != nil {
		v.Add("start_time", "%s", err)
	}
	if in.Duration != nil {
		s.Duration = *in.Duration
	}
	if s.Duration < orchestrator.Duration(15*time.Minute) || s.Duration > orchestrator.Duration(72*time.Hour) {
		v.Add("duration", "must be between 15m and 72h")
	}
	if in.MaxPerWeek != nil {
		s.MaxPerWeek = *in.MaxPerWeek
	}
	if s.MaxPerWeek < 1 || s.MaxPerWeek > maxMaxPerWeek {
		v.Add("max_per_week", "must be between 1 and %d", maxMaxPerWeek)
	}
	if in.ReminderDays != nil {
		s.ReminderDays = *in.ReminderDays
	}
	if s.ReminderDays < 0 || s.ReminderDays > maxReminderDays {
		v.Add("reminder_days", "must be between 0 and %d", maxReminderDays)
	}
	checkDates(&v, "blackouts", s.Blackouts)
	checkDates(&v, "holidays", s.Holidays)
	if len(s.Freezes) > maxFreezes {
		v.Add("freezes", "at most %d", maxFreezes)
	} else {
		for i, f := range s.Freezes {
			field := fmt.Sprintf("freezes[%d]", i)
			from, err1 := parseDate(f.From)
			to, err2 := parseDate(f.To)
			if err1 != nil {
				v.Add(field+".from", "%s", err1)
			}
			if err2 != nil {
				v.Add(field+".to", "%s", err2)
			}
			if err1 == nil && err2 == nil && to.Before(from) {
				v.Add(field+".to", "must not be before from (%s)", f.From)
			}
			checkText(&v, field+".reason", f.Reason, maxTitle, false)
		}
	}
	checkRules(&v, s.Rules, year, loc, at)
	return s, v.Err()
}

// checkRules validates each rule, expanding it in year to catch a DTSTART
// out of range.
func checkRules(v *orchestrator.Validation, rules []Rule, year int, loc *time.Location, at clock) {
	if len(rules) > maxRules {
		v.Add("rules", "at most %d", maxRules)
		return
	}
	for i, r := range rules {
		field := fmt.Sprintf("rules[%d]", i)
		if r.Tier != nil && (*r.Tier < 0 || *r.Tier > 4) {
			v.Add(field+".tier", "must be between 0 and 4")
		}
		if r.Type != "" && !slices.Contains(Types, r.Type) {
			v.Add(field+".type", "must be one of %s", strings.Join(Types, ", "))
		}
		switch {
		case (r.RRule == "") == (r.Date == ""):
			v.Add(field+".rrule", "give either rrule (an RFC 5545 rule such as FREQ=YEARLY;BYMONTH=3,9;BYDAY=1TU) or date")
		case r.Date != "":
			if _, err := parseDate(r.Date); err != nil {
				v.Add(field+".date", "%s", err)
			}
		default:
			rec, err := parseRecurrence(r.RRule, loc)
			if err == nil {
				_, err = rec.expand(year, loc, at)
			}
			if err != nil {
				v.Add(field+".rrule", "%s", err)
			}
		}
	}
}

// checkDates validates a list of dates.
func checkDates(v *orchestrator.Validation, field string, dates []string) {
	if len(dates) > maxDates {
		v.Add(field, "at most %d dates", maxDates)
		return
	}
	for i, d := range dates {
		if _, err := parseDate(d); err != nil {
			v.Add(fmt.Sprintf("%s[%d]", field, i), "%s", err)
		}
	}
}

// parseDate reads a calendar date YYYY-MM-DD.
func parseDate(s string) (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("must be a date YYYY-MM-DD, not %q", orchestrator.Excerpt(s, 40))
	}
	return d, nil
}

// loadZone resolves an IANA zone name; "Local" would differ per replica.
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || len(name) > 64 || strings.Contains(name, "..") {
		return nil, fmt.Errorf("unknown time zone %q (use an IANA name such as Europe/London or UTC)", orchestrator.Excerpt(name, 64))
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q (use an IANA name such as Europe/London or UTC)", orchestrator.Excerpt(name, 64))
	}
	return loc, nil
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
