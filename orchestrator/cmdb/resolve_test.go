package cmdb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// setupResolve returns a pool over a CMDB of three CIs: a data-bearing
// database at dc1, an application and a business service.
func setupResolve(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := pgtest.New(t)
	s := cmdb.NewService(pool)
	for _, in := range []cmdb.CIInput{
		{Key: "db1", Name: "Ledger DB", Class: "database", Site: "dc1", DataBearing: true, Owner: "dba",
			RecoveryStrategy: "restore", RecoveryEstimate: orchestrator.Duration(2 * 3600e9)},
		{Key: "app1", Name: "Ledger", Class: "application"},
		{Key: "svc", Name: "Payments", Class: cmdb.ClassBusinessService},
	} {
		_, err := s.CreateCI(t.Context(), in)
		require.NoError(t, err)
	}
	return pool
}

func TestResolve(t *testing.T) {
	t.Parallel()
	pool := setupResolve(t)
	ctx := t.Context()

	refs, err := cmdb.Resolve(ctx, pool, []string{"svc", "db1", "app1", "db1"}, cmdb.ResolveOptions{})
	require.NoError(t, err)
	require.Len(t, refs, 3)
	db := refs["db1"]
	require.Positive(t, db.ID)
	require.Equal(t, cmdb.Ref{ID: db.ID, Key: "db1", Name: "Ledger DB", Class: "database", Site: "dc1", Owner: "dba",
		Status: "operational", DataBearing: true, RecoveryStrategy: "restore", RecoveryEstimate: orchestrator.Duration(2 * 3600e9)}, db)
	require.Equal(t, cmdb.ClassBusinessService, refs["svc"].Class)
	require.NotEqual(t, refs["svc"].ID, refs["app1"].ID)

	t.Run("unknown keys are listed, in order, once each", func(t *testing.T) {
		refs, err := cmdb.Resolve(ctx, pool, []string{"nope", "db1", "'; DROP TABLE cis; --", "nope"}, cmdb.ResolveOptions{Field: "scope"})
		require.True(t, cmdb.IsUnknown(err))
		var u *cmdb.UnknownKeysError
		require.ErrorAs(t, err, &u)
		require.Equal(t, []string{"nope", "'; DROP TABLE cis; --"}, u.Keys)
		require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
		require.Equal(t, "unknown CIs", orchestrator.ErrorMessage(err))
		require.Equal(t, []orchestrator.FieldError{
			{Field: "scope", Message: `no CI has key "nope"`},
			{Field: "scope", Message: `no CI has key "'; DROP TABLE cis; --"`},
		}, orchestrator.ErrorFields(err))
		require.Equal(t, []string{"db1"}, keysOf(refs), "what was found comes back with the error")
	})

	t.Run("one key", func(t *testing.T) {
		ref, err := cmdb.ResolveOne(ctx, pool, "app1", cmdb.ResolveOptions{})
		require.NoError(t, err)
		require.Equal(t, "application", ref.Class)
		_, err = cmdb.ResolveOne(ctx, pool, "ghost", cmdb.ResolveOptions{})
		require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
		require.Equal(t, "unknown CI", orchestrator.ErrorMessage(err))
		require.Equal(t, []orchestrator.FieldError{{Field: "ci", Message: `no CI has key "ghost"`}}, orchestrator.ErrorFields(err))
	})

	t.Run("no keys, no query", func(t *testing.T) {
		refs, err := cmdb.Resolve(ctx, pool, nil, cmdb.ResolveOptions{Lock: cmdb.LockKeyShare})
		require.NoError(t, err)
		require.Empty(t, refs)
	})

	t.Run("a failed query is not an unknown key", func(t *testing.T) {
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_, err := cmdb.Resolve(cancelled, pool, []string{"db1"}, cmdb.ResolveOptions{})
		require.Error(t, err)
		require.False(t, cmdb.IsUnknown(err))
	})
}

// TestResolveLocks holds each lock strength in one transaction and checks
// which statements of another transaction it blocks: a blocked statement
// fails at once with lock_not_available under a short lock_timeout.
func TestResolveLocks(t *testing.T) {
	t.Parallel()
	pool := setupResolve(t)
	const (
		deleteCI    = `DELETE FROM cis WHERE key = $1`
		renameCI    = `UPDATE cis SET name = name || '!' WHERE key = $1`
		rekeyCI     = `UPDATE cis SET key = key || '-2' WHERE key = $1`
		noKeyUpdate = `SELECT 1 FROM cis WHERE key = $1 FOR NO KEY UPDATE`
		keyShare    = `SELECT 1 FROM cis WHERE key = $1 FOR KEY SHARE`
	)
	cases := []struct {
		name    string
		lock    cmdb.Lock
		other   string
		blocked bool
	}{
		{"no lock lets a delete through", cmdb.LockNone, deleteCI, false},
		{"key share blocks a delete", cmdb.LockKeyShare, deleteCI, true},
		{"key share blocks a change of key", cmdb.LockKeyShare, rekeyCI, true},
		{"key share lets an import update other columns", cmdb.LockKeyShare, renameCI, false},
		{"key share lets a BIA writer lock the service", cmdb.LockKeyShare, noKeyUpdate, false},
		{"no key update blocks a delete", cmdb.LockNoKeyUpdate, deleteCI, true},
		{"no key update serialises BIA writers", cmdb.LockNoKeyUpdate, noKeyUpdate, true},
		{"no key update blocks an update", cmdb.LockNoKeyUpdate, renameCI, true},
		{"no key update lets foreign-key checks through", cmdb.LockNoKeyUpdate, keyShare, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			holder, err := pool.Begin(ctx)
			require.NoError(t, err)
			defer holder.Rollback(context.WithoutCancel(ctx))
			refs, err := cmdb.Resolve(ctx, holder, []string{"app1", "db1"}, cmdb.ResolveOptions{Lock: c.lock})
			require.NoError(t, err)
			require.Len(t, refs, 2)

			other, err := pool.Begin(ctx)
			require.NoError(t, err)
			defer other.Rollback(context.WithoutCancel(ctx))
			_, err = other.Exec(ctx, `SET LOCAL lock_timeout = '100ms'`)
			require.NoError(t, err)
			_, err = other.Exec(ctx, c.other, "db1")
			if !c.blocked {
				require.NoError(t, err)
				return
			}
			var pgErr *pgconn.PgError
			require.True(t, errors.As(err, &pgErr), "%v", err)
			require.Equal(t, "55P03", pgErr.Code, "lock_not_available: %v", err)
		})
	}
}

// TestResolveInTx resolves inside a transaction through the Querier, as
// every capability's writers do.
func TestResolveInTx(t *testing.T) {
	t.Parallel()
	pool := setupResolve(t)
	ctx := t.Context()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM cis WHERE key = 'app1'`)
		require.NoError(t, err)
		_, err = cmdb.ResolveOne(ctx, tx, "app1", cmdb.ResolveOptions{Lock: cmdb.LockKeyShare})
		require.True(t, cmdb.IsUnknown(err), "the transaction's own delete is seen")
		return errors.New("roll back")
	})
	require.Error(t, err)
	_, err = cmdb.ResolveOne(ctx, pool, "app1", cmdb.ResolveOptions{})
	require.NoError(t, err)
}

func keysOf(refs map[string]cmdb.Ref) []string {
	var out []string
	for k := range refs {
		out = append(out, k)
	}
	return out
}
