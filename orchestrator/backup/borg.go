package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// borgTimeLayout is how borg writes times in JSON: no zone, in the local
// zone of the borg process, which the clean environment sets to UTC.
const borgTimeLayout = "2006-01-02T15:04:05.999999"

// borgArchive is one archive of `borg list --json`.
type borgArchive struct {
	Name  string `json:"name"`
	Start string `json:"start"`
}

// parseBorgList reads `borg list --json` and returns the newest archive
// and its start time; a nil time means the repository holds no archive.
func parseBorgList(out []byte) (string, *time.Time, error) {
	var list struct {
		Archives []borgArchive `json:"archives"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		return "", nil, fmt.Errorf("read borg list: %w", err)
	}
	var name string
	var latest *time.Time
	for _, a := range list.Archives {
		t, err := time.ParseInLocation(borgTimeLayout, a.Start, time.UTC)
		if err != nil {
			return "", nil, fmt.Errorf("read borg list: archive %q has start time %q", a.Name, a.Start)
		}
		if latest == nil || t.After(*latest) {
			name, latest = a.Name, &t
		}
	}
	return name, latest, nil
}

// borgCommand builds a borg invocation. The passphrase is in the
// environment or, from a file, on descriptor 3 (BORG_PASSPHRASE_FD), so it
// is never on the command line. Every prompt is answered no: a check must
// not wait for a person.
func borgCommand(p *probe, c *BorgConfig, args ...string) (command, func(), error) {
	if err := p.limits.resolveRepository("config.repository", c.Repository); err != nil {
		return command{}, nil, err
	}
	env, err := p.passEnv(c.PassEnv)
	if err != nil {
		return command{}, nil, err
	}
	env = append(env, "BORG_RELOCATED_REPO_ACCESS_IS_OK=no", "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=no",
		"BORG_CHECK_I_KNOW_WHAT_I_AM_DOING=NO", "BORG_DELETE_I_KNOW_WHAT_I_AM_DOING=NO")
	cmd := command{tool: "borg", args: append(args, "--", c.Repository)}
	done := func() {}
	if c.PassphraseEnv != "" {
		pw, err := p.envValue(c.PassphraseEnv, "passphrase_env")
		if err != nil {
			return command{}, nil, err
		}
		env = append(env, "BORG_PASSPHRASE="+pw)
	} else {
		file, err := p.secretFile(c.PassphraseFile, "passphrase_file")
		if err != nil {
			return command{}, nil, err
		}
		f, err := os.Open(file)
		if err != nil {
			return command{}, nil, fmt.Errorf("passphrase_file %s cannot be read", c.PassphraseFile)
		}
		cmd.extraFiles = []*os.File{f}
		env = append(env, "BORG_PASSPHRASE_FD=3")
		done = func() { f.Close() }
	}
	cmd.env = env
	return cmd, done, nil
}

// checkBorg lists the archives, reads the newest one's size and runs
// `borg check`.
func checkBorg(ctx context.Context, p *probe, c *BorgConfig) Result {
	borg := func(args ...string) (cmdResult, error) {
		cmd, done, err := borgCommand(p, c, args...)
		if err != nil {
			return cmdResult{}, err
		}
		defer done()
		return p.run.run(ctx, cmd), nil
	}
	res, err := borg("list", "--json")
	if err != nil {
		return Result{Status: StatusError, Message: err.Error()}
	}
	if !res.ok() {
		return toolError("borg could not list archives", res)
	}
	name, latest, err := parseBorgList(res.stdout)
	if err != nil {
		return Result{Status: StatusError, Message: err.Error()}
	}
	if latest == nil {
		return Result{Status: StatusFailed, Message: "the repository holds no archives"}
	}
	r := Result{LatestBackupAt: latest}
	if res, err := borg("info", "--json", "--last", "1"); err == nil && res.ok() {
		r.SizeBytes = parseBorgSize(res.stdout)
	}
	args := []string{"check"}
	if c.VerifyData {
		args = append(args, "--verify-data")
	}
	res, err = borg(args...)
	switch {
	case err != nil:
		return r.with(StatusError, "%v", err)
	case res.err != nil:
		return toolError("borg check could not run", res)
	case !res.ok():
		// borg check exits 1 when it found errors, 2 when it could not
		// complete; either way the repository is not proven intact.
		return r.with(StatusFailed, "borg check found errors: %s", res.lastLines(3))
	}
	r.Verified = true
	what := "repository and archives checked"
	if c.VerifyData {
		what = "repository, archives and all data checked"
	}
	return r.with(StatusOK, "archive %q of %s; %s", name, latest.Format(time.RFC3339), what)
}

// parseBorgSize reads the original size of the archive `borg info --json
// --last 1` describes.
func parseBorgSize(out []byte) *int64 {
	var info struct {
		Archives []struct {
			Stats struct {
				OriginalSize *int64 `json:"original_size"`
			} `json:"stats"`
		} `json:"archives"`
	}
	if json.Unmarshal(out, &info) != nil || len(info.Archives) == 0 {
		return nil
	}
	return info.Archives[0].Stats.OriginalSize
}
