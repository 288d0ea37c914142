package drills

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// A BIA's critical business periods are free text ("每月1-15日申报征期
// monthly filing period, days 1-15", "年度汇算清缴 annual reconciliation,
// March-June"). The programme reads what they say about the calendar and
// keeps drills out of those days. Accepted, anywhere in the text and in any
// case:
//
//   - months: English names or abbreviations, alone ("December"), listed
//     ("March, September") or as ranges ("March-June", "Nov to Feb",
//     wrapping the year end); "3月", "3-6月", "3月-6月";
//   - days of the month: "days 1-15", "day 20", "1-15日" — in the months
//     named, else in every month;
//   - "month-end" / "月末" / "月底": the last five days of every month;
//     "quarter-end" / "季末": of March, June, September and December;
//     "year-end" / "年末" / "年底" / "年终": of December;
//   - dates: "2026-11-27", and ranges "2026-11-20..2026-11-30" (also with
//     "to" or "/").
//
// A period that says none of these is not avoided, and the programme entry
// says so.

// dayset is a set of days of one year, by index from 1 January (0..365).
type dayset [6]uint64

func (d *dayset) add(i int) {
	if i >= 0 && i < 366 {
		d[i/64] |= 1 << (i % 64)
	}
}

func (d dayset) has(i int) bool { return i >= 0 && i < 366 && d[i/64]&(1<<(i%64)) != 0 }

func (d *dayset) union(o dayset) {
	for i := range d {
		d[i] |= o[i]
	}
}

// monthEndDays is how many days at the end of a month "month-end" covers.
const monthEndDays = 5

const monthName = `(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)`

var (
	reDateRange   = regexp.MustCompile(`(\d{4}-\d{2}-\d{2})\s*(?:\.\.|/|to|–|—)\s*(\d{4}-\d{2}-\d{2})`)
	reDate        = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)
	reMonthRange  = regexp.MustCompile(`(?i)\b` + monthName + `\s*(?:-|–|—|to|through|until)\s*` + monthName + `\b`)
	reMonth       = regexp.MustCompile(`(?i)\b` + monthName + `\b`)
	reCJKMonths   = regexp.MustCompile(`(\d{1,2})\s*月?\s*(?:-|–|—|~|至|到)\s*(\d{1,2})\s*月`)
	reCJKMonth    = regexp.MustCompile(`(\d{1,2})\s*月`)
	reDayRange    = regexp.MustCompile(`(?i)\bdays?\s+(\d{1,2})\s*(?:-|–|—|to)\s*(\d{1,2})\b`)
	reDay         = regexp.MustCompile(`(?i)\bdays?\s+(\d{1,2})\b`)
	reCJKDayRange = regexp.MustCompile(`(\d{1,2})\s*(?:-|–|—|~|至|到)\s*(\d{1,2})\s*[日号]`)
	reMonthEnd    = regexp.MustCompile(`(?i)month[- ]end|月末|月底`)
	reQuarterEnd  = regexp.MustCompile(`(?i)quarter[- ]end|季末|季度末`)
	reYearEnd     = regexp.MustCompile(`(?i)year[- ]end|年末|年底|年终`)
)

// period is what a critical period says: days of the month in some months,
// month ends, and explicit dates.
type period struct {
	months    [13]bool // by month number; none set: every month
	anyMonth  bool
	days      [32]bool // by day of month; none set: every day
	anyDay    bool
	monthEnds [13]bool
	dates     [][2]time.Time
}

