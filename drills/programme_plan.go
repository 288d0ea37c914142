package drills

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Entry is one drill of a programme: what is drilled, how, when, and why
// it is there. An entry that could not be placed has no planned start and
// says why in Unplaced.
type Entry struct {
	Title        string     `json:"title"`
	Type         string     `json:"type"`
	Services     []string   `json:"services"`
	Runbooks     []int64    `json:"runbooks"`
	Tier         int        `json:"tier"`
	PlannedStart *time.Time `json:"planned_start"`
	Retest       bool       `json:"retest"`
	// Findings are the open findings a retest entry is to close.
	Findings []int64 `json:"findings"`
	// Reason says why the entry is in the programme.
	Reason string `json:"reason"`
	// Notes are what the manager should know: an assumed tier, a critical
	// period not understood, a grouping, a rule date that was not free.
	Notes    []string `json:"notes"`
	Unplaced string   `json:"unplaced,omitempty"`
	// Drill is the drill the approval created.
	Drill *int64 `json:"drill,omitempty"`
}

// planService is a service to drill per policy.
type planService struct {
	Key     string
	Tier    int
	NoBIA   bool
	Runbook int64
	// Scope is the approved runbook's CMDB scope, for grouping.
	Scope []string
	// Periods are the critical periods of its approved BIA.
	Periods []string
}

// planRetest is a runbook due a retest.
type planRetest struct {
	Runbook  int64
	Services []string
	Tier     int
	Reasons  []string
	Findings []int64
}

// planInput is everything a proposal is computed from, read beforehand:
// the planner itself touches no database.
type planInput struct {
	Year     int
	Settings Settings
	// Now bounds the proposal: no drill is planned before tomorrow.
	Now      time.Time
	Policy   map[int]Policy
	Services []planService
	Retests  []planRetest
	// Periods are the critical periods of services that only a retest's
	// scenario runbook covers.
	Periods map[string][]string
	// Load counts drills outside the programme per ISO week
	// (isoYear*100 + week), which the weekly limit includes.
	Load map[int]int
}

// Why a day cannot hold a drill, in the order reasons are given.
const (
	dayFree uint8 = iota
	dayPast
	dayWeekend
	dayHoliday
	dayBlackout
	dayFreeze
)

var dayReasons = map[uint8]string{dayPast: "already past", dayWeekend: "weekend days", dayHoliday: "holidays",
	dayBlackout: "blackout dates", dayFreeze: "days in change freezes"}

// Grouping: services join one drill when their runbooks share at least
// half of the smaller scope, up to maxGroup services.
const maxGroup = 8

// calendar is the year's days as the planner sees them.
type calendar struct {
	year     int
	loc      *time.Location
	at       clock
	days     int
	earliest int
	blocked  []uint8
	week     []int // day → week slot
	weekKey  []int // week slot → isoYear*100+week
	load     []int // week slot → drills
	max      int
	rules    []compiledRule
	periods  map[string]periodMask
}

type compiledRule struct {
	rule Rule
	days []int
}

type periodMask struct {
	set dayset
	ok  bool
}

// date is day i of the year as a civil date.
func (c *calendar) date(i int) time.Time {
	return time.Date(c.year, 1, 1+i, 0, 0, 0, 0, time.UTC)
}

// start is the drill start on day i, in UTC.
func (c *calendar) start(i int) time.Time {
	return time.Date(c.year, 1, 1+i, c.at.hour, c.at.minute, 0, 0, c.loc).UTC()
}

// newCalendar lays out the year from validated settings.
func newCalendar(in planInput) *calendar {
	s := in.Settings
	loc, _ := loadZone(s.Timezone)
	if loc == nil {
		loc = time.UTC
	}
	at, _ := parseClock(s.StartTime)
	c := &calendar{year: in.Year, loc: loc, at: at, days: daysIn(in.Year), max: s.MaxPerWeek, periods: map[string]periodMask{}}
	c.blocked = make([]uint8, c.days)
	c.week = make([]int, c.days)
	slot := map[int]int{}
	now := in.Now.In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for i := range c.days {
		d := c.date(i)
		y, w := d.ISOWeek()
		key := y*100 + w
		if _, ok := slot[key]; !ok {
			slot[key] = len(c.weekKey)
			c.weekKey = append(c.weekKey, key)
			c.load = append(c.load, in.Load[key])
		}
		c.week[i] = slot[key]
		switch {
		case !d.After(today):
			c.blocked[i] = dayPast
		case d.Weekday() == time.Saturday || d.Weekday() == time.Sunday:
			c.blocked[i] = dayWeekend
		}
		if !d.After(today) {
			c.earliest = i + 1
		}
	}
	c.mark(s.Holidays, dayHoliday)
	c.mark(s.Blackouts, dayBlackout)
	for _, f := range s.Freezes {
		from, _ := parseDate(f.From)
		to, _ := parseDate(f.To)
		for d := from; !d.After(to) && d.Year() <= in.Year; d = d.AddDate(0, 0, 1) {
			if i := d.YearDay() - 1; d.Year() == in.Year && c.blocked[i] == dayFree {
				c.blocked[i] = dayFreeze
			}
		}
	}
	for _, r := range s.Rules {
		cr := compiledRule{rule: r}
		if r.Date != "" {
			if d, err := parseDate(r.Date); err == nil && d.Year() == in.Year {
				cr.days = append(cr.days, d.YearDay()-1)
			}
		} else if rec, err := parseRecurrence(r.RRule, loc); err == nil {
			starts, _ := rec.expand(in.Year, loc, at)
			for _, t := range starts {
				cr.days = append(cr.days, t.In(loc).YearDay()-1)
			}
		}
		c.rules = append(c.rules, cr)
	}
	return c
}

