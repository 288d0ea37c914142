package scheduler

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

func TestParseCron(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		expr, zone string
		next       time.Time // zero when an error is expected
		field      string
		message    string
	}{
		{"*/5 * * * *", "UTC", from.Add(5 * time.Minute), "", ""},
		{"0 3 * * *", "Europe/Berlin", time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), "", ""}, // 03:00 CEST, just after the switch
		{"@daily", "America/New_York", time.Date(2026, 3, 29, 4, 0, 0, 0, time.UTC), "", ""},
		{"@hourly", "UTC", from.Add(time.Hour), "", ""},
		{"@every 90m", "UTC", from.Add(90 * time.Minute), "", ""},
		{"0 9 * * MON-FRI", "Asia/Shanghai", time.Date(2026, 3, 30, 1, 0, 0, 0, time.UTC), "", ""},
		{"61 * * * *", "UTC", time.Time{}, "cron", "end of range (61) above maximum (59)"},
		{"* * * *", "UTC", time.Time{}, "cron", "expected exactly 5 fields, found 4"},
		{"0 0 0 * * *", "UTC", time.Time{}, "cron", "expected exactly 5 fields, found 6"},
		{"@fortnightly", "UTC", time.Time{}, "cron", "unrecognized descriptor"},
		{"@every 10s", "UTC", time.Time{}, "cron", "at least 1m"},
		{"0 0 31 2 *", "UTC", time.Time{}, "cron", "never fires"},
		{"", "UTC", time.Time{}, "cron", "is required"},
		{"TZ=UTC * * * * *", "UTC", time.Time{}, "cron", "use the timezone field"},
		{"CRON_TZ=Europe/Paris", "UTC", time.Time{}, "cron", "use the timezone field"},
		{"*/0 * * * *", "UTC", time.Time{}, "cron", "step of range should be a positive number"},
		{"* * * * *; DROP TABLE schedules", "UTC", time.Time{}, "cron", "expected exactly 5 fields"},
		{"*\n* * * *", "UTC", time.Time{}, "cron", "printable"},
		{"* * * * *", "Mars/Olympus_Mons", time.Time{}, "timezone", "unknown time zone"},
		{"* * * * *", "../../etc/passwd", time.Time{}, "timezone", "unknown time zone"},
		{"* * * * *", "Local", time.Time{}, "timezone", "unknown time zone"},
		{"* * * * *", "", time.Time{}, "timezone", "is required"},
	}
	for _, c := range cases {
		t.Run(c.expr+"/"+c.zone, func(t *testing.T) {
			spec, err := ParseCron(c.expr, c.zone)
			if c.field == "" {
				require.NoError(t, err)
				require.Equal(t, c.next, spec.Next(from).UTC())
				return
			}
			require.Error(t, err)
			require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
			fields := orchestrator.ErrorFields(err)
			require.Len(t, fields, 1)
			require.Equal(t, c.field, fields[0].Field)
			require.Contains(t, fields[0].Message, c.message)
		})
	}
}

// A zone's daylight-saving switch moves the UTC instant of a local-time
// schedule. robfig/cron skips a firing whose local time does not exist:
// 02:30 on 29 March 2026 in Berlin never happens, so that day has none.
func TestParseCronFollowsDaylightSaving(t *testing.T) {
	t.Parallel()
	spec, err := ParseCron("30 2 * * *", "Europe/Berlin")
	require.NoError(t, err)
	before := spec.Next(time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC))
	require.Equal(t, time.Date(2026, 3, 28, 1, 30, 0, 0, time.UTC), before.UTC())
	skipped := spec.Next(before)
	require.Equal(t, time.Date(2026, 3, 30, 0, 30, 0, 0, time.UTC), skipped.UTC())
	after := spec.Next(skipped)
	require.Equal(t, time.Date(2026, 3, 31, 0, 30, 0, 0, time.UTC), after.UTC())
}

func TestValidateNamesEveryField(t *testing.T) {
	t.Parallel()
	sc := newSchedule()
	neg := orchestrator.Duration(-time.Second)
	long := orchestrator.Duration(48 * time.Hour)
	sc.apply(Input{
		Name: new(" "), Kind: new(Kind("backup")), Target: new("a\x00b"), Cron: new("nope"), Timezone: new("Nowhere/City"),
		CatchUpWindow: &neg, Jitter: &long, MaxRun: new(orchestrator.Duration(0)),
	})
	_, err := sc.validate(Kinds, true, nil)
	var fields []string
	for _, f := range orchestrator.ErrorFields(err) {
		fields = append(fields, f.Field)
	}
	require.ElementsMatch(t, []string{"name", "kind", "target", "cron", "timezone", "catch_up_window", "jitter", "max_run"}, fields)
}

