package itsm

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// titlesOf lists every page of f, limit items a page, by title.
func titlesOf(t *testing.T, s *Store, f IncidentFilter, limit int) []string {
	t.Helper()
	out := []string{}
	page := orchestrator.Page{Limit: limit}
	for range 100 {
		l, err := s.ListIncidents(t.Context(), f, page)
		require.NoError(t, err)
		for _, i := range l.Items {
			out = append(out, i.Title)
		}
		if l.Next == "" {
			return out
		}
		page.After, err = orchestrator.DecodeCursor(l.Next)
		require.NoError(t, err)
	}
	t.Fatal("pagination does not end")
	return nil
}

// A service's incidents are listed through the opened_at copied onto its
// links: moving an incident in time, linking or unlinking it changes the
// listing at once, in every page.
func TestListIncidentsByServiceFollowsWrites(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	store := NewStore(pool)
	seedCIs(t, pool, "db1", "svc-tax", "svc-pay")
	create := func(title, opened string, services ...string) Incident {
		t.Helper()
		inc, err := store.CreateIncident(t.Context(), IncidentInput{Title: title, Priority: "P2", Cause: "hardware",
			OpenedAt: utc(opened), AffectedCIs: []string{"db1"}, AffectedServices: services})
		require.NoError(t, err)
		return inc
	}
	a := create("a", "2025-01-01T00:00:00Z", "svc-tax")
	create("b", "2025-02-01T00:00:00Z", "svc-tax", "svc-pay")
	create("c", "2025-03-01T00:00:00Z", "svc-tax")
	create("d", "2025-03-01T00:00:00Z", "svc-tax") // same opened_at: the id orders c and d
	tax := IncidentFilter{Service: "svc-tax"}
	for _, limit := range []int{1, 2, 10} {
		require.Equal(t, []string{"d", "c", "b", "a"}, titlesOf(t, store, tax, limit), "limit %d", limit)
	}

	moved := IncidentInput{Title: "a", Priority: "P1", Cause: "hardware", OpenedAt: utc("2025-04-01T00:00:00Z"),
		AffectedCIs: []string{"db1"}, AffectedServices: []string{"svc-tax", "svc-pay"}}
	_, err := store.UpdateIncident(t.Context(), a.ID, moved)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "d", "c", "b"}, titlesOf(t, store, tax, 1))
	require.Equal(t, []string{"a", "b"}, titlesOf(t, store, IncidentFilter{Service: "svc-pay"}, 1))
	require.Equal(t, []string{"a"}, titlesOf(t, store, IncidentFilter{Service: "svc-tax", Priority: "P1"}, 10))
	require.Equal(t, []string{"d", "c"}, titlesOf(t, store, IncidentFilter{Service: "svc-tax",
		OpenedAfter: utc("2025-02-15T00:00:00Z"), OpenedBefore: utc("2025-04-01T00:00:00Z")}, 1))

	moved.AffectedServices = nil
	_, err = store.UpdateIncident(t.Context(), a.ID, moved)
	require.NoError(t, err)
	require.Equal(t, []string{"d", "c", "b"}, titlesOf(t, store, tax, 2))
	require.Empty(t, titlesOf(t, store, IncidentFilter{Service: "db1"}, 10), "a CI that is no service")
	require.Empty(t, titlesOf(t, store, IncidentFilter{Service: "nope"}, 10))

	var stale int
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*) FROM incident_services l JOIN incidents i ON i.id = l.incident_id
		WHERE l.opened_at IS DISTINCT FROM i.opened_at`).Scan(&stale))
	require.Zero(t, stale)
}

// A title search finds exactly the titles holding the text, whatever case,
// however its words are split.
func TestListIncidentsSearch(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	store := NewStore(pool)
	for _, title := range []string{"Disk latency on ci-04242", "CI-04242 down", "ci 04242 spaced", "ci-042420 longer",
		"网络丢包 ci-04242", "100% CPU_load on app", "ci-0424"} {
		_, err := store.CreateIncident(t.Context(), IncidentInput{Title: title, Priority: "P3", Cause: "network",
			OpenedAt: utc("2025-01-01T00:00:00Z")})
		require.NoError(t, err)
	}
	for q, want := range map[string][]string{
		"ci-04242":  {"Disk latency on ci-04242", "CI-04242 down", "ci-042420 longer", "网络丢包 ci-04242"},
		"CI-04242 ": {"CI-04242 down"},
		"04242":     {"Disk latency on ci-04242", "CI-04242 down", "ci 04242 spaced", "ci-042420 longer", "网络丢包 ci-04242"},
		"丢包 ci":     {"网络丢包 ci-04242"},
		"100%":      {"100% CPU_load on app"},
		"u_l":       {"100% CPU_load on app"},
		"p_x":       {},
		"ci":        {"Disk latency on ci-04242", "CI-04242 down", "ci 04242 spaced", "ci-042420 longer", "网络丢包 ci-04242", "ci-0424"},
	} {
		require.ElementsMatch(t, want, titlesOf(t, store, IncidentFilter{Q: q}, 2), "q=%q", q)
	}
}

func TestSearchWord(t *testing.T) {
	t.Parallel()
	for q, want := range map[string]string{
		"ci-04242": "04242", "Disk latency": "latency", "ci": "", "a-b-c": "", "网络丢包 ci": "网络丢包", "100%": "100", "": "",
	} {
		require.Equal(t, want, searchWord(q), "q=%q", q)
	}
}

// Listed incidents name their CIs from a cache of keys that a change to
// any CI invalidates: a renamed CI shows its new key on the next listing.
func TestListIncidentsNamesCIsAsTheyAreNow(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	store := NewStore(pool)
	seedCIs(t, pool, "db1", "app1", "svc-tax")
	_, err := store.CreateIncident(t.Context(), IncidentInput{Title: "x", Priority: "P3", Cause: "network",
		OpenedAt: utc("2025-01-01T00:00:00Z"), AffectedCIs: []string{"db1", "app1"}, AffectedServices: []string{"svc-tax"}})
	require.NoError(t, err)
	list := func() Incident {
		t.Helper()
		l, err := store.ListIncidents(t.Context(), IncidentFilter{}, orchestrator.Page{Limit: 10})
		require.NoError(t, err)
		require.Len(t, l.Items, 1)
		return l.Items[0]
	}
	got := list()
	require.Equal(t, []string{"app1", "db1"}, got.AffectedCIs)
	require.Equal(t, []string{"svc-tax"}, got.AffectedServices)
	one, err := store.Incident(t.Context(), got.ID)
	require.NoError(t, err)
	require.Equal(t, one, got, "a listed incident reads as the single read does")

	_, err = pool.Exec(t.Context(), `UPDATE cis SET key = 'zz-db1' WHERE key = 'db1'`)
	require.NoError(t, err)
	_, err = pool.Exec(t.Context(), `UPDATE cis SET key = 'svc-levy' WHERE key = 'svc-tax'`)
	require.NoError(t, err)
	got = list()
	require.Equal(t, []string{"app1", "zz-db1"}, got.AffectedCIs)
	require.Equal(t, []string{"svc-levy"}, got.AffectedServices)
}
