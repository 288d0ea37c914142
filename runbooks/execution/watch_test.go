package execution

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

// A watcher hears of a change to its execution made through another
// replica's service as soon as it commits, not of other executions'
// changes, and hears again after its listening connection was killed.
func TestWatchAnnouncesCommittedChanges(t *testing.T) {
	f := newFixture(t)
	other := NewService(f.pool, orchestrator.Runtime{}, f.rb, Options{})
	rbID, ids := f.runbook(false, stepSpec{title: "call the DBA"}, stepSpec{title: "restore"})
	start := func() Execution {
		ex, err := f.svc.Start(as(orchestrator.RoleContinuityManager, "cm"), StartInput{Runbook: rbID, Mode: ModeDrill})
		require.NoError(t, err)
		return ex
	}
	watched, unwatched := start(), start()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	changed := other.Watch(ctx, watched.ID)
	// The listener signals every watcher once it listens: what changed
	// before is read then.
	receive(t, changed, "the listener's first signal")

	_, err := f.svc.StepAction(as(orchestrator.RoleOperator, "op"), unwatched.ID, ids[0], ActComplete, ActionInput{})
	require.NoError(t, err)
	select {
	case <-changed:
		t.Fatal("a change to another execution was announced to this watcher")
	case <-time.After(300 * time.Millisecond):
	}

	at := time.Now()
	_, err = f.svc.StepAction(as(orchestrator.RoleOperator, "op"), watched.ID, ids[0], ActComplete, ActionInput{})
	require.NoError(t, err)
	receive(t, changed, "the completed step")
	t.Logf("announced %v after the action returned", time.Since(at))

	_, err = f.pool.Exec(t.Context(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN %'`)
	require.NoError(t, err)
	receive(t, changed, "the reconnected listener's signal")
	_, err = f.svc.StepAction(as(orchestrator.RoleOperator, "op"), watched.ID, ids[1], ActComplete, ActionInput{})
	require.NoError(t, err)
	receive(t, changed, "a change after the reconnection")

	cancel()
	require.Eventually(t, func() bool {
		other.watchers.mu.Lock()
		defer other.watchers.mu.Unlock()
		return other.watchers.stop == nil && len(other.watchers.subs) == 0
	}, 5*time.Second, 10*time.Millisecond, "the last watcher gone, the listener stops")
}

// receive waits for a signal on ch.
func receive(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("no signal for %s", what)
	}
}