// mark blocks the given dates of the year for reason, unless already
// blocked for an earlier one.
func (c *calendar) mark(dates []string, reason uint8) {
	for _, s := range dates {
		if d, err := parseDate(s); err == nil && d.Year() == c.year && c.blocked[d.YearDay()-1] == dayFree {
			c.blocked[d.YearDay()-1] = reason
		}
	}
}

// critical is the union of the services' critical periods, and the
// periods it could not read.
func (c *calendar) critical(periods map[string][]string, services []string) (dayset, []string) {
	var set dayset
	var unread []string
	for _, svc := range services {
		for _, text := range periods[svc] {
			pm, ok := c.periods[text]
			if !ok {
				p, understood := parsePeriod(text)
				pm = periodMask{ok: understood}
				if understood {
					pm.set = p.mask(c.year)
				}
				c.periods[text] = pm
			}
			if pm.ok {
				set.union(pm.set)
			} else {
				unread = append(unread, fmt.Sprintf("critical period of %s not understood, so not avoided: %q", svc, text))
			}
		}
	}
	return set, unread
}

// unit is an entry being placed.
type unit struct {
	entry    Entry
	critical dayset
	lo, hi   int
	target   int
	order    int
}

// plan proposes the programme: retests due first, as early as possible,
// then the drills each tier's policy asks for, critical tiers first, each
// in its part of the year (the first or second half for two a year) on
// the free weekday nearest its target, a matching rule's dates preferred.
func plan(in planInput) []Entry {
	c := newCalendar(in)
	periods := make(map[string][]string, len(in.Services)+len(in.Periods))
	for k, p := range in.Periods {
		periods[k] = p
	}
	for _, s := range in.Services {
		periods[s.Key] = s.Periods
	}
	var units []*unit
	for _, r := range in.Retests {
		units = append(units, c.retestUnit(in, r, periods))
	}
	units = append(units, c.policyUnits(in, periods)...)
	c.spread(units)
	for _, u := range units {
		c.place(u)
	}
	entries := make([]Entry, len(units))
	for i, u := range units {
		entries[i] = u.entry
	}
	sortEntries(entries)
	return entries
}

// sortEntries orders entries by planned start, unplaced last.
func sortEntries(entries []Entry) {
	slices.SortStableFunc(entries, func(a, b Entry) int {
		switch {
		case a.PlannedStart == nil && b.PlannedStart == nil:
			return cmp.Compare(a.Tier, b.Tier)
		case a.PlannedStart == nil:
			return 1
		case b.PlannedStart == nil:
			return -1
		}
		return a.PlannedStart.Compare(*b.PlannedStart)
	})
}

func (c *calendar) retestUnit(in planInput, r planRetest, periods map[string][]string) *unit {
	typ := in.Policy[r.Tier].Type
	if typ == "" {
		typ = TypeTabletop
	}
	u := &unit{lo: c.earliest, hi: c.days - 1, order: r.Tier}
	reason := fmt.Sprintf("retest of runbook %d", r.Runbook)
	if len(r.Reasons) > 0 {
		reason += ": " + strings.Join(r.Reasons, "; ")
	}
	u.entry = Entry{Title: clipTitle(fmt.Sprintf("Retest of runbook %d: %s", r.Runbook, listNames(r.Services))),
		Type: typ, Services: nonNilStrings(r.Services), Runbooks: []int64{r.Runbook}, Tier: r.Tier, Retest: true,
		Findings: nonNilIDs(r.Findings), Reason: reason, Notes: []string{}}
	u.critical, u.entry.Notes = c.critical(periods, r.Services)
	u.entry.Notes = nonNilStrings(u.entry.Notes)
	u.target = u.lo
	return u
}

