package drills

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// Bounds on the recurring rules of a programme. A rule that never matches
// makes the rule library scan to the year 9999 before it gives up (about
// 30 ms for a weekly rule, 100 ms for a daily one on this machine), so the
// number of rules is small and sub-daily frequencies are refused.
const (
	maxRules     = 20
	maxRuleBytes = 500
	// maxAnchorYears is how far before the programme year a rule's DTSTART
	// may lie.
	maxAnchorYears = 10
)

// Rule gives the preferred dates of the programme entries it matches: an
// RFC 5545 recurrence (RRule, e.g. "FREQ=YEARLY;BYMONTH=3,9;BYDAY=1TU",
// the first Tuesday of March and September) or one date (Date,
// "2026-03-03"). Tier and Type narrow the entries it applies to; a rule
// naming neither applies to every entry.
type Rule struct {
	Tier  *int   `json:"tier,omitempty"`
	Type  string `json:"type,omitempty"`
	RRule string `json:"rrule,omitempty"`
	Date  string `json:"date,omitempty"`
}

// applies reports whether the rule governs an entry of tier and type.
func (r Rule) applies(tier int, typ string) bool {
	return (r.Tier == nil || *r.Tier == tier) && (r.Type == "" || r.Type == typ)
}

// recurrence is a parsed RRULE: its options without a start, and the date
// its DTSTART line anchors INTERVAL and COUNT to (zero: 1 January of the
// programme year).
type recurrence struct {
	opt    rrule.ROption
	anchor time.Time
}

// Frequencies a drill rule may have; a drill more often than daily makes
// no sense, and the time of day is the programme's start_time.
var ruleFreqs = []string{"YEARLY", "MONTHLY", "WEEKLY", "DAILY"}

// ruleKeysRefused are RRULE parts that set a time of day or a start inside
// the rule line, which the programme settings own.
var ruleKeysRefused = []string{"BYHOUR", "BYMINUTE", "BYSECOND", "DTSTART"}

// parseRecurrence reads an RRULE as a calendar writes it: the rule line
// ("FREQ=..." or "RRULE:FREQ=..."), optionally after a line
// "DTSTART:YYYYMMDD" or "DTSTART;TZID=Zone:YYYYMMDDTHHMMSS" that anchors
// INTERVAL and COUNT. Only the DTSTART's date is used: drills start at the
// programme's start_time in its time zone. UNTIL without a zone is read in
// loc.
func parseRecurrence(s string, loc *time.Location) (rec recurrence, err error) {
	if len(s) > maxRuleBytes {
		return rec, fmt.Errorf("must be at most %d bytes", maxRuleBytes)
	}
	lines := strings.FieldsFunc(strings.TrimSpace(s), func(r rune) bool { return r == '\n' || r == '\r' })
	var line string
	switch len(lines) {
	case 1:
		line = lines[0]
	case 2:
		if rec.anchor, err = parseDTStart(lines[0]); err != nil {
			return rec, err
		}
		line = lines[1]
	default:
		return rec, errors.New("must be a rule line (FREQ=...), optionally after a DTSTART line")
	}
	line = strings.ToUpper(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "RRULE:")))
	freq := ""
	for _, part := range strings.Split(line, ";") {
		key, value, _ := strings.Cut(part, "=")
		if slices.Contains(ruleKeysRefused, key) {
			return rec, fmt.Errorf("%s is not allowed: drills start at the programme's start_time; anchor the rule with a DTSTART line", key)
		}
		if key == "FREQ" {
			freq = value
		}
	}
	if !slices.Contains(ruleFreqs, freq) {
		return rec, fmt.Errorf("FREQ must be one of %s", strings.Join(ruleFreqs, ", "))
	}
	opt, err := parseROption(line, loc)
	if err != nil {
		return rec, err
	}
	if opt.Interval < 0 || opt.Interval > 100 {
		return rec, errors.New("INTERVAL must be between 1 and 100")
	}
	if opt.Count < 0 || opt.Count > 1000 {
		return rec, errors.New("COUNT must be between 1 and 1000")
	}
	// RFC 5545 3.3.10: a BYDAY ordinal counts weeks within the month (at
	// most 5) or the year (at most 53); the library panics beyond that.
	limit := map[rrule.Frequency]int{rrule.MONTHLY: 5, rrule.YEARLY: 53}[opt.Freq]
	for _, d := range opt.Byweekday {
		switch n := d.N(); {
		case n != 0 && limit == 0:
			return rec, fmt.Errorf("BYDAY ordinal %d: ordinals are for monthly and yearly rules only", n)
		case n > limit || n < -limit:
			return rec, fmt.Errorf("BYDAY ordinal %d: within a %s rule it must be from -%d to %d", n, strings.ToLower(freq), limit, limit)
		}
	}
	rec.opt = *opt
	return rec, nil
}

