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
// the snapshot's and reloads when it moved. One reload runs at a time;
// requests already holding the old snapshot keep using it meanwhile.
type GraphCache struct {
	pool    *pgxpool.Pool
	logger  *slog.Logger
	current atomic.Pointer[Snapshot]
	flight  singleflight.Group
	loads   atomic.Int64
}

// Loads counts the snapshots read from the database so far.
func (c *GraphCache) Loads() int64 { return c.loads.Load() }

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
// time of the call, reloading it first when the CMDB changed.
func (c *GraphCache) Current(ctx context.Context) (*Snapshot, error) {
	var version int64
	if err := c.pool.QueryRow(ctx, `SELECT version FROM cmdb_version WHERE id = 1`).Scan(&version); err != nil {
		return nil, fmt.Errorf("read cmdb version: %w", err)
	}
	// A reload already under way may have read an older version; the
	// second round then starts one that cannot have.
	for range 3 {
		if snap := c.current.Load(); snap != nil && snap.Version >= version {
			return snap, nil
		}
		ch := c.flight.DoChan("graph", func() (any, error) {
			lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
			defer cancel()
			return c.reload(lctx)
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

// reload reads a snapshot and publishes it unless a newer one got there
// first.
func (c *GraphCache) reload(ctx context.Context) (*Snapshot, error) {
	start := time.Now()
	c.loads.Add(1)
	snap, err := LoadSnapshot(ctx, c.pool)
	if err != nil {
		return nil, err
	}
	for {
		old := c.current.Load()
		if old != nil && old.Version >= snap.Version {
			return old, nil
		}
		if c.current.CompareAndSwap(old, snap) {
			break
		}
	}
	c.logger.Info("loaded CMDB graph", "version", snap.Version, "cis", snap.Graph.Len(),
		"relations", snap.Graph.Relations(), "anomalies", len(snap.Anomalies), "took", time.Since(start).Round(time.Millisecond))
	return snap, nil
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
	snap.Graph, snap.Anomalies = b.BuildTolerant()
	return snap, nil
}

// loadNodes adds every CI in id order and returns the key of each id.
func loadNodes(ctx context.Context, tx pgx.Tx, b *Builder, snap *Snapshot, n int) (map[int64]string, error) {
	rows, err := tx.Query(ctx, `SELECT id, key, class, site, recovery_estimate_s, data_bearing, recovery_strategy,
		CASE WHEN class = 'site' THEN coalesce(attributes->>'region', '') ELSE '' END FROM cis ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("load graph CIs: %w", err)
	}
	defer rows.Close()
	keys := make(map[int64]string, n)
	snap.estimates = make([]orchestrator.Duration, 0, n)
	snap.dataBearing = make([]bool, 0, n)
	snap.strategies = make([]string, 0, n)
	snap.regions = map[string]string{}
	intern := map[string]string{}
	var (
		id       int64
		node     Node
		class    []byte
		site     []byte
		estimate int64
		data     bool
		strategy []byte
		region   string
	)
	for rows.Next() {
		if err := rows.Scan(&id, &node.Key, &class, &site, &estimate, &data, &strategy, &region); err != nil {
			return nil, fmt.Errorf("load graph CIs: %w", err)
		}
		node.Class, node.Site = internBytes(intern, class), internBytes(intern, site)
		b.AddNode(node)
		keys[id] = node.Key
		snap.estimates = append(snap.estimates, orchestrator.DurationFromSeconds(estimate))
		snap.dataBearing = append(snap.dataBearing, data)
		snap.strategies = append(snap.strategies, internBytes(intern, strategy))
		if region != "" {
			snap.regions[node.Key] = region
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load graph CIs: %w", err)
	}
	return keys, nil
}

// loadEdges adds every relation in id order.
func loadEdges(ctx context.Context, tx pgx.Tx, b *Builder, keys map[int64]string) error {
	rows, err := tx.Query(ctx, `SELECT from_id, to_id, type, grp, min_up, failover_estimate_s, activation, replication, lag_s
		FROM relations ORDER BY id`)
	if err != nil {
		return fmt.Errorf("load graph relations: %w", err)
	}
	defer rows.Close()
	intern := map[string]string{}
	var (
		from, to int64
		typ, grp []byte
		minUp    int
		estimate *int64
		act, rep []byte
		lag      *int64
	)
	for rows.Next() {
		if err := rows.Scan(&from, &to, &typ, &grp, &minUp, &estimate, &act, &rep, &lag); err != nil {
			return fmt.Errorf("load graph relations: %w", err)
		}
		e := Edge{From: keys[from], To: keys[to], Type: internBytes(intern, typ), Group: internBytes(intern, grp), MinUp: minUp}
		e.Failover = Failover{Estimate: secondsPtr(estimate), Activation: internBytes(intern, act),
			Replication: internBytes(intern, rep), Lag: secondsPtr(lag)}
		b.AddEdge(e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load graph relations: %w", err)
	}
	return nil
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
