package impact

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDependenciesAndDependents(t *testing.T) {
	t.Parallel()
	g := build(t,
		dep("svc", DependsOn, "app1"), grp("svc", "app2", "f", 1), grp("svc", "app3", "f", 1),
		dep("app1", RunsOn, "vm"), dep("app2", RunsOn, "vm"), dep("app3", DependsOn, "app1"),
		dep("vm", RunsOn, "host"), dep("host", DependsOn, "vm"), // a cycle must terminate
		dep("vm", BackedUpBy, "bkp"), // not a dependency
		dep("other", DependsOn, "app1"),
	)
	type entry struct {
		key, parent string
		depth       int32
	}
	flat := func(c Closure) []entry {
		var out []entry
		for i, n := range c.Nodes {
			e := entry{key: g.Key(n), depth: c.Depth[i]}
			if c.Parent[i] >= 0 {
				e.parent = g.Key(c.Parent[i])
			}
			out = append(out, e)
		}
		return out
	}
	svc := nodes(t, g, "svc")[0]
	require.Equal(t, []entry{
		{"svc", "", 0}, {"app1", "svc", 1}, {"app2", "svc", 1}, {"app3", "svc", 1},
		{"vm", "app1", 2}, {"host", "vm", 3},
	}, flat(g.Dependencies(svc)))

	vm := nodes(t, g, "vm")[0]
	require.Equal(t, []entry{
		{"vm", "", 0}, {"app1", "vm", 1}, {"app2", "vm", 1}, {"host", "vm", 1},
		{"svc", "app1", 2}, {"app3", "app1", 2}, {"other", "app1", 2},
	}, flat(g.Dependents(vm)))

	tree := g.Tree(g.Dependencies(svc))
	require.Equal(t, "svc", tree.Key)
	require.Len(t, tree.Children, 3)
	require.Equal(t, "app1", tree.Children[0].Key)
	require.Equal(t, "vm", tree.Children[0].Children[0].Key)
	require.Equal(t, 3, tree.Children[0].Children[0].Children[0].Depth)
	require.Empty(t, tree.Children[1].Children, "vm appears once, under the first CI that reached it")

	require.Empty(t, g.Dependencies(-1).Nodes)
	require.Nil(t, g.Tree(Closure{}))
}
