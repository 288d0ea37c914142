package report

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/impact"
)

// The view of a closure holds the propagating relations among its CIs
// (not backups, not relations leaving it) and marks a cycle inside it.
func TestDependencyViewMarksCycles(t *testing.T) {
	t.Parallel()
	b := impact.NewBuilder()
	for _, n := range []impact.Node{{Key: "svc", Class: "business_service"}, {Key: "app", Class: "application"},
		{Key: "db", Class: "database"}, {Key: "repo", Class: "backup_repository"}, {Key: "other", Class: "application"}} {
		b.AddNode(n)
	}
	for _, e := range []impact.Edge{{From: "svc", To: "app", Type: "depends_on"}, {From: "app", To: "db", Type: "depends_on"},
		{From: "db", To: "app", Type: "runs_on"}, {From: "db", To: "repo", Type: "backed_up_by"}, {From: "other", To: "db", Type: "depends_on"}} {
		b.AddEdge(e)
	}
	g, err := b.Build()
	require.NoError(t, err)
	c := impact.ClosureView{Root: "svc", Items: []impact.ClosureItem{
		{Key: "app", Class: "application", Depth: 1, Parent: "svc"}, {Key: "db", Class: "database", Depth: 2, Parent: "app"}}}
	v := dependencyView(g, c, map[string]string{"svc": "Service", "app": "App"})
	require.Equal(t, [][]string{{"app", "db"}}, v.Cycles)
	require.Equal(t, []DependencyEdge{
		{From: "svc", To: "app", Type: "depends_on"},
		{From: "app", To: "db", Type: "depends_on", Cycle: true},
		{From: "db", To: "app", Type: "runs_on", Cycle: true},
	}, v.Edges)
	require.Equal(t, []DependencyNode{
		{Key: "svc", Name: "Service", Class: "business_service"},
		{Key: "app", Name: "App", Class: "application", Depth: 1, Parent: "svc", Cycle: true},
		{Key: "db", Class: "database", Depth: 2, Parent: "app", Cycle: true},
	}, v.Nodes)
}
