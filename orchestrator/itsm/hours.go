package itsm

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Window is a weekly window of business hours: on each of Days ("mon" ...
// "sun"), from Start to End as "HH:MM" local time; End may be "24:00".
// This is the shape business services store in business_hours.
type Window struct {
	Days  []string `json:"days"`
	Start string   `json:"start"`
	End   string   `json:"end"`
}

// BusinessHours are weekly windows in a time zone.
type BusinessHours struct {
	Location *time.Location
	Windows  []Window
}

var weekdays = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} // indexed by time.Weekday

// ParseBusinessHours reads a service's IANA time zone and its business_hours
// JSON (a list of windows).
func ParseBusinessHours(timezone string, windows []byte) (BusinessHours, error) {
	if timezone == "" {
		timezone = "UTC"
	}
	loc, err := time.LoadLocation(timezone)
	if err != nil {
		return BusinessHours{}, fmt.Errorf("business hours: unknown time zone %q", timezone)
	}
	b := BusinessHours{Location: loc}
	if len(windows) > 0 {
		if err := json.Unmarshal(windows, &b.Windows); err != nil {
			return BusinessHours{}, fmt.Errorf("business hours: %w", err)
		}
	}
	for i, w := range b.Windows {
		start, okStart := clockMinutes(w.Start)
		end, okEnd := clockMinutes(w.End)
		if !okStart || !okEnd || end <= start {
			return BusinessHours{}, fmt.Errorf("business hours: window %d: need HH:MM start before end, got %q-%q", i, w.Start, w.End)
		}
		for _, d := range w.Days {
			if !slices.Contains(weekdays[:], d) {
				return BusinessHours{}, fmt.Errorf("business hours: window %d: unknown day %q", i, d)
			}
		}
	}
	return b, nil
}

// clockMinutes reads "HH:MM" (00:00 to 24:00) as minutes after midnight.
func clockMinutes(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, errH := strconv.Atoi(s[:2])
	m, errM := strconv.Atoi(s[3:])
	if errH != nil || errM != nil || h < 0 || m < 0 || h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

// Spans returns the business-hours intervals within [from, to), sorted and
// disjoint. Windows are laid out on local calendar days, so a day on which
// clocks change is as long in business hours as its wall-clock window
// really lasts (an 00:00-24:00 window is 23 h on the spring-forward day).
func (b BusinessHours) Spans(from, to time.Time) []Interval {
	loc := b.Location
	if loc == nil {
		loc = time.UTC
	}
	var out []Interval
	y, m, d := from.In(loc).Date()
	for day := time.Date(y, m, d, 0, 0, 0, 0, loc); day.Before(to); {
		name := weekdays[day.Weekday()]
		for _, w := range b.Windows {
			if !slices.Contains(w.Days, name) {
				continue
			}
			start, _ := clockMinutes(w.Start)
			end, _ := clockMinutes(w.End)
			iv := Interval{Start: localTime(y, m, d, start, loc), End: localTime(y, m, d, end, loc)}
			if c, ok := iv.Clip(from, to); ok {
				out = append(out, c)
			}
		}
		day = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
		y, m, d = day.Date()
	}
	return Union(out)
}

// Overlap is how much of [from, to) lies within business hours.
func (b BusinessHours) Overlap(from, to time.Time) time.Duration {
	return Total(b.Spans(from, to))
}

// localTime is minutes after midnight of a local calendar day; 24:00 is the
// next midnight.
func localTime(y int, m time.Month, d, minutes int, loc *time.Location) time.Time {
	return time.Date(y, m, d, minutes/60, minutes%60, 0, 0, loc)
}
