package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/orchestrator/testlog"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bcdr-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "bcdr")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build bcdr: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// process is a running bcdr serve.
type process struct {
	cmd    *exec.Cmd
	addr   chan string
	stdout strings.Builder
	mu     sync.Mutex
	done   chan error
}

// startServe runs `bcdr serve` on a free loopback port with extra env.
func startServe(t *testing.T, env ...string) *process {
	t.Helper()
	return startServeWith(t, nil, env...)
}

// startServeWith runs `bcdr serve` with extra flags and env.
func startServeWith(t *testing.T, flags []string, env ...string) *process {
	t.Helper()
	// The log is made first, so it falls silent after every other cleanup:
	// scanLog may still be reading the killed process's last lines then.
	log := testlog.Writer(t)
	cmd := exec.Command(binary, append([]string{"serve", "--listen", "127.0.0.1:0", "--log-format", "json"}, flags...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	p := &process{cmd: cmd, addr: make(chan string, 1), done: make(chan error, 1)}
	cmd.Stdout = &lockedWriter{p: p}
	require.NoError(t, cmd.Start())
	go p.scanLog(log, stderr)
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

type lockedWriter struct{ p *process }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.stdout.Write(b)
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String()
}

func (p *process) scanLog(log io.Writer, r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var line struct {
			Msg     string `json:"msg"`
			Address string `json:"address"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "serving" {
			p.addr <- line.Address
		}
		fmt.Fprintln(log, sc.Text())
	}
}

// waitReady waits for the process to listen and answer /readyz with 200.
func (p *process) waitReady(t *testing.T, within time.Duration) string {
	t.Helper()
	var addr string
	select {
	case addr = <-p.addr:
	case err := <-p.done:
		p.done <- err // for the cleanup, which waits for the exit too
		t.Fatalf("bcdr exited before serving: %v", err)
	case <-time.After(within):
		t.Fatalf("bcdr did not start listening within %s", within)
	}
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("bcdr at %s never became ready", addr)
	return ""
}

// stop sends SIGTERM and expects a clean exit.
func (p *process) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-p.done:
		require.NoError(t, err, "clean exit after SIGTERM")
		p.done <- nil
	case <-time.After(30 * time.Second):
		t.Fatal("bcdr did not stop within 30s of SIGTERM")
	}
}

func TestTwoReplicasStartTogether(t *testing.T) {
	url := emptyDatabase(t)
	env := []string{"DATABASE_URL=" + url, "BCDR_DATA_DIR=" + t.TempDir()}
	a, b := startServe(t, env...), startServe(t, env...)
	addrA, addrB := a.waitReady(t, 60*time.Second), b.waitReady(t, 60*time.Second)
	require.NotEqual(t, addrA, addrB)
	// Exactly one of them created the first admin token.
	printed := strings.Count(a.output()+b.output(), "Created the first admin token")
	require.Equal(t, 1, printed)
	a.stop(t)
	b.stop(t)
}

func TestEmbeddedDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	// The postgres user must reach the data directory (t.TempDir's parent
	// is private), else the cluster would go to the fallback location.
	dataDir, err := os.MkdirTemp("", "bcdr-embedded-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dataDir, 0o755))
	t.Cleanup(func() { os.RemoveAll(dataDir) })
	env := []string{"DATABASE_URL=", "BCDR_DATA_DIR=" + dataDir}

	first := startServe(t, env...)
	addr := first.waitReady(t, 60*time.Second)
	token, err := os.ReadFile(filepath.Join(dataDir, "admin-token"))
	require.NoError(t, err)
	st, err := os.Stat(filepath.Join(dataDir, "admin-token"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	require.Contains(t, first.output(), strings.TrimSpace(string(token)))
	require.Equal(t, http.StatusOK, getWithToken(t, "http://"+addr+"/api/v1/whoami", strings.TrimSpace(string(token))))
	first.stop(t)

	// The second start reuses the cluster: the token still works and no new
	// one is printed.
	second := startServe(t, env...)
	addr = second.waitReady(t, 60*time.Second)
	require.Equal(t, http.StatusOK, getWithToken(t, "http://"+addr+"/api/v1/whoami", strings.TrimSpace(string(token))))
	require.NotContains(t, second.output(), "Created the first admin token")
	second.stop(t)
}

func getWithToken(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), "GET", url, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// emptyDatabase creates an unmigrated database, so the replicas race to
// migrate it themselves.
func emptyDatabase(t *testing.T) string {
	t.Helper()
	server := pgtest.ServerURL(t)
	name := fmt.Sprintf("bcdr_replicas_%d", time.Now().UnixNano())
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, server)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); conn.Close(ctx) })
	return pgtest.WithDatabase(t, server, name)
}
