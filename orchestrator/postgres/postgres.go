// Package postgres opens the connection pool and provides the one
// transaction helper and the one driver-error translation every capability
// package uses. It holds no domain logic.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
)

// Querier is what store functions need: satisfied by *pgxpool.Pool and
// pgx.Tx, so the same code runs inside or outside a transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Options tune the pool.
type Options struct {
	MaxConns         int32
	StatementTimeout time.Duration
}

// Open connects a pool to url and checks that the server answers.
func Open(ctx context.Context, url string, opts Options) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "bcdr"
	if opts.StatementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = fmt.Sprint(opts.StatementTimeout.Milliseconds())
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("reach database: %w", err)
	}
	return pool, nil
}

// WithTx runs fn in a transaction, committing when fn returns nil and
// rolling back otherwise. The rollback runs even when ctx is cancelled.
func WithTx(ctx context.Context, pool *pgxpool.Pool, fn func(tx pgx.Tx) error) (err error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return Translate(fmt.Errorf("begin transaction: %w", err))
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(ctx); err != nil {
		return Translate(fmt.Errorf("commit transaction: %w", err))
	}
	return nil
}

// Translate turns driver errors into application errors: no rows becomes
// not_found, unique and exclusion violations become conflict, foreign-key
// and check violations become invalid. Other errors pass through unchanged.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return orchestrator.Errorf(orchestrator.ENOTFOUND, "not found")
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	switch pgErr.Code {
	case "23505", "23P01":
		return orchestrator.Errorf(orchestrator.ECONFLICT, "already exists (%s)", pgErr.ConstraintName)
	case "23503":
		return orchestrator.Errorf(orchestrator.EINVALID, "refers to a record that does not exist (%s)", pgErr.ConstraintName)
	case "23514", "23502", "22P02", "22001", "22003", "22007", "22008":
		return orchestrator.Errorf(orchestrator.EINVALID, "value rejected by the database (%s)", pgErr.Message)
	case "22021":
		return orchestrator.Errorf(orchestrator.EINVALID, "text is not valid UTF-8 or contains a NUL byte")
	case "57014":
		return orchestrator.Errorf(orchestrator.EUNAVAILABLE, "database statement timed out")
	}
	return err
}

// NowArg is the argument of `coalesce($n::timestamptz, now())` for clock:
// nil, selecting the database clock, when clock is nil (real time, see
// orchestrator.Runtime); the clock's time otherwise.
func NowArg(clock orchestrator.Clock) *time.Time {
	if clock == nil {
		return nil
	}
	t := clock.Now()
	return &t
}
