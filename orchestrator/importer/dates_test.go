package importer

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDatesAsExported(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 5, 14, 22, 10, 0, time.UTC)
	for _, tc := range []struct{ format, cell string }{
		{"", "2025-03-05 14:22:10"},
		{"", "2025-03-05T14:22:10Z"},
		{"", "2025-03-05T22:22:10+08:00"},
		{"", "2025-03-05T15:22:10.000+0100"},
		{"", "2025/03/05 14:22:10"},
		{"", "2025-03-05 14:22:10 UTC"},
		{"mdy", "03-05-2025 14:22:10"},
		{"dmy", "05/03/2025 14:22:10"},
		{"mdy", "3/5/2025 2:22:10 PM"},
		{"dmy", "05.03.2025 14:22:10"},
		{"02.01.2006 15:04:05", "05.03.2025 14:22:10"},
		{"02.01.2006 15:04:05", "2025-03-05 14:22:10"},
	} {
		d, err := newDateReader(tc.format, "")
		require.NoError(t, err)
		got, err := d.parse(tc.cell, "opened_at", 1)
		require.NoError(t, err, "%s %s", tc.format, tc.cell)
		require.Equal(t, at, got, "%s %s", tc.format, tc.cell)
	}
	d, err := newDateReader("dmy", "Asia/Shanghai")
	require.NoError(t, err)
	got, err := d.parse("05/03/2025 22:22", "opened_at", 1)
	require.NoError(t, err)
	require.Equal(t, at.Add(-10*time.Second), got, "times without a zone are in the timezone option's")
	got, err = d.parse("2025-03-05T14:22:10Z", "opened_at", 1)
	require.NoError(t, err)
	require.Equal(t, at, got, "a zone written in the cell wins")
}

func TestDatesDetected(t *testing.T) {
	t.Parallel()
	d, err := newDateReader("", "")
	require.NoError(t, err)
	_, err = d.parse("05/03/2025 14:22", "opened_at", 1)
	require.ErrorIs(t, err, errAmbiguousDate)
	got, err := d.parse("07/07/2025 09:00", "opened_at", 2)
	require.NoError(t, err, "the same number twice reads alike either way")
	require.Equal(t, time.Date(2025, 7, 7, 9, 0, 0, 0, time.UTC), got)
	got, err = d.parse("25/03/2025 14:22", "closed_at", 3)
	require.NoError(t, err)
	require.Equal(t, time.Date(2025, 3, 25, 14, 22, 0, 0, time.UTC), got)
	got, err = d.parse("05/03/2025 14:22", "opened_at", 4)
	require.NoError(t, err, "decided by row 3")
	require.Equal(t, time.Date(2025, 3, 5, 14, 22, 0, 0, time.UTC), got)
	_, err = d.parse("03/25/2025 14:22", "opened_at", 5)
	require.ErrorContains(t, err, "25/03/2025 14:22 in row 3, column closed_at")
}

func TestDatesRefused(t *testing.T) {
	t.Parallel()
	for _, cell := range []string{"yesterday", "2025-02-30", "2025-03-05 25:00", "13/13/2025", "3/5/2025 14:22 PM", "2025-03-05 14:22 +25:00", "5/3/25"} {
		d, err := newDateReader("", "")
		require.NoError(t, err)
		_, err = d.parse(cell, "opened_at", 1)
		require.Error(t, err, cell)
		require.False(t, errors.Is(err, errAmbiguousDate), cell)
	}
	for format, field := range map[string]string{"tomorrow": "date_format", "15:04": "date_format"} {
		_, err := newDateReader(format, "")
		require.ErrorContains(t, err, "date_format", field)
	}
	_, err := newDateReader("", "Mars/Olympus")
	require.ErrorContains(t, err, "IANA")
}

// FuzzDates checks that any cell either reads as a time in the years a
// four-digit year allows or is refused with a message, in every order.
func FuzzDates(f *testing.F) {
	for _, s := range []string{"2025-03-05 14:22:10", "3/5/2025 2:22 PM", "05.03.2025 14:22", "2025-03-05T14:22:10.123456789123+08:00", "1/1/0000 12:00 am", "9999-12-31 23:59:59 GMT"} {
		f.Add(s, "")
		f.Add(s, "dmy")
	}
	f.Fuzz(func(t *testing.T, cell, format string) {
		d, err := newDateReader(format, "")
		if err != nil {
			return
		}
		got, err := d.parse(cell, "at", 1)
		if err != nil {
			require.NotEmpty(t, err.Error())
			return
		}
		if d.layout == "" {
			require.True(t, got.Year() >= -1 && got.Year() <= 10000, "%q read as %v", cell, got)
			require.False(t, strings.ContainsAny(cell, "\n\x00"), "%q read as %v", cell, got)
		}
	})
}
