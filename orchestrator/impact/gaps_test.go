package impact

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// coverage is a BackupCoverage that knows a fixed set of CIs.
type coverage struct {
	keys map[string]bool
	err  error
}

func (c coverage) CIsWithTargets(context.Context) (map[string]bool, error) { return c.keys, c.err }

// TestBackupGaps pins the no_backup_target check: it asks the backup
// capability which CIs have targets, lists the data-bearing CIs in service
// that have none, and is skipped when the service has no one to ask.
func TestBackupGaps(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	exec(t, pool, cacheCMDB)
	exec(t, pool, `INSERT INTO cis (key, name, class, external_id, data_bearing, status)
		VALUES ('db3', 'db3', 'database', 'db3', true, 'retired')`)
	graphs := NewGraphCache(pool, orchestrator.Runtime{})
	gapsOf := func(t *testing.T, opts ...Option) Gaps {
		t.Helper()
		g, err := NewService(pool, orchestrator.Runtime{}, graphs, opts...).Gaps(t.Context(), GapNoBackup)
		require.NoError(t, err)
		return g
	}

	t.Run("without coverage the check is skipped", func(t *testing.T) {
		g := gapsOf(t)
		require.False(t, g.BackupsChecked)
		require.Empty(t, g.Items)
		require.Zero(t, g.Counts[GapNoBackup])
	})
	t.Run("a data-bearing CI without a target", func(t *testing.T) {
		g := gapsOf(t, WithBackupCoverage(coverage{keys: map[string]bool{"db1": true, "app": true}}))
		require.True(t, g.BackupsChecked)
		require.Equal(t, []Gap{{Kind: GapNoBackup, Subject: "db2", Services: []string{},
			Message: "database db2 holds data but has no backup target"}}, g.Items, "db3 is retired")
		require.Equal(t, 1, g.Counts[GapNoBackup])
	})
	t.Run("every data-bearing CI covered", func(t *testing.T) {
		g := gapsOf(t, WithBackupCoverage(coverage{keys: map[string]bool{"db1": true, "db2": true}}))
		require.True(t, g.BackupsChecked)
		require.Empty(t, g.Items)
	})
	t.Run("the backup capability failing fails the gaps", func(t *testing.T) {
		_, err := NewService(pool, orchestrator.Runtime{}, graphs, WithBackupCoverage(coverage{err: errors.New("boom")})).
			Gaps(t.Context(), "")
		require.ErrorContains(t, err, "boom")
	})
}
