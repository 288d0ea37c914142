package itsm

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestBusinessHoursOverlap(t *testing.T) {
	t.Parallel()
	weekdays := []string{"mon", "tue", "wed", "thu", "fri"}
	office := []Window{{Days: weekdays, Start: "08:00", End: "18:00"}}
	berlin, shanghai := mustLoc(t, "Europe/Berlin"), mustLoc(t, "Asia/Shanghai")
	cases := []struct {
		name     string
		hours    BusinessHours
		from, to time.Time
		want     time.Duration
	}{
		{"across a weekend", BusinessHours{Windows: office},
			utc("2026-01-02T12:00:00Z"), utc("2026-01-05T10:00:00Z"), 6*time.Hour + 2*time.Hour},
		{"whole week in Shanghai", BusinessHours{Location: shanghai, Windows: []Window{{Days: weekdays, Start: "09:00", End: "17:00"}}},
			time.Date(2026, 1, 5, 0, 0, 0, 0, shanghai), time.Date(2026, 1, 12, 0, 0, 0, 0, shanghai), 40 * time.Hour},
		{"period starts on the previous UTC day", BusinessHours{Location: shanghai, Windows: []Window{{Days: []string{"mon"}, Start: "09:00", End: "17:00"}}},
			utc("2026-01-04T20:00:00Z"), utc("2026-01-05T02:00:00Z"), time.Hour},
		{"spring-forward day is 23 hours", BusinessHours{Location: berlin, Windows: []Window{{Days: []string{"sun"}, Start: "00:00", End: "24:00"}}},
			time.Date(2026, 3, 29, 0, 0, 0, 0, berlin), time.Date(2026, 3, 30, 0, 0, 0, 0, berlin), 23 * time.Hour},
		{"fall-back day is 25 hours", BusinessHours{Location: berlin, Windows: []Window{{Days: []string{"sun"}, Start: "00:00", End: "24:00"}}},
			time.Date(2026, 10, 25, 0, 0, 0, 0, berlin), time.Date(2026, 10, 26, 0, 0, 0, 0, berlin), 25 * time.Hour},
		// Office hours start at 06:00Z in summer time and 07:00Z after the clocks go back.
		{"friday before fall-back (CEST)", BusinessHours{Location: berlin, Windows: office},
			utc("2026-10-23T06:30:00Z"), utc("2026-10-23T07:30:00Z"), time.Hour},
		{"monday after fall-back (CET)", BusinessHours{Location: berlin, Windows: office},
			utc("2026-10-26T06:30:00Z"), utc("2026-10-26T07:30:00Z"), 30 * time.Minute},
		{"week across fall-back", BusinessHours{Location: berlin, Windows: office},
			time.Date(2026, 10, 23, 0, 0, 0, 0, berlin), time.Date(2026, 10, 27, 0, 0, 0, 0, berlin), 20 * time.Hour},
		{"window to midnight", BusinessHours{Windows: []Window{{Days: []string{"sat"}, Start: "22:00", End: "24:00"}}},
			utc("2026-01-03T23:00:00Z"), utc("2026-01-04T05:00:00Z"), time.Hour},
		{"overlapping windows count once", BusinessHours{Windows: []Window{{Days: []string{"mon"}, Start: "08:00", End: "12:00"}, {Days: []string{"mon"}, Start: "10:00", End: "14:00"}}},
			utc("2026-01-05T00:00:00Z"), utc("2026-01-06T00:00:00Z"), 6 * time.Hour},
		{"no windows", BusinessHours{}, utc("2026-01-05T00:00:00Z"), utc("2026-01-12T00:00:00Z"), 0},
		{"empty period", BusinessHours{Windows: office}, utc("2026-01-05T12:00:00Z"), utc("2026-01-05T12:00:00Z"), 0},
		{"reversed period", BusinessHours{Windows: office}, utc("2026-01-06T12:00:00Z"), utc("2026-01-05T12:00:00Z"), 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tc.hours.Overlap(tc.from, tc.to))
		})
	}
}

func TestParseBusinessHours(t *testing.T) {
	t.Parallel()
	bh, err := ParseBusinessHours("Asia/Shanghai", []byte(`[{"days":["mon","fri"],"start":"09:00","end":"24:00"}]`))
	require.NoError(t, err)
	require.Equal(t, "Asia/Shanghai", bh.Location.String())
	require.Len(t, bh.Windows, 1)

	bh, err = ParseBusinessHours("", nil)
	require.NoError(t, err)
	require.Equal(t, time.UTC, bh.Location)

	for name, tc := range map[string]struct{ tz, windows string }{
		"unknown zone":   {"Mars/Olympus", `[]`},
		"not a list":     {"UTC", `{"days":["mon"]}`},
		"bad day":        {"UTC", `[{"days":["monday"],"start":"08:00","end":"18:00"}]`},
		"end before":     {"UTC", `[{"days":["mon"],"start":"18:00","end":"08:00"}]`},
		"bad clock":      {"UTC", `[{"days":["mon"],"start":"8am","end":"18:00"}]`},
		"past midnight":  {"UTC", `[{"days":["mon"],"start":"08:00","end":"24:30"}]`},
		"negative clock": {"UTC", `[{"days":["mon"],"start":"-1:00","end":"18:00"}]`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseBusinessHours(tc.tz, []byte(tc.windows))
			require.Error(t, err)
		})
	}
}

// FuzzBusinessHours checks that any windows that parse give an overlap
// between zero and the period's length, and never panic.
func FuzzBusinessHours(f *testing.F) {
	f.Add("Europe/Berlin", `[{"days":["mon","sun"],"start":"00:00","end":"24:00"}]`, int64(1774742400), int64(86400*9))
	f.Add("UTC", `[{"days":["sat"],"start":"22:00","end":"23:59"}]`, int64(0), int64(3600))
	f.Fuzz(func(t *testing.T, tz, windows string, start, length int64) {
		bh, err := ParseBusinessHours(tz, []byte(windows))
		if err != nil || length < 0 || length > 86400*400 || start < -1e10 || start > 1e10 {
			return
		}
		from := time.Unix(start, 0)
		to := from.Add(time.Duration(length) * time.Second)
		got := bh.Overlap(from, to)
		require.GreaterOrEqual(t, got, time.Duration(0))
		require.LessOrEqual(t, got, to.Sub(from))
	})
}