func TestPlanFirings(t *testing.T) {
	t.Parallel()
	at := func(hhmm string) time.Time {
		tt, err := time.Parse("2006-01-02 15:04", "2026-03-02 "+hhmm)
		require.NoError(t, err)
		return tt
	}
	every10, err := ParseCron("*/10 * * * *", "UTC")
	require.NoError(t, err)
	cases := map[string]struct {
		next, now  time.Time
		window     time.Duration
		missed     int
		first, run time.Time
		coalesced  int
		nextAfter  time.Time
	}{
		"on time":                  {at("10:10"), at("10:10"), time.Minute, 0, time.Time{}, at("10:10"), 0, at("10:20")},
		"late within the window":   {at("10:10"), at("10:35"), 30 * time.Minute, 0, time.Time{}, at("10:30"), 2, at("10:40")},
		"late beyond the window":   {at("10:10"), at("12:05"), 30 * time.Minute, 9, at("10:10"), at("12:00"), 2, at("12:10")},
		"all missed":               {at("10:10"), at("10:55"), time.Minute, 5, at("10:10"), time.Time{}, 0, at("11:00")},
		"not due yet":              {at("10:10"), at("10:05"), time.Hour, 0, time.Time{}, time.Time{}, 0, at("10:10")},
		"exactly at the window":    {at("10:00"), at("10:30"), 30 * time.Minute, 0, time.Time{}, at("10:30"), 3, at("10:40")},
		"one firing just too late": {at("10:00"), at("10:05"), time.Minute, 1, at("10:00"), time.Time{}, 0, at("10:10")},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := planFirings(every10, c.next, c.now, c.window)
			require.Equal(t, c.missed, p.missed, "missed")
			require.Equal(t, c.first, p.firstMissed, "first missed")
			require.Equal(t, c.run, p.run, "run")
			require.Equal(t, c.coalesced, p.coalesced, "coalesced")
			require.Equal(t, c.nextAfter, p.next.UTC(), "next")
		})
	}
}

// A year-long outage of a minutely schedule is planned in bounded time.
func TestPlanFiringsAfterLongOutage(t *testing.T) {
	t.Parallel()
	for _, expr := range []string{"* * * * *", "@every 1m"} {
		spec, err := ParseCron(expr, "UTC")
		require.NoError(t, err)
		next := time.Date(2025, 3, 2, 10, 0, 0, 0, time.UTC)
		now := next.AddDate(1, 0, 0).Add(30 * time.Second)
		p := planFirings(spec, next, now, time.Hour)
		require.True(t, p.missedMore, expr)
		require.Equal(t, maxScan, p.missed, expr)
		require.Equal(t, now.Truncate(time.Minute), p.run.UTC(), expr)
		require.Equal(t, now.Truncate(time.Minute).Add(time.Minute), p.next.UTC(), expr)
		require.Contains(t, missedMessage(p, time.Hour), "more than 10000")
	}
}

func TestJitterOffset(t *testing.T) {
	t.Parallel()
	fire := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	require.Zero(t, jitterOffset(1, fire, 0))
	seen := map[time.Duration]bool{}
	for id := range int64(200) {
		d := jitterOffset(id, fire, time.Minute)
		require.Equal(t, d, jitterOffset(id, fire, time.Minute), "the same on every replica")
		require.True(t, d >= 0 && d <= time.Minute, "%s", d)
		seen[d] = true
	}
	require.Greater(t, len(seen), 150, "offsets spread out")
}

func FuzzParseCron(f *testing.F) {
	for _, seed := range []string{"*/5 * * * *", "@daily", "@every 1h", "0 0 31 2 *", "TZ=", "1-5/2,7 */3 ? JAN-DEC MON", "@every -1s"} {
		f.Add(seed, "UTC")
	}
	f.Add("0 2 * * *", "Europe/Berlin")
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr, zone string) {
		spec, err := ParseCron(expr, zone)
		if err != nil {
			require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
			require.NotEmpty(t, orchestrator.ErrorFields(err))
			return
		}
		next := spec.Next(from)
		require.False(t, next.IsZero(), "a valid expression fires")
		require.True(t, next.After(from))
		p := planFirings(spec, next, next.Add(3*time.Hour), time.Hour)
		require.True(t, p.next.After(next.Add(3*time.Hour)))
	})
}
