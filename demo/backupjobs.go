package demo

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator/localpg"
)

// This file makes the demo's backups with the real tools; backups.go
// binds them to targets.

// resticRepository initialises the demo repository in dir unless it
// exists and returns it with its password file in secretsDir, which is
// created once with a random password, readable by this user only. Targets
// reference the file; the password itself is never stored in the database.
func resticRepository(ctx context.Context, dir, secretsDir string) (repo, passwordFile string, err error) {
	repo = filepath.Join(dir, "restic")
	passwordFile, err = demoPasswordFile(dir, secretsDir)
	if err != nil {
		return "", "", fmt.Errorf("demo restic password file: %w", err)
	}
	f, err := os.OpenFile(passwordFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		secret := make([]byte, 24)
		_, _ = rand.Read(secret)
		_, err = fmt.Fprintln(f, base64.RawURLEncoding.EncodeToString(secret))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	case errors.Is(err, fs.ErrExist):
		err = os.Chmod(passwordFile, 0o600)
	}
	if err != nil {
		return "", "", fmt.Errorf("demo restic password file: %w", err)
	}
	if _, err := os.Stat(filepath.Join(repo, "config")); err == nil {
		return repo, passwordFile, nil
	}
	if err := restic(ctx, repo, passwordFile, "init"); err != nil {
		return "", "", err
	}
	return repo, passwordFile, nil
}

// Snapshot exports the demo records to <dir>/data and backs them up into
// the demo restic repository: the demo's backup job. `bcdr serve --demo`
// runs it every few minutes so the restic target stays within its RPO.
// Without a repository (SeedBackups found no restic) it does nothing.
func Snapshot(ctx context.Context, pool *pgxpool.Pool, opts BackupOptions) error {
	opts, err := opts.withDefaults()
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(opts.Dir, "restic", "config")); err != nil {
		return nil
	}
	return snapshot(ctx, pool, opts)
}

// demoPasswordFile is where the demo repository's password lives: in the
// secrets directory, the only place targets may reference files. A
// password file left in dir by an older bcdr is moved there, since the
// repository needs that same password.
func demoPasswordFile(dir, secretsDir string) (string, error) {
	if err := os.MkdirAll(secretsDir, 0o700); err != nil {
		return "", err
	}
	path := filepath.Join(secretsDir, "demo-restic-password")
	old := filepath.Join(dir, "restic-password")
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		if err := os.Rename(old, path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	return path, nil
}

func snapshot(ctx context.Context, pool *pgxpool.Pool, opts BackupOptions) error {
	data := filepath.Join(opts.Dir, "data")
	if err := exportRecords(ctx, pool, data); err != nil {
		return err
	}
	password, err := demoPasswordFile(opts.Dir, opts.Secrets.Dir)
	if err != nil {
		return fmt.Errorf("demo restic password file: %w", err)
	}
	repo := filepath.Join(opts.Dir, "restic")
	if err := restic(ctx, repo, password, "backup", "--host=bcdr-demo", "--tag=demo", data); err != nil {
		return err
	}
	return restic(ctx, repo, password, "forget", "--host=bcdr-demo", fmt.Sprintf("--keep-last=%d", keepSnapshots))
}

// exportedTables are the records the demo's restic snapshots hold.
var exportedTables = []string{"cis", "relations", "incidents", "changes"}

// exportRecords writes each exported table as JSON lines, replacing the
// previous export file by file.
func exportRecords(ctx context.Context, pool *pgxpool.Pool, dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("export demo records: %w", err)
	}
	for _, table := range exportedTables {
		path := filepath.Join(dir, table+".jsonl")
		if err := exportTable(ctx, pool, table, path); err != nil {
			return fmt.Errorf("export demo %s: %w", table, err)
		}
	}
	return nil
}

