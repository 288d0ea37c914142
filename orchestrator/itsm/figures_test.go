package itsm

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// seedCIs inserts CIs by key; keys starting with "svc" are business services
// with office hours in Europe/Berlin.
func seedCIs(t *testing.T, pool *pgxpool.Pool, keys ...string) map[string]int64 {
	t.Helper()
	ids := map[string]int64{}
	for _, k := range keys {
		class := "server"
		if len(k) > 3 && k[:3] == "svc" {
			class = classBusinessService
		}
		var id int64
		err := pool.QueryRow(t.Context(), `INSERT INTO cis (key, name, class, external_id) VALUES ($1, $1, $2, $1) RETURNING id`, k, class).Scan(&id)
		require.NoError(t, err)
		if class == classBusinessService {
			_, err = pool.Exec(t.Context(), `INSERT INTO business_services (ci_id, timezone, business_hours) VALUES ($1, 'Europe/Berlin',
				'[{"days":["mon","tue","wed","thu","fri"],"start":"08:00","end":"18:00"}]')`, id)
			require.NoError(t, err)
		}
		ids[k] = id
	}
	return ids
}

func TestIncidentFigures(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := t.Context()
	store := NewStore(pool)
	seedCIs(t, pool, "db1", "app1", "svc-tax")
	incident := func(priority, cause string, opened string, restored time.Duration, cis, services []string) Incident {
		t.Helper()
		at := utc(opened)
		in := IncidentInput{Title: cause + " " + opened, Priority: priority, Cause: cause, OpenedAt: at, AffectedCIs: cis, AffectedServices: services}
		if restored > 0 {
			in.RestoredAt = new(at.Add(restored))
		}
		inc, err := store.CreateIncident(ctx, in)
		require.NoError(t, err)
		return inc
	}
	incident("P1", "hardware", "2025-03-03T10:00:00Z", 2*time.Hour, []string{"db1"}, []string{"svc-tax"}) // Monday
	incident("P3", "software", "2025-03-03T09:00:00Z", 30*time.Minute, []string{"app1"}, nil)             // not the service
	incident("P2", "hardware", "2025-06-01T12:00:00Z", 4*time.Hour, []string{"svc-tax"}, nil)             // service as a CI; Sunday
	incident("P4", "network", "2024-06-01T00:00:00Z", time.Hour, []string{"db1"}, []string{"svc-tax"})    // before the period
	from, to := utc("2025-01-01T00:00:00Z"), utc("2026-01-01T00:00:00Z")

	st, err := IncidentStats(ctx, pool, Scope{Key: "svc-tax", Service: true}, from, to)
	require.NoError(t, err)
	require.Equal(t, 2, st.Incidents)
	require.InDelta(t, 360, st.OutageMinutes, 1e-9)
	require.Equal(t, orchestrator.Duration(3*time.Hour), *st.MTTR)
	require.Equal(t, orchestrator.Duration((8760*time.Hour-6*time.Hour)/2), *st.MTBF)
	require.Equal(t, 2.0, st.ByCause["hardware"].PerYear)

	db, err := IncidentStats(ctx, pool, Scope{Key: "db1"}, from, to)
	require.NoError(t, err)
	require.Equal(t, 1, db.Incidents)
	require.Equal(t, "ci", db.Kind)

	_, err = IncidentStats(ctx, pool, Scope{Key: "db1", Service: true}, from, to)
	require.Equal(t, orchestrator.ENOTFOUND, orchestrator.ErrorCode(err), "db1 is not a business service")
	_, err = IncidentStats(ctx, pool, Scope{Key: "nope"}, from, to)
	require.Equal(t, orchestrator.ENOTFOUND, orchestrator.ErrorCode(err))
	_, err = IncidentStats(ctx, pool, Scope{Key: "db1"}, to, from)
	require.Equal(t, []string{"to"}, fieldsOf(err))

	matches, err := MatchingIncidents(ctx, pool, "hardware", []string{"svc-tax", "unknown"}, from, to)
	require.NoError(t, err)
	require.Len(t, matches, 2)
	require.Equal(t, orchestrator.Duration(2*time.Hour), matches[0].Duration)
	require.True(t, matches[1].Restored)
	all, err := MatchingIncidents(ctx, pool, "", nil, utc("2024-01-01T00:00:00Z"), to)
	require.NoError(t, err)
	require.Len(t, all, 4)
	_, err = MatchingIncidents(ctx, pool, "meteor", nil, from, to)
	require.Equal(t, []string{"cause"}, fieldsOf(err))

	// Business hours in Berlin: the Sunday outage costs nothing, the Monday
	// one 10:00-12:00 UTC = 11:00-13:00 CET, two hours of 2,610 scheduled.
	target := 99.95
	av, err := ServiceAvailability(ctx, pool, "svc-tax", from, to, AvailabilityOptions{Target: &target, MeasuredIn: MeasuredBusinessHours})
	require.NoError(t, err)
	require.InDelta(t, 2610*60, av.ScheduledMinutes, 1e-9)
	require.InDelta(t, 120, av.OutageMinutes, 1e-9)
	require.InDelta(t, 100*(1-2.0/2610), *av.Achieved, 1e-9)
	require.False(t, *av.Met)
	require.Nil(t, av.SLA)

	av, err = ServiceAvailability(ctx, pool, "svc-tax", from, to, AvailabilityOptions{})
	require.NoError(t, err)
	require.Equal(t, Measured24x7, av.MeasuredIn)
	require.InDelta(t, 100*(1-6.0/8760), *av.Achieved, 1e-9)
	require.Nil(t, av.Target)
	require.Nil(t, av.Met)
}

