package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/backup"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/orchestrator/telemetry/metrictest"
)

// stallingEndpoint reports a fresh backup, except that the first request
// hangs until its client goes away: the replica checking it is caught in
// the middle of a run.
type stallingEndpoint struct {
	*httptest.Server
	requests atomic.Int32
	stalled  chan struct{} // closed when the first request arrives
}

func newStallingEndpoint(t *testing.T) *stallingEndpoint {
	e := &stallingEndpoint{stalled: make(chan struct{})}
	release := make(chan struct{})
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.requests.Add(1) == 1 {
			close(e.stalled)
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"finished_at":%q,"state":"ok"}`, time.Now().UTC().Format(time.RFC3339))
	}))
	t.Cleanup(e.Close)
	t.Cleanup(func() { close(release) }) // runs first: Close waits for handlers
	return e
}

// A replica SIGKILLed in the middle of a backup check: the other replica
// takes the run over once the dead one's lease expires and completes it.
// One run, two attempts, one recorded check, and the endpoint asked twice:
// once by the dead replica, once by the survivor.
func TestReplicaKilledMidRun(t *testing.T) {
	url := pgtest.NewURL(t)
	ctx := orchestrator.WithActor(context.Background(), orchestrator.Actor{Name: "test", Role: orchestrator.RoleAdmin})
	pool, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 4})
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	endpoint := newStallingEndpoint(t)
	target := httpTarget(t, ctx, pool, endpoint.URL)

	dataDir := t.TempDir()
	replicas := map[string]*process{}
	for _, name := range []string{"fault-a", "fault-b"} {
		replicas[name] = startServe(t, "DATABASE_URL="+url, "BCDR_DATA_DIR="+dataDir, "BCDR_REPLICA="+name,
			"BCDR_SCHEDULER_LEASE=3s", "BCDR_SCHEDULER_POLL=500ms", "BCDR_OUTBOUND_ALLOW=127.0.0.1")
	}
	addrs := map[string]string{}
	for name, p := range replicas {
		addrs[name] = p.waitReady(t, 60*time.Second)
	}
	// The replicas keyed the audit log; this test's own writes use their key.
	key, err := audit.LoadKey(filepath.Join(dataDir, "audit-key"))
	require.NoError(t, err)
	ctx = audit.WithKey(ctx, key)

	queued, err := scheduler.NewService(pool, orchestrator.Runtime{}, scheduler.ServiceOptions{}).FireNow(ctx, *target.ScheduleID)
	require.NoError(t, err)
	select {
	case <-endpoint.stalled:
	case <-time.After(30 * time.Second):
		t.Fatal("no replica started the check")
	}
	run := runByID(t, pool, queued.ID)
	require.Equal(t, scheduler.StatusRunning, run.Status)
	require.Equal(t, 1, run.Attempts)
	victim := replicas[run.Replica]
	require.NotNil(t, victim, "run held by %q", run.Replica)
	survivor := "fault-a"
	if run.Replica == survivor {
		survivor = "fault-b"
	}
	killedAt := time.Now()
	require.NoError(t, victim.cmd.Process.Signal(syscall.SIGKILL))
	waitErr := <-victim.done
	victim.done <- waitErr // for the cleanup
	require.ErrorContains(t, waitErr, "killed")

	eventually.True(t, func() bool {
		return runByID(t, pool, queued.ID).Status == scheduler.StatusSucceeded
	}, "the survivor completes the run")
	done := runByID(t, pool, queued.ID)
	require.Equal(t, 2, done.Attempts)
	require.Equal(t, survivor, done.Replica)
	t.Logf("taken over %s after the kill", done.StartedAt.Sub(killedAt).Round(time.Millisecond))

	var runs, checks int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM schedule_runs WHERE schedule_id = $1`, *target.ScheduleID).Scan(&runs))
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM backup_checks WHERE target_id = $1 AND status = 'ok'`, target.ID).Scan(&checks))
	require.Equal(t, 1, runs, "one firing, one run")
	require.Equal(t, 1, checks, "the check is recorded once")
	require.LessOrEqual(t, endpoint.requests.Load(), int32(2))
	require.Equal(t, 1.0, metric(t, addrs[survivor], "bcdr_scheduler_lease_takeovers_total"))
}

// httpTarget creates a CI and an http backup target on url whose schedule
// never fires by itself (yearly); the test fires it by hand. The request
// may hang for minutes and is not retried, so only a lost lease ends it.
func httpTarget(t *testing.T, ctx context.Context, pool *pgxpool.Pool, url string) backup.Target {
	t.Helper()
	_, err := cmdb.NewService(pool).CreateCI(ctx, cmdb.CIInput{Key: "ledger-db", Name: "Ledger database", Class: "database", DataBearing: true})
	require.NoError(t, err)
	cfg, err := json.Marshal(backup.HTTPConfig{URL: url, TimeField: "finished_at", StatusField: "state", Timeout: "5m", Retries: new(int)})
	require.NoError(t, err)
	target, err := backup.NewService(pool, orchestrator.Runtime{}, backup.Options{}).Create(ctx, backup.TargetInput{CI: "ledger-db", Kind: backup.KindHTTP,
		Schedule: "0 0 1 1 *", Config: cfg, Timeout: "10m"})
	require.NoError(t, err)
	require.NotNil(t, target.ScheduleID)
	return target
}

func runByID(t *testing.T, pool *pgxpool.Pool, id int64) scheduler.Run {
	t.Helper()
	var r scheduler.Run
	err := pool.QueryRow(context.Background(), `SELECT id, status, attempts, replica, lease_expires_at, started_at
		FROM schedule_runs WHERE id = $1`, id).Scan(&r.ID, &r.Status, &r.Attempts, &r.Replica, &r.LeaseExpiresAt, &r.StartedAt)
	require.NoError(t, err)
	return r
}

// metric reads an unlabelled counter from a replica's /metrics.
func metric(t *testing.T, addr, name string) float64 {
	t.Helper()
	return metrictest.Scrape(t, "http://"+addr+"/metrics", name)
}
