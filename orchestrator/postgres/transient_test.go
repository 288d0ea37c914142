package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

func TestIsTransient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewURL(t)

	// What the driver really returns when the server goes away.
	terminated := func() error {
		conn, err := pgx.Connect(ctx, url)
		require.NoError(t, err)
		defer conn.Close(ctx)
		admin, err := pgx.Connect(ctx, url)
		require.NoError(t, err)
		defer admin.Close(ctx)
		_, err = admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, conn.PgConn().PID())
		require.NoError(t, err)
		_, err = conn.Exec(ctx, `SELECT 1`)
		require.Error(t, err)
		return err
	}
	closedSocket := func() error {
		conn, err := pgx.Connect(ctx, url)
		require.NoError(t, err)
		defer conn.Close(ctx)
		require.NoError(t, conn.PgConn().Conn().Close())
		_, err = conn.Exec(ctx, `SELECT 1`)
		require.Error(t, err)
		return err
	}
	closedConn := func() error {
		conn, err := pgx.Connect(ctx, url)
		require.NoError(t, err)
		require.NoError(t, conn.Close(ctx))
		_, err = conn.Exec(ctx, `SELECT 1`)
		return err
	}
	refused := func() error {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := l.Addr().String()
		require.NoError(t, l.Close()) // nothing listens there any more
		_, err = pgx.Connect(ctx, "postgres://bcdr@"+addr+"/bcdr?connect_timeout=5")
		require.Error(t, err)
		return err
	}
	unknownDatabase := func() error {
		cfg, err := pgx.ParseConfig(url)
		require.NoError(t, err)
		cfg.Database = "no_such_database"
		_, err = pgx.ConnectConfig(ctx, cfg)
		require.Error(t, err)
		return err
	}
	cancelled := func() error {
		conn, err := pgx.Connect(ctx, url)
		require.NoError(t, err)
		defer conn.Close(ctx)
		qctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		_, err = conn.Exec(qctx, `SELECT pg_sleep(5)`)
		require.Error(t, err)
		return err
	}
	code := func(c string) error { return &pgconn.PgError{Severity: "ERROR", Code: c, Message: "test"} }
	wrap := func(err error) error { return fmt.Errorf("load backup target 7: %w", err) }

	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"admin shutdown 57P01", code("57P01"), true},
		{"crash shutdown 57P02", code("57P02"), true},
		{"cannot connect now 57P03", code("57P03"), true},
		{"too many connections 53300", code("53300"), true},
		{"serialization failure 40001", code("40001"), true},
		{"deadlock 40P01", code("40P01"), true},
		{"connection failure 08006", code("08006"), true},
		{"wrapped admin shutdown", wrap(code("57P01")), true},
		{"backend terminated", terminated(), true},
		{"socket closed under the driver", wrap(closedSocket()), true},
		{"conn closed", closedConn(), true},
		{"connection refused", wrap(refused()), true},
		{"unique violation 23505", code("23505"), false},
		{"undefined table 42P01", wrap(code("42P01")), false},
		{"statement timeout 57014", code("57014"), false},
		{"unknown database at connect", unknownDatabase(), false},
		{"query cancelled by its context", cancelled(), false},
		{"context cancelled", wrap(context.Canceled), false},
		{"context deadline", context.DeadlineExceeded, false},
		{"no rows", pgx.ErrNoRows, false},
		{"application error", orchestrator.Errorf(orchestrator.ENOTFOUND, "backup target 7 not found"), false},
		{"text that looks like it", errors.New("conn closed"), false},
		{"network error outside the driver", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, postgres.IsTransient(tc.err), "%v", tc.err)
		})
	}
}
