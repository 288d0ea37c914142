package impact

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// maxDelta is the most CIs a change may touch (CIs changed plus CIs whose
// relations changed) for it to be applied to the snapshot in memory. It
// bounds the work a reader does inline; a larger change, like a bulk
// import, is read whole.
const maxDelta = 2000

// errFullLoad says a change cannot be applied to the snapshot in memory:
// the change log no longer reaches back to it, the change is too large, or
// it renumbers the graph (a CI deleted, or one inserted below a newer CI's
// id by transactions committing out of order). The whole CMDB is read.
var errFullLoad = errors.New("change needs a full read of the CMDB")

// delta is what changed in the CMDB since a snapshot, read in one
// repeatable-read transaction: the current rows of the changed CIs and
// every current relation of the CIs whose relations changed.
type delta struct {
	version int64
	// cis are the changed CIs that still exist, in id order; gone
	// counts those that were deleted.
	cis  []ciRow
	gone int
	// owners are the CIs whose relations are replaced, in id order, and
	// relations all of their relations, by owner and then relation id.
	owners    []int64
	relations []relationRow
}

// readDelta reads what changed since version from the change log
// (migrations/00018_cmdb_changes.sql). It returns errFullLoad when the log
// does not cover the range or the change is too large to be worth it.
func readDelta(ctx context.Context, pool *pgxpool.Pool, since int64) (*delta, error) {
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("read CMDB changes: %w", err)
	}
	// Read-only: nothing to commit, so the transaction always ends here.
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	d := &delta{}
	var loggedFrom int64
	if err := tx.QueryRow(ctx, `SELECT version, logged_from FROM cmdb_version WHERE id = 1`).Scan(&d.version, &loggedFrom); err != nil {
		return nil, fmt.Errorf("read CMDB changes: %w", err)
	}
	if since < loggedFrom {
		return nil, errFullLoad
	}
	// Every CI that changed has its relations read again too: a new key
	// changes the messages of its relations' repairs.
	rows, err := tx.Query(ctx, `SELECT ci_id, bool_or(kind = 'ci') FROM cmdb_changes WHERE version > $1
		GROUP BY ci_id ORDER BY ci_id LIMIT $2`, since, maxDelta+1)
	if err != nil {
		return nil, fmt.Errorf("read CMDB changes: %w", err)
	}
	var changedCIs []int64
	var id int64
	var own bool
	_, err = pgx.ForEachRow(rows, []any{&id, &own}, func() error {
		d.owners = append(d.owners, id)
		if own {
			changedCIs = append(changedCIs, id)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read CMDB changes: %w", err)
	}
	if len(d.owners) > maxDelta {
		return nil, errFullLoad
	}
	if err := d.readRows(ctx, tx, changedCIs); err != nil {
		return nil, err
	}
	return d, nil
}

// readRows reads the changed CIs and the relations of every owner.
func (d *delta) readRows(ctx context.Context, tx pgx.Tx, changedCIs []int64) error {
	intern := map[string]string{}
	rows, err := tx.Query(ctx, `SELECT `+ciColumns+` FROM cis WHERE id = ANY($1) ORDER BY id`, changedCIs)
	if err != nil {
		return fmt.Errorf("read changed CIs: %w", err)
	}
	d.cis, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (ciRow, error) { return scanCI(row, intern) })
	if err != nil {
		return fmt.Errorf("read changed CIs: %w", err)
	}
	d.gone = len(changedCIs) - len(d.cis)
	rows, err = tx.Query(ctx, `SELECT `+relationColumns+` FROM relations WHERE from_id = ANY($1) ORDER BY from_id, id`, d.owners)
	if err != nil {
		return fmt.Errorf("read changed relations: %w", err)
	}
	d.relations, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (relationRow, error) { return scanRelation(row, intern) })
	if err != nil {
		return fmt.Errorf("read changed relations: %w", err)
	}
	return nil
}

// apply returns a new snapshot: s with d applied. s is left as it was, for
// the readers still holding it; the new one shares every array the change
// leaves alone. The result equals what LoadSnapshot reads at d.version.
func (s *Snapshot) apply(d *delta) (*Snapshot, error) {
	if d.gone > 0 {
		return nil, errFullLoad
	}
	next := &Snapshot{Version: d.version, LoadedAt: time.Now(), ciIDs: s.ciIDs,
		estimates: s.estimates, dataBearing: s.dataBearing, strategies: s.strategies, regions: s.regions}
	g := &Graph{keys: s.Graph.keys, index: s.Graph.index, names: s.Graph.names,
		nodeClass: s.Graph.nodeClass, nodeSite: s.Graph.nodeSite}
	next.Graph = g
	changed, nodeRepairs, err := next.applyCIs(d.cis)
	if err != nil {
		return nil, err
	}
	owners := make([]int32, len(d.owners))
	for i, id := range d.owners {
		n, ok := next.nodeOf(id)
		if !ok {
			return nil, errFullLoad
		}
		owners[i] = n
	}
	edgeRepairs, err := next.relink(s.Graph, owners, d.relations)
	if err != nil {
		return nil, err
	}
	g.inherit(s.Graph, owners)
	// Keep the repairs of everything unchanged, replace the others, and
	// list them all in the order build does.
	next.repairs = slices.DeleteFunc(slices.Clone(s.repairs), func(r repair) bool {
		if r.onNode {
			_, found := slices.BinarySearch(changed, r.owner)
			return found
		}
		_, found := slices.BinarySearch(owners, r.owner)
		return found
	})
	next.repairs = append(append(next.repairs, nodeRepairs...), edgeRepairs...)
	slices.SortStableFunc(next.repairs, compareRepairs)
	next.Anomalies = anomaliesOf(next.repairs)
	return next, nil
}

