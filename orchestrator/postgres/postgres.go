// Package postgres opens the connection pool and provides the one
// transaction helper and the one driver-error translation every capability
// package uses. It holds no domain logic.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
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

// transientCodes are the SQLSTATEs of a database that is going away or
// coming back, or of a transaction that lost a race and may simply run
// again: admin shutdown, crash shutdown, cannot connect now, too many
// connections, serialization failure, deadlock.
var transientCodes = map[string]bool{
	"57P01": true, "57P02": true, "57P03": true, "53300": true, "40001": true, "40P01": true,
}

// IsTransient reports whether err is a database failure that goes away by
// itself (a restart, a failover, a lost connection, a transaction that lost
// a race), so the work that met it should run again rather than fail. A
// cancelled or expired context is not transient: it is the caller's
// decision. Errors not from the database are not transient either.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	// A server error is definite, even when it came with a failed connect
	// (a wrong password is not going away).
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return transientCodes[pgErr.Code] || strings.HasPrefix(pgErr.Code, "08") // connection exception
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) || errors.Is(err, pgconn.ErrConnClosed) {
		return true
	}
	// pgconn wraps what the network did to a connection in errors that say
	// whether a retry is safe; only network failures under such a wrapper
	// are the database's, others (an HTTP call's) are not.
	var fromPgconn interface{ SafeToRetry() bool }
	if !errors.As(err, &fromPgconn) {
		return false
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
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
