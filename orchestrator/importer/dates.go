package importer

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// Date orders for Options.DateFormat; anything else non-empty is a Go
// layout such as "02.01.2006 15:04".
const (
	DateAuto = "auto"
	DateDMY  = "dmy"
	DateMDY  = "mdy"
	DateYMD  = "ymd"
)

// dateReader reads the time cells of one file. Year-first dates
// (2025-03-05 14:22:10, RFC 3339) are unambiguous; year-last ones
// (05/03/2025, 3/5/2025 2:22 PM, 03-05-2025) are read in the order the
// date_format option gives or, without one, the order the file shows: the
// first cell whose first or second number is above 12 decides it for every
// time column of the file, since one export writes every date alike.
type dateReader struct {
	layout string // a Go layout from the option, or ""
	order  string // DateDMY, DateMDY or "" (undecided); DateYMD refuses year-last cells
	fixed  bool   // order came from the option
	loc    *time.Location
	// decidedBy says where detection decided the order, for messages.
	decidedBy string
}

// newDateReader checks the date_format and timezone options.
func newDateReader(format, timezone string) (*dateReader, error) {
	d := &dateReader{loc: time.UTC}
	if tz := strings.TrimSpace(timezone); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil || tz == "Local" {
			return nil, fieldError("timezone", "must be an IANA time zone name such as Europe/Paris or Asia/Shanghai")
		}
		d.loc = loc
	}
	switch f := strings.TrimSpace(format); strings.ToLower(f) {
	case "", DateAuto:
	case DateDMY, DateMDY, DateYMD:
		d.order, d.fixed = strings.ToLower(f), true
	default:
		ref := time.Date(2025, 3, 5, 14, 22, 10, 0, time.UTC)
		out := ref.Format(f)
		if _, err := time.Parse(f, out); err != nil || out == f || !strings.Contains(f, "06") {
			return nil, fieldError("date_format", "must be dmy, mdy, ymd or a Go time layout with a year, such as 02.01.2006 15:04")
		}
		d.layout = f
	}
	return d, nil
}

// fieldError is an invalid import option named by its parameter.
func fieldError(field, msg string) error {
	return &orchestrator.Error{Code: orchestrator.EINVALID, Message: "invalid import option",
		Fields: []orchestrator.FieldError{{Field: field, Message: msg}}}
}

// errAmbiguousDate marks a year-last date whose order the file has not
// shown yet.
var errAmbiguousDate = errors.New("ambiguous date")

// parse reads one cell of column.
func (d *dateReader) parse(cell, column string, row int) (time.Time, error) {
	if d.layout != "" {
		if t, err := time.ParseInLocation(d.layout, cell, d.loc); err == nil {
			return t.UTC(), nil
		}
		if dt, ok := scanDateTime(cell); ok && dt.yearFirst {
			return d.build(dt, dt.a, dt.b, dt.c, cell)
		}
		return time.Time{}, fmt.Errorf("%q does not match date_format %q", cell, d.layout)
	}
	dt, ok := scanDateTime(cell)
	if !ok {
		return time.Time{}, fmt.Errorf("%q is not a time (use 2026-01-31 09:00:00, 31/01/2026 09:00 or RFC 3339)", cell)
	}
	if dt.yearFirst {
		return d.build(dt, dt.a, dt.b, dt.c, cell)
	}
	if d.order == "" {
		switch {
		case dt.a == dt.b:
			return d.build(dt, dt.c, dt.b, dt.a, cell)
		case dt.a > 12 && dt.b <= 12:
			d.order = DateDMY
		case dt.b > 12 && dt.a <= 12:
			d.order = DateMDY
		case dt.a <= 12 && dt.b <= 12:
			return time.Time{}, errAmbiguousDate
		default:
			return time.Time{}, fmt.Errorf("%q is not a date: neither number before the year is a month", cell)
		}
		d.decidedBy = fmt.Sprintf("%s in row %d, column %s", cell, row, column)
	}
	switch d.order {
	case DateDMY:
		if dt.b > 12 {
			return time.Time{}, d.against(cell, "day/month/year")
		}
		return d.build(dt, dt.c, dt.b, dt.a, cell)
	case DateMDY:
		if dt.a > 12 {
			return time.Time{}, d.against(cell, "month/day/year")
		}
		return d.build(dt, dt.c, dt.a, dt.b, cell)
	}
	return time.Time{}, fmt.Errorf("%q is not year-month-day as date_format ymd says", cell)
}

func (d *dateReader) against(cell, order string) error {
	if d.fixed {
		return fmt.Errorf("%q is not %s as date_format says", cell, order)
	}
	return fmt.Errorf("%q is not %s like the file's earlier dates (%s); give date_format", cell, order, d.decidedBy)
}

// setter is the cell parser of a time field (ptr: a *time.Time) named
// column; row points at the number of the row being read.
func (d *dateReader) setter(column string, ptr bool, row *int) func(string, reflect.Value) error {
	return func(cell string, dst reflect.Value) error {
		t, err := d.parse(cell, column, *row)
		if err != nil {
			return err
		}
		if ptr {
			*dst.Addr().Interface().(**time.Time) = &t
		} else {
			*dst.Addr().Interface().(*time.Time) = t
		}
		return nil
	}
}

