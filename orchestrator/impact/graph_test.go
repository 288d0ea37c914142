package impact

import (
	"strings"
	"testing"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/stretchr/testify/require"
)

// dep is an ordinary relation "from typ to".
func dep(from, typ, to string) Edge { return Edge{From: from, To: to, Type: typ} }

// grp is a relation inside redundancy group name needing minUp members.
func grp(from, to, name string, minUp int) Edge {
	return Edge{From: from, To: to, Type: DependsOn, Group: name, MinUp: minUp}
}

// build makes a graph whose nodes are the keys the edges mention, in order
// of first mention; a key's class is its prefix before "-" and keys
// starting with "a-" or "b-" sit at site-a or site-b (the prefix is not
// part of the class).
func build(t testing.TB, edges ...Edge) *Graph {
	t.Helper()
	b := NewBuilder()
	seen := map[string]bool{}
	for _, e := range edges {
		for _, k := range []string{e.From, e.To} {
			if !seen[k] {
				seen[k] = true
				b.AddNode(testNode(k))
			}
		}
		b.AddEdge(e)
	}
	g, err := b.Build()
	require.NoError(t, err)
	return g
}

func testNode(key string) Node {
	n := Node{Key: key}
	rest := key
	switch {
	case strings.HasPrefix(key, "a-"):
		n.Site, rest = "site-a", key[2:]
	case strings.HasPrefix(key, "b-"):
		n.Site, rest = "site-b", key[2:]
	}
	n.Class, _, _ = strings.Cut(rest, "-")
	return n
}

func nodes(t testing.TB, g *Graph, keys ...string) []int32 {
	t.Helper()
	out, err := g.Indices(keys)
	require.NoError(t, err)
	return out
}

func keysOf(g *Graph, ns []int32) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = g.Key(n)
	}
	return out
}

func TestBuildRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		nodes []string
		edges []Edge
		want  string
	}{
		{"unknown keys named", []string{"app"}, []Edge{dep("app", DependsOn, "db-x"), dep("ghost", RunsOn, "app")},
			"unknown CI keys: db-x, ghost"},
		{"duplicate key", []string{"app", "app"}, nil, "CI key app appears twice"},
		{"blank key", []string{" "}, nil, "CI 0 has no key"},
		{"unknown type", []string{"app", "db"}, []Edge{dep("app", "talks_to", "db")}, `unknown type "talks_to"`},
		{"relation to itself", []string{"app"}, []Edge{dep("app", DependsOn, "app")}, "app depends_on itself"},
		{"group without min_up", []string{"app", "db"}, []Edge{{From: "app", To: "db", Type: DependsOn, Group: "g"}}, "a group needs min_up"},
		{"min_up without group", []string{"app", "db"}, []Edge{{From: "app", To: "db", Type: DependsOn, MinUp: 1}}, "min_up needs a group"},
		{"min_up above members", []string{"app", "db1", "db2"}, []Edge{grp("app", "db1", "c", 3), grp("app", "db2", "c", 3)},
			`group "c" of app needs 3 up but has 2 members`},
		{"min_up differs inside a group", []string{"app", "db1", "db2"}, []Edge{grp("app", "db1", "c", 1), grp("app", "db2", "c", 2)},
			`group "c" of app has min_up 1 and 2`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := NewBuilder()
			for _, k := range c.nodes {
				b.AddNode(Node{Key: k, Class: "application"})
			}
			for _, e := range c.edges {
				b.AddEdge(e)
			}
			g, err := b.Build()
			require.Nil(t, g)
			require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
			require.Contains(t, err.Error(), c.want)
		})
	}
}

func TestGraphLookups(t *testing.T) {
	t.Parallel()
	g := build(t,
		dep("app-1", RunsOn, "a-vm"), dep("a-vm", HostedIn, "a-dc"), dep("app-1", DependsOn, "b-db"),
		dep("b-db", BackedUpBy, "a-bkp"), dep("b-db", ReplicatesTo, "a-db"), dep("app-1", ProvidedBy, "sup-cloud"),
	)
	require.Equal(t, 7, g.Len())
	require.Equal(t, 6, g.Relations())
	app, ok := g.Index("app-1")
	require.True(t, ok)
	require.Equal(t, "app", g.Class(app))
	require.Empty(t, g.Site(app))
	require.Equal(t, []string{"a-vm", "b-db", "sup-cloud"}, keysOf(g, g.Needs(app)))
	require.Equal(t, []string{"a-vm", "a-dc", "a-bkp", "a-db"}, keysOf(g, g.AtSite("site-a")))
	require.Nil(t, g.AtSite("site-z"))
	require.Equal(t, []string{"b-db", "a-db"}, keysOf(g, g.OfClass("db")))
	require.Equal(t, "vm", g.Class(nodes(t, g, "a-vm")[0]))
	db := nodes(t, g, "b-db")[0]
	require.Equal(t, []string{"a-bkp"}, keysOf(g, g.Targets(db, BackedUpBy)))
	require.Equal(t, []string{"a-db"}, keysOf(g, g.Targets(db, ReplicatesTo)))
	require.Equal(t, []string{"b-db"}, keysOf(g, g.Targets(app, DependsOn)))
	require.Nil(t, g.Targets(app, "talks_to"))

	_, err := g.Indices([]string{"app-1", "nope", "b-db", "also-nope"})
	require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
	require.Equal(t, "unknown CI keys: nope, also-nope", orchestrator.ErrorMessage(err))

	for typ, want := range map[string]bool{DependsOn: true, RunsOn: true, HostedIn: true, ProvidedBy: true, BackedUpBy: false, ReplicatesTo: false, "x": false} {
		require.Equal(t, want, Propagates(typ), typ)
	}
}

func TestListKeysTruncates(t *testing.T) {
	t.Parallel()
	keys := make([]string, 13)
	for i := range keys {
		keys[i] = string(rune('a' + i))
	}
	require.Equal(t, "a, b, c, d, e, f, g, h, i, j, and 3 more", listKeys(keys))
}