func exportTable(ctx context.Context, pool *pgxpool.Pool, table, path string) error {
	// table is one of exportedTables, never outside input.
	rows, err := pool.Query(ctx, `SELECT row_to_json(t)::text FROM `+table+` t ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	f, err := os.CreateTemp(filepath.Dir(path), "."+table+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	w := bufio.NewWriter(f)
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			f.Close()
			return err
		}
		w.WriteString(line)
		w.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// writeStaleDumps writes, once, three nightly dumps of the stale CI whose
// job stopped staleFor before now, with a SHA-256 manifest written last:
// intact, but far older than the RPO. It returns their directory.
func writeStaleDumps(dir string, now time.Time) (string, error) {
	dumps := filepath.Join(dir, "dumps", staleCI)
	manifest := filepath.Join(dumps, "SHA256SUMS")
	if _, err := os.Stat(manifest); err == nil {
		return dumps, nil
	}
	if err := os.MkdirAll(dumps, 0o700); err != nil {
		return "", fmt.Errorf("write demo dumps: %w", err)
	}
	var sums strings.Builder
	var last time.Time
	for night := 2; night >= 0; night-- {
		at := now.Add(-staleFor - time.Duration(night)*24*time.Hour).UTC()
		name := fmt.Sprintf("%s-%s.dump", staleCI, at.Format("2006-01-02"))
		var body strings.Builder
		fmt.Fprintf(&body, "-- nightly dump of %s taken %s\n", staleCI, at.Format(time.RFC3339))
		for i := range 200 {
			fmt.Fprintf(&body, "INSERT INTO taxpayers VALUES (%d, 'taxpayer %05d', '%s');\n", i, i, at.Format("2006-01-02"))
		}
		path := filepath.Join(dumps, name)
		if err := os.WriteFile(path, []byte(body.String()), 0o600); err != nil {
			return "", fmt.Errorf("write demo dump: %w", err)
		}
		if err := os.Chtimes(path, at, at); err != nil {
			return "", fmt.Errorf("date demo dump: %w", err)
		}
		fmt.Fprintf(&sums, "%x  %s\n", sha256.Sum256([]byte(body.String())), name)
		last = at
	}
	if err := os.WriteFile(manifest, []byte(sums.String()), 0o600); err != nil {
		return "", fmt.Errorf("write demo dump manifest: %w", err)
	}
	if err := os.Chtimes(manifest, last, last); err != nil {
		return "", fmt.Errorf("date demo dump manifest: %w", err)
	}
	return dumps, nil
}

// baseBackupLayout is the name of a finished base backup: its UTC start,
// so that the target's glob finds it and never a partial one.
const baseBackupLayout = "20060102T150405.000Z"

// takeBaseBackup takes a plain-format base backup with streamed WAL and a
// manifest into a partial directory, moves it into place when complete,
// removes the older ones and returns the glob that finds the newest.
func takeBaseBackup(ctx context.Context, dir, url string) (string, error) {
	parent := filepath.Join(dir, "pg_basebackup")
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", fmt.Errorf("demo base backup: %w", err)
	}
	old, _ := filepath.Glob(filepath.Join(parent, "*"))
	started := time.Now().UTC()
	partial, err := os.MkdirTemp(parent, "partial-")
	if err != nil {
		return "", fmt.Errorf("demo base backup: %w", err)
	}
	err = runTool(ctx, "pg_basebackup", nil, "--dbname="+url, "--pgdata="+partial, "--format=plain",
		"--wal-method=stream", "--checkpoint=fast", "--label=bcdr demo")
	if err != nil {
		os.RemoveAll(partial)
		return "", err
	}
	final := filepath.Join(parent, started.Format(baseBackupLayout))
	if err := os.Rename(partial, final); err != nil {
		os.RemoveAll(partial)
		return "", fmt.Errorf("demo base backup: %w", err)
	}
	for _, o := range old {
		if err := os.RemoveAll(o); err != nil {
			return "", fmt.Errorf("remove old demo base backup: %w", err)
		}
	}
	return filepath.Join(parent, "2*"), nil
}

// restic runs restic on the demo repository, its password read from the
// file.
func restic(ctx context.Context, repo, passwordFile string, args ...string) error {
	env := []string{"RESTIC_PASSWORD_FILE=" + passwordFile}
	return runTool(ctx, "restic", env, append([]string{"--repo=" + repo, "--no-cache", "--quiet"}, args...)...)
}

// runTool runs a backup tool with a timeout and a minimal environment,
// failing with the end of its output.
func runTool(ctx context.Context, tool string, env []string, args ...string) error {
	path, err := findTool(tool)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "LANG=C", "TZ=UTC"}, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		text := strings.TrimSpace(string(out))
		if len(text) > 2000 {
			text = "…" + text[len(text)-2000:]
		}
		return fmt.Errorf("demo backup: %s %s: %w: %s", tool, strings.Join(args, " "), err, text)
	}
	return nil
}

// findTool looks for PostgreSQL tools beside the server binaries first,
// so that the base backup is taken with the server's own version.
func findTool(name string) (string, error) {
	if strings.HasPrefix(name, "pg_") {
		if dir, err := localpg.FindBinDir(); err == nil {
			if p := filepath.Join(dir, name); isExecutable(p) {
				return p, nil
			}
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("demo backup: %s is not installed (make run installs it; or scripts/install-deps.sh restic postgres)", name)
	}
	return p, nil
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
