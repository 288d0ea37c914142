package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// SessionLifetime is how long a web session lasts from sign-in.
const SessionLifetime = 12 * time.Hour

// sessionSecretLen is the length of a session's secret (62 symbols each:
// about 357 bits).
const sessionSecretLen = 60

// StartSession signs in with a presented token: it returns the secret of a
// new session acting as the token (for a cookie; only its hash is kept)
// and the actor, or the EUNAUTHORIZED error Authenticate gives.
func (s *Service) StartSession(ctx context.Context, presented string) (secret string, actor orchestrator.Actor, err error) {
	actor, err = s.Authenticate(ctx, presented)
	if err != nil {
		return "", orchestrator.Actor{}, err
	}
	secret = randomString(sessionSecretLen)
	sum := sha256.Sum256([]byte(secret))
	const prune = `DELETE FROM web_sessions WHERE id IN (SELECT id FROM web_sessions WHERE expires_at < now() LIMIT $1)`
	if _, err := postgres.Prune(ctx, s.pool, "expired web sessions", prune); err != nil {
		return "", orchestrator.Actor{}, err
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO web_sessions (token_id, hash, expires_at)
		VALUES ($1, $2, now() + $3::bigint * interval '1 second')`, actor.TokenID, sum[:], int64(SessionLifetime/time.Second)); err != nil {
		return "", orchestrator.Actor{}, fmt.Errorf("start session: %w", postgres.Translate(err))
	}
	return secret, actor, nil
}

// Session returns the actor a session's secret stands for: its token's,
// while the token is not revoked and the session not expired or ended.
func (s *Service) Session(ctx context.Context, secret string) (orchestrator.Actor, error) {
	denied := orchestrator.Errorf(orchestrator.EUNAUTHORIZED, "not signed in, or the session ended")
	if len(secret) != sessionSecretLen {
		return orchestrator.Actor{}, denied
	}
	sum := sha256.Sum256([]byte(secret))
	var a orchestrator.Actor
	err := s.pool.QueryRow(ctx, `SELECT t.id, t.name, t.role FROM web_sessions w JOIN api_tokens t ON t.id = w.token_id
		WHERE w.hash = $1 AND w.expires_at > now() AND t.revoked_at IS NULL`, sum[:]).Scan(&a.TokenID, &a.Name, &a.Role)
	if errors.Is(err, pgx.ErrNoRows) {
		return orchestrator.Actor{}, denied
	}
	if err != nil {
		return orchestrator.Actor{}, fmt.Errorf("look up session: %w", err)
	}
	return a, nil
}

// EndSession signs a session out; an unknown secret is no error.
func (s *Service) EndSession(ctx context.Context, secret string) error {
	sum := sha256.Sum256([]byte(secret))
	if _, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE hash = $1`, sum[:]); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}
