package demo

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

func registry() importer.Registry {
	return importer.NewRegistry(cmdb.CIImport(), cmdb.RelationImport())
}

func TestSeedIsIdempotent(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	now := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	sum, err := Seed(t.Context(), pool, registry(), Options{Now: now})
	require.NoError(t, err)
	require.Greater(t, sum["cis"].Inserted, 450, "about 500 CIs")
	require.Equal(t, 30, countWhere(t, pool, `SELECT count(*) FROM cis WHERE class = 'business_service'`))

	again, err := Seed(t.Context(), pool, registry(), Options{Now: now})
	require.NoError(t, err)
	for typ, rep := range again {
		require.Zero(t, rep.Inserted+rep.Updated, "second seed of %s changes nothing", typ)
	}
}

func countWhere(t *testing.T, pool *pgxpool.Pool, q string) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(t.Context(), q).Scan(&n))
	return n
}

// Every person appears once where people are listed: in a BIA's people,
// across the levels of a call tree, and each contact has their own phone.
func TestDemoPeopleAreNotRepeated(t *testing.T) {
	t.Parallel()
	o := generate(Options{Scale: 2, Now: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)})
	for n, d := range services {
		people := demoAssessment(d, n).People
		require.NotEmpty(t, people, d.key)
		seen := map[string]bool{}
		for _, p := range people {
			require.False(t, seen[p], "the %s BIA lists %s twice: %v", d.key, p, people)
			seen[p] = true
		}
	}

	require.Len(t, o.callTrees, 2*len(services))
	for _, ct := range o.callTrees {
		level := map[string]int{}
		for i, l := range ct.Levels {
			require.Equal(t, i+1, l.Level, "%s levels are numbered 1, 2, ...", ct.Key)
			require.NotEmpty(t, l.Contacts, "%s level %d", ct.Key, l.Level)
			for _, c := range l.Contacts {
				prev, twice := level[c]
				require.False(t, twice, "call tree %s has %s at level %d and level %d", ct.Key, c, prev, l.Level)
				level[c] = l.Level
			}
		}
	}

	phones := map[string]string{}
	for _, c := range o.contacts {
		require.NotEmpty(t, c.Phone, c.Key)
		other, shared := phones[c.Phone]
		require.False(t, shared, "%s and %s share the phone number %s", other, c.Key, c.Phone)
		phones[c.Phone] = c.Key
	}
}