// parseROption runs the rule library's parser and bounds check, turning a
// panic on hostile input into an error.
func parseROption(line string, loc *time.Location) (opt *rrule.ROption, err error) {
	defer func() {
		if v := recover(); v != nil {
			opt, err = nil, fmt.Errorf("cannot parse %q", line)
		}
	}()
	opt, err = rrule.StrToROptionInLocation(line, loc)
	if err != nil {
		return nil, err
	}
	probe := *opt
	probe.Dtstart = time.Date(2000, 1, 1, 0, 0, 0, 0, loc)
	if _, err := rrule.NewRRule(probe); err != nil {
		return nil, err
	}
	return opt, nil
}

// parseDTStart reads the date of a DTSTART line; its time and zone are
// ignored (see parseRecurrence).
func parseDTStart(line string) (time.Time, error) {
	name, value, ok := strings.Cut(strings.TrimSpace(line), ":")
	if !ok || !(name == "DTSTART" || strings.HasPrefix(name, "DTSTART;")) || len(value) < 8 {
		return time.Time{}, errors.New("the first of two lines must be DTSTART:YYYYMMDD or DTSTART;TZID=Zone:YYYYMMDDTHHMMSS")
	}
	d, err := time.Parse("20060102", value[:8])
	if err != nil {
		return time.Time{}, fmt.Errorf("DTSTART %q is not a date YYYYMMDD", value)
	}
	return d, nil
}

// expand returns the rule's occurrences in year as drill starts: each date
// at the clock time at in loc, so a rule keeps its local start time across
// daylight-saving changes.
func (r recurrence) expand(year int, loc *time.Location, at clock) ([]time.Time, error) {
	anchor := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	if !r.anchor.IsZero() {
		anchor = r.anchor
	}
	if anchor.Year() < year-maxAnchorYears || anchor.Year() > year {
		return nil, fmt.Errorf("DTSTART must lie in the programme year or up to %d years before it", maxAnchorYears)
	}
	opt := r.opt
	if u := opt.Until; !u.IsZero() && u.Hour() == 0 && u.Minute() == 0 && u.Second() == 0 {
		// UNTIL given as a date includes that date (RFC 5545 3.3.10).
		opt.Until = u.Add(24*time.Hour - time.Second)
	}
	opt.Dtstart = time.Date(anchor.Year(), anchor.Month(), anchor.Day(), at.hour, at.minute, 0, 0, loc)
	rule, err := rrule.NewRRule(opt)
	if err != nil {
		return nil, err
	}
	from := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
	return rule.Between(from, from.AddDate(1, 0, 0), false), nil
}

// clock is a time of day.
type clock struct{ hour, minute int }

// parseClock reads "HH:MM".
func parseClock(s string) (clock, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return clock{}, errors.New("must be a time of day HH:MM, e.g. 09:00")
	}
	return clock{t.Hour(), t.Minute()}, nil
}

func (c clock) String() string { return fmt.Sprintf("%02d:%02d", c.hour, c.minute) }