// policyUnits makes the entries the policy asks for: per tier's drill
// type and count, per part of the year, services with overlapping scopes
// grouped.
func (c *calendar) policyUnits(in planInput, periods map[string][]string) []*unit {
	type bucket struct {
		typ        string
		count, nth int
	}
	buckets := map[bucket][]planService{}
	for _, s := range in.Services {
		p, ok := in.Policy[s.Tier]
		if !ok {
			continue
		}
		for k := range p.PerYear {
			b := bucket{p.Type, p.PerYear, k}
			buckets[b] = append(buckets[b], s)
		}
	}
	keys := slices.SortedFunc(maps.Keys(buckets), func(a, b bucket) int {
		return cmp.Or(cmp.Compare(a.count, b.count), strings.Compare(a.typ, b.typ), cmp.Compare(a.nth, b.nth))
	})
	var units []*unit
	for _, b := range keys {
		svcs := buckets[b]
		slices.SortFunc(svcs, func(x, y planService) int { return cmp.Or(cmp.Compare(x.Tier, y.Tier), strings.Compare(x.Key, y.Key)) })
		lo, hi := b.nth*c.days/b.count, (b.nth+1)*c.days/b.count-1
		for _, g := range groupByScope(svcs) {
			units = append(units, c.policyUnit(in, periods, b.typ, b.nth, b.count, lo, hi, g))
		}
	}
	return units
}

func (c *calendar) policyUnit(in planInput, periods map[string][]string, typ string, nth, count, lo, hi int, g []planService) *unit {
	u := &unit{lo: lo, hi: hi, order: g[0].Tier}
	keys := make([]string, len(g))
	var rbs []int64
	var notes []string
	tier := g[0].Tier
	for i, s := range g {
		keys[i] = s.Key
		rbs = append(rbs, s.Runbook)
		tier = min(tier, s.Tier)
		if s.NoBIA {
			notes = append(notes, fmt.Sprintf("%s has no approved BIA: planned as tier %d", s.Key, s.Tier))
		}
	}
	if len(g) > 1 {
		notes = append(notes, fmt.Sprintf("grouped: the runbooks of %s share at least half of their CMDB scope", listNames(keys)))
	}
	slices.Sort(rbs)
	var unread []string
	u.critical, unread = c.critical(periods, keys)
	notes = append(notes, unread...)
	nthText := ""
	if count > 1 {
		nthText = fmt.Sprintf(" (%d of %d)", nth+1, count)
	}
	u.entry = Entry{Title: clipTitle(fmt.Sprintf("%s drill%s: %s", typeTitle(typ), nthText, listNames(keys))),
		Type: typ, Services: keys, Runbooks: slices.Compact(rbs), Tier: tier, Findings: []int64{},
		Reason: fmt.Sprintf("tier %d policy: %s drill %d of %d in %d", tier, typ, nth+1, count, in.Year), Notes: nonNilStrings(notes)}
	if u.hi < c.earliest {
		u.lo, u.hi = c.earliest, c.days-1
		u.entry.Notes = append(u.entry.Notes, fmt.Sprintf("its part of the year (%s to %s) has passed: planned as a catch-up",
			c.date(lo).Format(time.DateOnly), c.date(hi).Format(time.DateOnly)))
	}
	u.lo = max(u.lo, c.earliest)
	return u
}

// groupByScope groups services (sorted) whose runbooks share at least half
// of the smaller scope with the group's first service, through an index of
// the first services' CIs.
func groupByScope(svcs []planService) [][]planService {
	var groups [][]planService
	index := map[string][]int{}
	var counts []int
	var touched []int
	for _, s := range svcs {
		touched = touched[:0]
		for _, ci := range s.Scope {
			for _, g := range index[ci] {
				if counts[g] == 0 {
					touched = append(touched, g)
				}
				counts[g]++
			}
		}
		joined := -1
		slices.Sort(touched)
		for _, g := range touched {
			seed := groups[g][0]
			smaller := min(len(seed.Scope), len(s.Scope))
			if joined < 0 && len(groups[g]) < maxGroup && smaller > 0 && 2*counts[g] >= smaller {
				joined = g
			}
			counts[g] = 0
		}
		if joined >= 0 {
			groups[joined] = append(groups[joined], s)
			continue
		}
		groups = append(groups, []planService{s})
		counts = append(counts, 0)
		for _, ci := range slices.Compact(slices.Sorted(slices.Values(s.Scope))) {
			index[ci] = append(index[ci], len(groups)-1)
		}
	}
	return groups
}

