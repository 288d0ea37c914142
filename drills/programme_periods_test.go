package drills

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// daysOf lists a mask's days as MM-DD.
func daysOf(set dayset, year int) []string {
	var out []string
	for i := range daysIn(year) {
		if set.has(i) {
			out = append(out, time.Date(year, 1, 1+i, 0, 0, 0, 0, time.UTC).Format("01-02"))
		}
	}
	return out
}

func TestCriticalPeriods(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text       string
		count      int
		has, hasNo []string
	}{
		// The demo's two forms.
		{text: "每月1-15日申报征期 monthly filing period, days 1-15", count: 12 * 15, has: []string{"01-01", "02-15", "12-15"}, hasNo: []string{"01-16", "12-31"}},
		{text: "年度汇算清缴 annual reconciliation, March-June", count: 31 + 30 + 31 + 30, has: []string{"03-01", "06-30"}, hasNo: []string{"02-28", "07-01"}},
		{text: "Nov to Feb", count: 30 + 31 + 31 + 28, has: []string{"01-15", "11-01", "12-31"}, hasNo: []string{"03-01", "10-31"}},
		{text: "3-5月 春季", count: 31 + 30 + 31},
		{text: "March, September, days 25-31", count: 13, has: []string{"03-25", "09-30"}, hasNo: []string{"09-24", "04-25"}},
		{text: "month-end close", count: 12 * monthEndDays, has: []string{"01-27", "02-24", "02-28"}, hasNo: []string{"01-26", "02-23"}},
		{text: "季末 quarter-end", count: 4 * monthEndDays, has: []string{"03-31", "12-27"}, hasNo: []string{"04-30"}},
		{text: "Black Friday 2026-11-27, peak 2026-12-20..2026-12-24", count: 6, has: []string{"11-27", "12-20", "12-24"}},
		{text: "2025-12-30..2026-01-02 and 1900-01-01..9999-12-31", count: 365},
	} {
		p, ok := parsePeriod(tc.text)
		require.True(t, ok, tc.text)
		days := daysOf(p.mask(2026), 2026)
		require.Len(t, days, tc.count, tc.text)
		for _, d := range tc.has {
			require.Contains(t, days, d, tc.text)
		}
		for _, d := range tc.hasNo {
			require.NotContains(t, days, d, tc.text)
		}
	}
	for _, text := range []string{"black friday", "peak season", "", "每月申报"} {
		_, ok := parsePeriod(text)
		require.False(t, ok, text)
	}
}
