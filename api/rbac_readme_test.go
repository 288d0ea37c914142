package api

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite the role table in README.md from x-roles in openapi.yaml")

const (
	roleTableBegin = "<!-- role table: generated from x-roles in api/openapi.yaml by `go test ./api -run TestREADMERoleTable -update-readme` -->"
	roleTableEnd   = "<!-- end of role table -->"
)

// TestREADMERoleTable checks the README's role table against x-roles, the
// same data the route table and the RBAC matrix are checked against.
func TestREADMERoleTable(t *testing.T) {
	want := roleTable(t)
	const path = "../README.md"
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	readme := string(raw)
	before, rest, ok := strings.Cut(readme, roleTableBegin+"\n")
	require.True(t, ok, "README.md has no line %q", roleTableBegin)
	got, after, ok := strings.Cut(rest, roleTableEnd)
	require.True(t, ok, "README.md has no line %q after the table", roleTableEnd)
	if *updateREADME {
		require.NoError(t, os.WriteFile(path, []byte(before+roleTableBegin+"\n"+want+roleTableEnd+after), 0o644))
		return
	}
	require.Equal(t, want, got, "the README role table differs from x-roles in openapi.yaml; "+
		"regenerate it with go test ./api -run TestREADMERoleTable -update-readme")
}

// roleTable renders, per OpenAPI tag, what each role may call: reads are
// GET operations, writes the others; "some" means part of them.
func roleTable(t *testing.T) string {
	policy := specPolicy(t)
	type counts struct{ reads, writes map[orchestrator.Role]int }
	areas := map[string]*counts{}
	totals := map[string][2]int{}
	for path, item := range specDoc.Paths.Map() {
		for method, op := range item.Operations() {
			roles, ok := policy[method+" "+path]
			if !ok {
				continue
			}
			area := "untagged"
			if len(op.Tags) > 0 {
				area = op.Tags[0]
			}
			c := areas[area]
			if c == nil {
				c = &counts{reads: map[orchestrator.Role]int{}, writes: map[orchestrator.Role]int{}}
				areas[area] = c
			}
			n := totals[area]
			side := c.writes
			if method == "GET" {
				side = c.reads
				n[0]++
			} else {
				n[1]++
			}
			totals[area] = n
			for _, r := range roles {
				side[r]++
			}
		}
	}
	var b strings.Builder
	b.WriteString("| area |")
	for _, r := range orchestrator.Roles {
		fmt.Fprintf(&b, " %s |", r)
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("---|", len(orchestrator.Roles)))
	b.WriteString("\n")
	for _, area := range slices.Sorted(maps.Keys(areas)) {
		c, n := areas[area], totals[area]
		fmt.Fprintf(&b, "| %s |", area)
		for _, r := range orchestrator.Roles {
			fmt.Fprintf(&b, " %s |", roleCell(c.reads[r], n[0], c.writes[r], n[1]))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func roleCell(reads, allReads, writes, allWrites int) string {
	var parts []string
	for _, p := range []struct {
		name     string
		got, all int
	}{{"read", reads, allReads}, {"write", writes, allWrites}} {
		switch {
		case p.got == 0:
		case p.got == p.all:
			parts = append(parts, p.name)
		default:
			parts = append(parts, "some "+p.name+"s")
		}
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, ", ")
}
