package backup

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCIsWithTargets is what the impact gap analysis reads of backups: the
// CIs with a target, however many targets and whatever their checks say.
func TestCIsWithTargets(t *testing.T) {
	t.Parallel()
	h := setup(t)
	h.ci("db2", "database", true)
	h.ci("app1", "application", false)

	got, err := h.svc.CIsWithTargets(h.ctx)
	require.NoError(t, err)
	require.Empty(t, got)

	glob := filepath.Join(t.TempDir(), "*.dump")
	h.target(KindFile, FileConfig{Path: glob})
	h.target(KindFile, FileConfig{Path: glob}, func(in *TargetInput) { in.Name = "second copy" })
	h.target(KindFile, FileConfig{Path: glob}, func(in *TargetInput) { in.CI, in.Name = "app1", "app files" })
	got, err = h.svc.CIsWithTargets(h.ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"db1": true, "app1": true}, got)
}
