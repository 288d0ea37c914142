package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/backup"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// The demo's backups, each bound to a data-bearing CI of the bureau:
//   - freshCI: a real restic repository holding an export of the demo
//     records, snapshotted at every seed (and every few minutes while
//     `bcdr serve --demo` runs), so it meets its tier-1 RPO of 15 minutes;
//   - staleCI: nightly dump files whose job stopped three days ago, so
//     they are intact but breach the same RPO;
//   - baseCI: a pg_basebackup of the cluster bcdr itself runs on, checked
//     with pg_verifybackup against its tier-3 RPO of a day.
const (
	freshCI = "declaration-db"
	staleCI = "taxpayer-reg-db"
	baseCI  = "finance-db"

	// staleFor is how long ago the stale dump job last ran.
	staleFor = 3 * 24 * time.Hour
	// keepSnapshots bounds the demo repository's snapshots.
	keepSnapshots = 12
	// toolTimeout bounds one run of restic or pg_basebackup.
	toolTimeout = 5 * time.Minute
	// backupLockKey serialises demo backup seeding across replicas
	// started together with --demo ("bcdrdemb").
	backupLockKey = 0x6263_6472_6465_6d62
)

// BackupOptions say where the demo's backups live and how to reach the
// database for a base backup.
type BackupOptions struct {
	// Dir holds the restic repository, the base backups and the dump
	// files: <data dir>/demo. Made absolute.
	Dir string
	// Secrets is what the targets' secret references may name; the restic
	// password file is written to its Dir [files under <Dir>/../secrets].
	Secrets secretref.Policy
	// Roots are the backup roots the targets must lie under [Dir's parent,
	// the data directory].
	Roots []string
	// BaseBackupURL reaches the cluster that holds the database with a
	// replication connection (the embedded cluster's unix socket). Empty
	// skips the base backup with a note: bcdr takes base backups only of a
	// cluster it runs itself.
	BaseBackupURL string
	Logger        *slog.Logger
	// Now dates the stale dumps [time.Now()].
	Now time.Time
}

// SeededTarget is one demo backup target after seeding: whether it was
// created, changed or left alone, and the CI's backup status after the
// target's first check, judged against the CI's required RPO.
type SeededTarget struct {
	Target  backup.Target
	Outcome string
	Status  backup.Status
}

// BackupReport is what SeedBackups did.
type BackupReport struct {
	Targets []SeededTarget
	// Notes say what was skipped and why.
	Notes []string
}

