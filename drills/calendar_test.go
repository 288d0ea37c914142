package drills

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"
	"github.com/stretchr/testify/require"
)

// checkRFC5545 is a validator written from RFC 5545 for what the feed
// promises: CRLF line ends only (3.1), content lines of at most 75 octets
// folded with a leading space and never inside a UTF-8 sequence (3.1),
// BEGIN/END nesting, VERSION:2.0 and PRODID once in VCALENDAR (3.7), UID,
// DTSTAMP and DTSTART once per VEVENT with DTEND after DTSTART (3.6.1),
// UIDs unique, STATUS one of the VEVENT values (3.8.1.11), a VALARM with
// ACTION, TRIGGER and, for DISPLAY, DESCRIPTION (3.6.6), UTC times in form
// #2 (3.3.5) and no unescaped control characters in TEXT (3.3.11).
func checkRFC5545(t *testing.T, raw []byte) {
	t.Helper()
	require.True(t, bytes.HasSuffix(raw, []byte("\r\n")), "ends with CRLF")
	physical := strings.Split(strings.TrimSuffix(string(raw), "\r\n"), "\r\n")
	var lines []string
	for i, l := range physical {
		require.NotContains(t, l, "\n", "line %d: a bare LF", i+1)
		require.NotContains(t, l, "\r", "line %d: a bare CR", i+1)
		require.LessOrEqual(t, len(l), 75, "line %d is %d octets: %q", i+1, len(l), l)
		require.True(t, utf8.ValidString(l), "line %d splits a UTF-8 sequence: %q", i+1, l)
		if strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") {
			require.NotEmpty(t, lines, "a continuation line first")
			lines[len(lines)-1] += l[1:]
			continue
		}
		lines = append(lines, l)
	}
	type comp struct {
		name  string
		props map[string][]string
		subs  []string
	}
	var stack []*comp
	uids := map[string]bool{}
	events := 0
	for _, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		require.True(t, ok, "content line without a colon: %q", l)
		name, _, _ = strings.Cut(name, ";")
		for _, r := range value {
			require.False(t, r < 0x20 && r != '\t', "control character in %q", l)
		}
		switch name {
		case "BEGIN":
			stack = append(stack, &comp{name: value, props: map[string][]string{}})
			continue
		case "END":
			require.NotEmpty(t, stack, "END:%s without BEGIN", value)
			c := stack[len(stack)-1]
			require.Equal(t, c.name, value, "END matches BEGIN")
			stack = stack[:len(stack)-1]
			if len(stack) > 0 {
				stack[len(stack)-1].subs = append(stack[len(stack)-1].subs, c.name)
			}
			one := func(p string) string {
				require.Len(t, c.props[p], 1, "%s needs exactly one %s", c.name, p)
				return c.props[p][0]
			}
			switch c.name {
			case "VCALENDAR":
				require.Equal(t, "2.0", one("VERSION"))
				require.NotEmpty(t, one("PRODID"))
				require.Empty(t, stack, "VCALENDAR is the outermost component")
			case "VEVENT":
				events++
				uid := one("UID")
				require.False(t, uids[uid], "UID %s twice", uid)
				uids[uid] = true
				one("DTSTAMP")
				start, err := time.Parse(icsTime, one("DTSTART"))
				require.NoError(t, err, "DTSTART in UTC form #2")
				end, err := time.Parse(icsTime, one("DTEND"))
				require.NoError(t, err, "DTEND in UTC form #2")
				require.True(t, end.After(start), "DTEND after DTSTART")
				require.Contains(t, []string{"TENTATIVE", "CONFIRMED", "CANCELLED"}, one("STATUS"))
				one("SUMMARY")
			case "VALARM":
				require.Equal(t, "DISPLAY", one("ACTION"))
				require.Regexp(t, `^-P\d+D$`, one("TRIGGER"))
				one("DESCRIPTION")
			}
			continue
		}
		require.NotEmpty(t, stack, "property %s outside a component", name)
		c := stack[len(stack)-1]
		c.props[name] = append(c.props[name], value)
	}
	require.Empty(t, stack, "every BEGIN has its END")
	require.Positive(t, events)
}

