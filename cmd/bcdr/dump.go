package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// runDump writes the whole state of bcdr (every table, as one consistent
// snapshot) to a file, or to stdout for "-". The file appears only once
// it is complete.
func runDump(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	return withDatabase(ctx, "dump", args, env, stderr, nil, false, func(ctx context.Context, db *database, rest []string) error {
		version, err := db.Migrator.Version(ctx)
		if err != nil {
			return err
		}
		if version == 0 {
			return errors.New("the database holds no bcdr schema: nothing to dump")
		}
		path := rest[0]
		if path == "-" {
			_, err := postgres.Dump(ctx, db.Pool, stdout, version, time.Now())
			return err
		}
		s, err := writeFileAtomically(path, func(w io.Writer) (postgres.DumpSummary, error) {
			return postgres.Dump(ctx, db.Pool, w, version, time.Now())
		})
		if err != nil {
			return err
		}
		size := int64(0)
		if st, err := os.Stat(path); err == nil {
			size = st.Size()
		}
		fmt.Fprintf(stdout, "dumped %s and %s (schema version %d) to %s, %.1f MiB\n",
			plural(s.Tables, "table"), plural(s.Rows, "row"), s.SchemaVersion, path, float64(size)/(1<<20))
		return nil
	})
}

// writeFileAtomically writes path through a temporary file in the same
// directory, synced and renamed into place only when write succeeded.
func writeFileAtomically[T any](path string, write func(w io.Writer) (T, error)) (T, error) {
	var zero T
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return zero, fmt.Errorf("create %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	v, err := write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return zero, err
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return zero, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return zero, fmt.Errorf("write %s: %w", path, err)
	}
	return v, nil
}

// runRestore loads a dump made by bcdr dump. The whole file is checked
// first; a database that already holds bcdr data is replaced only with
// --replace; the schema is brought to the dump's version, the data loaded
// in one transaction, and the schema then migrated to this build's newest
// version.
func runRestore(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	var replace bool
	addFlags := func(fs *flag.FlagSet) {
		fs.BoolVar(&replace, "replace", false, "delete everything the database holds first (stop every bcdr serve before)")
	}
	return withDatabase(ctx, "restore", args, env, stderr, addFlags, false, func(ctx context.Context, db *database, rest []string) error {
		f, err := os.Open(rest[0])
		if err != nil {
			return fmt.Errorf("open dump: %w", err)
		}
		defer f.Close()
		want, err := postgres.VerifyDump(f)
		if err != nil {
			return fmt.Errorf("dump %s: %w", rest[0], err)
		}
		if latest := db.Migrator.Latest(); want.SchemaVersion > latest {
			return fmt.Errorf("dump %s is of schema version %d, newer than this bcdr's %d: restore it with a bcdr at least as new as the one that made it",
				rest[0], want.SchemaVersion, latest)
		}
		if err := prepareSchema(ctx, db, want.SchemaVersion, replace); err != nil {
			return err
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("read dump: %w", err)
		}
		got, err := postgres.RestoreData(ctx, db.Pool, f)
		if err != nil {
			return fmt.Errorf("restore %s (nothing of it was loaded): %w", rest[0], err)
		}
		n, err := db.Migrator.Up(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "restored %s and %s of schema version %d, dumped %s; migrated %s\n",
			plural(got.Tables, "table"), plural(got.Rows, "row"), got.SchemaVersion,
			got.CreatedAt.Format(time.RFC3339), plural(n, "step"))
		recordRestore(ctx, db, rest[0], got, stderr)
		return nil
	})
}

// prepareSchema leaves the database empty at schema version: a database
// holding bcdr data is reset only when replace is set, one at a newer
// version is rolled back to nothing first.
func prepareSchema(ctx context.Context, db *database, version int64, replace bool) error {
	current, err := db.Migrator.Version(ctx)
	if err != nil {
		return err
	}
	if current > 0 {
		var audited int64
		err := db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&audited)
		if err != nil {
			return fmt.Errorf("look at the database: %w", err)
		}
		if audited > 0 && !replace {
			return fmt.Errorf("the database already holds bcdr data (%s in the audit log): "+
				"stop every bcdr serve, dump it if it matters, and restore with --replace to delete it", plural(audited, "row"))
		}
	}
	if current > version {
		if err := db.Migrator.Reset(ctx); err != nil {
			return err
		}
	}
	return db.Migrator.UpTo(ctx, version)
}

// recordRestore adds the restore to the audit log, when this process holds
// the key the restored log is keyed with; otherwise it says why not.
func recordRestore(ctx context.Context, db *database, file string, s postgres.DumpSummary, stderr io.Writer) {
	err := postgres.WithTx(ctx, db.Pool, func(tx pgx.Tx) error {
		return audit.Record(cliActor(ctx), tx, audit.Change{Action: "restore", Resource: "database", ResourceID: filepath.Base(file),
			Summary: fmt.Sprintf("restored %d rows of schema version %d dumped %s", s.Rows, s.SchemaVersion, s.CreatedAt.Format(time.RFC3339))})
	})
	if err != nil {
		fmt.Fprintf(stderr, "bcdr: warning: the restore is not in the audit log: %v\n", err)
	}
}
