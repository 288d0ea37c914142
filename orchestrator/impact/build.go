package impact

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
)

// Builder collects nodes and edges and turns them into a Graph. Edges may
// name nodes added later; references are resolved by Build.
type Builder struct {
	nodes []Node
	edges []Edge
}

// NewBuilder returns an empty builder.
func NewBuilder() *Builder { return &Builder{} }

// Grow reserves room for more nodes and edges, sparing reallocations when
// loading a whole CMDB.
func (b *Builder) Grow(nodes, edges int) {
	b.nodes = append(make([]Node, 0, len(b.nodes)+nodes), b.nodes...)
	b.edges = append(make([]Edge, 0, len(b.edges)+edges), b.edges...)
}

// AddNode adds a CI.
func (b *Builder) AddNode(n Node) { b.nodes = append(b.nodes, n) }

// AddEdge adds a relation.
func (b *Builder) AddEdge(e Edge) { b.edges = append(b.edges, e) }

// edge is a relation resolved to node indices.
type edge struct {
	from, to, group int32
	typ             uint8
	fo              int32 // into Graph.failovers, -1 for none
}

// Anomaly is an inconsistency in the collected CMDB: Build rejects the
// CMDB for it, BuildTolerant repairs it and reports it. CI names the CI at
// fault, "" when the anomaly is about several.
type Anomaly struct {
	CI      string `json:"ci"`
	Message string `json:"message"`
}

// Build checks the collected CMDB and returns the graph, or an EINVALID
// error naming every unknown key and every inconsistent relation. A
// redundancy group whose min_up exceeds its members is rejected: the CI
// would be down with nothing failed, which no explanation path can justify.
func (b *Builder) Build() (*Graph, error) {
	g, repairs := b.build(true)
	if len(repairs) > 0 {
		problems := make([]string, len(repairs))
		for i, a := range repairs {
			problems[i] = a.Message
		}
		return nil, &orchestrator.Error{Code: orchestrator.EINVALID, Message: "invalid CMDB graph: " + listProblems(problems)}
	}
	return g, nil
}

// BuildTolerant always returns a graph, repairing what Build would reject
// so that a CMDB the database accepted can always be loaded: relations to
// unknown CIs, of unknown types or to the CI itself are dropped; a group
// whose members disagree on min_up takes the largest; a group needing more
// members up than it has needs all of them. Every repair is reported, CI by
// CI in the order the CIs were added.
func (b *Builder) BuildTolerant() (*Graph, []Anomaly) {
	g, repairs := b.build(false)
	return g, anomaliesOf(repairs)
}

// repair is an anomaly with the CI it belongs to, so that a snapshot
// updated in place can replace the repairs of the CIs that changed: node
// repairs are about the CI itself, the others about its relations. Owner
// is -1 for the list of unknown keys.
type repair struct {
	owner  int32
	onNode bool
	Anomaly
}

// compareRepairs orders repairs as build lists them: node repairs in node
// order, then relation repairs in owner order.
func compareRepairs(a, b repair) int {
	if a.onNode != b.onNode {
		if a.onNode {
			return -1
		}
		return 1
	}
	return cmp.Compare(a.owner, b.owner)
}

func anomaliesOf(repairs []repair) []Anomaly {
	out := make([]Anomaly, len(repairs))
	for i, r := range repairs {
		out[i] = r.Anomaly
	}
	return out
}

// build collects anomalies; strict stops after checking and leaves the
// graph unlinked when there are any.
func (b *Builder) build(strict bool) (*Graph, []repair) {
	g := &Graph{}
	repairs := g.addNodes(b.nodes)
	byFrom, to, start, unknown := g.bucketEdges(b.edges)
	if len(unknown) > 0 {
		repairs = append(repairs, repair{owner: -1, Anomaly: Anomaly{Message: "unknown CI keys: " + listKeys(unknown)}})
	}
	edges := make([]edge, 0, len(byFrom))
	var own []ownEdge
	for from := range int32(len(g.keys)) {
		own = own[:0]
		for _, i := range byFrom[start[from]:start[from+1]] {
			own = append(own, ownEdge{to: to[i], Edge: b.edges[i]})
		}
		var more []repair
		edges, more = g.resolveOwn(from, own, strict, edges)
		repairs = append(repairs, more...)
	}
	if strict && len(repairs) > 0 {
		return nil, repairs
	}
	g.link(edges)
	return g, repairs
}

