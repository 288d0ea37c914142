package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// An upload still trickling in when the server is told to stop is
// cancelled and rolled back in time for a clean exit within the shutdown
// timeout, where it used to keep the process (and its connection) alive.
func TestShutdownCancelsStalledImport(t *testing.T) {
	t.Parallel()
	url := pgtest.NewURL(t)
	dataDir := t.TempDir()
	p := startServe(t, "DATABASE_URL="+url, "BCDR_DATA_DIR="+dataDir, "BCDR_SHUTDOWN_TIMEOUT=4s")
	addr := p.waitReady(t, 30*time.Second)
	token, err := os.ReadFile(filepath.Join(dataDir, "admin-token"))
	require.NoError(t, err)

	pr, pw := io.Pipe()
	defer pw.Close()
	req, err := http.NewRequestWithContext(t.Context(), "POST", "http://"+addr+"/api/v1/imports?type=cis", pr)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	req.Header.Set("Content-Type", "text/csv")
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	var b strings.Builder
	b.WriteString("key,name,class\n")
	for i := range 200 {
		fmt.Fprintf(&b, "ci%d,CI %d,server\n", i, i)
	}
	_, err = io.WriteString(pw, b.String())
	require.NoError(t, err)

	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	eventually.True(t, func() bool {
		var n int
		err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query ILIKE 'copy%import_stage%'`).Scan(&n)
		return err == nil && n == 1
	}, "the upload is being copied")

	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		require.NoError(t, err, "a clean exit: the import let the shutdown finish in time")
		p.done <- nil
	case <-time.After(30 * time.Second):
		t.Fatal("bcdr did not stop after SIGTERM")
	}
	<-answered
	var n int
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT count(*) FROM cis`).Scan(&n))
	require.Zero(t, n, "nothing written")
}