func TestAvailabilityUsesSLA(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := t.Context()
	ids := seedCIs(t, pool, "svc-pay")
	_, err := pool.Exec(ctx, `INSERT INTO slas (service_id, name, period, availability_target, measured_in, valid_from, valid_to, external_id)
		VALUES ($1, 'old', 'year', 95, '24x7', '2020-01-01', '2024-12-31', 'a'),
		       ($1, 'current', 'month', 99.5, 'business_hours', '2025-01-01', NULL, 'b')`, ids["svc-pay"])
	require.NoError(t, err)
	av, err := ServiceAvailability(ctx, pool, "svc-pay", utc("2025-01-01T00:00:00Z"), utc("2026-01-01T00:00:00Z"), AvailabilityOptions{})
	require.NoError(t, err)
	require.Equal(t, "current", av.SLA.Name)
	require.Equal(t, MeasuredBusinessHours, av.MeasuredIn)
	require.Equal(t, 99.5, *av.Target)
	require.True(t, *av.Met)

	av, err = ServiceAvailability(ctx, pool, "svc-pay", utc("2024-01-01T00:00:00Z"), utc("2025-01-01T00:00:00Z"), AvailabilityOptions{})
	require.NoError(t, err)
	require.Equal(t, "old", av.SLA.Name)
	require.Equal(t, Measured24x7, av.MeasuredIn)

	_, err = ServiceAvailability(ctx, pool, "svc-pay", utc("2024-01-01T00:00:00Z"), utc("2025-01-01T00:00:00Z"), AvailabilityOptions{Target: new(120.0), MeasuredIn: "always"})
	require.ElementsMatch(t, []string{"target", "measured_in"}, fieldsOf(err))
}

func TestChangeFiguresAndTouches(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	store := NewStore(pool)
	ids := seedCIs(t, pool, "db1", "app1", "web1")
	at := func(s string) *time.Time { return new(utc(s)) }
	changes := []ChangeInput{
		{Title: "major ok", Major: true, Status: "implemented", ActualStart: at("2025-05-01T10:00:00Z"), AffectedCIs: []string{"db1", "app1"}},
		{Title: "emergency failed", Type: "emergency", Status: "failed", ActualStart: at("2025-05-02T10:00:00Z"), AffectedCIs: []string{"db1"}},
		{Title: "normal rolled back", Status: "rolled_back", ActualStart: at("2025-05-03T10:00:00Z"), ActualEnd: at("2025-05-03T11:00:00Z"), AffectedCIs: []string{"web1"}},
		{Title: "standard ok", Type: "standard", Status: "implemented", ActualStart: at("2025-05-04T10:00:00Z"), AffectedCIs: []string{"db1"}},
		{Title: "emergency long ago", Type: "emergency", Status: "implemented", ActualStart: at("2023-05-04T10:00:00Z"), AffectedCIs: []string{"db1"}},
		{Title: "major approved", Major: true, Status: "approved", AffectedCIs: []string{"db1"}},
	}
	for _, c := range changes {
		_, err := store.CreateChange(ctx, c)
		require.NoError(t, err, c.Title)
	}
	for _, r := range []ReleaseInput{
		{Version: "2.0", Status: "deployed", DeployedAt: at("2025-06-01T00:00:00Z"), AffectedCIs: []string{"app1"}},
		{Version: "2.1", Status: "planned", AffectedCIs: []string{"app1"}},
	} {
		_, err := store.CreateRelease(ctx, r)
		require.NoError(t, err)
	}
	st, err := ChangeFigures(ctx, pool, utc("2025-01-01T00:00:00Z"), utc("2026-01-01T00:00:00Z"), 10)
	require.NoError(t, err)
	require.Equal(t, 2, st.Implemented)
	require.Equal(t, 1, st.Failed)
	require.Equal(t, 1, st.RolledBack)
	require.InDelta(t, 0.5, *st.FailureRate, 1e-9)
	require.Equal(t, []CIChanges{{"app1", 1, 0, 1}, {"db1", 1, 1, 0}}, st.PerCI) // ties by key

	none, err := ChangeFigures(ctx, pool, utc("2010-01-01T00:00:00Z"), utc("2011-01-01T00:00:00Z"), 10)
	require.NoError(t, err)
	require.Nil(t, none.FailureRate)
	require.Empty(t, none.PerCI)

	touches, err := ChangesTouching(ctx, pool, []int64{ids["db1"], ids["app1"]}, utc("2024-01-01T00:00:00Z"))
	require.NoError(t, err)
	require.Len(t, touches, 2)
	require.Equal(t, "change", touches[0].Kind)
	require.Equal(t, "major ok", touches[0].Title)
	require.ElementsMatch(t, []int64{ids["db1"], ids["app1"]}, touches[0].CIIDs)
	require.Equal(t, "release", touches[1].Kind)
	require.Equal(t, "2.0", touches[1].Title)

	later, err := ChangesTouching(ctx, pool, []int64{ids["db1"]}, utc("2025-05-01T10:00:00Z"))
	require.NoError(t, err)
	require.Empty(t, later, "strictly after since")
	none2, err := ChangesTouching(ctx, pool, nil, utc("2000-01-01T00:00:00Z"))
	require.NoError(t, err)
	require.Empty(t, none2)
}