// spread gives the units sharing a window targets spread evenly over it,
// in placement order, so a hundred yearly tabletops do not all aim at one
// week.
func (c *calendar) spread(units []*unit) {
	slices.SortStableFunc(units, func(a, b *unit) int {
		return cmp.Or(cmp.Compare(retestRank(a), retestRank(b)), cmp.Compare(a.order, b.order),
			cmp.Compare(a.lo, b.lo), strings.Compare(strings.Join(a.entry.Services, ","), strings.Join(b.entry.Services, ",")))
	})
	windows := map[[2]int][]*unit{}
	for _, u := range units {
		if !u.entry.Retest {
			windows[[2]int{u.lo, u.hi}] = append(windows[[2]int{u.lo, u.hi}], u)
		}
	}
	for w, us := range windows {
		span := w[1] - w[0] + 1
		for i, u := range us {
			u.target = w[0] + (2*i+1)*span/(2*len(us))
		}
	}
}

// place puts a unit on the free day nearest its target within its window,
// trying the dates of a matching rule first, or says why it cannot.
func (c *calendar) place(u *unit) {
	if u.lo > u.hi || u.lo >= c.days {
		u.entry.Unplaced = fmt.Sprintf("no day of %d is left to plan", c.year)
		return
	}
	var ruleDays []int
	ruled := false
	for _, r := range c.rules {
		if r.rule.applies(u.entry.Tier, u.entry.Type) {
			ruled = true
			ruleDays = append(ruleDays, r.days...)
		}
	}
	if ruled {
		slices.SortFunc(ruleDays, func(a, b int) int { return cmp.Or(cmp.Compare(abs(a-u.target), abs(b-u.target)), cmp.Compare(a, b)) })
		for _, d := range ruleDays {
			if d >= u.lo && d <= u.hi && c.free(u, d) {
				c.take(u, d)
				u.entry.Notes = append(u.entry.Notes, "on a date its rule gives")
				return
			}
		}
		u.entry.Notes = append(u.entry.Notes, "no date its rule gives was free in its part of the year: placed nearest its target instead")
	}
	for off := 0; off <= u.hi-u.lo; off++ {
		for _, d := range []int{u.target + off, u.target - off} {
			if d >= u.lo && d <= u.hi && c.free(u, d) {
				c.take(u, d)
				return
			}
			if off == 0 {
				break
			}
		}
	}
	u.entry.Unplaced = c.why(u)
}

func (c *calendar) free(u *unit, d int) bool {
	return c.blocked[d] == dayFree && !u.critical.has(d) && c.load[c.week[d]] < c.max
}

func (c *calendar) take(u *unit, d int) {
	c.load[c.week[d]]++
	t := c.start(d)
	u.entry.PlannedStart = &t
}

// why explains, counting the window's days by the reason each is not free.
func (c *calendar) why(u *unit) string {
	counts := map[uint8]int{}
	critical, full := 0, 0
	for d := u.lo; d <= u.hi; d++ {
		switch {
		case c.blocked[d] != dayFree:
			counts[c.blocked[d]]++
		case u.critical.has(d):
			critical++
		default:
			full++
		}
	}
	var parts []string
	for _, r := range []uint8{dayPast, dayWeekend, dayHoliday, dayBlackout, dayFreeze} {
		if counts[r] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[r], dayReasons[r]))
		}
	}
	if critical > 0 {
		parts = append(parts, fmt.Sprintf("%d days in critical periods of %s", critical, listNames(u.entry.Services)))
	}
	if full > 0 {
		parts = append(parts, fmt.Sprintf("%d days in weeks that already hold %d drills", full, c.max))
	}
	return fmt.Sprintf("no day from %s to %s is free: %s", c.date(u.lo).Format(time.DateOnly), c.date(u.hi).Format(time.DateOnly),
		strings.Join(parts, ", "))
}

// typeTitle is a drill type for a title: "Full interruption".
func typeTitle(t string) string {
	t = strings.ReplaceAll(t, "_", " ")
	return strings.ToUpper(t[:1]) + t[1:]
}

// listNames lists names for a sentence, the first few then a count.
func listNames(names []string) string {
	const shown = 5
	if len(names) <= shown {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:shown], ", ") + " and " + strconv.Itoa(len(names)-shown) + " more"
}

// clipTitle keeps a generated title within the drill title limit.
func clipTitle(s string) string {
	if len(s) <= maxTitle {
		return s
	}
	const ellipsis = "…"
	s = s[:maxTitle-len(ellipsis)]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + ellipsis
}

func nonNilIDs(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

// retestRank puts retests first.
func retestRank(u *unit) int {
	if u.entry.Retest {
		return 0
	}
	return 1
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
