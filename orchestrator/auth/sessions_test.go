package auth_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/auth"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// A session acts as the token it was started with, until it is ended,
// expires, or its token is revoked; only its hash is stored.
func TestSessions(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := orchestrator.WithActor(context.Background(), orchestrator.Actor{Name: "test", Role: orchestrator.RoleAdmin})
	s := auth.NewService(pool)
	tok, secret, err := s.Create(ctx, "cfo", orchestrator.RoleExecutive)
	require.NoError(t, err)

	_, _, err = s.StartSession(ctx, secret+"x")
	require.Equal(t, orchestrator.EUNAUTHORIZED, orchestrator.ErrorCode(err))
	session, actor, err := s.StartSession(ctx, secret)
	require.NoError(t, err)
	require.Equal(t, orchestrator.RoleExecutive, actor.Role)
	require.NotContains(t, session, secret)

	got, err := s.Session(ctx, session)
	require.NoError(t, err)
	require.Equal(t, tok.ID, got.TokenID)
	require.Equal(t, "cfo", got.Name)
	var stored int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM web_sessions WHERE hash = $1::text::bytea`, session).Scan(&stored))
	require.Zero(t, stored, "the secret itself is never stored")

	for _, bad := range []string{"", "short", session[:len(session)-1] + "?"} {
		_, err := s.Session(ctx, bad)
		require.Equal(t, orchestrator.EUNAUTHORIZED, orchestrator.ErrorCode(err), bad)
	}

	// Ending one session leaves the others; revoking the token ends all.
	other, _, err := s.StartSession(ctx, secret)
	require.NoError(t, err)
	require.NoError(t, s.EndSession(ctx, session))
	_, err = s.Session(ctx, session)
	require.Equal(t, orchestrator.EUNAUTHORIZED, orchestrator.ErrorCode(err))
	_, err = s.Session(ctx, other)
	require.NoError(t, err)
	require.NoError(t, s.Revoke(ctx, tok.ID))
	_, err = s.Session(ctx, other)
	require.Equal(t, orchestrator.EUNAUTHORIZED, orchestrator.ErrorCode(err))

	// An expired session is refused.
	_, tokSecret, err := s.Create(ctx, "ops", orchestrator.RoleOperator)
	require.NoError(t, err)
	expired, _, err := s.StartSession(ctx, tokSecret)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE web_sessions SET expires_at = now() - interval '1 second'`)
	require.NoError(t, err)
	_, err = s.Session(ctx, expired)
	require.Equal(t, orchestrator.EUNAUTHORIZED, orchestrator.ErrorCode(err))
}
