package impact

import (
	"fmt"
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

// groupID identifies a redundancy group: its owner and its name.
type groupID struct {
	from int32
	name string
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
	g, anomalies := b.build(true)
	if len(anomalies) > 0 {
		problems := make([]string, len(anomalies))
		for i, a := range anomalies {
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
// members up than it has needs all of them. Every repair is reported.
func (b *Builder) BuildTolerant() (*Graph, []Anomaly) {
	return b.build(false)
}

// build collects anomalies; strict stops after checking and leaves the
// graph unlinked when there are any.
func (b *Builder) build(strict bool) (*Graph, []Anomaly) {
	g := &Graph{}
	anomalies := g.addNodes(b.nodes)
	edges, groupNames, more := g.resolveEdges(b.edges, strict)
	anomalies = append(anomalies, more...)
	for gid, name := range groupNames {
		if g.groupMin[gid] > g.groupSize[gid] {
			a := Anomaly{CI: g.keys[name.from], Message: fmt.Sprintf("group %q of %s needs %d up but has %d members",
				name.name, g.keys[name.from], g.groupMin[gid], g.groupSize[gid])}
			if !strict {
				a.Message += fmt.Sprintf("; treated as needing all %d", g.groupSize[gid])
				g.groupMin[gid] = g.groupSize[gid]
			}
			anomalies = append(anomalies, a)
		}
	}
	if strict && len(anomalies) > 0 {
		return nil, anomalies
	}
	g.link(edges)
	return g, anomalies
}

func (g *Graph) addNodes(nodes []Node) []Anomaly {
	g.keys = make([]string, len(nodes))
	g.index = make(map[string]int32, len(nodes))
	g.nodeClass = make([]int32, len(nodes))
	g.nodeSite = make([]int32, len(nodes))
	interned := map[string]int32{}
	intern := func(s string) int32 {
		id, ok := interned[s]
		if !ok {
			id = int32(len(g.names))
			interned[s] = id
			g.names = append(g.names, s)
		}
		return id
	}
	var problems []Anomaly
	for i, n := range nodes {
		switch _, dup := g.index[n.Key]; {
		case strings.TrimSpace(n.Key) == "":
			problems = append(problems, Anomaly{CI: n.Key, Message: fmt.Sprintf("CI %d has no key", i)})
		case dup:
			problems = append(problems, Anomaly{CI: n.Key, Message: fmt.Sprintf("CI key %s appears twice", n.Key)})
		}
		g.keys[i] = n.Key
		g.index[n.Key] = int32(i)
		g.nodeClass[i] = intern(n.Class)
		g.nodeSite[i] = -1
		if n.Site != "" {
			g.nodeSite[i] = intern(n.Site)
		}
	}
	return problems
}

// resolveEdges maps keys to indices, assigns group ids and drops repeated
// members of a group, which would otherwise be counted down twice. Strict
// drops a relation whose group disagrees on min_up; otherwise the group
// keeps the largest min_up seen.
func (g *Graph) resolveEdges(in []Edge, strict bool) ([]edge, []groupID, []Anomaly) {
	var problems []Anomaly
	var unknown []string
	missing := map[string]bool{}
	lookup := func(key string) int32 {
		n, ok := g.index[key]
		if !ok && !missing[key] {
			missing[key] = true
			unknown = append(unknown, key)
		}
		if !ok {
			return -1
		}
		return n
	}
	groups := map[groupID]int32{}
	var names []groupID
	members := map[[2]int32]bool{}
	out := make([]edge, 0, len(in))
	for _, e := range in {
		from, to := lookup(e.From), lookup(e.To)
		typ, known := edgeTypeCode(e.Type)
		switch {
		case from < 0 || to < 0:
			continue
		case !known:
			problems = append(problems, Anomaly{CI: e.From, Message: fmt.Sprintf("relation %s → %s has unknown type %q", e.From, e.To, e.Type)})
			continue
		case from == to:
			problems = append(problems, Anomaly{CI: e.From, Message: fmt.Sprintf("relation %s %s itself", e.From, e.Type)})
			continue
		case (e.Group == "") != (e.MinUp == 0) || e.MinUp < 0:
			problems = append(problems, Anomaly{CI: e.From, Message: fmt.Sprintf("relation %s → %s: a group needs min_up ≥ 1 and min_up needs a group", e.From, e.To)})
			if strict {
				continue
			}
			e.Group, e.MinUp = "", 0
		}
		r := edge{from: from, to: to, group: -1, typ: typ, fo: -1}
		if f := e.Failover; IsStandby(e.Type) && (f.Estimate != nil || f.Activation != "" || f.Replication != "" || f.Lag != nil) {
			r.fo = int32(len(g.failovers))
			g.failovers = append(g.failovers, f)
		}
		// A group on a passive relation has nothing to keep up, so it is
		// ignored rather than rejected.
		if e.Group != "" && typ < firstPassive {
			id := groupID{from, e.Group}
			gid, seen := groups[id]
			if !seen {
				gid = int32(len(names))
				groups[id] = gid
				names = append(names, id)
				g.groupMin = append(g.groupMin, int32(e.MinUp))
				g.groupSize = append(g.groupSize, 0)
			}
			if g.groupMin[gid] != int32(e.MinUp) {
				problems = append(problems, Anomaly{CI: e.From, Message: fmt.Sprintf("group %q of %s has min_up %d and %d", e.Group, e.From, g.groupMin[gid], e.MinUp)})
				if strict {
					continue
				}
				g.groupMin[gid] = max(g.groupMin[gid], int32(e.MinUp))
				problems[len(problems)-1].Message += fmt.Sprintf("; treated as %d", g.groupMin[gid])
			}
			if members[[2]int32{gid, to}] {
				continue
			}
			members[[2]int32{gid, to}] = true
			g.groupSize[gid]++
			r.group = gid
		}
		out = append(out, r)
	}
	if len(unknown) > 0 {
		problems = append([]Anomaly{{Message: "unknown CI keys: " + listKeys(unknown)}}, problems...)
	}
	return out, names, problems
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
