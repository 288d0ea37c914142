package drills

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
	"github.com/bcdr/bcdr/runbooks/runbookstest"
)

// benchPlanInput is the figure: 2,000 services over a year with
// 50 blackout dates, tiers 0–4 in equal parts, critical periods in the
// demo's two forms, scopes that share a site and a network with other
// services (and, when shared, storage and a cluster with nine others), 40
// retests due, and room for 60 drills a week.
func benchPlanInput(tb testing.TB, shared bool) planInput {
	year := 2027
	var blackouts []string
	for d := time.Date(year, 1, 4, 0, 0, 0, 0, time.UTC); len(blackouts) < 50; d = d.AddDate(0, 0, 7) {
		blackouts = append(blackouts, d.Format(time.DateOnly))
	}
	settings := settingsFor(tb, year, SettingsInput{Timezone: ptr("Europe/London"), MaxPerWeek: ptr(60), Blackouts: blackouts,
		Holidays: []string{"2027-01-01", "2027-04-02", "2027-04-05", "2027-05-03", "2027-05-31", "2027-08-30", "2027-12-27", "2027-12-28"},
		Freezes:  []Freeze{{From: "2027-11-20", To: "2027-12-31"}, {From: "2027-06-25", To: "2027-07-05"}},
		Rules:    []Rule{{Tier: ptr(0), RRule: "FREQ=YEARLY;BYMONTH=3,9;BYDAY=1TU,3TU"}, {Type: TypeSimulation, RRule: "FREQ=MONTHLY;BYDAY=2WE"}}})
	in := planInput{Year: year, Settings: settings, Now: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC), Policy: defaultPolicy()}
	periods := []string{"每月1-15日申报征期 monthly filing period, days 1-15", "年度汇算清缴 annual reconciliation, March-June"}
	for i := range 2000 {
		key := fmt.Sprintf("svc-%04d", i)
		tier := i % 5
		scope := []string{key, key + "-app", key + "-db", key + "-vm", fmt.Sprintf("site-%d", i%3), fmt.Sprintf("net-%d", i%10)}
		if shared {
			scope = append(scope, fmt.Sprintf("store-%d", i%40), fmt.Sprintf("cluster-%d", i%200))
		}
		in.Services = append(in.Services, planService{Key: key, Tier: tier, Runbook: int64(i + 1), NoBIA: i%97 == 0,
			Scope: scope, Periods: []string{periods[min(tier/2, 1)]}})
		if i%50 == 0 {
			in.Retests = append(in.Retests, planRetest{Runbook: int64(i + 1), Services: []string{key}, Tier: tier,
				Reasons: []string{"retest_required since CHG-" + strconv.Itoa(i)}})
		}
	}
	return in
}

// BenchmarkProgrammePlan2000 times the proposal itself (planning over the
// inputs read beforehand): the target is 2 s. "grouped": clusters
// of ten services share four of eight CIs, so they group; "apart": no two
// services share half their scope, so every drill is its own entry.
func BenchmarkProgrammePlan2000(b *testing.B) {
	for _, shared := range []bool{true, false} {
		name := "apart"
		if shared {
			name = "grouped"
		}
		b.Run(name, func(b *testing.B) {
			in := benchPlanInput(b, shared)
			var entries []Entry
			for b.Loop() {
				entries = plan(in)
			}
			placed, unplaced := countPlaced(entries)
			b.ReportMetric(float64(len(entries)), "entries")
			b.ReportMetric(float64(placed), "placed")
			b.ReportMetric(float64(unplaced), "unplaced")
		})
	}
}

// benchDBSizes are the organisations the database benchmark proposes for,
// grown one from the other; the figure the issue names is services=2000.
var benchDBSizes = []int{100, 200, 2000}

// BenchmarkProgrammeProposeDB times ProposeProgramme end to end against
// PostgreSQL: policy, every approved runbook with its staleness (read
// together through runbooks.Service.Briefs), the approved BIAs, findings
// due a retest and the week load, then planning and storing the draft.
// Every tenth service had a major change since its runbook's approval, so
// the proposal has retests to plan.
func BenchmarkProgrammeProposeDB(b *testing.B) {
	pool := pgtest.New(b)
	rt := orchestrator.Runtime{}
	impacts := impact.NewService(pool, rt, impact.NewGraphCache(pool, rt))
	proof := &lateProof{}
	rb := runbooks.NewService(pool, rt, runbooks.Options{Model: runbooks.NewPGModel(pool, impacts), Drills: proof})
	svc := NewService(pool, rt, Options{Runbooks: rb, Executions: execution.NewService(pool, rt, rb, execution.Options{}), Impact: impacts})
	proof.s = svc
	added := 0
	for _, size := range benchDBSizes {
		start := time.Now()
		benchServices(b, pool, impacts, rb, added, size)
		b.Logf("added services %d to %d in %s", added, size, time.Since(start).Round(time.Millisecond))
		added = size
		b.Run(fmt.Sprintf("services=%d", size), func(b *testing.B) {
			year := time.Now().Year() + 1
			var p Programme
			for b.Loop() {
				var err error
				p, err = svc.ProposeProgramme(manager, year, SettingsInput{MaxPerWeek: ptr(60)})
				require.NoError(b, err)
			}
			retests := 0
			for _, e := range p.Entries {
				if e.Retest {
					retests++
				}
			}
			b.ReportMetric(float64(len(p.Entries)), "entries")
			b.ReportMetric(float64(retests), "retests")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(size)/1000, "ms/service")
		})
	}
}

// benchServices adds services from to to (runbookstest.Organisation,
// their RTOs from 1 to 100 hours); every tenth then has a major change on
// its database.
func benchServices(b *testing.B, pool *pgxpool.Pool, impacts *impact.Service, rb *runbooks.Service, from, to int) {
	ctx := actAs(orchestrator.RoleAdmin, "admin")
	runbookstest.Organisation(b, ctx, pool, impacts, rb, from, to, func(i int) time.Duration { return time.Duration(1+i%100) * time.Hour })
	changes := itsm.NewStore(pool)
	at := time.Now()
	for i := from; i < to; i += 10 {
		_, err := changes.CreateChange(ctx, itsm.ChangeInput{ExternalID: "CHG-" + runbookstest.Key(i), Title: "database upgrade", Major: true,
			Status: "implemented", AffectedCIs: []string{runbookstest.Key(i) + "-db"}, ActualStart: &at, ActualEnd: &at})
		require.NoError(b, err)
	}
}