func (g *Graph) addNodes(nodes []Node) []repair {
	g.keys = make([]string, len(nodes))
	g.index = make(map[string]int32, len(nodes))
	g.nodeClass = make([]int32, len(nodes))
	g.nodeSite = make([]int32, len(nodes))
	interned := map[string]int32{}
	var problems []repair
	for i, n := range nodes {
		if a, bad := g.checkNode(int32(i), n.Key); bad {
			problems = append(problems, repair{owner: int32(i), onNode: true, Anomaly: a})
		}
		g.keys[i] = n.Key
		g.index[n.Key] = int32(i)
		g.nodeClass[i] = g.intern(interned, n.Class)
		g.nodeSite[i] = -1
		if n.Site != "" {
			g.nodeSite[i] = g.intern(interned, n.Site)
		}
	}
	return problems
}

// checkNode reports what is wrong with giving node i key, before the key
// is entered in the index.
func (g *Graph) checkNode(i int32, key string) (Anomaly, bool) {
	if strings.TrimSpace(key) == "" {
		return Anomaly{CI: key, Message: fmt.Sprintf("CI %d has no key", i)}, true
	}
	if j, dup := g.index[key]; dup && j != i {
		return Anomaly{CI: key, Message: fmt.Sprintf("CI key %s appears twice", key)}, true
	}
	return Anomaly{}, false
}

// intern returns the id of name in g.names, adding it when new; interned
// maps the names seen so far to their ids.
func (g *Graph) intern(interned map[string]int32, name string) int32 {
	id, ok := interned[name]
	if !ok {
		id = int32(len(g.names))
		interned[name] = id
		g.names = append(g.names, name)
	}
	return id
}

// bucketEdges resolves the keys of every edge and orders the edges by
// their From node, keeping their order within one node: byFrom lists edge
// indices, those of node n at byFrom[start[n]:start[n+1]], and to[i] is
// edge i's To node. Edges naming an unknown CI are left out and the
// unknown keys returned.
func (g *Graph) bucketEdges(in []Edge) (byFrom, to, start []int32, unknown []string) {
	missing := map[string]bool{}
	lookup := func(key string) int32 {
		n, ok := g.index[key]
		if ok {
			return n
		}
		if !missing[key] {
			missing[key] = true
			unknown = append(unknown, key)
		}
		return -1
	}
	from := make([]int32, len(in))
	to = make([]int32, len(in))
	start = make([]int32, len(g.keys)+1)
	for i, e := range in {
		from[i], to[i] = lookup(e.From), lookup(e.To)
		if from[i] >= 0 && to[i] >= 0 {
			start[from[i]+1]++
		}
	}
	for n := range len(g.keys) {
		start[n+1] += start[n]
	}
	byFrom = make([]int32, start[len(g.keys)])
	pos := slices.Clone(start[:len(g.keys)])
	for i := range in {
		if f := from[i]; f >= 0 && to[i] >= 0 {
			byFrom[pos[f]] = int32(i)
			pos[f]++
		}
	}
	return byFrom, to, start, unknown
}

// ownEdge is a relation of the CI being resolved, with its To node.
type ownEdge struct {
	to int32
	Edge
}

