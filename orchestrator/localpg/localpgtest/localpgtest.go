// Package localpgtest starts a throwaway PostgreSQL cluster of a test's
// own, for tests that need a whole server rather than a database (see
// pgtest for that): to back it up, reconfigure it, or stop and restart it.
package localpgtest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/localpg"
)

// Cluster is a throwaway cluster in a temporary directory of the test's,
// stopped when the test ends.
type Cluster struct {
	cfg localpg.Config
	mu  sync.Mutex
	cur *localpg.Cluster // nil while stopped
}

// Start starts a new cluster. When the test runs as root the server runs
// as postgres, which must reach the directory: it is opened up.
func Start(t testing.TB) *Cluster {
	t.Helper()
	home := t.TempDir()
	require.NoError(t, os.Chmod(filepath.Dir(home), 0o755))
	require.NoError(t, os.Chmod(home, 0o755))
	c := &Cluster{cfg: localpg.Config{Dir: filepath.Join(home, "pg"), Ephemeral: true}}
	require.NoError(t, c.Start(t.Context()))
	t.Cleanup(func() { require.NoError(t, c.Stop(context.Background())) })
	return c
}

// Start starts the stopped cluster again, with its data and address.
func (c *Cluster) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil {
		return nil
	}
	cur, err := localpg.Start(ctx, c.cfg)
	if err != nil {
		return err
	}
	c.cur = cur
	return nil
}

// Stop stops the server; Start starts it again.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return nil
	}
	err := c.cur.Stop(ctx)
	c.cur = nil
	return err
}

// URL is the connection URL of database dbname; it stays the same across
// restarts.
func (c *Cluster) URL(dbname string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur.URL(dbname)
}

// DataDir is the cluster's PGDATA directory.
func (c *Cluster) DataDir() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur.DataDir()
}