// parsePeriod reads one critical period; ok is false when it says nothing
// the programme understands.
func parsePeriod(text string) (p period, ok bool) {
	s := text
	for _, m := range reDateRange.FindAllStringSubmatch(s, -1) {
		from, err1 := time.Parse(time.DateOnly, m[1])
		to, err2 := time.Parse(time.DateOnly, m[2])
		if err1 == nil && err2 == nil && !to.Before(from) {
			p.dates = append(p.dates, [2]time.Time{from, to})
		}
	}
	s = reDateRange.ReplaceAllString(s, " ")
	for _, m := range reDate.FindAllString(s, -1) {
		if d, err := time.Parse(time.DateOnly, m); err == nil {
			p.dates = append(p.dates, [2]time.Time{d, d})
		}
	}
	s = reDate.ReplaceAllString(s, " ")
	if reMonthEnd.MatchString(s) {
		for m := 1; m <= 12; m++ {
			p.monthEnds[m] = true
		}
	}
	if reQuarterEnd.MatchString(s) {
		for _, m := range []int{3, 6, 9, 12} {
			p.monthEnds[m] = true
		}
	}
	if reYearEnd.MatchString(s) {
		p.monthEnds[12] = true
	}
	for _, m := range reMonthRange.FindAllStringSubmatch(s, -1) {
		p.monthSpan(monthNumber(m[1]), monthNumber(m[2]))
	}
	s = reMonthRange.ReplaceAllString(s, " ")
	for _, m := range reCJKMonths.FindAllStringSubmatch(s, -1) {
		p.monthSpan(atoi(m[1]), atoi(m[2]))
	}
	s = reCJKMonths.ReplaceAllString(s, " ")
	for _, m := range reCJKMonth.FindAllStringSubmatch(s, -1) {
		p.monthSpan(atoi(m[1]), atoi(m[1]))
	}
	for _, m := range reMonth.FindAllStringSubmatch(s, -1) {
		n := monthNumber(m[1])
		p.monthSpan(n, n)
	}
	for _, re := range []*regexp.Regexp{reDayRange, reCJKDayRange} {
		for _, m := range re.FindAllStringSubmatch(s, -1) {
			p.daySpan(atoi(m[1]), atoi(m[2]))
		}
		s = re.ReplaceAllString(s, " ")
	}
	for _, m := range reDay.FindAllStringSubmatch(s, -1) {
		p.daySpan(atoi(m[1]), atoi(m[1]))
	}
	hasMonthEnd := false
	for _, b := range p.monthEnds {
		hasMonthEnd = hasMonthEnd || b
	}
	return p, p.anyMonth || p.anyDay || hasMonthEnd || len(p.dates) > 0
}

// monthSpan adds the months from a to b, wrapping past December.
func (p *period) monthSpan(a, b int) {
	if a < 1 || a > 12 || b < 1 || b > 12 {
		return
	}
	for m := a; ; m = m%12 + 1 {
		p.months[m], p.anyMonth = true, true
		if m == b {
			return
		}
	}
}

// daySpan adds the days of the month from a to b.
func (p *period) daySpan(a, b int) {
	if a < 1 || b > 31 || a > b {
		return
	}
	for d := a; d <= b; d++ {
		p.days[d], p.anyDay = true, true
	}
}

// mask is the period's days in year.
func (p period) mask(year int) dayset {
	var set dayset
	start := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	n := daysIn(year)
	for i := 0; i < n; i++ {
		d := start.AddDate(0, 0, i)
		m, day := int(d.Month()), d.Day()
		if (p.anyMonth || p.anyDay) && (!p.anyMonth || p.months[m]) && (!p.anyDay || p.days[day]) {
			set.add(i)
		}
		if p.monthEnds[m] && day > daysInMonth(year, d.Month())-monthEndDays {
			set.add(i)
		}
	}
	end := start.AddDate(1, 0, -1)
	for _, r := range p.dates {
		from, to := r[0], r[1]
		if from.Before(start) {
			from = start
		}
		if to.After(end) {
			to = end
		}
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			set.add(d.YearDay() - 1)
		}
	}
	return set
}

func monthNumber(name string) int {
	return strings.Index("janfebmaraprmayjunjulaugsepoctnovdec", strings.ToLower(name[:3]))/3 + 1
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func daysIn(year int) int { return time.Date(year, 12, 31, 0, 0, 0, 0, time.UTC).YearDay() }

func daysInMonth(year int, m time.Month) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