// SeedBackups creates the demo's backups under opts.Dir — a restic
// repository with a fresh snapshot of the demo records, a pg_basebackup of
// the cluster when opts.BaseBackupURL is set, and deliberately stale dump
// files — and a backup target with a check schedule for each, then checks
// each one once so that their status shows at once. Running it again
// reuses the repository, adds a snapshot, replaces the base backup and
// leaves the targets as they are. The CMDB must hold the demo CIs.
func SeedBackups(ctx context.Context, pool *pgxpool.Pool, opts BackupOptions) (BackupReport, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return BackupReport{}, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return BackupReport{}, fmt.Errorf("seed demo backups: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, int64(backupLockKey)); err != nil {
		return BackupReport{}, fmt.Errorf("seed demo backups: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(backupLockKey))

	var rep BackupReport
	targets, err := makeBackups(ctx, pool, opts, &rep)
	if err != nil {
		return rep, err
	}
	svc := backup.NewService(pool, orchestrator.Runtime{Logger: opts.Logger}, backup.Options{Secrets: opts.Secrets, Roots: opts.Roots})
	req := impact.NewService(pool, orchestrator.Runtime{Logger: opts.Logger}, nil)
	for _, in := range targets {
		st, err := seedTarget(ctx, pool, svc, req, in)
		if err != nil {
			return rep, err
		}
		rep.Targets = append(rep.Targets, st)
	}
	return rep, nil
}

func (o BackupOptions) withDefaults() (BackupOptions, error) {
	if o.Dir == "" {
		return o, errors.New("seed demo backups: no directory given")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return o, fmt.Errorf("seed demo backups: resolve %s: %w", o.Dir, err)
	}
	o.Dir = dir
	if o.Secrets.Dir == "" {
		o.Secrets.Dir = filepath.Join(filepath.Dir(dir), "secrets")
	}
	if len(o.Roots) == 0 {
		o.Roots = []string{filepath.Dir(dir)}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	return o, nil
}

// makeBackups writes the backups and returns the targets that check them.
// A backup whose tool is not installed is skipped with a note, so the rest
// of the demo still loads; a tool that fails is an error.
func makeBackups(ctx context.Context, pool *pgxpool.Pool, opts BackupOptions, rep *BackupReport) ([]backup.TargetInput, error) {
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("seed demo backups: %w", err)
	}
	note := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		rep.Notes = append(rep.Notes, msg)
		opts.Logger.Info(msg)
	}
	var targets []backup.TargetInput
	if _, err := findTool("restic"); err != nil {
		note("no demo restic repository: %v", err)
	} else {
		repo, password, err := resticRepository(ctx, opts.Dir, opts.Secrets.Dir)
		if err != nil {
			return nil, err
		}
		if err := snapshot(ctx, pool, opts); err != nil {
			return nil, err
		}
		targets = append(targets, resticTarget(repo, password))
	}
	dumps, err := writeStaleDumps(opts.Dir, opts.Now)
	if err != nil {
		return nil, err
	}
	targets = append(targets, dumpTarget(dumps))
	if opts.BaseBackupURL == "" {
		note("no demo base backup: the database is not bcdr's embedded cluster (DATABASE_URL is set), " +
			"and bcdr takes base backups only of a cluster it runs")
		return targets, nil
	}
	if _, err := findTool("pg_basebackup"); err != nil {
		note("no demo base backup: %v", err)
		return targets, nil
	}
	pattern, err := takeBaseBackup(ctx, opts.Dir, opts.BaseBackupURL)
	if err != nil {
		return nil, err
	}
	return append(targets, baseBackupTarget(pattern)), nil
}

func resticTarget(repo, password string) backup.TargetInput {
	return backup.TargetInput{CI: freshCI, Name: "demo: declaration database (restic)", Kind: backup.KindRestic,
		Schedule: "*/5 * * * *", RestoreTest: true, Timeout: "5m",
		Config: mustJSON(backup.ResticConfig{Repository: repo, PasswordFile: password})}
}

func dumpTarget(dir string) backup.TargetInput {
	return backup.TargetInput{CI: staleCI, Name: "demo: taxpayer registration nightly dumps (file)", Kind: backup.KindFile,
		Schedule: "*/5 * * * *", Timeout: "1m", MaxAge: "26h",
		Config: mustJSON(backup.FileConfig{Path: filepath.Join(dir, "*.dump"), MinSize: ptr(int64(1024)),
			Manifest: filepath.Join(dir, "SHA256SUMS")})}
}

func baseBackupTarget(pattern string) backup.TargetInput {
	return backup.TargetInput{CI: baseCI, Name: "demo: finance database (pg_basebackup)", Kind: backup.KindPgBaseBackup,
		Schedule: "17 * * * *", Timeout: "10m",
		Config: mustJSON(backup.PgBaseBackupConfig{Directory: pattern})}
}

// seedTarget creates the target, or brings the one of the same name in
// line, checks it once and reports its CI's status.
func seedTarget(ctx context.Context, pool *pgxpool.Pool, svc *backup.Service, req *impact.Service, in backup.TargetInput) (SeededTarget, error) {
	var id int64
	err := pool.QueryRow(ctx, `SELECT id FROM backup_targets WHERE name = $1 ORDER BY id LIMIT 1`, in.Name).Scan(&id)
	out := SeededTarget{Outcome: impact.Unchanged}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		out.Target, err = svc.Create(ctx, in)
		out.Outcome = impact.Inserted
	case err != nil:
	default:
		out.Target, err = svc.Get(ctx, id)
		if err == nil && !matches(in, out.Target) {
			out.Target, err = svc.Replace(ctx, id, in)
			out.Outcome = impact.Updated
		}
	}
	if err != nil {
		return out, fmt.Errorf("seed demo backup target %q: %w", in.Name, err)
	}
	check, err := svc.CheckNow(ctx, out.Target.ID)
	if err != nil {
		return out, fmt.Errorf("check demo backup target %q: %w", in.Name, err)
	}
	out.Target.LastCheck = &check
	r, err := req.Requirements(ctx, in.CI)
	if err != nil {
		return out, fmt.Errorf("required RPO of %s: %w", in.CI, err)
	}
	if r.RPO != nil {
		out.Status, err = backup.RPOStatus(ctx, pool, in.CI, *r.RPO, time.Now())
	} else {
		out.Status, err = backup.CIStatus(ctx, pool, in.CI, time.Now())
	}
	if err != nil {
		return out, fmt.Errorf("backup status of %s: %w", in.CI, err)
	}
	return out, nil
}

// matches reports whether t is already what in specifies.
func matches(in backup.TargetInput, t backup.Target) bool {
	var maxAge string
	if t.MaxAge != nil {
		maxAge = t.MaxAge.String()
	}
	want, got := map[string]any{}, map[string]any{}
	if json.Unmarshal(in.Config, &want) != nil || json.Unmarshal(t.Config, &got) != nil {
		return false
	}
	return t.CI == in.CI && t.Kind == in.Kind && t.Schedule == in.Schedule && t.Timezone == "UTC" &&
		t.RestoreTest == in.RestoreTest && sameDuration(t.Timeout.String(), in.Timeout) && sameDuration(maxAge, in.MaxAge) &&
		reflect.DeepEqual(want, got)
}

// sameDuration compares durations as written ("5m" and "5m0s" agree).
func sameDuration(a, b string) bool {
	if a == "" || b == "" {
		return a == b
	}
	da, errA := orchestrator.ParseDuration(a)
	db, errB := orchestrator.ParseDuration(b)
	return errA == nil && errB == nil && da == db
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func ptr[T any](v T) *T { return &v }
