package drills

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func defaultPolicy() map[int]Policy {
	return map[int]Policy{
		0: {Tier: 0, Type: TypeTechnical, PerYear: 2}, 1: {Tier: 1, Type: TypeTechnical, PerYear: 2},
		2: {Tier: 2, Type: TypeSimulation, PerYear: 1}, 3: {Tier: 3, Type: TypeTabletop, PerYear: 1},
		4: {Tier: 4, Type: TypeTabletop, PerYear: 1},
	}
}

// settingsFor validates a settings input for year, failing the test on
// error.
func settingsFor(t testing.TB, year int, in SettingsInput) Settings {
	t.Helper()
	s, err := in.settings(year)
	require.NoError(t, err)
	return s
}

// checkPlaced asserts every placed entry keeps the settings' rules: a
// weekday at start_time, no blackout, holiday or freeze, outside its
// services' critical periods, within the weekly limit.
func checkPlaced(t *testing.T, in planInput, entries []Entry) {
	t.Helper()
	loc := mustZone(t, in.Settings.Timezone)
	at, err := parseClock(in.Settings.StartTime)
	require.NoError(t, err)
	periods := map[string][]string{}
	for _, s := range in.Services {
		periods[s.Key] = s.Periods
	}
	perWeek := map[int]int{}
	for k, n := range in.Load {
		perWeek[k] = n
	}
	for _, e := range entries {
		if e.PlannedStart == nil {
			continue
		}
		local := e.PlannedStart.In(loc)
		day := local.Format(time.DateOnly)
		require.Equal(t, [2]int{at.hour, at.minute}, [2]int{local.Hour(), local.Minute()}, "%s starts at start_time", e.Title)
		require.NotContains(t, []time.Weekday{time.Saturday, time.Sunday}, local.Weekday(), "%s on %s", e.Title, day)
		require.NotContains(t, in.Settings.Blackouts, day, e.Title)
		require.NotContains(t, in.Settings.Holidays, day, e.Title)
		for _, f := range in.Settings.Freezes {
			require.False(t, day >= f.From && day <= f.To, "%s on %s is in the freeze %v", e.Title, day, f)
		}
		for _, svc := range e.Services {
			for _, text := range periods[svc] {
				if p, ok := parsePeriod(text); ok {
					require.False(t, p.mask(in.Year).has(local.YearDay()-1), "%s on %s is in %s's critical period %q", e.Title, day, svc, text)
				}
			}
		}
		y, w := local.ISOWeek()
		perWeek[y*100+w]++
		require.LessOrEqual(t, perWeek[y*100+w], in.Settings.MaxPerWeek, "week %d-W%d holds too many drills", y, w)
		require.Equal(t, in.Year, local.Year())
		require.True(t, e.PlannedStart.After(in.Now), "%s is planned after now", e.Title)
	}
}

// entriesOf lists the non-retest entries that drill svc.
func entriesOf(entries []Entry, svc string) []Entry {
	var out []Entry
	for _, e := range entries {
		if !e.Retest && slices.Contains(e.Services, svc) {
			out = append(out, e)
		}
	}
	return out
}

