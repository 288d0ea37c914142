package auth

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// bootstrapLock keeps two replicas starting together from both creating the
// first admin token.
const bootstrapLock = 0x6263_6472_626f_6f74 // "bcdrboot"

// BootstrapAdmin creates an admin token named "admin" when the database has
// no active token at all, and returns its secret; created is false (and the
// secret empty) when tokens already exist.
func (s *Service) BootstrapAdmin(ctx context.Context) (secret string, created bool, err error) {
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(bootstrapLock)); err != nil {
			return fmt.Errorf("lock token bootstrap: %w", err)
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM api_tokens WHERE revoked_at IS NULL)`).Scan(&exists); err != nil {
			return fmt.Errorf("check for tokens: %w", err)
		}
		if exists {
			return nil
		}
		_, secret, err = createToken(ctx, tx, "admin", orchestrator.RoleAdmin)
		created = err == nil
		return err
	})
	return secret, created, err
}
