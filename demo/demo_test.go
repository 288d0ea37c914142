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
