package backup

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// resticSnapshot is one entry of `restic snapshots --json`.
type resticSnapshot struct {
	Time    time.Time `json:"time"`
	ID      string    `json:"id"`
	ShortID string    `json:"short_id"`
}

// parseResticSnapshots reads `restic snapshots --json` and returns the
// newest snapshot, nil when there is none.
func parseResticSnapshots(out []byte) (*resticSnapshot, error) {
	var snaps []resticSnapshot
	if err := json.Unmarshal(out, &snaps); err != nil {
		return nil, fmt.Errorf("read restic snapshots: %w", err)
	}
	var latest *resticSnapshot
	for i := range snaps {
		if latest == nil || snaps[i].Time.After(latest.Time) {
			latest = &snaps[i]
		}
	}
	return latest, nil
}

// resticEnv is the clean environment's additions for a restic repository.
func resticEnv(p *probe, c *ResticConfig) ([]string, error) {
	if err := p.limits.resolveRepository("config.repository", c.Repository); err != nil {
		return nil, err
	}
	env, err := p.passEnv(c.PassEnv)
	if err != nil {
		return nil, err
	}
	if c.PasswordEnv != "" {
		pw, err := p.envValue(c.PasswordEnv, "password_env")
		if err != nil {
			return nil, err
		}
		return append(env, "RESTIC_PASSWORD="+pw), nil
	}
	file, err := p.secretFile(c.PasswordFile, "password_file")
	if err != nil {
		return nil, err
	}
	return append(env, "RESTIC_PASSWORD_FILE="+file), nil
}

// checkRestic finds the newest snapshot, its restore size, runs `restic
// check` and, with restore_test, restores the snapshot and compares it
// with restic's own listing.
func checkRestic(ctx context.Context, p *probe, c *ResticConfig) Result {
	env, err := resticEnv(p, c)
	if err != nil {
		return Result{Status: StatusError, Message: err.Error()}
	}
	restic := func(args ...string) cmdResult {
		return p.run.run(ctx, command{tool: "restic", env: env,
			args: append([]string{"--repo=" + c.Repository, "--no-cache", "--quiet"}, args...)})
	}
	res := restic("snapshots", "--json", "--latest", "1")
	if !res.ok() {
		return toolError("restic could not list snapshots", res)
	}
	snap, err := parseResticSnapshots(res.stdout)
	if err != nil {
		return Result{Status: StatusError, Message: err.Error()}
	}
	if snap == nil {
		return Result{Status: StatusFailed, Message: "the repository holds no snapshots"}
	}
	r := Result{LatestBackupAt: ptr(snap.Time.UTC())}
	if res := restic("stats", "--json", snap.ID); res.ok() {
		var stats struct {
			TotalSize int64 `json:"total_size"`
		}
		if json.Unmarshal(res.stdout, &stats) == nil {
			r.SizeBytes = &stats.TotalSize
		}
	}

	args := []string{"check"}
	if c.ReadDataSubset != "" {
		args = append(args, "--read-data-subset="+c.ReadDataSubset)
	}
	res = restic(args...)
	switch {
	case res.err != nil:
		return toolError("restic check could not run", res)
	case !res.ok() && strings.Contains(string(res.stderr), "already locked"):
		return r.with(StatusError, "restic check: the repository is locked by another restic process; retry later")
	case !res.ok():
		return r.with(StatusFailed, "restic check found errors: %s", res.lastLines(3))
	}
	r.Verified = true
	what := "structure checked"
	if c.ReadDataSubset != "" {
		what = "structure and " + c.ReadDataSubset + " of the data checked"
	}
	if p.target.RestoreTest {
		files, bytes, err := resticRestoreTest(ctx, p, restic, snap.ID)
		if err != nil {
			return r.with(StatusFailed, "restore test of snapshot %s failed: %v", snap.ShortID, err)
		}
		what += fmt.Sprintf("; restore test: %d files, %d bytes restored and verified", files, bytes)
	}
	return r.with(StatusOK, "snapshot %s of %s; %s", snap.ShortID, snap.Time.UTC().Format(time.RFC3339), what)
}

// resticNode is one line of `restic ls --json`.
type resticNode struct {
	StructType string `json:"struct_type"`
	Type       string `json:"type"`
	Path       string `json:"path"`
	Size       int64  `json:"size"`
}

// resticRestoreTest restores the snapshot into the scratch directory with
// --verify (restic re-reads every restored file and checks it against the
// blob hashes), then compares what is on disk with `restic ls --json`.
// The scratch directory is removed with the check.
func resticRestoreTest(ctx context.Context, p *probe, restic func(...string) cmdResult, id string) (int, int64, error) {
	dir := filepath.Join(p.scratch, "restore")
	if res := restic("restore", id, "--target="+dir, "--verify"); !res.ok() {
		return 0, 0, fmt.Errorf("restic restore: %s", describeFailure(res))
	}
	res := restic("ls", "--json", id)
	if !res.ok() {
		return 0, 0, fmt.Errorf("restic ls: %s", describeFailure(res))
	}
	want := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(res.stdout))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var n resticNode
		if json.Unmarshal(sc.Bytes(), &n) == nil && n.StructType == "node" && n.Type == "file" {
			want[n.Path] = n.Size
		}
	}
	var files int
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rel := "/" + filepath.ToSlash(strings.TrimPrefix(path, dir+string(os.PathSeparator)))
		size, listed := want[rel]
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if !listed {
			return fmt.Errorf("%s was restored but is not in the snapshot listing", rel)
		}
		if fi.Size() != size {
			return fmt.Errorf("%s restored with %d bytes, the snapshot lists %d", rel, fi.Size(), size)
		}
		delete(want, rel)
		files++
		total += size
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	for missing := range want {
		return 0, 0, fmt.Errorf("%s is in the snapshot but was not restored (%d files missing)", missing, len(want))
	}
	return files, total, nil
}

// toolError is the result of a command that failed before it could judge
// the backup: the repository is unreachable, locked, or the secret wrong.
func toolError(what string, res cmdResult) Result {
	return Result{Status: StatusError, Message: what + ": " + describeFailure(res)}
}

// describeFailure says in one line why a command failed.
func describeFailure(res cmdResult) string {
	if res.err != nil {
		return res.err.Error()
	}
	if msg := res.lastLines(2); msg != "" {
		return fmt.Sprintf("%s (exit status %d)", msg, res.exitCode)
	}
	return fmt.Sprintf("exit status %d", res.exitCode)
}
