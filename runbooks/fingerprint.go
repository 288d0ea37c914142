package runbooks

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/bcdr/bcdr/orchestrator/impact"
)

// scopePrint is a runbook's CMDB scope as fingerprinted: the scope's CI
// keys and every relation from one of them, each written as one line.
type scopePrint struct {
	CIs       []string
	Relations []string
}

// newScopePrint sorts the keys and writes the relations whose From CI is
// in the scope.
func newScopePrint(keys []string, relations []impact.Edge) scopePrint {
	in := make(map[string]bool, len(keys))
	for _, k := range keys {
		in[k] = true
	}
	p := scopePrint{CIs: slices.Sorted(slices.Values(keys)), Relations: []string{}}
	for _, e := range relations {
		if in[e.From] {
			p.Relations = append(p.Relations, relationLine(e))
		}
	}
	slices.Sort(p.Relations)
	p.Relations = slices.Compact(p.Relations)
	return p
}

// relationLine writes a relation as "from type to", with its redundancy
// group when it has one.
func relationLine(e impact.Edge) string {
	if e.Group == "" {
		return fmt.Sprintf("%s %s %s", e.From, e.Type, e.To)
	}
	return fmt.Sprintf("%s %s %s (group %s, min_up %d)", e.From, e.Type, e.To, e.Group, e.MinUp)
}

// fingerprint is the SHA-256 of the sorted keys and relation lines. Keys
// cannot hold a newline, so the encoding is unambiguous.
func (p scopePrint) fingerprint() string {
	h := sha256.New()
	for _, k := range p.CIs {
		fmt.Fprintf(h, "ci %s\n", k)
	}
	for _, r := range p.Relations {
		fmt.Fprintf(h, "rel %s\n", r)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// difference lists what is in b but not in a and what is in a but not in
// b; both inputs sorted.
func difference(a, b []string) (added, removed []string) {
	added, removed = []string{}, []string{}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			removed = append(removed, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			added = append(added, b[j])
			j++
		default:
			i++
			j++
		}
	}
	return added, removed
}
