package drills

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
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
// grown one from the other: each service needs a runbook generated and
// approved through the runbooks service, which makes the fixture slow.
// The proposal reads each runbook through runbooks.Service.Get, whose
// feasibility reads every approved BIA, so the time per service grows
// with the organisation; the figure is reported per service.
var benchDBSizes = []int{100, 200}

// BenchmarkProgrammeProposeDB times ProposeProgramme end to end against
// PostgreSQL: policy, every approved runbook with its staleness, the
// approved BIAs, findings due a retest and the week load, then planning
// and storing the draft.
func BenchmarkProgrammeProposeDB(b *testing.B) {
	pool := pgtest.New(b)
	rt := orchestrator.Runtime{}
	impacts := impact.NewService(pool, rt, impact.NewGraphCache(pool, rt))
	rb := runbooks.NewService(pool, rt, runbooks.Options{Model: runbooks.NewPGModel(pool, impacts)})
	svc := NewService(pool, rt, Options{Runbooks: rb, Executions: execution.NewService(pool, rt, rb, execution.Options{}), Impact: impacts})
	ctx := actAs(orchestrator.RoleAdmin, "admin")
	cis := cmdb.NewService(pool)
	for _, k := range []string{"site", "net", "store"} {
		_, err := cis.CreateCI(ctx, cmdb.CIInput{Key: k, Name: k, Class: "server"})
		require.NoError(b, err)
	}
	added := 0
	for _, size := range benchDBSizes {
		for ; added < size; added++ {
			benchService(b, cis, impacts, rb, added)
		}
		b.Run(fmt.Sprintf("services=%d", size), func(b *testing.B) {
			year := time.Now().Year() + 1
			var p Programme
			for b.Loop() {
				var err error
				p, err = svc.ProposeProgramme(manager, year, SettingsInput{MaxPerWeek: ptr(20)})
				require.NoError(b, err)
			}
			b.ReportMetric(float64(len(p.Entries)), "entries")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(size)/1000, "ms/service")
		})
	}
}

// benchService adds service i: a business service on its database and
// the shared site, network and storage, an approved BIA and an approved
// runbook.
func benchService(b *testing.B, cis *cmdb.Service, impacts *impact.Service, rb *runbooks.Service, i int) {
	ctx := actAs(orchestrator.RoleAdmin, "admin")
	key := fmt.Sprintf("svc-%04d", i)
	_, err := cis.CreateCI(ctx, cmdb.CIInput{Key: key, Name: key, Class: "business_service"})
	require.NoError(b, err)
	for _, part := range []string{"-db", "-app", "-vm"} {
		_, err = cis.CreateCI(ctx, cmdb.CIInput{Key: key + part, Name: key + part, Class: "database", RecoveryStrategy: "restore",
			RecoveryEstimate: orchestrator.Duration(time.Hour)})
		require.NoError(b, err)
	}
	for _, to := range []string{key + "-db", key + "-app", key + "-vm", "site", "net", "store"} {
		_, err = cis.CreateRelation(ctx, cmdb.RelationInput{From: key, To: to, Type: "depends_on"})
		require.NoError(b, err)
	}
	_, err = impacts.SaveBIA(ctx, key, impact.Assessment{RTO: orchestrator.Duration(time.Duration(1+i%100) * time.Hour),
		RPO: orchestrator.Duration(time.Hour), CriticalPeriods: []string{"days 1-10"}})
	require.NoError(b, err)
	_, err = impacts.ApproveBIA(ctx, key)
	require.NoError(b, err)
	r, err := rb.Create(ctx, runbooks.CreateInput{Service: key})
	require.NoError(b, err)
	_, err = rb.Approve(ctx, strconv.FormatInt(r.ID, 10))
	require.NoError(b, err)
}
