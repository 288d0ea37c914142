package itsm

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

func TestUnion(t *testing.T) {
	t.Parallel()
	h := func(n int) time.Time { return utc("2026-01-01T00:00:00Z").Add(time.Duration(n) * time.Hour) }
	got := Union([]Interval{{h(5), h(7)}, {h(0), h(2)}, {h(1), h(3)}, {h(3), h(4)}, {h(9), h(9)}, {h(8), h(6)}})
	require.Equal(t, []Interval{{h(0), h(4)}, {h(5), h(7)}}, got)
	require.Equal(t, 6*time.Hour, Total(got))
	require.Nil(t, Union(nil))
}

// TestComputeStats checks the figures against a hand-computed year.
func TestComputeStats(t *testing.T) {
	t.Parallel()
	from, to := utc("2025-01-01T00:00:00Z"), utc("2026-01-01T00:00:00Z")
	now := utc("2026-06-01T00:00:00Z")
	spans := []incidentSpan{
		// Opened before the period: only its last hour counts as outage.
		{Severe: false, Cause: "network", OpenedAt: utc("2024-12-31T23:00:00Z"), EndedAt: new(utc("2025-01-01T01:00:00Z"))},
		// Two severe incidents overlapping by an hour: 3 h of outage, 2 h to repair each.
		{Severe: true, Cause: "hardware", OpenedAt: utc("2025-02-01T00:00:00Z"), EndedAt: new(utc("2025-02-01T02:00:00Z"))},
		{Severe: true, Cause: "software", OpenedAt: utc("2025-02-01T01:00:00Z"), EndedAt: new(utc("2025-02-01T03:00:00Z"))},
		// Still open: an outage until the period's end, no repair time.
		{Severe: true, Cause: "hardware", OpenedAt: utc("2025-12-31T23:00:00Z")},
	}
	st := computeStats(spans, from, to, now)
	require.Equal(t, 3, st.Incidents)
	require.Equal(t, 3, st.SevereIncidents)
	require.InDelta(t, 300, st.OutageMinutes, 1e-9) // 1 h + 3 h + 1 h
	// MTBF = (8760 h − 4 h severe outage) / 3 = 2918 h 40 m.
	require.Equal(t, orchestrator.Duration(2918*time.Hour+40*time.Minute), *st.MTBF)
	require.Equal(t, orchestrator.Duration(2*time.Hour), *st.MTTR)
	require.Equal(t, map[string]CauseRate{"hardware": {2, 2}, "software": {1, 1}}, st.ByCause)

	// Half a year doubles the rate; an ongoing incident stops at now.
	half := computeStats(spans[3:], utc("2025-07-02T12:00:00Z"), utc("2026-01-01T00:00:00Z"), utc("2025-12-31T23:30:00Z"))
	require.InDelta(t, 2.0, half.ByCause["hardware"].PerYear, 1e-9)
	require.InDelta(t, 30, half.OutageMinutes, 1e-9)
	require.Nil(t, half.MTTR)

	empty := computeStats(nil, from, to, now)
	require.Zero(t, empty.Incidents)
	require.Nil(t, empty.MTBF)
	require.Nil(t, empty.MTTR)
	require.Empty(t, empty.ByCause)
}

func TestMeasureAvailability(t *testing.T) {
	t.Parallel()
	from, to := utc("2026-01-05T00:00:00Z"), utc("2026-01-12T00:00:00Z") // Monday to Monday
	outages := []Interval{
		{utc("2026-01-10T10:00:00Z"), utc("2026-01-10T14:00:00Z")}, // Saturday
		{utc("2026-01-06T17:00:00Z"), utc("2026-01-06T19:00:00Z")}, // Tuesday, one office hour
		{utc("2026-01-06T17:30:00Z"), utc("2026-01-06T18:30:00Z")}, // overlaps the one before
		{utc("2026-01-01T00:00:00Z"), utc("2026-01-05T01:00:00Z")}, // began before the period
	}
	scheduled, lost := measureAvailability(outages, from, to, nil)
	require.Equal(t, 168*time.Hour, scheduled)
	require.Equal(t, 7*time.Hour, lost) // 4 h + 2 h + 1 h

	office := &BusinessHours{Windows: []Window{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "08:00", End: "18:00"}}}
	scheduled, lost = measureAvailability(outages, from, to, office)
	require.Equal(t, 50*time.Hour, scheduled)
	require.Equal(t, time.Hour, lost)
}

func TestChangeTransitions(t *testing.T) {
	t.Parallel()
	allowed := map[[2]string]bool{
		{"requested", "approved"}: true, {"approved", "implemented"}: true, {"approved", "failed"}: true,
		{"approved", "rolled_back"}: true, {"implemented", "rolled_back"}: true,
	}
	for _, from := range ChangeStatuses {
		for _, to := range ChangeStatuses {
			want := from == to || allowed[[2]string{from, to}]
			require.Equal(t, want, ChangeTransitionAllowed(from, to), "%s → %s", from, to)
		}
	}
}
