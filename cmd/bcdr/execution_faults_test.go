package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// A replica SIGKILLed in the middle of an automated step: the other one
// takes the step over once the lease expires and performs it, and the
// target system sees the same idempotency key both times, so it can
// recover once.
func TestReplicaKilledMidStep(t *testing.T) {
	url := pgtest.NewURL(t)
	ctx := orchestrator.WithActor(context.Background(), orchestrator.Actor{Name: "test", Role: orchestrator.RoleAdmin})
	pool, err := postgres.Open(ctx, url, postgres.Options{MaxConns: 4})
	require.NoError(t, err)
	t.Cleanup(pool.Close)

	var mu sync.Mutex
	var keys []string
	stalled, release := make(chan struct{}), make(chan struct{})
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get(execution.IdempotencyHeader))
		first := len(keys) == 1
		mu.Unlock()
		if first {
			close(stalled)
			select {
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(target.Close)
	t.Cleanup(func() { close(release) })

	dataDir := t.TempDir()
	replicas := map[string]*process{}
	for _, name := range []string{"step-a", "step-b"} {
		replicas[name] = startServe(t, "DATABASE_URL="+url, "BCDR_DATA_DIR="+dataDir, "BCDR_REPLICA="+name,
			"BCDR_SCHEDULER_LEASE=3s", "BCDR_SCHEDULER_POLL=500ms", "BCDR_OUTBOUND_ALLOW=127.0.0.1")
	}
	for _, p := range replicas {
		p.waitReady(t, 60*time.Second)
	}
	key, err := audit.LoadKey(filepath.Join(dataDir, "audit-key"))
	require.NoError(t, err)
	ctx = audit.WithKey(ctx, key)

	// A runbook of one automated step that fails over the ledger.
	_, err = cmdb.NewService(pool).CreateCI(ctx, cmdb.CIInput{Key: "ledger", Name: "Ledger", Class: "business_service"})
	require.NoError(t, err)
	rbs := runbooks.NewService(pool, orchestrator.Runtime{}, runbooks.Options{})
	rb, err := rbs.Create(ctx, runbooks.CreateInput{Service: "ledger"})
	require.NoError(t, err)
	id := strconv.FormatInt(rb.ID, 10)
	generated := rb.Version.Steps
	title := "fail the ledger over to dc-dr"
	automation, _ := json.Marshal(map[string]any{"method": "POST", "url": target.URL + "/failover", "expected_status": 202, "timeout": "10m"})
	rb, err = rbs.AddStep(ctx, id, runbooks.StepInput{Title: &title, Automation: automation})
	require.NoError(t, err)
	for _, s := range generated {
		_, err = rbs.RemoveStep(ctx, id, s.ID)
		require.NoError(t, err)
	}
	_, err = rbs.Approve(ctx, id)
	require.NoError(t, err)

	engine := execution.NewService(pool, orchestrator.Runtime{}, rbs, execution.Options{})
	ex, err := engine.Start(ctx, execution.StartInput{Runbook: rb.ID, Mode: execution.ModeInvocation})
	require.NoError(t, err)
	select {
	case <-stalled:
	case <-time.After(30 * time.Second):
		t.Fatal("no replica started the step")
	}
	board, err := engine.Get(ctx, ex.ID)
	require.NoError(t, err)
	step := board.Steps[0]
	require.Equal(t, execution.StepRunning, step.Status)
	victim := replicas[step.HeldBy]
	require.NotNil(t, victim, "step held by %q", step.HeldBy)
	survivor := "step-a"
	if step.HeldBy == survivor {
		survivor = "step-b"
	}
	require.NoError(t, victim.cmd.Process.Signal(syscall.SIGKILL))
	waitErr := <-victim.done
	victim.done <- waitErr // for the cleanup

	eventually.True(t, func() bool {
		board, err = engine.Get(ctx, ex.ID)
		require.NoError(t, err)
		return board.Status != execution.StatusRunning
	}, "the survivor ends the execution")
	require.Equal(t, execution.StatusSucceeded, board.Status, "%+v", board.Steps)
	step = board.Steps[0]
	require.Equal(t, 2, step.Attempts)
	require.Equal(t, "replica "+survivor, step.DoneBy)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, keys, 2, "the dead replica's call and the survivor's")
	require.Equal(t, keys[0], keys[1], "one idempotency key for the step, whichever replica calls")
	require.Equal(t, "bcdr-execution-"+strconv.FormatInt(ex.ID, 10)+"-"+step.ID, keys[0])
}
