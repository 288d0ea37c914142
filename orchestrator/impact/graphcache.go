package impact

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/singleflight"

	"github.com/bcdr/bcdr/orchestrator"
)

// loadTimeout bounds one reload of the whole CMDB, which runs detached from
// the request that started it so that other waiting requests still get it.
const loadTimeout = 5 * time.Minute

// Snapshot is the CMDB graph as of one cmdb_version, with the per-CI
// figures impact questions need beside the topology. Immutable apart from
// its memoised roll-down; safe for concurrent use.
type Snapshot struct {
	Graph *Graph
	// Version is the cmdb_version the graph was read at.
	Version  int64
	LoadedAt time.Time
	// Anomalies are what loading had to repair (see BuildTolerant).
	Anomalies []Anomaly

	// ciIDs holds each node's CI id, ascending as nodes are in id order;
	// repairs are Anomalies with the CI each belongs to. Both let a change
	// be applied to a copy of the snapshot (see apply).
	ciIDs   []int64
	repairs []repair

	estimates   []orchestrator.Duration
	dataBearing []bool
	strategies  []string
	// regions maps a site's key to the region its site CI names in its
	// "region" attribute.
	regions map[string]string

	mu      sync.Mutex
	reqHash uint64
	req     []Requirement
}

// Estimate returns the recovery estimate recorded on CI n.
func (s *Snapshot) Estimate(n int32) orchestrator.Duration { return s.estimates[n] }

// DataBearing reports whether CI n holds data (and so needs a backup).
func (s *Snapshot) DataBearing(n int32) bool { return s.dataBearing[n] }

// Strategy returns the recovery strategy recorded on CI n.
func (s *Snapshot) Strategy(n int32) string { return s.strategies[n] }

// Region returns the region of a site, "" when its site CI names none.
func (s *Snapshot) Region(site string) string { return s.regions[site] }

// Requirements returns the roll-down of targets over the graph. The last
// result is kept and reused while the targets stay the same, so reading
// requirements for many CIs costs one roll-down per BIA change.
func (s *Snapshot) Requirements(targets map[int32]Target) []Requirement {
	h := hashTargets(targets)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.req == nil || s.reqHash != h {
		s.req, s.reqHash = s.Graph.RollDown(targets), h
	}
	return s.req
}

// requirementsOf returns the requirements of nodes as Requirements
// would. On a snapshot whose roll-down is not memoised for targets (the
// first question after a CMDB change) it rolls down over the nodes'
// ancestors alone, so a question about a few CIs does not pay for the
// whole graph; when the ancestors are a large part of the graph, the
// whole roll-down costs little more and is memoised instead.
func (s *Snapshot) requirementsOf(nodes []int32, targets map[int32]Target) func(int32) Requirement {
	h := hashTargets(targets)
	s.mu.Lock()
	req := s.req
	if s.reqHash != h {
		req = nil
	}
	s.mu.Unlock()
	if req == nil {
		some, considered := s.Graph.rollDownTo(nodes, targets)
		if considered < s.Graph.Len()/4 {
			return func(n int32) Requirement { return some[n] }
		}
		req = s.Requirements(targets)
	}
	return func(n int32) Requirement { return req[n] }
}

func hashTargets(targets map[int32]Target) uint64 {
	nodes := make([]int32, 0, len(targets))
	for n := range targets {
		nodes = append(nodes, n)
	}
	slices.Sort(nodes)
	h := fnv.New64a()
	buf := make([]byte, 0, 20)
	for _, n := range nodes {
		t := targets[n]
		buf = fmt.Appendf(buf[:0], "%d:%d:%d;", n, t.RTO, t.RPO)
		h.Write(buf)
	}
	return h.Sum64()
}

// GraphCache keeps the whole CMDB in memory as a Snapshot and keeps it
// current on every replica: before answering, a reader compares the
// database's cmdb_version (bumped by triggers on every real change) with
// the snapshot's and, when it moved, brings the snapshot up to date before
// answering, so a reader always sees the changes committed before it asked.
// Catching up reads only what changed, from the change log the triggers
// keep, and applies it to a copy of the snapshot (a few milliseconds at
// 100,000 CIs); it reads the whole CMDB only when that is impossible (no
// snapshot yet, the log pruned past it, a bulk change, a CI deleted). One
// catch-up runs at a time; requests already holding the old snapshot keep
// using it meanwhile.
type GraphCache struct {
	pool    *pgxpool.Pool
	logger  *slog.Logger
	current atomic.Pointer[Snapshot]
	flight  singleflight.Group
	loads   atomic.Int64
	updates atomic.Int64
}

// Loads counts the times the whole CMDB was read so far.
func (c *GraphCache) Loads() int64 { return c.loads.Load() }

// Updates counts the changes applied to the snapshot in memory so far.
func (c *GraphCache) Updates() int64 { return c.updates.Load() }

