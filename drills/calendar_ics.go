package drills

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// icsTime is the UTC date-time form of RFC 5545 (3.3.5, form #2).
const icsTime = "20060102T150405Z"

// writeICS renders drills as an RFC 5545 calendar: CRLF line ends, lines
// folded at 75 octets, text escaped, one VEVENT per drill with a UID that
// stays the same for the drill, times in UTC, and an alarm the programme's
// reminder_days before.
func writeICS(drills []Drill, settings map[int]Settings) []byte {
	var w icsWriter
	w.line("BEGIN:VCALENDAR")
	w.line("VERSION:2.0")
	w.line("PRODID:-//bcdr//drill programme//EN")
	w.line("CALSCALE:GREGORIAN")
	w.line("METHOD:PUBLISH")
	w.prop("X-WR-CALNAME", "bcdr drills")
	for _, d := range drills {
		length, reminder := defaultDrillLength, defaultReminderDays
		if d.ProgrammeYear != nil {
			if st, ok := settings[*d.ProgrammeYear]; ok {
				length, reminder = time.Duration(st.Duration), st.ReminderDays
			}
		}
		w.line("BEGIN:VEVENT")
		w.line("UID:drill-" + strconv.FormatInt(d.ID, 10) + "@bcdr")
		w.line("DTSTAMP:" + d.UpdatedAt.UTC().Format(icsTime))
		w.line("LAST-MODIFIED:" + d.UpdatedAt.UTC().Format(icsTime))
		w.line("DTSTART:" + d.PlannedStart.UTC().Format(icsTime))
		w.line("DTEND:" + d.PlannedStart.Add(length).UTC().Format(icsTime))
		w.prop("SUMMARY", d.Title)
		w.prop("DESCRIPTION", eventDescription(d))
		w.prop("CATEGORIES", d.Type)
		status := "CONFIRMED"
		if d.Status == StatusCancelled {
			status = "CANCELLED"
		}
		w.line("STATUS:" + status)
		if reminder > 0 && d.Status == StatusPlanned {
			w.line("BEGIN:VALARM")
			w.line("ACTION:DISPLAY")
			w.prop("DESCRIPTION", fmt.Sprintf("Drill in %d days: %s", reminder, d.Title))
			w.line("TRIGGER:-P" + strconv.Itoa(reminder) + "D")
			w.line("END:VALARM")
		}
		w.line("END:VEVENT")
	}
	w.line("END:VCALENDAR")
	return w.buf.Bytes()
}

// eventDescription is a drill's event description: type, services, scenario and
// where it stands.
func eventDescription(d Drill) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Type: %s\nServices: %s\n", d.Type, strings.Join(d.Services, ", "))
	if d.Scenario.Text != "" {
		fmt.Fprintf(&b, "Scenario: %s\n", d.Scenario.Text)
	}
	if d.Retest {
		b.WriteString("Retest: yes\n")
	}
	fmt.Fprintf(&b, "Status: %s", d.Status)
	if d.Result != nil {
		fmt.Fprintf(&b, " (%s)", *d.Result)
	}
	fmt.Fprintf(&b, "\nDrill: %d", d.ID)
	return b.String()
}

// icsWriter writes content lines, folded.
type icsWriter struct{ buf bytes.Buffer }

// prop writes a property whose value is TEXT, escaped.
func (w *icsWriter) prop(name, text string) { w.line(name + ":" + escapeText(text)) }

// line writes one content line folded at 75 octets (RFC 5545 3.1): the
// continuation lines start with a space, and a UTF-8 sequence is never
// split.
func (w *icsWriter) line(s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		w.buf.WriteString(s[:cut])
		w.buf.WriteString("\r\n ")
		s = s[cut:]
		limit = 74
	}
	w.buf.WriteString(s)
	w.buf.WriteString("\r\n")
}

// escapeText escapes a TEXT value (RFC 5545 3.3.11) and drops the control
// characters it may not hold.
func escapeText(s string) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == ';':
			b.WriteString(`\;`)
		case r == ',':
			b.WriteString(`\,`)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