// resolveOwn resolves the relations of node from, in the order they were
// added, appending them to out and their redundancy groups and failover
// attributes to g's, so each node's are numbered contiguously and in node
// order. Repeated members of a group are dropped, since they would be
// counted down twice. Strict drops a relation whose group disagrees on
// min_up; otherwise the group keeps the largest min_up seen, and a group
// needing more members than it has needs all of them.
func (g *Graph) resolveOwn(from int32, in []ownEdge, strict bool, out []edge) ([]edge, []repair) {
	var problems []repair
	problem := func(format string, args ...any) {
		problems = append(problems, repair{owner: from, Anomaly: Anomaly{CI: g.keys[from], Message: fmt.Sprintf(format, args...)}})
	}
	firstGroup, first := int32(len(g.groupMin)), len(out)
	var groupNames []string
	for _, r := range in {
		e := r.Edge
		typ, known := edgeTypeCode(e.Type)
		switch {
		case !known:
			problem("relation %s → %s has unknown type %q", e.From, e.To, e.Type)
			continue
		case from == r.to:
			problem("relation %s %s itself", e.From, e.Type)
			continue
		case (e.Group == "") != (e.MinUp == 0) || e.MinUp < 0:
			problem("relation %s → %s: a group needs min_up ≥ 1 and min_up needs a group", e.From, e.To)
			if strict {
				continue
			}
			e.Group, e.MinUp = "", 0
		}
		x := edge{from: from, to: r.to, group: -1, typ: typ, fo: -1}
		if f := e.Failover; IsStandby(e.Type) && (f.Estimate != nil || f.Activation != "" || f.Replication != "" || f.Lag != nil) {
			x.fo = int32(len(g.failovers))
			g.failovers = append(g.failovers, f)
		}
		// A group on a passive relation has nothing to keep up, so it is
		// ignored rather than rejected.
		if e.Group != "" && typ < firstPassive {
			gid := firstGroup + int32(slices.Index(groupNames, e.Group))
			if gid < firstGroup {
				gid = int32(len(g.groupMin))
				groupNames = append(groupNames, e.Group)
				g.groupMin = append(g.groupMin, int32(e.MinUp))
				g.groupSize = append(g.groupSize, 0)
			}
			if g.groupMin[gid] != int32(e.MinUp) {
				if strict {
					problem("group %q of %s has min_up %d and %d", e.Group, e.From, g.groupMin[gid], e.MinUp)
					continue
				}
				problem("group %q of %s has min_up %d and %d; treated as %d", e.Group, e.From, g.groupMin[gid], e.MinUp,
					max(g.groupMin[gid], int32(e.MinUp)))
				g.groupMin[gid] = max(g.groupMin[gid], int32(e.MinUp))
			}
			if slices.ContainsFunc(out[first:], func(o edge) bool { return o.group == gid && o.to == r.to }) {
				continue
			}
			g.groupSize[gid]++
			x.group = gid
		}
		out = append(out, x)
	}
	for i, name := range groupNames {
		gid := firstGroup + int32(i)
		if g.groupMin[gid] <= g.groupSize[gid] {
			continue
		}
		if strict {
			problem("group %q of %s needs %d up but has %d members", name, g.keys[from], g.groupMin[gid], g.groupSize[gid])
			continue
		}
		problem("group %q of %s needs %d up but has %d members; treated as needing all %d",
			name, g.keys[from], g.groupMin[gid], g.groupSize[gid], g.groupSize[gid])
		g.groupMin[gid] = g.groupSize[gid]
	}
	return out, problems
}

// link lays the resolved edges out as CSR arrays: counts, prefix sums, fill.
func (g *Graph) link(edges []edge) {
	n := len(g.keys)
	g.outStart, g.inStart, g.passStart = make([]int32, n+1), make([]int32, n+1), make([]int32, n+1)
	for _, e := range edges {
		if e.typ < firstPassive {
			g.outStart[e.from+1]++
			g.inStart[e.to+1]++
		} else {
			g.passStart[e.from+1]++
		}
	}
	for i := 0; i < n; i++ {
		g.outStart[i+1] += g.outStart[i]
		g.inStart[i+1] += g.inStart[i]
		g.passStart[i+1] += g.passStart[i]
	}
	active, passive := g.outStart[n], g.passStart[n]
	g.outTo, g.outGroup, g.outType = make([]int32, active), make([]int32, active), make([]uint8, active)
	g.inFrom, g.inGroup = make([]int32, active), make([]int32, active)
	g.passTo, g.passType, g.passFo = make([]int32, passive), make([]uint8, passive), make([]int32, passive)
	outPos := append([]int32(nil), g.outStart[:n]...)
	inPos := append([]int32(nil), g.inStart[:n]...)
	passPos := append([]int32(nil), g.passStart[:n]...)
	for _, e := range edges {
		if e.typ >= firstPassive {
			p := passPos[e.from]
			g.passTo[p], g.passType[p], g.passFo[p] = e.to, e.typ, e.fo
			passPos[e.from]++
			continue
		}
		p := outPos[e.from]
		g.outTo[p], g.outGroup[p], g.outType[p] = e.to, e.group, e.typ
		outPos[e.from]++
		q := inPos[e.to]
		g.inFrom[q], g.inGroup[q] = e.from, e.group
		inPos[e.to]++
	}
}

func listProblems(problems []string) string {
	const shown = 10
	if len(problems) <= shown {
		return strings.Join(problems, "; ")
	}
	return fmt.Sprintf("%s; and %d more problems", strings.Join(problems[:shown], "; "), len(problems)-shown)
}