// NewGraphCache returns an empty cache over pool; the first Current or
// Load reads the graph.
func NewGraphCache(pool *pgxpool.Pool, rt orchestrator.Runtime) *GraphCache {
	return &GraphCache{pool: pool, logger: rt.Log()}
}

// Load reads the graph now, typically at start-up.
func (c *GraphCache) Load(ctx context.Context) error {
	_, err := c.Current(ctx)
	return err
}

// Current returns a snapshot at least as new as the database's CMDB at the
// time of the call, catching up first when the CMDB changed.
func (c *GraphCache) Current(ctx context.Context) (*Snapshot, error) {
	var version int64
	if err := c.pool.QueryRow(ctx, `SELECT version FROM cmdb_version WHERE id = 1`).Scan(&version); err != nil {
		return nil, fmt.Errorf("read cmdb version: %w", err)
	}
	// A catch-up already under way may have read an older version; the
	// second round then starts one that cannot have.
	for range 3 {
		if snap := c.current.Load(); snap != nil && snap.Version >= version {
			return snap, nil
		}
		ch := c.flight.DoChan("graph", func() (any, error) {
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
			defer cancel()
			return c.catchUp(lctx)
		})
		select {
		case res := <-ch:
			if res.Err != nil {
				return nil, res.Err
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if snap := c.current.Load(); snap != nil && snap.Version >= version {
		return snap, nil
	}
	return nil, errors.New("graph cache: the CMDB keeps changing faster than it can be loaded")
}

// catchUp brings the snapshot up to the database's current version, by
// applying the change log when it can and reading everything otherwise.
func (c *GraphCache) catchUp(ctx context.Context) (*Snapshot, error) {
	old := c.current.Load()
	if old == nil {
		return c.reload(ctx)
	}
	start := time.Now()
	d, err := readDelta(ctx, c.pool, old.Version)
	var snap *Snapshot
	if err == nil && d.version <= old.Version {
		return old, nil
	}
	if err == nil {
		snap, err = old.apply(d)
	}
	if errors.Is(err, errFullLoad) {
		return c.reload(ctx)
	}
	if err != nil {
		return nil, err
	}
	c.updates.Add(1)
	c.publish(snap)
	c.logger.Debug("applied CMDB changes", "from", old.Version, "version", snap.Version, "cis", len(d.cis),
		"owners", len(d.owners), "took", time.Since(start).Round(time.Microsecond))
	return snap, nil
}

// reload reads a snapshot and publishes it unless a newer one got there
// first.
func (c *GraphCache) reload(ctx context.Context) (*Snapshot, error) {
	start := time.Now()
	c.loads.Add(1)
	snap, err := LoadSnapshot(ctx, c.pool)
	if err != nil {
		return nil, err
	}
	c.publish(snap)
	c.logger.Info("loaded CMDB graph", "version", snap.Version, "cis", snap.Graph.Len(),
		"relations", snap.Graph.Relations(), "anomalies", len(snap.Anomalies), "took", time.Since(start).Round(time.Millisecond))
	return snap, nil
}

// publish makes snap current unless a newer snapshot already is.
func (c *GraphCache) publish(snap *Snapshot) {
	for {
		old := c.current.Load()
		if old != nil && old.Version >= snap.Version {
			return
		}
		if c.current.CompareAndSwap(old, snap) {
			return
		}
	}
}

// LoadSnapshot reads the whole CMDB in one repeatable-read transaction, so
// the version and the graph agree: one query for the CIs, one for the
// relations. It fails only when the database does; inconsistencies are
// repaired and listed in Anomalies.
func LoadSnapshot(ctx context.Context, pool *pgxpool.Pool) (*Snapshot, error) {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("load graph: %w", err)
	}
	// Read-only: nothing to commit, so the transaction always ends here.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	snap := &Snapshot{LoadedAt: time.Now()}
	var cis, relations int
	err = tx.QueryRow(ctx, `SELECT (SELECT version FROM cmdb_version WHERE id = 1),
		(SELECT count(*) FROM cis), (SELECT count(*) FROM relations)`).Scan(&snap.Version, &cis, &relations)
	if err != nil {
		return nil, fmt.Errorf("load graph: %w", err)
	}
	b := NewBuilder()
	b.Grow(cis, relations)
	keys, err := loadNodes(ctx, tx, b, snap, cis)
	if err != nil {
		return nil, err
	}
	if err := loadEdges(ctx, tx, b, keys); err != nil {
		return nil, err
	}
	snap.Graph, snap.repairs = b.build(false)
	snap.Anomalies = anomaliesOf(snap.repairs)
	return snap, nil
}

// ciColumns are the columns of cis a snapshot holds, as loadNodes and
// readChanges scan them.
const ciColumns = `id, key, class, site, recovery_estimate_s, data_bearing, recovery_strategy,
	CASE WHEN class = 'site' THEN coalesce(attributes->>'region', '') ELSE '' END`

// relationColumns are the columns of relations a snapshot holds, as
// loadEdges and readChanges scan them.
const relationColumns = `from_id, to_id, type, grp, min_up, failover_estimate_s, activation, replication, lag_s`

// loadNodes adds every CI in id order and returns the key of each id.
func loadNodes(ctx context.Context, tx pgx.Tx, b *Builder, snap *Snapshot, n int) (map[int64]string, error) {
	rows, err := tx.Query(ctx, `SELECT `+ciColumns+` FROM cis ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("load graph CIs: %w", err)
	}
	defer rows.Close()
	keys := make(map[int64]string, n)
	snap.ciIDs = make([]int64, 0, n)
	snap.estimates = make([]orchestrator.Duration, 0, n)
	snap.dataBearing = make([]bool, 0, n)
	snap.strategies = make([]string, 0, n)
	snap.regions = map[string]string{}
	intern := map[string]string{}
	for rows.Next() {
		c, err := scanCI(rows, intern)
		if err != nil {
			return nil, fmt.Errorf("load graph CIs: %w", err)
		}
		b.AddNode(c.node)
		keys[c.id] = c.node.Key
		snap.ciIDs = append(snap.ciIDs, c.id)
		snap.estimates = append(snap.estimates, c.estimate)
		snap.dataBearing = append(snap.dataBearing, c.dataBearing)
		snap.strategies = append(snap.strategies, c.strategy)
		if c.region != "" {
			snap.regions[c.node.Key] = c.region
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load graph CIs: %w", err)
	}
	return keys, nil
}

// ciRow is one CI as a snapshot holds it.
type ciRow struct {
	id          int64
	node        Node
	estimate    orchestrator.Duration
	dataBearing bool
	strategy    string
	// region is the region a site CI names, "" for other CIs.
	region string
}

// scanCI reads a row of ciColumns, sharing repeated strings through intern.
func scanCI(rows pgx.Row, intern map[string]string) (ciRow, error) {
	var (
		c                     ciRow
		class, site, strategy []byte
		estimate              int64
	)
	if err := rows.Scan(&c.id, &c.node.Key, &class, &site, &estimate, &c.dataBearing, &strategy, &c.region); err != nil {
		return ciRow{}, err
	}
	c.node.Class, c.node.Site = internBytes(intern, class), internBytes(intern, site)
	c.estimate = orchestrator.DurationFromSeconds(estimate)
	c.strategy = internBytes(intern, strategy)
	return c, nil
}

// loadEdges adds every relation in id order.
func loadEdges(ctx context.Context, tx pgx.Tx, b *Builder, keys map[int64]string) error {
	rows, err := tx.Query(ctx, `SELECT `+relationColumns+` FROM relations ORDER BY id`)
	if err != nil {
		return fmt.Errorf("load graph relations: %w", err)
	}
	defer rows.Close()
	intern := map[string]string{}
	for rows.Next() {
		r, err := scanRelation(rows, intern)
		if err != nil {
			return fmt.Errorf("load graph relations: %w", err)
		}
		r.From, r.To = keys[r.fromID], keys[r.toID]
		b.AddEdge(r.Edge)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load graph relations: %w", err)
	}
	return nil
}

// relationRow is one relation with the ids of its CIs; the keys in Edge
// are left for the caller to fill in.
type relationRow struct {
	fromID, toID int64
	Edge
}

// scanRelation reads a row of relationColumns, sharing repeated strings
// through intern.
func scanRelation(rows pgx.Row, intern map[string]string) (relationRow, error) {
	var (
		r                  relationRow
		typ, grp, act, rep []byte
		estimate, lag      *int64
	)
	if err := rows.Scan(&r.fromID, &r.toID, &typ, &grp, &r.MinUp, &estimate, &act, &rep, &lag); err != nil {
		return relationRow{}, err
	}
	r.Type, r.Group = internBytes(intern, typ), internBytes(intern, grp)
	r.Failover = Failover{Estimate: secondsPtr(estimate), Activation: internBytes(intern, act),
		Replication: internBytes(intern, rep), Lag: secondsPtr(lag)}
	return r, nil
}

// internBytes returns one shared string per distinct value, so a few
// distinct classes, sites and types cost one allocation each, not one per row.
func internBytes(seen map[string]string, b []byte) string {
	if s, ok := seen[string(b)]; ok {
		return s
	}
	s := string(b)
	seen[s] = s
	return s
}

// secondsPtr reads a nullable seconds column as a duration.
func secondsPtr(s *int64) *orchestrator.Duration {
	if s == nil {
		return nil
	}
	d := orchestrator.DurationFromSeconds(*s)
	return &d
}
