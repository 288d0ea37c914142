package impact

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

func TestRecoveryEstimate(t *testing.T) {
	t.Parallel()
	g := build(t,
		dep("svc", DependsOn, "app"), dep("app", RunsOn, "vm"), dep("vm", RunsOn, "host"),
		grp("app", "db1", "db", 1), grp("app", "db2", "db", 1),
		dep("a", DependsOn, "b"), dep("b", DependsOn, "a"),
	)
	weights := map[string]string{"host": "4h", "vm": "1h", "app": "30m", "db1": "2h", "db2": "3h", "a": "1h", "b": "1h", "svc": "0"}
	weight := func(n int32) orchestrator.Duration { return dur(t, weights[g.Key(n)]) }
	cases := []struct {
		failed []string
		of     string
		want   string
	}{
		{[]string{"host"}, "svc", "5h30m"},       // app waits for vm, which waits for host; the db group is up
		{[]string{"db1", "db2"}, "svc", "3h30m"}, // the broken group waits for its slower member
		{[]string{"db1"}, "svc", "0s"},           // nothing down
		{[]string{"db1", "host"}, "app", "5h30m"},
		{[]string{"b"}, "a", "2h"}, // a cycle counts each member once and terminates
	}
	for _, c := range cases {
		r := g.WhatIf(nodes(t, g, c.failed...))
		e := g.NewEstimator(r, weight)
		require.Equal(t, c.want, e.Estimate(nodes(t, g, c.of)[0]).String(), "%v → %s", c.failed, c.of)
	}
}

func TestCycles(t *testing.T) {
	t.Parallel()
	g := build(t,
		dep("c", DependsOn, "a"), dep("a", RunsOn, "b"), dep("b", HostedIn, "c"), dep("d", DependsOn, "a"),
		dep("y", DependsOn, "x"), dep("x", ProvidedBy, "y"),
		// Passive relations close no cycle.
		dep("p", BackedUpBy, "q"), dep("q", DependsOn, "p"),
	)
	var got [][]string
	for _, c := range g.Cycles() {
		got = append(got, keysOf(g, c))
	}
	require.Equal(t, [][]string{{"a", "b", "c"}, {"x", "y"}}, got)
	require.Empty(t, build(t, dep("a", DependsOn, "b")).Cycles())
}

func TestBuildTolerantNeverFails(t *testing.T) {
	t.Parallel()
	b := NewBuilder()
	for _, k := range []string{"app", "db1", "db2"} {
		b.AddNode(Node{Key: k, Class: "application"})
	}
	for _, e := range []Edge{
		grp("app", "db1", "c", 1), grp("app", "db2", "c", 3), dep("app", DependsOn, "ghost"),
		dep("app", "talks_to", "db1"), dep("db1", RunsOn, "db1"), {From: "db2", To: "db1", Type: DependsOn, Group: "g"},
	} {
		b.AddEdge(e)
	}
	g, anomalies := b.BuildTolerant()
	require.NotNil(t, g)
	var msgs []string
	for _, a := range anomalies {
		msgs = append(msgs, a.Message)
	}
	require.Equal(t, []string{
		"unknown CI keys: ghost",
		`group "c" of app has min_up 1 and 3; treated as 3`,
		`relation app → db1 has unknown type "talks_to"`,
		`group "c" of app needs 3 up but has 2 members; treated as needing all 2`,
		"relation db1 runs_on itself",
		"relation db2 → db1: a group needs min_up ≥ 1 and min_up needs a group",
	}, msgs, "listed CI by CI")
	// The group needs both members; the dependency without min_up is kept
	// as an ordinary one.
	require.Equal(t, []string{"app", "db1", "db2"}, keysOf(g, g.WhatIf(nodes(t, g, "db1")).Down))
}
