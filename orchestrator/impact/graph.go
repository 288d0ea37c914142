package impact

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/bcdr/bcdr/orchestrator"
)

// Relation types. The first four mean "From needs To", so To's failure
// propagates to From; the last three record recovery paths and do not.
const (
	DependsOn    = "depends_on"
	RunsOn       = "runs_on"
	HostedIn     = "hosted_in"
	ProvidedBy   = "provided_by"
	BackedUpBy   = "backed_up_by"
	ReplicatesTo = "replicates_to"
	FailsOverTo  = "fails_over_to"
)

// edgeTypes lists relation types in the order their byte codes use.
var edgeTypes = [...]string{DependsOn, RunsOn, HostedIn, ProvidedBy, BackedUpBy, ReplicatesTo, FailsOverTo}

// IsStandby reports whether relation type t names a failover target.
func IsStandby(t string) bool { return t == ReplicatesTo || t == FailsOverTo }

// firstPassive is the code of the first relation type that does not
// propagate failure.
const firstPassive = 4

// Propagates reports whether a relation of type t carries failure from its
// To CI to its From CI.
func Propagates(t string) bool {
	c, ok := edgeTypeCode(t)
	return ok && c < firstPassive
}

func edgeTypeCode(t string) (uint8, bool) {
	for i, name := range edgeTypes {
		if name == t {
			return uint8(i), true
		}
	}
	return 0, false
}

// Node is a configuration item as the graph sees it.
type Node struct {
	Key   string
	Class string
	// Site is where the CI physically runs; "" for logical CIs.
	Site string
}

// Edge is a relation "From Type To". Group names a redundancy group: the To
// CIs of every edge from the same CI with the same group, of which MinUp
// must stay up. Group "" (MinUp 0) is an ordinary dependency.
type Edge struct {
	From, To string
	Type     string
	Group    string
	MinUp    int
	// Failover describes a failover to To, for replicates_to and
	// fails_over_to relations.
	Failover Failover
}

// Failover is how a failover along a standby relation goes. Nil durations
// and empty strings are unknown.
type Failover struct {
	Estimate    *orchestrator.Duration
	Activation  string // automatic | manual
	Replication string // sync | async
	Lag         *orchestrator.Duration
}

// Standby is one failover target of a CI.
type Standby struct {
	Node int32
	Type string
	Failover
}

// Graph is an immutable, compact CMDB graph. Nodes are int32 indices;
// adjacency is stored CSR-style (one offsets array, one targets array per
// direction) so 100k CIs and 400k relations take a few tens of megabytes
// and traversals touch contiguous memory. Safe for concurrent use.
type Graph struct {
	keys  []string
	index map[string]int32

	names     []string // interned classes and sites
	nodeClass []int32  // into names
	nodeSite  []int32  // into names; -1 when the CI has no site

	// Propagating edges, outward (needs) and inward (needed by). Group is
	// -1 for an ordinary dependency.
	outStart, outTo, outGroup []int32
	outType                   []uint8
	inStart, inFrom, inGroup  []int32

	// Passive edges (backed_up_by, replicates_to, fails_over_to), outward
	// only; passFo indexes failovers, -1 for an edge without attributes.
	passStart, passTo []int32
	passType          []uint8
	passFo            []int32
	failovers         []Failover

	groupMin, groupSize []int32

	scratch sync.Pool // of *scratch sized for this graph

	planners     sync.Pool // of *planner sized for this graph
	standingOnce sync.Once
	standing     map[int32][]int32 // standby → the CIs failing over to it
}

// Len is the number of CIs.
func (g *Graph) Len() int { return len(g.keys) }

// Relations is the number of relations, propagating or not.
func (g *Graph) Relations() int { return len(g.outTo) + len(g.passTo) }

// Key returns the key of node n.
func (g *Graph) Key(n int32) string { return g.keys[n] }

// Class returns the class of node n.
func (g *Graph) Class(n int32) string { return g.names[g.nodeClass[n]] }

// Site returns the site of node n, "" for a logical CI.
func (g *Graph) Site(n int32) string {
	if s := g.nodeSite[n]; s >= 0 {
		return g.names[s]
	}
	return ""
}

// Index returns the node with the given key.
func (g *Graph) Index(key string) (int32, bool) {
	n, ok := g.index[key]
	return n, ok
}

// Indices resolves keys to nodes; an unknown key is an EINVALID error that
// names every unknown key, so a what-if request can be corrected at once.
func (g *Graph) Indices(keys []string) ([]int32, error) {
	out := make([]int32, 0, len(keys))
	var unknown []string
	for _, k := range keys {
		if n, ok := g.index[k]; ok {
			out = append(out, n)
		} else {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		return nil, orchestrator.Errorf(orchestrator.EINVALID, "unknown CI keys: %s", listKeys(unknown))
	}
	return out, nil
}

// AtSite returns every node located at site, in index order.
func (g *Graph) AtSite(site string) []int32 {
	return g.matching(g.nodeSite, site)
}

// OfClass returns every node of class, in index order.
func (g *Graph) OfClass(class string) []int32 {
	return g.matching(g.nodeClass, class)
}

func (g *Graph) matching(attr []int32, name string) []int32 {
	id := int32(slices.Index(g.names, name))
	if id < 0 {
		return nil
	}
	var out []int32
	for n, a := range attr {
		if a == id {
			out = append(out, int32(n))
		}
	}
	return out
}

// Needs returns the nodes n depends on through propagating relations.
func (g *Graph) Needs(n int32) []int32 {
	return slices.Clone(g.outTo[g.outStart[n]:g.outStart[n+1]])
}

// Targets returns the To nodes of n's relations of type t, propagating or
// not (e.g. its backup repositories for backed_up_by).
func (g *Graph) Targets(n int32, t string) []int32 {
	code, ok := edgeTypeCode(t)
	if !ok {
		return nil
	}
	to, types := g.outTo[g.outStart[n]:g.outStart[n+1]], g.outType[g.outStart[n]:g.outStart[n+1]]
	if code >= firstPassive {
		to, types = g.passTo[g.passStart[n]:g.passStart[n+1]], g.passType[g.passStart[n]:g.passStart[n+1]]
	}
	var out []int32
	for i, c := range types {
		if c == code {
			out = append(out, to[i])
		}
	}
	return out
}

// Standbys returns n's failover targets (replicates_to and fails_over_to),
// in relation order.
func (g *Graph) Standbys(n int32) []Standby {
	var out []Standby
	for i := g.passStart[n]; i < g.passStart[n+1]; i++ {
		t := edgeTypes[g.passType[i]]
		if !IsStandby(t) {
			continue
		}
		s := Standby{Node: g.passTo[i], Type: t}
		if f := g.passFo[i]; f >= 0 {
			s.Failover = g.failovers[f]
		}
		out = append(out, s)
	}
	return out
}

// hasStandby reports whether n has any failover target, without allocating.
func (g *Graph) hasStandby(n int32) bool {
	for i := g.passStart[n]; i < g.passStart[n+1]; i++ {
		if IsStandby(edgeTypes[g.passType[i]]) {
			return true
		}
	}
	return false
}

func (g *Graph) valid(n int32) bool { return n >= 0 && int(n) < len(g.keys) }

// listKeys names at most ten keys so an error about a bulk load stays
// readable.
func listKeys(keys []string) string {
	const shown = 10
	if len(keys) <= shown {
		return strings.Join(keys, ", ")
	}
	return strings.Join(keys[:shown], ", ") + ", and " + strconv.Itoa(len(keys)-shown) + " more"
}