func TestPlanCoversPolicyWithinConstraints(t *testing.T) {
	t.Parallel()
	settings := settingsFor(t, 2027, SettingsInput{
		Timezone: ptr("Europe/London"), StartTime: ptr("09:30"), MaxPerWeek: ptr(1),
		Blackouts: []string{"2027-02-01", "2027-02-02", "2027-02-03"},
		Holidays:  []string{"2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30", "2027-12-27", "2027-12-28"},
		Freezes:   []Freeze{{From: "2027-12-01", To: "2027-12-31", Reason: "year-end"}, {From: "2027-08-01", To: "2027-08-15"}},
		Rules: []Rule{
			{Tier: ptr(2), RRule: "FREQ=YEARLY;BYMONTH=10;BYDAY=2WE"},
			// The first Tuesdays of March and September fall in the filing
			// period of tier 0's service: not free.
			{Tier: ptr(0), RRule: "FREQ=YEARLY;BYMONTH=3,9;BYDAY=1TU"},
		},
	})
	in := planInput{
		Year: 2027, Settings: settings, Now: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC), Policy: defaultPolicy(),
		Services: []planService{
			{Key: "tax", Tier: 0, Runbook: 1, Scope: []string{"tax", "tax-db", "tax-app"}, Periods: []string{"每月1-15日申报征期 monthly filing period, days 1-15"}},
			{Key: "levy", Tier: 1, Runbook: 2, Scope: []string{"levy", "levy-db"}},
			{Key: "refund", Tier: 2, Runbook: 3, Scope: []string{"refund"}, Periods: []string{"annual reconciliation, March-June", "black friday"}},
			{Key: "hr", Tier: 3, Runbook: 4, Scope: []string{"hr", "hr-db"}},
			{Key: "wiki", Tier: 4, NoBIA: true, Runbook: 5, Scope: []string{"wiki"}},
			{Key: "mail", Tier: 3, Runbook: 6, Scope: []string{"mail", "mx1", "mx2", "store"}},
			{Key: "calendar", Tier: 3, Runbook: 7, Scope: []string{"calendar", "mx1", "mx2", "store"}},
			{Key: "chat", Tier: 3, Runbook: 8, Scope: []string{"chat", "store", "c1", "c2", "c3"}},
			{Key: "never", Tier: 3, Runbook: 9, Scope: []string{"never"}, Periods: []string{"January-December"}},
		},
		Retests: []planRetest{{Runbook: 2, Services: []string{"levy"}, Tier: 1, Reasons: []string{"retest_required since CHG-7"}, Findings: []int64{11}}},
	}
	entries := plan(in)
	checkPlaced(t, in, entries)

	for svc, want := range map[string]struct {
		typ   string
		count int
	}{"tax": {TypeTechnical, 2}, "levy": {TypeTechnical, 2}, "refund": {TypeSimulation, 1}, "hr": {TypeTabletop, 1},
		"wiki": {TypeTabletop, 1}, "mail": {TypeTabletop, 1}, "calendar": {TypeTabletop, 1}, "chat": {TypeTabletop, 1}, "never": {TypeTabletop, 1}} {
		got := entriesOf(entries, svc)
		require.Len(t, got, want.count, svc)
		for _, e := range got {
			require.Equal(t, want.typ, e.Type, svc)
		}
	}
	// Twice a year: one in each half.
	for _, svc := range []string{"tax", "levy"} {
		got := entriesOf(entries, svc)
		require.Less(t, got[0].PlannedStart.Month(), time.July, svc)
		require.GreaterOrEqual(t, got[1].PlannedStart.Month(), time.July, svc)
	}
	// mail and calendar share three of four CIs: one drill; chat shares one.
	mail := entriesOf(entries, "mail")[0]
	require.Equal(t, []string{"calendar", "mail"}, mail.Services)
	require.Equal(t, []int64{6, 7}, mail.Runbooks)
	require.Contains(t, strings.Join(mail.Notes, "\n"), "grouped")
	require.Equal(t, []string{"chat"}, entriesOf(entries, "chat")[0].Services)

	// The retest comes first, on the first free weekday: 1 January is a
	// holiday, so Monday the 4th.
	require.True(t, entries[0].Retest)
	require.Equal(t, []int64{11}, entries[0].Findings)
	require.Equal(t, "2027-01-04", entries[0].PlannedStart.Format(time.DateOnly))
	require.Contains(t, entries[0].Reason, "CHG-7")

	// The rule's date where it is free; noted where it is not.
	refund := entriesOf(entries, "refund")[0]
	require.Equal(t, "2027-10-13", refund.PlannedStart.Format(time.DateOnly))
	require.Contains(t, strings.Join(refund.Notes, "\n"), "on a date its rule gives")
	require.Contains(t, strings.Join(refund.Notes, "\n"), `not understood, so not avoided: "black friday"`)
	require.Contains(t, strings.Join(entriesOf(entries, "tax")[0].Notes, "\n"), "no date its rule gives was free")
	require.Contains(t, strings.Join(entriesOf(entries, "wiki")[0].Notes, "\n"), "wiki has no approved BIA: planned as tier 4")

	// A service critical all year is reported, not dropped.
	never := entriesOf(entries, "never")[0]
	require.Nil(t, never.PlannedStart)
	require.Contains(t, never.Unplaced, "critical periods of never")
	require.Equal(t, "never", entries[len(entries)-1].Services[0], "unplaced entries come last")
}

func TestPlanWeeklyLimitReportsWhatDoesNotFit(t *testing.T) {
	t.Parallel()
	settings := settingsFor(t, 2027, SettingsInput{MaxPerWeek: ptr(2)})
	in := planInput{Year: 2027, Settings: settings, Now: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), Policy: defaultPolicy(),
		Load: map[int]int{202710: 2, 202711: 1}}
	for i := range 120 {
		key := fmt.Sprintf("svc%03d", i)
		in.Services = append(in.Services, planService{Key: key, Tier: 3, Runbook: int64(i + 1), Scope: []string{key}})
	}
	entries := plan(in)
	checkPlaced(t, in, entries)
	require.Len(t, entries, 120, "every service has its entry, placed or not")
	placed, unplaced := countPlaced(entries)
	// 53 ISO weeks touch 2027 (2026-W53 holds 1–3 January); week 10 is
	// full already and week 11 has one slot left: 2*53 - 2 - 1.
	require.Equal(t, 2*53-3, placed)
	require.Equal(t, 120-placed, unplaced)
	for _, e := range entries[placed:] {
		require.Contains(t, e.Unplaced, "days in weeks that already hold 2 drills")
	}
	// Spread: no month holds more than its share of drills.
	perMonth := map[time.Month]int{}
	for _, e := range entries[:placed] {
		perMonth[e.PlannedStart.Month()]++
	}
	for m, n := range perMonth {
		require.LessOrEqual(t, n, 10, "%s", m)
	}
}

func TestPlanCatchUpAndPastDays(t *testing.T) {
	t.Parallel()
	// Proposed in August: the first half of the year has passed, so the
	// first of two drills becomes a catch-up; nothing lands before tomorrow.
	now := time.Date(2027, 8, 10, 15, 0, 0, 0, time.UTC)
	in := planInput{Year: 2027, Settings: settingsFor(t, 2027, SettingsInput{}), Now: now, Policy: defaultPolicy(),
		Services: []planService{{Key: "tax", Tier: 0, Runbook: 1}}}
	entries := plan(in)
	checkPlaced(t, in, entries)
	require.Len(t, entries, 2)
	for _, e := range entries {
		require.NotNil(t, e.PlannedStart)
		require.True(t, e.PlannedStart.After(now))
	}
	require.Contains(t, strings.Join(entries[0].Notes, "\n")+strings.Join(entries[1].Notes, "\n"), "catch-up")
}
