package backup

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// maxManifestBytes bounds the backup_manifest read for the backup's size.
const maxManifestBytes = 256 << 20

// findBackupDir resolves the configured directory or glob to the newest
// directory holding a backup_manifest; "" when there is none. A match
// leading outside the roots is an error.
func findBackupDir(l limits, pattern string) (string, error) {
	matches, err := l.glob("config.directory", pattern)
	if err != nil {
		return "", err
	}
	var best string
	var bestTime time.Time
	for _, m := range matches {
		fi, err := os.Stat(filepath.Join(m, "backup_manifest"))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if best == "" || fi.ModTime().After(bestTime) {
			best, bestTime = m, fi.ModTime()
		}
	}
	return best, nil
}

// backupStartTime reads START TIME from a backup's backup_label
// ("START TIME: 2026-01-31 02:00:00 UTC"), falling back to the manifest's
// modification time.
func backupStartTime(dir string) time.Time {
	if f, err := os.Open(filepath.Join(dir, "backup_label")); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "START TIME: "); ok {
				if t, err := parseLabelTime(v); err == nil {
					return t.UTC()
				}
			}
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "backup_manifest")); err == nil {
		return fi.ModTime().UTC()
	}
	return time.Time{}
}

// parseLabelTime reads "2026-01-31 02:00:00 UTC" or "... CET": the zone is
// an abbreviation Go resolves only for UTC/GMT; others fall back to a
// numeric offset when PostgreSQL wrote one.
func parseLabelTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04:05 MST", "2006-01-02 15:04:05 -07", "2006-01-02 15:04:05 -0700"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable START TIME %q", s)
}

// manifestSize sums the file sizes listed in a backup_manifest.
func manifestSize(dir string) *int64 {
	f, err := os.Open(filepath.Join(dir, "backup_manifest"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var m struct {
		Files []struct {
			Size int64 `json:"Size"`
		} `json:"Files"`
	}
	if json.NewDecoder(io.LimitReader(f, maxManifestBytes)).Decode(&m) != nil {
		return nil
	}
	var total int64
	for _, file := range m.Files {
		total += file.Size
	}
	return &total
}

// checkPgBaseBackup runs pg_verifybackup on the newest backup directory:
// every file against the manifest's checksums, and the WAL needed to make
// it consistent. With restore_test the backup is first copied into the
// scratch directory and the copy is verified and its control file read, which
// proves a restore from this location yields a complete data directory.
func checkPgBaseBackup(ctx context.Context, p *probe, c *PgBaseBackupConfig) Result {
	dir, err := findBackupDir(p.limits, c.Directory)
	if err != nil {
		return Result{Status: StatusError, Message: err.Error()}
	}
	if dir == "" {
		return Result{Status: StatusFailed, Message: fmt.Sprintf("no backup (directory with a backup_manifest) at %s", c.Directory)}
	}
	r := Result{SizeBytes: manifestSize(dir)}
	if t := backupStartTime(dir); !t.IsZero() {
		r.LatestBackupAt = &t
	}
	verify := func(target string) cmdResult {
		args := []string{"--quiet"}
		if c.NoParseWAL {
			args = append(args, "--no-parse-wal")
		}
		return p.run.run(ctx, command{tool: "pg_verifybackup", args: append(args, "--", target)})
	}
	target := dir
	if p.target.RestoreTest {
		target = filepath.Join(p.scratch, "restore")
		if err := copyTree(ctx, dir, target); err != nil {
			return r.with(StatusError, "restore test: copy %s to scratch: %v", dir, err)
		}
		p.run.note("copied %s to %s for the restore test", dir, target)
	}
	res := verify(target)
	switch {
	case res.err != nil:
		return toolError("pg_verifybackup could not run", res)
	case !res.ok():
		return r.with(StatusFailed, "pg_verifybackup found problems in %s: %s", dir, res.lastLines(3))
	}
	r.Verified = true
	msg := fmt.Sprintf("backup %s verified (checksums and WAL)", dir)
	if c.NoParseWAL {
		msg = fmt.Sprintf("backup %s verified (checksums; WAL not parsed)", dir)
	}
	if p.target.RestoreTest {
		res := p.run.run(ctx, command{tool: "pg_controldata", args: []string{"-D", target}})
		if !res.ok() {
			return r.with(StatusFailed, "restore test: pg_controldata cannot read the restored copy: %s", describeFailure(res))
		}
		msg += "; restore test: copy verified, control file readable"
	}
	return r.with(StatusOK, "%s", msg)
}

// copyTree copies the regular files and directories under src to dst.
func copyTree(ctx context.Context, src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o700)
		case d.Type().IsRegular():
			return copyFile(path, to)
		}
		return nil
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
