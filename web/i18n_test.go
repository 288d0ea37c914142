package web

import (
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every word the UI has is there in both languages, and every word a
// template asks for by name is there.
func TestEveryWordInBothLanguages(t *testing.T) {
	t.Parallel()
	en, zh := slices.Sorted(maps.Keys(dictionary[langEN])), slices.Sorted(maps.Keys(dictionary[langZH]))
	require.Equal(t, en, zh)
	for _, k := range en {
		require.NotEmpty(t, dictionary[langZH][k], k)
	}
	asked := regexp.MustCompile(`\.T "([a-z0-9_-]+)"`)
	names, err := fs.Glob(templateFS, "templates/*.html")
	require.NoError(t, err)
	for _, name := range names {
		src, err := fs.ReadFile(templateFS, name)
		require.NoError(t, err)
		for _, m := range asked.FindAllSubmatch(src, -1) {
			require.Contains(t, dictionary[langEN], string(m[1]), "%s asks for %q", name, m[1])
		}
	}
}
