// Package auth issues and checks API tokens. Only a SHA-256 hash of each
// token and a short lookup prefix are stored; the token itself is shown once.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Token is an API token's public record; its secret is never kept.
type Token struct {
	ID         int64             `json:"id"`
	Name       string            `json:"name"`
	Role       orchestrator.Role `json:"role"`
	Prefix     string            `json:"prefix"`
	CreatedAt  time.Time         `json:"created_at"`
	CreatedBy  string            `json:"created_by"`
	LastUsedAt *time.Time        `json:"last_used_at"`
	RevokedAt  *time.Time        `json:"revoked_at"`
}

// Token format: "bcdr_" + 8-character lookup prefix + "_" + 40-character secret.
const (
	tokenScheme  = "bcdr_"
	prefixLen    = 8
	secretLen    = 40
	alphabet     = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	touchEvery   = time.Minute
	maxNameBytes = 100
)

// Service manages tokens.
type Service struct {
	pool *pgxpool.Pool
}

// NewService returns a token service over pool.
func NewService(pool *pgxpool.Pool) *Service { return &Service{pool: pool} }

const tokenColumns = `id, name, role, prefix, created_at, created_by, last_used_at, revoked_at`

// Create issues a token and returns its record and the secret, which the
// caller must show once: it cannot be recovered later.
func (s *Service) Create(ctx context.Context, name string, role orchestrator.Role) (Token, string, error) {
	var v orchestrator.Validation
	name = strings.TrimSpace(name)
	v.Require("name", name)
	if len(name) > maxNameBytes {
		v.Add("name", "must be at most %d bytes", maxNameBytes)
	}
	if strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		v.Add("name", "must not contain control characters")
	}
	if !role.Valid() {
		v.Add("role", "must be one of admin, continuity_manager, operator, executive, auditor")
	}
	if err := v.Err(); err != nil {
		return Token{}, "", err
	}
	var tok Token
	var secret string
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		tok, secret, err = createToken(ctx, tx, name, role)
		return err
	})
	return tok, secret, err
}

func createToken(ctx context.Context, tx pgx.Tx, name string, role orchestrator.Role) (Token, string, error) {
	prefix, secret := randomString(prefixLen), randomString(secretLen)
	full := tokenScheme + prefix + "_" + secret
	hash := sha256.Sum256([]byte(full))
	const insert = `INSERT INTO api_tokens (name, role, prefix, hash, created_by) VALUES ($1, $2, $3, $4, $5)
		RETURNING ` + tokenColumns
	rows, err := tx.Query(ctx, insert, name, role, prefix, hash[:], orchestrator.ActorFrom(ctx).Name)
	if err != nil {
		return Token{}, "", fmt.Errorf("insert token: %w", err)
	}
	tok, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Token])
	if err != nil {
		if orchestrator.ErrorCode(postgres.Translate(err)) == orchestrator.ECONFLICT {
			return Token{}, "", &orchestrator.Error{Code: orchestrator.ECONFLICT, Message: "token name already in use",
				Fields: []orchestrator.FieldError{{Field: "name", Message: fmt.Sprintf("an active token named %q exists", name)}}}
		}
		return Token{}, "", fmt.Errorf("insert token: %w", postgres.Translate(err))
	}
	err = audit.Record(ctx, tx, audit.Change{Action: "create", Resource: "tokens", ResourceID: strconv.FormatInt(tok.ID, 10),
		Summary: fmt.Sprintf("token %q with role %s", name, role)})
	return tok, full, err
}

// List returns tokens ordered by id; revoked ones only when asked.
func (s *Service) List(ctx context.Context, includeRevoked bool, page orchestrator.Page) (orchestrator.List[Token], error) {
	after := int64(0)
	if page.After != "" {
		var err error
		if after, err = strconv.ParseInt(page.After, 10, 64); err != nil {
			return orchestrator.List[Token]{}, orchestrator.Errorf(orchestrator.EINVALID, "invalid pagination cursor")
		}
	}
	query := `SELECT ` + tokenColumns + ` FROM api_tokens WHERE id > $1 AND ($2 OR revoked_at IS NULL) ORDER BY id LIMIT $3`
	rows, err := s.pool.Query(ctx, query, after, includeRevoked, page.Limit+1)
	if err != nil {
		return orchestrator.List[Token]{}, fmt.Errorf("list tokens: %w", err)
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Token])
	if err != nil {
		return orchestrator.List[Token]{}, fmt.Errorf("list tokens: %w", err)
	}
	return orchestrator.Paginate(items, page.Limit, func(t Token) string { return strconv.FormatInt(t.ID, 10) }), nil
}

// Revoke disables a token at once. Revoking an already revoked or unknown
// token is not_found.
func (s *Service) Revoke(ctx context.Context, id int64) error {
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var name string
		err := tx.QueryRow(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING name`, id).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return orchestrator.Errorf(orchestrator.ENOTFOUND, "token %d not found", id)
		}
		if err != nil {
			return fmt.Errorf("revoke token %d: %w", id, err)
		}
		return audit.Record(ctx, tx, audit.Change{Action: "delete", Resource: "tokens", ResourceID: strconv.FormatInt(id, 10),
			Summary: fmt.Sprintf("revoked token %q", name)})
	})
}

// Authenticate returns the actor a presented token stands for, or an
// EUNAUTHORIZED error that does not say which part was wrong.
func (s *Service) Authenticate(ctx context.Context, presented string) (orchestrator.Actor, error) {
	denied := orchestrator.Errorf(orchestrator.EUNAUTHORIZED, "invalid or revoked token")
	prefix, ok := tokenPrefix(presented)
	if !ok {
		return orchestrator.Actor{}, denied
	}
	var (
		id       int64
		name     string
		role     orchestrator.Role
		hash     []byte
		lastUsed *time.Time
	)
	const query = `SELECT id, name, role, hash, last_used_at FROM api_tokens WHERE prefix = $1 AND revoked_at IS NULL`
	err := s.pool.QueryRow(ctx, query, prefix).Scan(&id, &name, &role, &hash, &lastUsed)
	if errors.Is(err, pgx.ErrNoRows) {
		return orchestrator.Actor{}, denied
	}
	if err != nil {
		return orchestrator.Actor{}, fmt.Errorf("look up token: %w", err)
	}
	sum := sha256.Sum256([]byte(presented))
	if subtle.ConstantTimeCompare(sum[:], hash) != 1 {
		return orchestrator.Actor{}, denied
	}
	if lastUsed == nil || time.Since(*lastUsed) > touchEvery {
		// Best effort: a failed touch must not fail the request.
		_, _ = s.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = now() WHERE id = $1`, id)
	}
	return orchestrator.Actor{TokenID: id, Name: name, Role: role}, nil
}

// tokenPrefix extracts the lookup prefix from a well-formed token.
func tokenPrefix(tok string) (string, bool) {
	rest, ok := strings.CutPrefix(tok, tokenScheme)
	if !ok || len(rest) != prefixLen+1+secretLen || rest[prefixLen] != '_' {
		return "", false
	}
	return rest[:prefixLen], true
}

// randomString draws n characters from alphabet with crypto/rand, rejecting
// bytes past the largest multiple of the alphabet size so every character is
// equally likely.
func randomString(n int) string {
	const limit = 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		_, _ = rand.Read(buf) // crypto/rand.Read never fails on supported platforms
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out)
}
