package impact

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// dumpSnapshot describes everything a snapshot holds, by key, including
// the numbering of groups and failovers and the order of every adjacency
// list, so that two snapshots dump alike only when queries cannot tell
// them apart. Only the order of interned names is left out.
func dumpSnapshot(s *Snapshot) []string {
	g := s.Graph
	out := []string{fmt.Sprintf("version %d, %d CIs, %d relations, groups min %v size %v, regions %v",
		s.Version, g.Len(), g.Relations(), g.groupMin, g.groupSize, s.regions)}
	for n := range int32(g.Len()) {
		i, _ := g.Index(g.Key(n))
		line := fmt.Sprintf("%d %s (id %d, index %d) %s@%s est %s data %t %s; needs", n, g.Key(n), s.ciIDs[n], i,
			g.Class(n), g.Site(n), s.Estimate(n), s.DataBearing(n), s.Strategy(n))
		for j := g.outStart[n]; j < g.outStart[n+1]; j++ {
			line += fmt.Sprintf(" %s %s/%d", edgeTypes[g.outType[j]], g.Key(g.outTo[j]), g.outGroup[j])
		}
		line += "; needed by"
		for j := g.inStart[n]; j < g.inStart[n+1]; j++ {
			line += fmt.Sprintf(" %s/%d", g.Key(g.inFrom[j]), g.inGroup[j])
		}
		line += "; passive"
		for j := g.passStart[n]; j < g.passStart[n+1]; j++ {
			line += fmt.Sprintf(" %s %s/%d", edgeTypes[g.passType[j]], g.Key(g.passTo[j]), g.passFo[j])
			if f := g.passFo[j]; f >= 0 {
				fo := g.failovers[f]
				line += fmt.Sprintf("(%v %s %s %v)", fo.Estimate, fo.Activation, fo.Replication, fo.Lag)
			}
		}
		out = append(out, line)
	}
	for _, a := range s.Anomalies {
		out = append(out, "anomaly "+a.CI+": "+a.Message)
	}
	return out
}

// cmdbChanger makes random changes to a small CMDB through the CMDB
// service, and through SQL for what the service does not offer (a key
// changed by an import, a relation moved to another CI, several changes in
// one transaction).
type cmdbChanger struct {
	t    *testing.T
	pool *pgxpool.Pool
	cmdb *cmdb.Service
	rng  *rand.Rand
	next int
}

var (
	changerClasses = []string{"application", "database", "server", "storage", "site"}
	changerSites   = []string{"", "dc1", "dc2"}
	changerTypes   = []string{DependsOn, RunsOn, HostedIn, ProvidedBy, BackedUpBy, ReplicatesTo, FailsOverTo}
)

func (c *cmdbChanger) keys() []string {
	var keys []string
	rows, err := c.pool.Query(c.t.Context(), `SELECT key FROM cis ORDER BY id`)
	require.NoError(c.t, err)
	for rows.Next() {
		var k string
		require.NoError(c.t, rows.Scan(&k))
		keys = append(keys, k)
	}
	require.NoError(c.t, rows.Err())
	return keys
}

func (c *cmdbChanger) pick(list []string) string { return list[c.rng.IntN(len(list))] }

func (c *cmdbChanger) ciInput(key string) cmdb.CIInput {
	class := c.pick(changerClasses)
	in := cmdb.CIInput{Key: key, Name: key, Class: class, Site: c.pick(changerSites),
		DataBearing: class == "database" && c.rng.IntN(2) == 0, RecoveryStrategy: c.pick([]string{"restore", "rebuild", "manual"}),
		RecoveryEstimate: orchestrator.DurationFromSeconds(int64(c.rng.IntN(4)) * 1800)}
	if class == "site" && c.rng.IntN(2) == 0 {
		in.Attributes = map[string]any{"region": c.pick([]string{"north", "south"})}
	}
	return in
}

func (c *cmdbChanger) createCI() string {
	c.next++
	key := "ci-" + strconv.Itoa(c.next)
	_, err := c.cmdb.CreateCI(c.t.Context(), c.ciInput(key))
	require.NoError(c.t, err)
	return fmt.Sprintf("create CI %s", key)
}

func (c *cmdbChanger) createRelation(keys []string) string {
	in := cmdb.RelationInput{From: c.pick(keys), To: c.pick(keys), Type: c.pick(changerTypes)}
	if Propagates(in.Type) && c.rng.IntN(3) == 0 {
		in.Group, in.MinUp = c.pick([]string{"a", "b"}), 1+c.rng.IntN(3)
	}
	if IsStandby(in.Type) && c.rng.IntN(2) == 0 {
		d := orchestrator.DurationFromSeconds(int64(60 * (1 + c.rng.IntN(30))))
		in.FailoverEstimate, in.Activation = &d, c.pick([]string{"automatic", "manual"})
	}
	// Refused inputs (a loop, a duplicate, a standby cycle) change
	// nothing, which the comparison checks as well.
	_, err := c.cmdb.CreateRelation(c.t.Context(), in)
	return fmt.Sprintf("create relation %s %s %s %s/%d: %v", in.From, in.Type, in.To, in.Group, in.MinUp, err)
}

