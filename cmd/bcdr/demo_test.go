package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// `bcdr serve --demo` on the embedded cluster: by the time it serves, the
// API shows the demo's backup targets checked, one fresh and one stale
// backup judged against the BIAs' RPO of 15 minutes, and a verified base
// backup of the embedded cluster.
func TestServeDemoShowsBackups(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster and loads the demo")
	}
	dataDir, err := os.MkdirTemp("", "bcdr-demo-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dataDir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dataDir) })
	p := startServeWith(t, []string{"--demo"}, "DATABASE_URL=", "BCDR_DATA_DIR="+dataDir)
	addr := p.waitReady(t, 3*time.Minute)
	token, err := os.ReadFile(filepath.Join(dataDir, "admin-token"))
	require.NoError(t, err)
	get := func(path string, into any) {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), "GET", "http://"+addr+path, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.NoError(t, json.NewDecoder(resp.Body).Decode(into))
	}

	var targets struct {
		Items []struct {
			CI        string          `json:"ci"`
			Kind      string          `json:"kind"`
			Schedule  string          `json:"schedule"`
			Config    json.RawMessage `json:"config"`
			LastCheck *struct {
				Status   string `json:"status"`
				Verified bool   `json:"verified"`
			} `json:"last_check"`
		} `json:"items"`
	}
	get("/api/v1/backup-targets", &targets)
	kinds := map[string]string{}
	for _, tg := range targets.Items {
		require.NotEmpty(t, tg.Schedule, tg.CI)
		require.NotNil(t, tg.LastCheck, "%s checked during seeding", tg.CI)
		require.True(t, tg.LastCheck.Verified, tg.CI)
		require.Contains(t, string(tg.Config), filepath.Join(dataDir, "demo"))
		kinds[tg.CI] = tg.Kind
	}
	require.Equal(t, map[string]string{"declaration-db": "restic", "taxpayer-reg-db": "file", "finance-db": "pg_basebackup"}, kinds)

	for ci, want := range map[string]string{"declaration-db": "compliant", "taxpayer-reg-db": "breached"} {
		var st struct {
			State string `json:"state"`
		}
		get("/api/v1/cis/"+ci+"/backup-status?rpo=15m", &st)
		require.Equal(t, want, st.State, ci)
	}
	require.Contains(t, p.output(), "demo backup target")
	p.stop(t)
}
