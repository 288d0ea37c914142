package importer

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLinkSets(t *testing.T) {
	t.Parallel()
	values := func(cell string) []string {
		var out []string
		for _, l := range splitList(cell) {
			out = append(out, LinkValue(l, "functionalci"))
		}
		return out
	}
	require.Equal(t, []string{"web01", "db01"}, values("functionalci_id->name:web01;impact_code:manual|functionalci_id->name:db01;impact_code:computed"))
	require.Equal(t, []string{"srv01", "srv02"}, values("functionalci_id->name:srv01|srv02"))
	require.Equal(t, []string{"a, b", "c"}, values("functionalci_name:a, b|functionalci_name:c"), "a link set splits on | only")
	require.Equal(t, []string{""}, values("impact_code:manual"), "a link without the CI attribute names none")
	require.Equal(t, []string{"web1", "db1"}, values("web1; db1"), "a plain list")
	require.Equal(t, []string{"host:db1"}, values("host:db1"), "a key with a colon is no link set")
}

// FuzzLinkSet checks that list cells, link sets or not, split into trimmed
// non-empty items whose link values hold no separator of their link.
func FuzzLinkSet(f *testing.F) {
	for _, s := range []string{"functionalci_id->name:web01;impact_code:manual|functionalci_id->name:db01", "functionalci_id->name:a|b",
		"a; b, c|d\ne", "x_y:", "_:|", "functionalci_id->:x", ":::|;;;"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cell string) {
		for _, item := range splitList(cell) {
			require.NotEmpty(t, item)
			require.Equal(t, strings.TrimSpace(item), item)
			v := LinkValue(item, "functionalci")
			require.Equal(t, strings.TrimSpace(v), v)
			if isLinkSet(cell) {
				require.NotContains(t, item, "|")
			}
		}
	})
}
