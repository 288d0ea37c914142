package drills

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// expandRule parses and expands a rule at 09:00.
func expandRule(t *testing.T, rule string, year int, loc *time.Location) []time.Time {
	t.Helper()
	rec, err := parseRecurrence(rule, loc)
	require.NoError(t, err, rule)
	got, err := rec.expand(year, loc, clock{9, 0})
	require.NoError(t, err, rule)
	for _, g := range got {
		local := g.In(loc)
		require.Equal(t, [2]int{9, 0}, [2]int{local.Hour(), local.Minute()}, "%s: %s keeps its local start", rule, g)
		require.Equal(t, year, local.Year(), "%s: %s lies in %d", rule, g, year)
	}
	return got
}

func utcTimes(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.UTC().Format(time.RFC3339)
	}
	return out
}

func TestRecurrenceAcrossDaylightSaving(t *testing.T) {
	t.Parallel()
	london := mustZone(t, "Europe/London")
	// The first Tuesday of March is in GMT, of September in BST: the same
	// 09:00 local is 09:00 and 08:00 UTC.
	got := expandRule(t, "FREQ=YEARLY;BYMONTH=3,9;BYDAY=1TU", 2026, london)
	require.Equal(t, []string{"2026-03-03T09:00:00Z", "2026-09-01T08:00:00Z"}, utcTimes(got))

	// Weekly on Mondays through the London spring-forward (29 March) and
	// fall-back (25 October) weekends.
	got = expandRule(t, "FREQ=WEEKLY;BYDAY=MO;BYMONTH=3,10,11", 2026, london)
	require.Contains(t, utcTimes(got), "2026-03-23T09:00:00Z")
	require.Contains(t, utcTimes(got), "2026-03-30T08:00:00Z")
	require.Contains(t, utcTimes(got), "2026-10-19T08:00:00Z")
	require.Contains(t, utcTimes(got), "2026-10-26T09:00:00Z")

	// The last Friday of each month in New York, where DST runs from 8
	// March to 1 November 2026.
	ny := mustZone(t, "America/New_York")
	got = expandRule(t, "RRULE:FREQ=MONTHLY;BYDAY=-1FR", 2026, ny)
	require.Len(t, got, 12)
	require.Equal(t, "2026-01-30T14:00:00Z", utcTimes(got)[0])
	require.Equal(t, "2026-03-27T13:00:00Z", utcTimes(got)[2])
	require.Equal(t, "2026-10-30T13:00:00Z", utcTimes(got)[9])
	require.Equal(t, "2026-11-27T14:00:00Z", utcTimes(got)[10])
	for _, g := range got {
		local := g.In(ny)
		require.Equal(t, time.Friday, local.Weekday())
		require.NotEqual(t, local.Month(), local.AddDate(0, 0, 7).Month(), "%s is the last Friday", local)
	}
}

func TestRecurrenceAcrossYearEnd(t *testing.T) {
	t.Parallel()
	london := mustZone(t, "Europe/London")
	// Every other Tuesday from 23 December 2025: the phase carries over
	// 31 December, so 2026 starts on 6 January, not the 13th or the 30th.
	got := expandRule(t, "DTSTART:20251223\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", 2026, london)
	require.Len(t, got, 26)
	require.Equal(t, "2026-01-06T09:00:00Z", utcTimes(got)[0])
	require.Equal(t, "2026-01-20T09:00:00Z", utcTimes(got)[1])
	require.Equal(t, "2026-12-22T09:00:00Z", utcTimes(got)[25])

	// COUNT counts from DTSTART across the year end: of three last
	// Fridays from November 2025, only January's falls in 2026.
	got = expandRule(t, "DTSTART;TZID=Europe/London:20251101T090000\nFREQ=MONTHLY;BYDAY=-1FR;COUNT=3", 2026, london)
	require.Equal(t, []string{"2026-01-30T09:00:00Z"}, utcTimes(got))

	// A quarterly rule anchored in November 2025 lands in February,
	// May, August and November 2026.
	got = expandRule(t, "DTSTART:20251115\nFREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15", 2026, london)
	require.Equal(t, []string{"2026-02-15T09:00:00Z", "2026-05-15T08:00:00Z", "2026-08-15T08:00:00Z", "2026-11-15T09:00:00Z"}, utcTimes(got))

	// The last weekday of the year, and nothing of the next.
	got = expandRule(t, "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=-1", 2026, london)
	require.Equal(t, []string{"2026-12-31T09:00:00Z"}, utcTimes(got))

	// UNTIL given as a date includes that date.
	got = expandRule(t, "FREQ=WEEKLY;BYDAY=MO;UNTIL=20260112", 2026, london)
	require.Equal(t, []string{"2026-01-05T09:00:00Z", "2026-01-12T09:00:00Z"}, utcTimes(got))
}

func TestRecurrenceRefusals(t *testing.T) {
	t.Parallel()
	for rule, want := range map[string]string{
		"FREQ=HOURLY":                             "FREQ must be one of",
		"FREQ=YEARLY;BYHOUR=9":                    "BYHOUR is not allowed",
		"BYMONTH=3":                               "FREQ must be one of",
		"FREQ=YEARLY;BYMONTH=13":                  "bymonth",
		"FREQ=YEARLY;BYDAY=9XX":                   "",
		"garbage":                                 "FREQ must be one of",
		"FREQ=YEARLY;COUNT=5000":                  "COUNT must be between",
		"a\nb\nc":                                 "must be a rule line",
		"X:1\nFREQ=YEARLY":                        "DTSTART",
		"DTSTART:2026-03-01\nFREQ=YEARLY":         "is not a date",
		"FREQ=YEARLY;" + strings.Repeat("x", 600): "at most 500 bytes",
		"FREQ=YEARLY;DTSTART=20260101":            "DTSTART is not allowed",
		"FREQ=YEARLY;BYSETPOS=1;FOO=1":            "unknown RRULE property",
		"FREQ=MONTHLY;BYDAY=8FR":                  "from -5 to 5",
		"FREQ=WEEKLY;BYDAY=1MO":                   "monthly and yearly rules only",
	} {
		_, err := parseRecurrence(rule, time.UTC)
		require.Error(t, err, rule)
		require.Contains(t, strings.ToLower(err.Error()), strings.ToLower(want), rule)
	}
	rec, err := parseRecurrence("DTSTART:20100101\nFREQ=YEARLY", time.UTC)
	require.NoError(t, err)
	_, err = rec.expand(2026, time.UTC, clock{9, 0})
	require.ErrorContains(t, err, "DTSTART must lie")
}

func FuzzParseRecurrence(f *testing.F) {
	for _, s := range []string{"FREQ=YEARLY;BYMONTH=3,9;BYDAY=1TU", "DTSTART:20251223\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
		"FREQ=MONTHLY;BYDAY=-1FR;COUNT=3", "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "FREQ=YEARLY;BYSETPOS=-1;BYDAY=MO,TU"} {
		f.Add(s)
	}
	loc := mustZone(f, "Europe/London")
	f.Fuzz(func(t *testing.T, s string) {
		rec, err := parseRecurrence(s, loc)
		if err != nil {
			return
		}
		got, err := rec.expand(2026, loc, clock{9, 0})
		if err != nil {
			return
		}
		for _, g := range got {
			if g.In(loc).Year() != 2026 {
				t.Fatalf("%q gave %s outside 2026", s, g)
			}
		}
	})
}