func (c *cmdbChanger) relationIDs() []int64 {
	var ids []int64
	rows, err := c.pool.Query(c.t.Context(), `SELECT id FROM relations ORDER BY id`)
	require.NoError(c.t, err)
	for rows.Next() {
		var id int64
		require.NoError(c.t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(c.t, rows.Err())
	return ids
}

func (c *cmdbChanger) exec(sql string, args ...any) {
	_, err := c.pool.Exec(c.t.Context(), sql, args...)
	require.NoError(c.t, err, sql)
}

// step makes one random change and says what it was.
func (c *cmdbChanger) step() string {
	ctx := c.t.Context()
	keys := c.keys()
	rels := c.relationIDs()
	switch r := c.rng.IntN(100); {
	case r < 15 || len(keys) < 4:
		return c.createCI()
	case r < 45:
		return c.createRelation(keys)
	case r < 60 && len(rels) > 0:
		id := rels[c.rng.IntN(len(rels))]
		require.NoError(c.t, c.cmdb.DeleteRelation(ctx, strconv.FormatInt(id, 10)))
		return fmt.Sprintf("delete relation %d", id)
	case r < 72:
		key := c.pick(keys)
		_, err := c.cmdb.ReplaceCI(ctx, key, c.ciInput(key))
		require.NoError(c.t, err)
		return "replace CI " + key
	case r < 78:
		key := c.pick(keys)
		require.NoError(c.t, c.cmdb.DeleteCI(ctx, key))
		return "delete CI " + key
	case r < 84:
		// As an import does when a CI's key changes at its source.
		key := c.pick(keys)
		c.next++
		c.exec(`UPDATE cis SET key = $2 WHERE key = $1`, key, "ci-"+strconv.Itoa(c.next))
		return "rename CI " + key
	case r < 92 && len(rels) > 0:
		// Move a relation to another CI, or change its group, in one
		// statement (the database checks only what it checks).
		id := rels[c.rng.IntN(len(rels))]
		c.exec(`UPDATE relations r SET from_id = coalesce((SELECT c.id FROM cis c WHERE c.key = $2
				AND c.id <> r.to_id AND NOT EXISTS (SELECT 1 FROM relations o WHERE o.from_id = c.id AND o.to_id = r.to_id AND o.type = r.type)), r.from_id),
			min_up = CASE WHEN r.grp = '' THEN 0 ELSE 1 + (r.min_up % 3) END WHERE r.id = $1`, id, c.pick(keys))
		return fmt.Sprintf("move relation %d", id)
	default:
		// Several statements in one transaction: one version each.
		tx, err := c.pool.Begin(ctx)
		require.NoError(c.t, err)
		c.next++
		key := "ci-" + strconv.Itoa(c.next)
		_, err = tx.Exec(ctx, `INSERT INTO cis (key, name, class, site, external_id) VALUES ($1, $1, 'server', 'dc1', $1)`, key)
		require.NoError(c.t, err)
		_, err = tx.Exec(ctx, `INSERT INTO relations (from_id, to_id, type, grp, min_up, external_id)
			SELECT f.id, t.id, 'runs_on', 'pool', 2, f.key || '>' || t.key FROM cis f, cis t WHERE f.key = $1 AND t.key = $2`, c.pick(keys), key)
		require.NoError(c.t, err)
		require.NoError(c.t, tx.Commit(ctx))
		return "transaction adding " + key
	}
}

// TestGraphCacheUpdatesEqualALoad makes a fixed random sequence of CMDB
// changes and checks after each that the cache, brought up to date from
// the change log, holds exactly what reading the whole CMDB gives.
func TestGraphCacheUpdatesEqualALoad(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := t.Context()
	c := &cmdbChanger{t: t, pool: pool, cmdb: cmdb.NewService(pool), rng: rand.New(rand.NewPCG(12, 7))}
	for range 12 {
		c.createCI()
	}
	cache := NewGraphCache(pool, orchestrator.Runtime{})
	require.NoError(t, cache.Load(ctx))
	const steps = 250
	var history []string
	for i := range steps {
		history = append(history, c.step())
		// Now and then let changes pile up, as on a replica nobody asked.
		if i%5 == 3 {
			continue
		}
		snap, err := cache.Current(ctx)
		require.NoError(t, err)
		fresh, err := LoadSnapshot(ctx, pool)
		require.NoError(t, err)
		require.Equal(t, dumpSnapshot(fresh), dumpSnapshot(snap), "after %v", history[max(0, len(history)-5):])
	}
	t.Logf("%d changes: %d applied in memory, %d full reads", steps, cache.Updates(), cache.Loads())
	require.Greater(t, cache.Updates(), int64(steps/2), "most changes are applied without reading everything")
	snap, err := cache.Current(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, snap.Anomalies, "the sequence exercised repairs")
	require.NotEmpty(t, snap.Graph.groupMin, "and redundancy groups")
	require.NotEmpty(t, snap.Graph.failovers, "and failover attributes")
}

// TestChangeLogIsPrunedAndBulkChangesReload checks the log's horizon: a
// cache further behind than the log reaches, or behind a bulk change,
// reads everything; caches on other replicas keep working meanwhile.
func TestChangeLogIsPrunedAndBulkChangesReload(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := t.Context()
	exec(t, pool, cacheCMDB)
	behind, current := NewGraphCache(pool, orchestrator.Runtime{}), NewGraphCache(pool, orchestrator.Runtime{})
	require.NoError(t, behind.Load(ctx))
	require.NoError(t, current.Load(ctx))

	// 1,001 single-row statements: the log keeps the last 1,000 versions.
	exec(t, pool, `DO $$ BEGIN FOR i IN 1..1001 LOOP
		UPDATE cis SET recovery_estimate_s = i WHERE key = 'app'; END LOOP; END $$`)
	var version, loggedFrom, rows, oldest int64
	err := pool.QueryRow(ctx, `SELECT version, logged_from, (SELECT count(*) FROM cmdb_changes),
		(SELECT min(version) FROM cmdb_changes) FROM cmdb_version`).Scan(&version, &loggedFrom, &rows, &oldest)
	require.NoError(t, err)
	require.Equal(t, version-1000, loggedFrom)
	require.EqualValues(t, 1000, rows, "one row per version kept")
	require.Equal(t, loggedFrom+1, oldest)

	snap, err := behind.Current(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 2, behind.Loads(), "past the horizon: read everything")
	require.Equal(t, "16m41s", snap.Estimate(nodes(t, snap.Graph, "app")[0]).String())

	// A bulk change resets the log; every cache behind it reads everything.
	exec(t, pool, `INSERT INTO cis (key, name, class, external_id) SELECT 'bulk-' || i, 'bulk', 'server', 'bulk-' || i
		FROM generate_series(1, 1001) i`)
	require.NoError(t, pool.QueryRow(ctx, `SELECT version, logged_from, (SELECT count(*) FROM cmdb_changes), 0 FROM cmdb_version`).
		Scan(&version, &loggedFrom, &rows, &oldest))
	require.Equal(t, version, loggedFrom)
	require.Zero(t, rows)
	for _, c := range []*GraphCache{behind, current} {
		snap, err := c.Current(ctx)
		require.NoError(t, err)
		require.Equal(t, 4+1001, snap.Graph.Len())
	}
	require.EqualValues(t, 3, behind.Loads())
	require.EqualValues(t, 2, current.Loads())

	// After it, small changes are logged and applied again, on both.
	exec(t, pool, `INSERT INTO relations (from_id, to_id, type, external_id)
		SELECT f.id, t.id, 'runs_on', 'bulk' FROM cis f, cis t WHERE f.key = 'app' AND t.key = 'bulk-7'`)
	for _, c := range []*GraphCache{behind, current} {
		snap, err := c.Current(ctx)
		require.NoError(t, err)
		require.Contains(t, keysOf(snap.Graph, snap.Graph.Needs(nodes(t, snap.Graph, "app")[0])), "bulk-7")
		require.EqualValues(t, 1, c.Updates())
	}
}

// TestCatchUpSeesCommittedChanges pins read-your-writes: a relation
// inserted and committed is in the very next what-if, with no reload.
func TestCatchUpSeesCommittedChanges(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	exec(t, pool, cacheCMDB)
	svc := cmdb.NewService(pool)
	cache := NewGraphCache(pool, orchestrator.Runtime{})
	require.NoError(t, cache.Load(ctx))
	_, err := svc.CreateCI(ctx, cmdb.CIInput{Key: "lb", Name: "lb", Class: "network"})
	require.NoError(t, err)
	_, err = svc.CreateRelation(ctx, cmdb.RelationInput{From: "app", To: "lb", Type: DependsOn})
	require.NoError(t, err)
	snap, err := cache.Current(ctx)
	require.NoError(t, err)
	r := snap.Graph.WhatIf(nodes(t, snap.Graph, "lb"))
	require.ElementsMatch(t, []string{"lb", "app", "svc"}, keysOf(snap.Graph, r.Down))
	require.EqualValues(t, 1, cache.Loads())
	require.EqualValues(t, 1, cache.Updates(), "both changes applied at once")
}
