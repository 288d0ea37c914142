package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/migrations"
	"github.com/bcdr/bcdr/orchestrator/localpg"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// embeddedDatabase is the database name inside the embedded cluster.
const embeddedDatabase = "bcdr"

// database is an open, migrated database and whatever must be stopped
// when the command ends.
type database struct {
	Pool     *pgxpool.Pool
	Migrator *postgres.Migrator
	cluster  *localpg.Cluster
	// cfg is the configuration the database was opened with: the data
	// directory (the embedded cluster's and the demo's files live under it)
	// and what the app's services need.
	cfg    *config
	logger *slog.Logger
}

// openDatabase connects to DATABASE_URL, or starts (or reuses) the embedded
// cluster under the data directory, and applies pending migrations when
// migrate is set.
func openDatabase(ctx context.Context, cfg *config, logger *slog.Logger, migrate bool) (*database, error) {
	db := &database{cfg: cfg, logger: logger}
	url := cfg.DatabaseURL
	if url == "" {
		cluster, err := localpg.Start(ctx, localpg.Config{Dir: filepath.Join(cfg.DataDir, "pg"), Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("start embedded database (set DATABASE_URL to use your own server): %w", err)
		}
		db.cluster = cluster
		if err := cluster.EnsureDatabase(ctx, embeddedDatabase); err != nil {
			db.Close(ctx)
			return nil, err
		}
		url = cluster.URL(embeddedDatabase)
	}
	pool, err := postgres.Open(ctx, url, postgres.Options{MaxConns: cfg.DBMaxConns, StatementTimeout: cfg.DBStatementTimeout})
	if err != nil {
		db.Close(ctx)
		return nil, err
	}
	db.Pool = pool
	if db.Migrator, err = postgres.NewMigrator(pool, migrations.FS, logger); err != nil {
		db.Close(ctx)
		return nil, err
	}
	if migrate {
		n, err := db.Migrator.Up(ctx)
		if err != nil {
			db.Close(ctx)
			return nil, err
		}
		if n > 0 {
			logger.Info("applied migrations", "count", n)
		}
	}
	return db, nil
}

// Close closes the pool and stops the embedded cluster if this process
// started it.
func (db *database) Close(ctx context.Context) {
	if db.Pool != nil {
		db.Pool.Close()
	}
	if db.cluster != nil {
		_ = db.cluster.Stop(context.WithoutCancel(ctx))
	}
}
