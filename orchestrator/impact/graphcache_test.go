package impact

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

func exec(t *testing.T, pool *pgxpool.Pool, sql string) {
	t.Helper()
	_, err := pool.Exec(context.Background(), sql)
	require.NoError(t, err)
}

const cacheCMDB = `INSERT INTO cis (key, name, class, site, external_id, data_bearing, recovery_estimate_s) VALUES
	('svc', 'svc', 'business_service', '', 'svc', false, 0), ('app', 'app', 'application', 'dc1', 'app', false, 1800),
	('db1', 'db1', 'database', 'dc1', 'db1', true, 3600), ('db2', 'db2', 'database', 'dc2', 'db2', true, 3600);
	INSERT INTO relations (from_id, to_id, type, grp, min_up, external_id)
	SELECT f.id, t.id, r.type, r.grp, r.min_up, r.f || '>' || r.t
	FROM (VALUES ('svc', 'app', 'depends_on', '', 0), ('app', 'db1', 'depends_on', 'db', 1), ('app', 'db2', 'depends_on', 'db', 1))
		AS r (f, t, type, grp, min_up)
	JOIN cis f ON f.key = r.f JOIN cis t ON t.key = r.t`

func TestGraphCacheFollowsTheDatabase(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	exec(t, pool, cacheCMDB)
	ctx := t.Context()
	c := NewGraphCache(pool, orchestrator.Runtime{})
	snap, err := c.Current(ctx)
	require.NoError(t, err)
	require.Equal(t, 4, snap.Graph.Len())
	again, err := c.Current(ctx)
	require.NoError(t, err)
	require.Same(t, snap, again, "an unchanged CMDB is not read again")
	require.EqualValues(t, 1, c.Loads())

	// Many readers noticing one change load it once between them.
	exec(t, pool, `UPDATE cis SET site = 'dc2' WHERE key = 'app'`)
	var wg sync.WaitGroup
	snaps := make([]*Snapshot, 16)
	for i := range snaps {
		wg.Go(func() {
			s, err := c.Current(ctx)
			require.NoError(t, err)
			snaps[i] = s
		})
	}
	wg.Wait()
	for _, s := range snaps {
		require.Greater(t, s.Version, snap.Version)
		n, _ := s.Graph.Index("app")
		require.Equal(t, "dc2", s.Graph.Site(n))
	}
	require.EqualValues(t, 1, c.Updates(), "one update for all readers")
	require.EqualValues(t, 1, c.Loads(), "applied without reading the whole CMDB")
	// The old snapshot is untouched for whoever still holds it.
	n, _ := snap.Graph.Index("app")
	require.Equal(t, "dc1", snap.Graph.Site(n))
}

func TestLoadRepairsWhatTheDatabaseAccepts(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	exec(t, pool, cacheCMDB)
	// Redundancy groups are checked per relation, so the database accepts
	// a group needing more members than it has and members that disagree.
	exec(t, pool, `UPDATE relations SET min_up = 3 WHERE external_id = 'app>db1'`)
	exec(t, pool, `INSERT INTO cis (key, name, class, external_id) VALUES ('web', 'web', 'application', 'web')`)
	exec(t, pool, `INSERT INTO relations (from_id, to_id, type, grp, min_up, external_id)
		SELECT f.id, t.id, 'depends_on', 'solo', 2, 'web>db1' FROM cis f, cis t WHERE f.key = 'web' AND t.key = 'db1'`)
	snap, err := LoadSnapshot(t.Context(), pool)
	require.NoError(t, err)
	require.Equal(t, []Anomaly{
		{CI: "app", Message: `group "db" of app has min_up 3 and 1; treated as 3`},
		{CI: "app", Message: `group "db" of app needs 3 up but has 2 members; treated as needing all 2`},
		{CI: "web", Message: `group "solo" of web needs 2 up but has 1 members; treated as needing all 1`},
	}, snap.Anomalies)
	g := snap.Graph
	r := g.WhatIf(nodes(t, g, "db2"))
	require.ElementsMatch(t, []string{"app", "db2", "svc"}, keysOf(g, r.Down), "the clamped group needs both members")
	require.True(t, snap.DataBearing(nodes(t, g, "db1")[0]))
	require.Equal(t, "1h", snap.Estimate(nodes(t, g, "db1")[0]).String())
}
