package drills

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/orchestrator/secretref"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// organisation is a small organisation on a clock standing at 3 December
// 2026: tax (tier 0, filing period days 1–15), levy (tier 2, critical
// March–June), calendar (tier 3) and mail (no BIA) which share most of
// their infrastructure, each with an approved runbook.
type organisation struct {
	t         *testing.T
	pool      *pgxpool.Pool
	clock     *orchestrator.ManualClock
	rb        *runbooks.Service
	svc       *Service
	schedules *scheduler.Service
	runbooks  map[string]int64
}

func newOrganisation(t *testing.T) *organisation {
	t.Helper()
	pool := pgtest.New(t)
	clock := orchestrator.NewManualClock(time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC))
	rt := orchestrator.Runtime{Clock: clock}
	impacts := impact.NewService(pool, rt, impact.NewGraphCache(pool, rt))
	proof := &lateProof{}
	rb := runbooks.NewService(pool, rt, runbooks.Options{Model: runbooks.NewPGModel(pool, impacts), Drills: proof})
	schedules := scheduler.NewService(pool, rt, scheduler.ServiceOptions{Handled: []scheduler.Kind{scheduler.KindDrill}})
	svc := NewService(pool, rt, Options{Runbooks: rb, Executions: execution.NewService(pool, rt, rb, execution.Options{}),
		Schedules: schedules, Impact: impacts})
	proof.s = svc
	o := &organisation{t: t, pool: pool, clock: clock, rb: rb, svc: svc, schedules: schedules, runbooks: map[string]int64{}}
	ctx := actAs(orchestrator.RoleAdmin, "admin")
	cis := cmdb.NewService(pool)
	ci := func(key, class string) {
		_, err := cis.CreateCI(ctx, cmdb.CIInput{Key: key, Name: key, Class: class, RecoveryStrategy: "rebuild",
			RecoveryEstimate: orchestrator.Duration(20 * time.Minute)})
		require.NoError(t, err)
	}
	rel := func(from, to string) {
		_, err := cis.CreateRelation(ctx, cmdb.RelationInput{From: from, To: to, Type: "depends_on"})
		require.NoError(t, err)
	}
	for _, k := range []string{"tax-db", "levy-db", "mx1", "store"} {
		ci(k, "server")
	}
	for svc, deps := range map[string][]string{"tax": {"tax-db"}, "levy": {"levy-db"}, "mail": {"mx1", "store"}, "calendar": {"mx1", "store"}} {
		ci(svc, "business_service")
		for _, d := range deps {
			rel(svc, d)
		}
	}
	for svc, bia := range map[string]struct {
		rto    time.Duration
		period string
	}{"tax": {time.Hour, "每月1-15日申报征期 monthly filing period, days 1-15"}, "levy": {24 * time.Hour, "annual reconciliation, March-June"},
		"calendar": {72 * time.Hour, "black friday"}} {
		_, err := impacts.SaveBIA(ctx, svc, impact.Assessment{RTO: orchestrator.Duration(bia.rto), RPO: orchestrator.Duration(time.Hour),
			CriticalPeriods: []string{bia.period}})
		require.NoError(t, err)
		_, err = impacts.ApproveBIA(actAs(orchestrator.RoleContinuityManager, "approver"), svc)
		require.NoError(t, err)
	}
	for _, svc := range []string{"tax", "levy", "mail", "calendar"} {
		r, err := rb.Create(ctx, runbooks.CreateInput{Service: svc})
		require.NoError(t, err)
		_, err = rb.Approve(actAs(orchestrator.RoleContinuityManager, "approver"), strconv.FormatInt(r.ID, 10))
		require.NoError(t, err)
		o.runbooks[svc] = r.ID
	}
	return o
}

// majorChange implements a major change on ci an hour from now.
func (o *organisation) majorChange(ci string) {
	o.t.Helper()
	at := o.clock.Now().Add(time.Hour)
	_, err := itsm.NewStore(o.pool).CreateChange(actAs(orchestrator.RoleAdmin, "admin"), itsm.ChangeInput{ExternalID: "CHG-77",
		Title: "database upgrade", Major: true, Status: "implemented", AffectedCIs: []string{ci}, ActualStart: &at, ActualEnd: &at})
	require.NoError(o.t, err)
	o.clock.Advance(2 * time.Hour)
}

// planInputOf rebuilds what a programme was planned under, for checkPlaced.
func (o *organisation) planInputOf(p Programme) planInput {
	in := planInput{Year: p.Year, Settings: p.Settings, Now: o.clock.Now()}
	bias, err := o.svc.opts.Impact.ApprovedBIAs(context.Background(), nil)
	require.NoError(o.t, err)
	for svc := range o.runbooks {
		in.Services = append(in.Services, planService{Key: svc, Periods: bias[svc].CriticalPeriods})
	}
	return in
}