// build makes the time of a scanned cell with its date parts in order.
func (d *dateReader) build(dt dateTime, year, month, day int, cell string) (time.Time, error) {
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return time.Time{}, fmt.Errorf("%q is not a calendar date", cell)
	}
	if dt.zoned {
		// The zone is a fixed offset: no Location needed (nor allocated).
		t := time.Date(year, time.Month(month), day, dt.hour, dt.min, dt.sec, dt.nsec, time.UTC)
		return t.Add(-time.Duration(dt.offset) * time.Second), nil
	}
	return time.Date(year, time.Month(month), day, dt.hour, dt.min, dt.sec, dt.nsec, d.loc).UTC(), nil
}

var monthDays = [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func daysIn(year, month int) int {
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		return 29
	}
	return monthDays[month]
}

// dateTime is a time cell taken apart: three date numbers (a and c the
// outer ones; yearFirst when a is the year), the clock and the zone.
type dateTime struct {
	a, b, c        int
	yearFirst      bool
	hour, min, sec int
	nsec           int
	zoned          bool
	offset         int // seconds east of UTC when zoned
}

// scanDateTime takes apart the forms exports write, without regular
// expressions: a date of three numbers separated alike by -, / or . with a
// four-digit year first or last; optionally T or spaces and h:mm[:ss[.f]],
// an AM/PM marker, and a zone (Z, ±hh:mm, ±hhmm, UTC or GMT).
func scanDateTime(s string) (dateTime, bool) {
	var dt dateTime
	p := scanner{s: s}
	a, na := p.number(4)
	sep := p.peek()
	if na == 0 || (sep != '-' && sep != '/' && sep != '.') {
		return dt, false
	}
	p.i++
	b, nb := p.number(2)
	if nb == 0 || p.peek() != sep {
		return dt, false
	}
	p.i++
	c, nc := p.number(4)
	switch {
	case na == 4 && nc >= 1 && nc <= 2:
		dt.yearFirst = true
	case nc == 4 && na <= 2:
	default:
		return dt, false
	}
	dt.a, dt.b, dt.c = a, b, c
	if p.done() {
		return dt, true
	}
	if p.peek() == 'T' || p.peek() == 't' {
		p.i++
	} else if !p.spaces() {
		return dt, false
	}
	if !p.clock(&dt) {
		return dt, false
	}
	spaced := p.spaces()
	if p.meridiem(&dt) {
		spaced = p.spaces()
	}
	if !p.done() && !p.zone(&dt, spaced) {
		return dt, false
	}
	return dt, p.done()
}

// scanner walks a cell byte by byte.
type scanner struct {
	s string
	i int
}

func (p *scanner) done() bool { return p.i >= len(p.s) }

func (p *scanner) peek() byte {
	if p.done() {
		return 0
	}
	return p.s[p.i]
}

// number reads up to max digits, returning the value and the digit count.
func (p *scanner) number(max int) (int, int) {
	v, n := 0, 0
	for n < max && !p.done() && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		v = v*10 + int(p.s[p.i]-'0')
		p.i++
		n++
	}
	return v, n
}

func (p *scanner) spaces() bool {
	start := p.i
	for !p.done() && p.s[p.i] == ' ' {
		p.i++
	}
	return p.i > start
}

// clock reads h:mm[:ss[.fraction]].
func (p *scanner) clock(dt *dateTime) bool {
	h, nh := p.number(2)
	if nh == 0 || p.peek() != ':' {
		return false
	}
	p.i++
	m, nm := p.number(2)
	if nm != 2 {
		return false
	}
	dt.hour, dt.min = h, m
	if p.peek() == ':' {
		p.i++
		sec, ns := p.number(2)
		if ns != 2 {
			return false
		}
		dt.sec = sec
		if c := p.peek(); c == '.' || c == ',' {
			p.i++
			frac, nf := p.number(9)
			if nf == 0 {
				return false
			}
			for range 9 - nf {
				frac *= 10
			}
			dt.nsec = frac
			for !p.done() && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
				p.i++ // digits beyond nanoseconds
			}
		}
	}
	return h <= 23 && m <= 59 && dt.sec <= 59
}

// meridiem reads AM or PM (any case), turning a 12-hour clock into 24.
func (p *scanner) meridiem(dt *dateTime) bool {
	if p.i+2 > len(p.s) {
		return false
	}
	var pm bool
	switch strings.ToUpper(p.s[p.i : p.i+2]) {
	case "AM":
	case "PM":
		pm = true
	default:
		return false
	}
	if dt.hour < 1 || dt.hour > 12 {
		return false // a 24-hour clock has no AM/PM
	}
	p.i += 2
	dt.hour %= 12
	if pm {
		dt.hour += 12
	}
	return true
}

// zone reads Z, ±hh:mm or ±hhmm (no space before), or UTC/GMT.
func (p *scanner) zone(dt *dateTime, spaced bool) bool {
	switch c := p.peek(); {
	case c == 'U' || c == 'u' || c == 'G' || c == 'g':
		if rest := p.s[p.i:]; strings.EqualFold(rest, "UTC") || strings.EqualFold(rest, "GMT") {
			dt.zoned, p.i = true, len(p.s)
			return true
		}
		return false
	case spaced:
		return false
	}
	switch c := p.peek(); c {
	case 'Z', 'z':
		dt.zoned = true
		p.i++
		return true
	case '+', '-':
		p.i++
		h, nh := p.number(2)
		if nh != 2 {
			return false
		}
		if p.peek() == ':' {
			p.i++
		}
		m, nm := p.number(2)
		if nm != 2 || h > 23 || m > 59 {
			return false
		}
		dt.zoned, dt.offset = true, h*3600+m*60
		if c == '-' {
			dt.offset = -dt.offset
		}
		return true
	}
	return false
}
