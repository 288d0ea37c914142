package pgtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// seededTemplates are the seeded templates this test binary built, by key.
var (
	seededMu        sync.Mutex
	seededTemplates = map[string]*seededTemplate{}
)

type seededTemplate struct {
	once sync.Once
	name string
	err  error
}

// Seeded returns a pool on a fresh database holding what seed wrote: seed
// runs once per test binary and key, on a database that then serves as the
// template every caller's database is cloned from. Tests that each need the
// same expensive fixture (the demo organisation takes seconds to seed)
// share the seeding and still never see each other's writes.
//
// key names the fixture within the package; the template is named after
// the package's binary, so a later run drops and rebuilds its own.
func Seeded(t testing.TB, key string, seed func(ctx context.Context, pool *pgxpool.Pool) error) *pgxpool.Pool {
	t.Helper()
	server := ServerURL(t)
	templateOnce.Do(func() { templateName, templateErr = buildTemplate(server) })
	if templateErr != nil {
		t.Fatalf("build template database: %v", templateErr)
	}
	seededMu.Lock()
	st, ok := seededTemplates[key]
	if !ok {
		st = &seededTemplate{}
		seededTemplates[key] = st
	}
	seededMu.Unlock()
	st.once.Do(func() { st.name, st.err = buildSeeded(server, key, seed) })
	if st.err != nil {
		t.Fatalf("seed %s: %v", key, st.err)
	}
	return clone(t, server, st.name)
}

// buildSeeded creates the template for key from the migrated template and
// runs seed on it. A previous run's template of the same key is dropped
// first: a test binary never runs twice at once (go test runs one binary
// per package).
func buildSeeded(server, key string, seed func(context.Context, *pgxpool.Pool) error) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	name := identifier("bcdr_seeded_" + filepath.Base(os.Args[0]) + "_" + key + "_" + templateName[len("bcdr_template_"):])
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", fmt.Errorf("connect to test server: %w", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return "", fmt.Errorf("drop stale seeded template: %w", err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+templateName); err != nil {
		return "", fmt.Errorf("create seeded template: %w", err)
	}
	dbURL, err := databaseURL(server, name)
	if err != nil {
		return "", err
	}
	pool, err := postgres.Open(ctx, dbURL, postgres.Options{MaxConns: 8})
	if err != nil {
		return "", fmt.Errorf("open seeded template: %w", err)
	}
	err = seed(ctx, pool)
	pool.Close() // a template is cloned only with nobody connected
	if err != nil {
		return "", err
	}
	return name, nil
}

// identifier makes s a PostgreSQL identifier needing no quotes: lower
// case letters, digits and underscores, at most 63 bytes.
func identifier(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	return string(b[:min(len(b), 63)])
}

// clone creates a database for the test from template and opens a pool on
// it; both are gone when the test ends.
func clone(t testing.TB, server, template string) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		t.Fatalf("connect to test server: %v", err)
	}
	defer admin.Close(ctx)
	name := "bcdr_test_" + randomHex(8)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+template); err != nil {
		t.Fatalf("create test database from %s: %v", template, err)
	}
	t.Cleanup(func() { dropDatabase(t, server, name) })
	pool, err := postgres.Open(ctx, WithDatabase(t, server, name), postgres.Options{MaxConns: 8})
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}
