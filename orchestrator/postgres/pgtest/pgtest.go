// Package pgtest gives each test its own PostgreSQL database, cloned in
// about a tenth of a second from a template migrated once per schema.
//
// TEST_DATABASE_URL names the server (make test starts a throwaway one).
// When BCDR_TEST_REQUIRE_DB is set a missing server fails the test; without
// it the test is skipped, so `go test` on a laptop without PostgreSQL still
// runs the pure tests, and the run says in one line that the database tests
// were skipped and how to run them.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/migrations"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// templateLock serialises template builds across test binaries that
// `go test ./...` runs in parallel.
const templateLock = 0x6263_6472_746d_706c // "bcdrtmpl"

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// ServerURL returns TEST_DATABASE_URL, failing or skipping the test when it
// is unset (see the package comment).
func ServerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		if os.Getenv("BCDR_TEST_REQUIRE_DB") != "" {
			t.Fatal("TEST_DATABASE_URL is not set but BCDR_TEST_REQUIRE_DB requires a database")
		}
		noticeSkipped()
		t.Skip("TEST_DATABASE_URL not set; run `make test` for the database tests")
	}
	return u
}

// skippedLine is what a run without a database says, once.
const skippedLine = "bcdr: database tests SKIPPED (TEST_DATABASE_URL is not set); " +
	"run them with `make test` or `go run ./scripts/testpg -- go test ./...`\n"

var skippedOnce sync.Once

// noticeSkipped tells whoever runs `go test ./...` without a database that
// the database tests were skipped, in one line per run. go test shows a
// passing package's output only with -v, so the line goes to the terminal
// when there is one (else to stderr, shown with -v), and only the first
// test binary of the run (all children of one go command) writes it.
func noticeSkipped() {
	skippedOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), "bcdr-db-tests-skipped")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return
		}
		// go test does not cache a result that read a file of the module
		// changed in the last seconds, so every run without a database says
		// so again rather than replaying "ok (cached)". bin/ is ignored by git.
		if root := moduleRoot(); root != "" {
			fresh := filepath.Join(root, "bin", ".db-tests-skipped")
			if os.MkdirAll(filepath.Dir(fresh), 0o755) == nil && os.WriteFile(fresh, nil, 0o644) == nil {
				if f, err := os.Open(fresh); err == nil {
					f.Close()
				}
			}
		}
		run := strconv.Itoa(os.Getppid())
		if stat, err := os.ReadFile("/proc/" + run + "/stat"); err == nil {
			// The parent's start time tells a reused pid from this run.
			if i := bytes.LastIndexByte(stat, ')'); i > 0 {
				if f := strings.Fields(string(stat[i+1:])); len(f) > 19 {
					run += "-" + f[19]
				}
			}
		}
		mark, err := os.OpenFile(filepath.Join(dir, run), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return // another test binary of this run has said it
		}
		mark.Close()
		if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
			defer tty.Close()
			if _, err := tty.WriteString(skippedLine); err == nil {
				return
			}
		}
		os.Stderr.WriteString(skippedLine)
	})
}

// moduleRoot is the directory holding go.mod above the test's working
// directory (its package), or "".
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// NewURL creates a fresh, migrated database for the test, dropped when the
// test ends, and returns its connection URL.
func NewURL(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	templateOnce.Do(func() { templateName, templateErr = buildTemplate(server) })
	if templateErr != nil {
		t.Fatalf("build template database: %v", templateErr)
	}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connect to test server: %v", err)
	}
	defer admin.Close(ctx)
	name := "bcdr_test_" + randomHex(8)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+templateName); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { dropDatabase(t, server, name) })
	return WithDatabase(t, server, name)
}

// dropDatabase drops a test's database, connections and all.
func dropDatabase(t testing.TB, server, name string) {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Logf("drop test database %s: %v", name, err)
		return
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Logf("drop test database %s: %v", name, err)
	}
}

// New returns a pool on a fresh, migrated database for the test.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := postgres.Open(ctx, NewURL(t), postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// WithDatabase returns server's URL pointing at database name instead.
func WithDatabase(t testing.TB, server, name string) string {
	t.Helper()
	u, err := databaseURL(server, name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func databaseURL(server, name string) (string, error) {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("TEST_DATABASE_URL must be a postgres:// URL")
	}
	u.Path = "/" + name
	return u.String(), nil
}

func buildTemplate(server string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	digest, err := migrationsDigest()
	if err != nil {
		return "", err
	}
	name := "bcdr_template_" + digest
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", fmt.Errorf("connect to test server: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(templateLock)); err != nil {
		return "", fmt.Errorf("lock template build: %w", err)
	}
	defer admin.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(templateLock))
	var ready bool
	err = admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)`, name).Scan(&ready)
	if err != nil || ready {
		return name, err
	}
	// A half-built template left by an interrupted run is rebuilt from scratch.
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return "", fmt.Errorf("drop stale template: %w", err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	dbURL, err := databaseURL(server, name)
	if err != nil {
		return "", err
	}
	if err := migrateDatabase(ctx, dbURL, name); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+name+" WITH IS_TEMPLATE true"); err != nil {
		return "", fmt.Errorf("mark template: %w", err)
	}
	return name, nil
}

func migrateDatabase(ctx context.Context, dbURL, name string) error {
	pool, err := postgres.Open(ctx, dbURL, postgres.Options{MaxConns: 2})
	if err != nil {
		return fmt.Errorf("open template %s: %w", name, err)
	}
	defer pool.Close()
	m, err := postgres.NewMigrator(pool, migrations.FS, nil)
	if err != nil {
		return err
	}
	_, err = m.Up(ctx)
	return err
}

// migrationsDigest names the template after the migration files' contents,
// so a changed migration gets a fresh template instead of a stale one.
func migrationsDigest() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash migrations: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