var londonSettings = SettingsInput{
	Timezone: ptr("Europe/London"), MaxPerWeek: ptr(1), ReminderDays: ptr(5),
	Blackouts: []string{"2027-01-05", "2027-01-06"},
	Holidays:  []string{"2027-01-01", "2027-01-04", "2027-04-02", "2027-04-05", "2027-12-27", "2027-12-28"},
	Freezes:   []Freeze{{From: "2027-11-15", To: "2027-12-31", Reason: "year-end freeze"}},
	Rules:     []Rule{{Type: TypeSimulation, RRule: "FREQ=YEARLY;BYMONTH=9;BYDAY=1TU"}},
}

func TestProgrammeCoversEveryServiceAndApproves(t *testing.T) {
	o := newOrganisation(t)
	o.majorChange("tax-db")

	p, err := o.svc.ProposeProgramme(manager, 2027, londonSettings)
	require.NoError(t, err)
	require.Equal(t, ProgrammeDraft, p.Status)
	require.Equal(t, "Europe/London", p.Settings.Timezone)
	checkPlaced(t, o.planInputOf(p), p.Entries)
	require.Zero(t, p.Unplaced, "%+v", p.Entries)

	// The major change puts a retest of tax's runbook first.
	require.True(t, p.Entries[0].Retest)
	require.Equal(t, []int64{o.runbooks["tax"]}, p.Entries[0].Runbooks)
	require.Contains(t, p.Entries[0].Reason, "CHG-77")
	require.Equal(t, "2027-01-18", p.Entries[0].PlannedStart.Format(time.DateOnly),
		"the first weekday free of holidays, blackouts and tax's filing period")

	require.Len(t, entriesOf(p.Entries, "tax"), 2)
	for _, e := range entriesOf(p.Entries, "tax") {
		require.Equal(t, TypeTechnical, e.Type)
		require.Greater(t, e.PlannedStart.Day(), 15, "outside the filing period")
	}
	levy := entriesOf(p.Entries, "levy")
	require.Len(t, levy, 1)
	require.Equal(t, TypeSimulation, levy[0].Type)
	require.Equal(t, "2027-09-07T08:00:00Z", levy[0].PlannedStart.Format(time.RFC3339), "the rule's first Tuesday of September, 09:00 BST")
	shared := entriesOf(p.Entries, "mail")
	require.Len(t, shared, 1)
	require.Equal(t, []string{"calendar", "mail"}, shared[0].Services, "grouped: same drill, shared scope")
	require.Equal(t, TypeTabletop, shared[0].Type)
	notes := strings.Join(shared[0].Notes, "\n")
	require.Contains(t, notes, "mail has no approved BIA: planned as tier 4")
	require.Contains(t, notes, `"black friday"`)
	require.Len(t, p.Entries, 5)

	// Proposing again replaces the draft.
	again, err := o.svc.ProposeProgramme(manager, 2027, SettingsInput{})
	require.NoError(t, err)
	require.Equal(t, "UTC", again.Settings.Timezone)

	// The manager's edit is validated, naming the entry and field.
	bad := slices.Clone(again.Entries)
	bad[0].Type = "picnic"
	bad[1].Runbooks = []int64{999}
	outside := time.Date(2028, 1, 5, 9, 0, 0, 0, time.UTC)
	bad[2].PlannedStart = &outside
	_, err = o.svc.ReplaceEntries(manager, 2027, bad)
	require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
	require.ElementsMatch(t, []string{"entries[0].type", "entries[1].runbooks[0]", "entries[2].planned_start"}, fieldNames(err))

	// An unplaced entry blocks approval until the manager places it.
	edited := slices.Clone(again.Entries)
	edited[len(edited)-1].PlannedStart = nil
	p, err = o.svc.ReplaceEntries(manager, 2027, edited)
	require.NoError(t, err)
	require.Equal(t, 1, p.Unplaced)
	_, err = o.svc.ApproveProgramme(manager, 2027)
	require.Equal(t, []string{"entries[4].planned_start"}, fieldNames(err))
	p, err = o.svc.ProposeProgramme(manager, 2027, londonSettings)
	require.NoError(t, err)

	p, err = o.svc.ApproveProgramme(manager, 2027)
	require.NoError(t, err)
	require.Equal(t, ProgrammeApproved, p.Status)
	require.Equal(t, "zhang.wei", p.ApprovedBy)
	london := mustZone(t, "Europe/London")
	for _, e := range p.Entries {
		require.NotNil(t, e.Drill)
		d, err := o.svc.Get(manager, *e.Drill)
		require.NoError(t, err)
		require.Equal(t, 2027, *d.ProgrammeYear)
		require.Equal(t, e.Retest, d.Retest)
		require.Equal(t, e.Services, d.Services)
		require.True(t, d.PlannedStart.Equal(*e.PlannedStart))
		require.NotNil(t, d.Schedule)
		sc, err := o.schedules.Get(manager, *d.Schedule)
		require.NoError(t, err)
		local := d.PlannedStart.In(london)
		require.Equal(t, "drill/"+strconv.FormatInt(d.ID, 10), sc.Target)
		require.Equal(t, "drill "+strconv.FormatInt(d.ID, 10), sc.Name)
		require.Equal(t, scheduler.KindDrill, sc.Kind)
		require.True(t, sc.NextFireAt.Equal(d.PlannedStart), "schedule %s fires at %s, the drill starts %s (%s local)", sc.Cron, sc.NextFireAt, d.PlannedStart, local)
	}
	reminders, err := o.schedules.List(manager, scheduler.Filter{}, orchestrator.Page{Limit: 100})
	require.NoError(t, err)
	require.True(t, slices.ContainsFunc(reminders.Items, func(sc scheduler.Schedule) bool {
		return sc.Name == "drill reminders 2027" && sc.Target == targetReminders && sc.Cron == "0 8 * * *" && sc.Timezone == "Europe/London"
	}))

	// Approved: no new proposal, no edit, no second approval.
	for _, err := range []error{
		func() error { _, err := o.svc.ProposeProgramme(manager, 2027, SettingsInput{}); return err }(),
		func() error { _, err := o.svc.ReplaceEntries(manager, 2027, p.Entries); return err }(),
		func() error { _, err := o.svc.ApproveProgramme(manager, 2027); return err }(),
	} {
		require.Equal(t, orchestrator.ECONFLICT, orchestrator.ErrorCode(err), "%v", err)
	}
	var audited int
	require.NoError(t, o.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM audit_log WHERE resource = 'drill_programmes' AND resource_id = '2027'`).Scan(&audited))
	require.GreaterOrEqual(t, audited, 5)

	t.Run("reminders", func(t *testing.T) {
		ctx := actAs(orchestrator.RoleAdmin, "admin")
		channels := notify.NewService(o.pool, orchestrator.Runtime{}, secretref.Policy{})
		url, kind := "http://127.0.0.1:9/hook", notify.KindWebhook
		name := "drills"
		ch, err := channels.Create(ctx, notify.ChannelInput{Name: &name, Kind: &kind, URL: &url, Events: []string{"drill_reminder"}})
		require.NoError(t, err)
		first := p.Entries[0]
		o.clock.Set(first.PlannedStart.AddDate(0, 0, -6))
		n, err := o.svc.remind(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "six days ahead is outside the five reminder days")
		o.clock.Set(first.PlannedStart.AddDate(0, 0, -4))
		n, err = o.svc.remind(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = o.svc.remind(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "each drill is reminded once")
		list, err := channels.Deliveries(ctx, ch.ID, notify.DeliveryFilter{}, orchestrator.Page{Limit: 10})
		require.NoError(t, err)
		require.Len(t, list.Items, 1)
		require.Equal(t, "drill/"+strconv.FormatInt(*first.Drill, 10), list.Items[0].Subject)
	})

	t.Run("calendar feed", func(t *testing.T) {
		ctx := actAs(orchestrator.RoleContinuityManager, "zhang.wei")
		f, token, err := o.svc.CreateFeed(ctx, "Outlook")
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(token, feedTokenPrefix))
		var stored []byte
		require.NoError(t, o.pool.QueryRow(ctx, `SELECT token_hash FROM drill_calendar_feeds WHERE id = $1`, f.ID).Scan(&stored))
		require.Len(t, stored, 32, "only the SHA-256 is kept")
		raw, err := o.svc.Calendar(context.Background(), token)
		require.NoError(t, err)
		checkRFC5545(t, raw)
		require.Equal(t, len(p.Entries), strings.Count(string(raw), "BEGIN:VEVENT"))
		require.Contains(t, string(raw), "TRIGGER:-P5D")
		last := "0"
		if strings.HasSuffix(token, last) {
			last = "1"
		}
		for _, tok := range []string{"", "nonsense", token[:len(token)-1] + last, strings.ToUpper(token), "' OR 1=1 --"} {
			_, err := o.svc.Calendar(context.Background(), tok)
			require.ErrorIs(t, err, ErrFeedToken, tok)
		}
		require.NoError(t, o.svc.RevokeFeed(ctx, f.ID))
		_, err = o.svc.Calendar(context.Background(), token)
		require.ErrorIs(t, err, ErrFeedToken)
		feeds, err := o.svc.Feeds(ctx)
		require.NoError(t, err)
		require.Len(t, feeds, 1)
		require.NotNil(t, feeds[0].RevokedAt)
		require.Equal(t, orchestrator.ENOTFOUND, orchestrator.ErrorCode(o.svc.RevokeFeed(ctx, 999)))
	})

	t.Run("coverage", func(t *testing.T) {
		ctx := context.Background()
		// tax's first technical drill is done and passed; the clock stands
		// after levy's planned start, which nobody ran.
		taxDrills := entriesOf(p.Entries, "tax")
		done := taxDrills[0].PlannedStart.Add(3 * time.Hour)
		_, err := o.pool.Exec(ctx, `UPDATE drills SET status = 'completed', result = 'pass', completed_at = $2 WHERE id = $1`,
			*taxDrills[0].Drill, done)
		require.NoError(t, err)
		o.clock.Set(entriesOf(p.Entries, "levy")[0].PlannedStart.Add(48 * time.Hour))
		cov, err := o.svc.Coverage(ctx, 2027)
		require.NoError(t, err)
		late := map[string]bool{}
		for _, e := range p.Entries {
			if *e.Drill != *taxDrills[0].Drill && e.PlannedStart.Before(o.clock.Now()) {
				for _, svc := range e.Services {
					late[svc] = true
				}
			}
		}
		require.True(t, late["tax"] && late["levy"])
		require.Equal(t, CoverageSummary{Services: 4, Met: 0, Overdue: len(late), Critical: 1, CriticalUncovered: 0}, cov.Summary)
		byService := map[string]ServiceCoverage{}
		for _, c := range cov.Services {
			byService[c.Service] = c
		}
		tax := byService["tax"]
		require.Equal(t, Requirement{Type: TypeTechnical, Count: 2}, tax.Required)
		require.Equal(t, 3, tax.Planned, "two per policy and the retest")
		require.Len(t, tax.Done, 1)
		require.Equal(t, ResultPass, *tax.Done[0].Result)
		require.False(t, tax.Met, "one of two")
		require.True(t, tax.ThreeYear.Required)
		require.True(t, tax.ThreeYear.Covered)
		require.True(t, tax.ThreeYear.Last.Equal(done))
		require.NotEmpty(t, tax.Overdue, "the retest was never run")
		require.Len(t, byService["levy"].Overdue, 1)
		require.True(t, byService["mail"].TierAssumed)
		require.Equal(t, TypeTabletop, byService["mail"].Required.Type)
		require.False(t, byService["levy"].ThreeYear.Required)
	})
}

// fieldNames lists the fields a validation error names.
func fieldNames(err error) []string {
	var out []string
	for _, f := range orchestrator.ErrorFields(err) {
		out = append(out, f.Field)
	}
	return out
}

func TestProgrammeSettingsNameTheField(t *testing.T) {
	t.Parallel()
	for field, in := range map[string]SettingsInput{
		"timezone":            {Timezone: ptr("Mars/Olympus")},
		"start_time":          {StartTime: ptr("25:00")},
		"duration":            {Duration: ptr(orchestrator.Duration(time.Minute))},
		"max_per_week":        {MaxPerWeek: ptr(0)},
		"reminder_days":       {ReminderDays: ptr(-1)},
		"blackouts[1]":        {Blackouts: []string{"2027-01-05", "2027-13-01"}},
		"holidays[0]":         {Holidays: []string{"'; DROP TABLE drills; --"}},
		"freezes[0].to":       {Freezes: []Freeze{{From: "2027-03-10", To: "2027-03-01"}}},
		"freezes[0].from":     {Freezes: []Freeze{{From: "../../etc/passwd", To: "2027-03-01"}}},
		"rules[0].rrule":      {Rules: []Rule{{RRule: "FREQ=SECONDLY"}}},
		"rules[0].type":       {Rules: []Rule{{Type: "party", Date: "2027-03-01"}}},
		"rules[0].tier":       {Rules: []Rule{{Tier: ptr(7), Date: "2027-03-01"}}},
		"rules[0].date":       {Rules: []Rule{{Date: "first tuesday"}}},
		"rules[1].rrule":      {Rules: []Rule{{Date: "2027-03-01"}, {}}},
		"freezes[0].reason":   {Freezes: []Freeze{{From: "2027-03-01", To: "2027-03-01", Reason: "\xff\xfe"}}},
		"rules":               {Rules: make([]Rule, maxRules+1)},
		"blackouts":           {Blackouts: make([]string, maxDates+1)},
		"rules[0].rrule ":     {Rules: []Rule{{RRule: "DTSTART:20000101\nFREQ=YEARLY"}}},
		"timezone  ":          {Timezone: ptr("Local")},
		"timezone   ":         {Timezone: ptr("../../../etc/localtime")},
		"start_time ":         {StartTime: ptr("9am")},
		"rules[0].rrule   ":   {Rules: []Rule{{RRule: "FREQ=WEEKLY;BYDAY=XX"}}},
		"rules[0].rrule    ":  {Rules: []Rule{{RRule: strings.Repeat("FREQ=WEEKLY;", 100)}}},
		"rules[0].rrule     ": {Rules: []Rule{{RRule: "FREQ=WEEKLY\x00;BYDAY=MO"}}},
	} {
		_, err := in.settings(2027)
		require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err), field)
		require.Contains(t, fieldNames(err), strings.TrimSpace(field), "%s: %v", field, err)
	}
	s, err := SettingsInput{}.settings(2027)
	require.NoError(t, err)
	require.Equal(t, Settings{Timezone: "UTC", StartTime: "09:00", Duration: orchestrator.Duration(4 * time.Hour), MaxPerWeek: 3,
		ReminderDays: 7, Blackouts: []string{}, Holidays: []string{}, Freezes: []Freeze{}, Rules: []Rule{}}, s)
}

func TestPolicy(t *testing.T) {
	o := newOrganisation(t)
	ps, err := o.svc.Policies(manager)
	require.NoError(t, err)
	require.Len(t, ps, 5)
	require.Equal(t, []any{TypeTechnical, 2}, []any{ps[0].Type, ps[0].PerYear})
	require.Equal(t, []any{TypeSimulation, 1}, []any{ps[2].Type, ps[2].PerYear})
	require.Equal(t, []any{TypeTabletop, 1}, []any{ps[4].Type, ps[4].PerYear})

	_, err = o.svc.SetPolicies(manager, []PolicyInput{{Tier: ptr(5), Type: "technical", PerYear: ptr(2)}, {Tier: ptr(1), Type: "nap", PerYear: ptr(0)}, {}})
	require.ElementsMatch(t, []string{"tiers[0].tier", "tiers[1].type", "tiers[1].per_year", "tiers[2].tier", "tiers[2].type", "tiers[2].per_year"}, fieldNames(err))
	_, err = o.svc.SetPolicies(manager, []PolicyInput{{Tier: ptr(2), Type: TypeTechnical, PerYear: ptr(1)}, {Tier: ptr(2), Type: TypeTechnical, PerYear: ptr(1)}})
	require.Equal(t, []string{"tiers[1].tier"}, fieldNames(err))

	ps, err = o.svc.SetPolicies(manager, []PolicyInput{{Tier: ptr(2), Type: TypeTechnical, PerYear: ptr(4)}})
	require.NoError(t, err)
	require.Equal(t, []any{TypeTechnical, 4, "zhang.wei"}, []any{ps[2].Type, ps[2].PerYear, ps[2].UpdatedBy})
	require.Equal(t, TypeTabletop, ps[3].Type, "other tiers keep theirs")
	var summary string
	require.NoError(t, o.pool.QueryRow(context.Background(),
		`SELECT summary FROM audit_log WHERE resource = 'drill_policies' ORDER BY id DESC LIMIT 1`).Scan(&summary))
	require.Contains(t, summary, "tier 2: technical ×4")

	// The new policy shapes the next proposal: levy (tier 2) now gets four
	// technical drills, one per quarter.
	p, err := o.svc.ProposeProgramme(manager, 2027, SettingsInput{})
	require.NoError(t, err)
	levy := entriesOf(p.Entries, "levy")
	require.Len(t, levy, 4)
	var quarters []int
	for _, e := range levy {
		require.Equal(t, TypeTechnical, e.Type)
		require.NotNil(t, e.PlannedStart, e.Unplaced)
		require.False(t, e.PlannedStart.Month() >= time.March && e.PlannedStart.Month() <= time.June, "outside March–June: %s", e.PlannedStart)
		quarters = append(quarters, (e.PlannedStart.YearDay()-1)*4/365)
	}
	require.Equal(t, []int{0, 1, 2, 3}, quarters, "one in each quarter of the year (the second on 1 July, its last day)")
	_, err = o.svc.ProposeProgramme(manager, 1999, SettingsInput{})
	require.Equal(t, []string{"year"}, fieldNames(err))
}
