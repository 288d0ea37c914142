package audit

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// The append-only triggers refuse every way of changing history that the
// application (or anyone not switching triggers off) could use, and leave
// the chain as it was.
func TestTriggersRefuseChanges(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct{ op, sql string }{
		{"UPDATE", `UPDATE audit_log SET summary = 'nothing happened'`},
		{"DELETE", `DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)`},
		{"TRUNCATE", `TRUNCATE audit_log`},
		{"TRUNCATE", `TRUNCATE audit_log RESTART IDENTITY CASCADE`},
	} {
		_, err := b.pool.Exec(t.Context(), tc.sql)
		require.ErrorContains(t, err, "audit_log is append-only: "+tc.op+" refused", tc.sql)
	}
	v, err := Verify(b.ctx, b.pool)
	require.NoError(t, err)
	require.Equal(t, Verification{OK: true, Checked: 6, Keyed: 4}, v)
}

// An empty log verifies, anchors as id 0, and that anchor still holds
// once rows are written; the first row links to nothing.
func TestEmptyLog(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := WithKey(orchestrator.WithActor(t.Context(), orchestrator.Actor{Name: "tester", Role: orchestrator.RoleAdmin}), testKey(t, 1))

	v, err := Verify(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, Verification{OK: true}, v)
	v, err = Verify(t.Context(), pool)
	require.NoError(t, err, "an empty log needs no key")
	require.Equal(t, Verification{OK: true}, v)

	line, ok, err := AnchorLine(ctx, pool)
	require.NoError(t, err)
	require.True(t, ok)
	require.Contains(t, line, " id=0 rows=0 hash= sig=")
	anchors, err := ParseAnchors(strings.NewReader(line), testKey(t, 1))
	require.NoError(t, err)
	v, err = CheckAnchors(ctx, pool, anchors)
	require.NoError(t, err)
	require.True(t, v.OK)

	list, err := List(ctx, pool, Filter{}, orchestrator.Page{Limit: 10})
	require.NoError(t, err)
	require.Empty(t, list.Items)

	require.NoError(t, Record(ctx, pool, Change{Action: "create", Resource: "tokens", ResourceID: "1"}))
	var prev string
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT prev_hash FROM audit_log`).Scan(&prev))
	require.Empty(t, prev)
	v, err = Verify(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, Verification{OK: true, Checked: 1, Keyed: 1}, v)
	v, err = CheckAnchors(ctx, pool, anchors)
	require.NoError(t, err)
	require.True(t, v.OK, "an anchor of the empty log holds after the first write")
}

// A second writer waits on the advisory lock until the first one's
// transaction ends, and then chains to the row the first one committed.
func TestSecondWriterWaitsForTheFirst(t *testing.T) {
	t.Parallel()
	b := setup(t)
	first, err := b.pool.Begin(t.Context())
	require.NoError(t, err)
	defer first.Rollback(context.WithoutCancel(t.Context()))
	require.NoError(t, Record(b.ctx, first, Change{Action: "create", Resource: "tokens", Summary: "first"}))

	done := make(chan error, 1)
	go func() {
		done <- postgres.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
			return Record(b.ctx, tx, Change{Action: "create", Resource: "tokens", Summary: "second"})
		})
	}()
	// The second writer must be seen waiting for the lock, not finishing.
	require.NoError(t, waitForLockWaiter(t, b, done))
	require.NoError(t, first.Commit(t.Context()))
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("the second writer did not finish after the first committed")
	}

	rows, err := b.pool.Query(t.Context(), `SELECT summary, prev_hash, hash FROM audit_log ORDER BY id DESC LIMIT 3`)
	require.NoError(t, err)
	type link struct{ Summary, PrevHash, Hash string }
	last, err := pgx.CollectRows(rows, pgx.RowToStructByPos[link])
	require.NoError(t, err)
	require.Equal(t, "second", last[0].Summary)
	require.Equal(t, "first", last[1].Summary)
	require.Equal(t, last[1].Hash, last[0].PrevHash)
	require.Equal(t, last[2].Hash, last[1].PrevHash)
	v, err := Verify(b.ctx, b.pool)
	require.NoError(t, err)
	require.Equal(t, Verification{OK: true, Checked: 8, Keyed: 6}, v)
}

// waitForLockWaiter returns once a backend waits on an advisory lock, or
// an error when the second writer finished first (nothing serialised it).
func waitForLockWaiter(t *testing.T, b *bundle, done <-chan error) error {
	t.Helper()
	const waiting = `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			return fmt.Errorf("the second writer finished (err %v) while the first writer's transaction was open", err)
		default:
		}
		var ok bool
		if err := b.pool.QueryRow(t.Context(), waiting).Scan(&ok); err != nil {
			return err
		}
		if ok {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("no writer waited on the advisory lock within a minute")
}

// Many writers at once, each in its own transaction, still leave one
// unbroken chain with every row.
func TestConcurrentWritersKeepOneChain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const writers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	start := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range each {
				errs <- postgres.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
					return Record(b.ctx, tx, Change{Action: "update", Resource: "cis", ResourceID: fmt.Sprint(w), Summary: fmt.Sprint(i)})
				})
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	v, err := Verify(b.ctx, b.pool)
	require.NoError(t, err)
	require.Equal(t, Verification{OK: true, Checked: 6 + writers*each, Keyed: 4 + writers*each}, v)
	var forks int
	require.NoError(t, b.pool.QueryRow(t.Context(),
		`SELECT count(*) FROM (SELECT prev_hash FROM audit_log GROUP BY prev_hash HAVING count(*) > 1) f`).Scan(&forks))
	require.Zero(t, forks, "two rows chained to the same predecessor")
}