// nodeOf returns the node of CI id.
func (s *Snapshot) nodeOf(id int64) (int32, bool) {
	n, ok := slices.BinarySearch(s.ciIDs, id)
	return int32(n), ok
}

// applyCIs writes the changed CIs into copies of the per-CI arrays,
// appending new CIs, and returns their nodes in order with their repairs.
// A new CI below the newest one would renumber the graph: errFullLoad.
func (s *Snapshot) applyCIs(cis []ciRow) ([]int32, []repair, error) {
	if len(cis) == 0 {
		return nil, nil, nil
	}
	g := s.Graph
	s.ciIDs, s.estimates, s.dataBearing, s.strategies = slices.Clone(s.ciIDs), slices.Clone(s.estimates),
		slices.Clone(s.dataBearing), slices.Clone(s.strategies)
	s.regions = maps.Clone(s.regions)
	g.keys, g.nodeClass, g.nodeSite, g.names = slices.Clone(g.keys), slices.Clone(g.nodeClass), slices.Clone(g.nodeSite), slices.Clone(g.names)
	interned := make(map[string]int32, len(g.names))
	for i, name := range g.names {
		interned[name] = int32(i)
	}
	nodes := make([]int32, len(cis))
	var oldKeys []string // of CIs that had one before
	for i, c := range cis {
		n, found := s.nodeOf(c.id)
		switch {
		case found:
			oldKeys = append(oldKeys, g.keys[n])
		case int(n) == len(s.ciIDs):
			s.ciIDs, s.estimates, s.dataBearing, s.strategies = append(s.ciIDs, c.id), append(s.estimates, 0),
				append(s.dataBearing, false), append(s.strategies, "")
			g.keys, g.nodeClass, g.nodeSite = append(g.keys, ""), append(g.nodeClass, 0), append(g.nodeSite, 0)
		default:
			return nil, nil, errFullLoad
		}
		nodes[i] = n
	}
	// Old keys go first, so CIs swapping keys in one change keep both.
	for _, key := range oldKeys {
		delete(s.regions, key)
	}
	rekeyed := len(oldKeys) < len(cis)
	for i, c := range cis {
		n := nodes[i]
		rekeyed = rekeyed || g.keys[n] != c.node.Key
		g.keys[n], g.nodeClass[n], g.nodeSite[n] = c.node.Key, g.intern(interned, c.node.Class), -1
		if c.node.Site != "" {
			g.nodeSite[n] = g.intern(interned, c.node.Site)
		}
		s.estimates[n], s.dataBearing[n], s.strategies[n] = c.estimate, c.dataBearing, c.strategy
		if c.region != "" {
			s.regions[c.node.Key] = c.region
		}
	}
	if rekeyed {
		g.index = maps.Clone(g.index)
		for _, key := range oldKeys {
			delete(g.index, key)
		}
		for _, n := range nodes {
			g.index[g.keys[n]] = n
		}
	}
	var repairs []repair
	for _, n := range nodes {
		// The database keeps keys unique, so a clash means this copy went
		// wrong somewhere: start again from the database.
		if g.index[g.keys[n]] != n {
			return nil, nil, errFullLoad
		}
		if a, bad := g.checkNode(n, g.keys[n]); bad {
			repairs = append(repairs, repair{owner: n, onNode: true, Anomaly: a})
		}
	}
	return nodes, repairs, nil
}

// inherit hands g the working memory old's queries left pooled, when it
// fits g's size, and old's standby map when no owner's standbys changed:
// the first questions on an updated graph would otherwise allocate and
// compute them again, at 100,000 CIs several milliseconds. Query state is
// stamped with epochs and rebuilt per question, so it moves safely.
func (g *Graph) inherit(old *Graph, owners []int32) {
	if !slices.ContainsFunc(owners, func(n int32) bool { return g.hasStandbyEdge(n) || old.hasStandbyEdge(n) }) {
		g.standingOnce.Do(func() { g.standing = old.standingFor() })
	}
	n, groups := g.Len(), len(g.groupMin)
	if s, ok := old.scratch.Get().(*scratch); ok && len(s.mark) == n && len(s.gmark) == groups {
		g.scratch.Put(s)
	}
	if p, ok := old.planners.Get().(*planner); ok && len(p.memberEp) == n && len(p.gmark) == groups {
		p.g, p.standing = g, g.standingFor()
		g.planners.Put(p)
	}
}

// hasStandbyEdge reports whether node n, if g has it, has a failover
// target.
func (g *Graph) hasStandbyEdge(n int32) bool { return g.valid(n) && g.hasStandby(n) }
