package runbooks

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPruneKitsKeepsTheNewest(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	for _, name := range []string{"kit-20260101T000000Z", "kit-20260301T000000Z", "kit-20260201T000000Z", "notes"} {
		require.NoError(t, os.Mkdir(filepath.Join(base, name), 0o755))
	}
	require.NoError(t, pruneKits(base, 2))
	entries, err := os.ReadDir(base)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.Equal(t, []string{"kit-20260201T000000Z", "kit-20260301T000000Z", "notes"}, names)
}
