package impact

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGenerate(t *testing.T) {
	t.Parallel()
	ns, es := Generate(42, 10000, 40000, 200)
	require.Len(t, ns, 10000)
	require.Len(t, es, 40000)

	again, againEdges := Generate(42, 10000, 40000, 200)
	require.True(t, slices.Equal(ns, again), "same seed, same CIs")
	require.True(t, slices.Equal(es, againEdges), "same seed, same relations")
	_, other := Generate(43, 10000, 40000, 200)
	require.False(t, slices.Equal(es, other))

	// The relations table's constraints, so the same CMDB can be loaded
	// into PostgreSQL for comparison.
	type triple struct{ from, to, typ string }
	seen := map[triple]bool{}
	var bad []Edge
	for _, e := range es {
		if e.From == e.To || (e.Group == "") != (e.MinUp == 0) || seen[triple{e.From, e.To, e.Type}] {
			bad = append(bad, e)
		}
		seen[triple{e.From, e.To, e.Type}] = true
	}
	require.Empty(t, bad)

	g := buildFrom(t, ns, es)
	require.Len(t, g.OfClass("business_service"), 200)
	for _, class := range []string{"site", "network", "storage", "server", "vm", "database", "middleware", "application",
		"backup_repository", "supplier_service"} {
		require.NotEmpty(t, g.OfClass(class), class)
	}
	require.InDelta(t, len(g.AtSite("site-a")), len(g.AtSite("site-b")), 10, "the two sites are balanced")
	require.NotEmpty(t, g.groupMin, "redundancy groups exist")
	require.Contains(t, g.groupMin, int32(2), "some groups need two members")

	cycles := 0
	for n := range int32(g.Len()) {
		for _, m := range g.Needs(n) {
			if m > n && slices.Contains(g.Needs(m), n) {
				cycles++
			}
		}
	}
	require.Positive(t, cycles, "a few dependency cycles")
}

func TestGenerateSmall(t *testing.T) {
	t.Parallel()
	ns, es := Generate(1, 50, 100, 5)
	g := buildFrom(t, ns, es)
	require.Positive(t, g.Len(), "too small for every layer's minimum, yet a valid CMDB")
	require.NotEmpty(t, g.WhatIf(g.AtSite("site-a")).Down)
}