func TestICSParsesBackAndValidates(t *testing.T) {
	t.Parallel()
	year := 2027
	start := time.Date(2027, 3, 3, 9, 0, 0, 0, time.UTC)
	updated := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	pass := ResultPass
	long := strings.Repeat("恢复演练 disaster recovery, drill; with \\ backslashes ", 6)
	ds := []Drill{
		{ID: 1, ProgrammeYear: &year, Title: "Technical drill (1 of 2): etax, declaration", Type: TypeTechnical,
			Services: []string{"etax", "declaration"}, Scenario: Scenario{Kind: ScenarioText, Text: "loss of dc-main;\nfailover to dc-dr"},
			PlannedStart: start, Status: StatusPlanned, UpdatedAt: updated},
		{ID: 2, Title: long, Type: TypeTabletop, Services: []string{"hr"}, Scenario: Scenario{Kind: ScenarioText, Text: long},
			PlannedStart: start.AddDate(0, 1, 0), Status: StatusCancelled, UpdatedAt: updated},
		{ID: 3, Title: "Retest, runbook 7", Type: TypeSimulation, Services: []string{"email"}, Retest: true,
			PlannedStart: start.AddDate(0, -6, 0), Status: StatusCompleted, Result: &pass, UpdatedAt: updated},
	}
	raw := writeICS(ds, map[int]Settings{year: {Duration: 3 * 3600e9, ReminderDays: 10}})
	checkRFC5545(t, raw)

	cal, err := ics.ParseCalendar(bytes.NewReader(raw))
	require.NoError(t, err)
	events := cal.Events()
	require.Len(t, events, 3)
	byUID := map[string]*ics.VEvent{}
	for _, e := range events {
		byUID[e.Id()] = e
	}
	first := byUID["drill-1@bcdr"]
	require.NotNil(t, first)
	got, err := first.GetStartAt()
	require.NoError(t, err)
	require.True(t, got.Equal(start))
	end, err := first.GetEndAt()
	require.NoError(t, err)
	require.Equal(t, 3*time.Hour, end.Sub(got), "the programme's duration")
	require.Equal(t, "CONFIRMED", first.GetProperty(ics.ComponentPropertyStatus).Value)
	desc := ics.FromText(first.GetProperty(ics.ComponentPropertyDescription).Value)
	for _, want := range []string{"Type: technical", "Services: etax, declaration", "Scenario: loss of dc-main;\nfailover to dc-dr"} {
		require.Contains(t, desc, want)
	}
	alarms := first.Alarms()
	require.Len(t, alarms, 1)
	require.Equal(t, "-P10D", alarms[0].GetProperty(ics.ComponentPropertyTrigger).Value)

	second := byUID["drill-2@bcdr"]
	require.Equal(t, long, ics.FromText(second.GetProperty(ics.ComponentPropertySummary).Value), "folded and escaped text comes back whole")
	require.Equal(t, "CANCELLED", second.GetProperty(ics.ComponentPropertyStatus).Value)
	require.Empty(t, second.Alarms(), "no reminder for a cancelled drill")
	end, _ = second.GetEndAt()
	got, _ = second.GetStartAt()
	require.Equal(t, defaultDrillLength, end.Sub(got), "outside a programme: the default length")
	require.Contains(t, ics.FromText(byUID["drill-3@bcdr"].GetProperty(ics.ComponentPropertyDescription).Value), "Status: completed (pass)")

	// The UID and DTSTAMP of a drill do not change between fetches.
	require.Equal(t, string(raw), string(writeICS(ds, map[int]Settings{year: {Duration: 3 * 3600e9, ReminderDays: 10}})))
}

func TestICSFolding(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 60, 74, 75, 76, 200, 1000} {
		for _, unit := range []string{"a", "é", "演", "🙂"} {
			text := strings.Repeat(unit, n)
			var w icsWriter
			w.prop("SUMMARY", text)
			lines := strings.Split(strings.TrimSuffix(w.buf.String(), "\r\n"), "\r\n")
			var joined strings.Builder
			for i, l := range lines {
				require.LessOrEqual(t, len(l), 75, fmt.Sprintf("%d×%s line %d", n, unit, i))
				require.True(t, utf8.ValidString(l))
				if i > 0 {
					require.True(t, strings.HasPrefix(l, " "))
					l = l[1:]
				}
				joined.WriteString(l)
			}
			require.Equal(t, "SUMMARY:"+text, joined.String())
		}
	}
	require.Equal(t, `a\\b\;c\,d\ne`, escapeText("a\\b;c,d\ne\x00\x7f"))
	require.False(t, slices.Contains([]byte(escapeText("x\ry")), '\r'))
}
