package backup

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// pgbackrestInfo is the part of `pgbackrest info --output=json` a check
// reads: the stanza's status and its backups.
type pgbackrestInfo struct {
	Name   string `json:"name"`
	Status struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
	Backup []struct {
		Label     string `json:"label"`
		Type      string `json:"type"`
		Error     *bool  `json:"error"`
		Timestamp struct {
			Start int64 `json:"start"`
			Stop  int64 `json:"stop"`
		} `json:"timestamp"`
		Info struct {
			Size int64 `json:"size"`
		} `json:"info"`
	} `json:"backup"`
}

// pgbackrestNoBackups is the stanza status code for "no valid backups".
const pgbackrestNoBackups = 2

// parsePgBackRestInfo judges `pgbackrest info --output=json` for stanza:
// a stanza in error is an error of the check (it is misconfigured or
// unreachable), one without valid backups or whose newest backup recorded
// errors is failed. The label of the newest backup is returned for verify.
func parsePgBackRestInfo(out []byte, stanza string) (Result, string) {
	var stanzas []pgbackrestInfo
	if err := json.Unmarshal(out, &stanzas); err != nil {
		return Result{Status: StatusError, Message: fmt.Sprintf("read pgbackrest info: %v", err)}, ""
	}
	var info *pgbackrestInfo
	for i := range stanzas {
		if stanzas[i].Name == stanza {
			info = &stanzas[i]
		}
	}
	switch {
	case info == nil:
		return Result{Status: StatusError, Message: fmt.Sprintf("pgbackrest info does not list stanza %q", stanza)}, ""
	case info.Status.Code == pgbackrestNoBackups:
		return Result{Status: StatusFailed, Message: fmt.Sprintf("stanza %q has no valid backups", stanza)}, ""
	case info.Status.Code != 0:
		return Result{Status: StatusError, Message: fmt.Sprintf("stanza %q: %s (pgbackrest status code %d)",
			stanza, info.Status.Message, info.Status.Code)}, ""
	case len(info.Backup) == 0:
		return Result{Status: StatusFailed, Message: fmt.Sprintf("stanza %q has no backups", stanza)}, ""
	}
	latest := info.Backup[0]
	for _, b := range info.Backup[1:] {
		if b.Timestamp.Stop > latest.Timestamp.Stop {
			latest = b
		}
	}
	r := Result{LatestBackupAt: ptr(time.Unix(latest.Timestamp.Stop, 0).UTC()), SizeBytes: ptr(latest.Info.Size)}
	if latest.Error != nil && *latest.Error {
		return r.with(StatusFailed, "the newest backup %s recorded page checksum errors", latest.Label), latest.Label
	}
	return r.with(StatusOK, "%s backup %s finished %s", latest.Type, latest.Label,
		r.LatestBackupAt.Format(time.RFC3339)), latest.Label
}

// parsePgBackRestVerify reads `pgbackrest verify --output=text --verbose`:
// the stanza's overall status and each backup's. It returns whether the
// repository and the labelled backup are valid, and a summary.
func parsePgBackRestVerify(out []byte, label string) (bool, string) {
	status, labelStatus := "", ""
	var invalid []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "status: ") && status == "":
			status = strings.TrimPrefix(line, "status: ")
		case strings.HasPrefix(line, "backup: "):
			name, rest, _ := strings.Cut(strings.TrimPrefix(line, "backup: "), ",")
			st := ""
			if _, after, ok := strings.Cut(rest, "status: "); ok {
				st, _, _ = strings.Cut(after, ",")
			}
			if name == label {
				labelStatus = st
			}
			if st != "valid" {
				invalid = append(invalid, name+" "+st)
			}
		}
	}
	switch {
	case status == "":
		return false, "pgbackrest verify printed no status"
	case status != "ok":
		return false, fmt.Sprintf("pgbackrest verify: status %s; invalid: %s", status, strings.Join(invalid, ", "))
	case labelStatus != "valid":
		return false, fmt.Sprintf("pgbackrest verify did not report the newest backup %s as valid", label)
	}
	return true, "verify: repository and backups valid"
}

// checkPgBackRest reads the stanza's info and, unless turned off, runs
// `pgbackrest verify`, which checks every file's checksum in the repository.
func checkPgBackRest(ctx context.Context, p *probe, c *PgBackRestConfig) Result {
	env, err := p.passEnv(c.PassEnv)
	if err != nil {
		return Result{Status: StatusError, Message: err.Error()}
	}
	base := []string{"--stanza=" + c.Stanza, "--log-level-console=warn", "--log-level-file=off"}
	if c.Config != "" {
		config, err := p.limits.resolve("config.config", c.Config)
		if err != nil {
			return Result{Status: StatusError, Message: err.Error()}
		}
		base = append(base, "--config="+config)
	}
	res := p.run.run(ctx, command{tool: "pgbackrest", env: env, args: append(base, "--output=json", "info")})
	if !res.ok() {
		return toolError("pgbackrest info failed", res)
	}
	r, label := parsePgBackRestInfo(res.stdout, c.Stanza)
	if r.Status != StatusOK || !c.verify() {
		if r.Status == StatusOK {
			r.Message += "; integrity not verified (verify is off)"
		}
		return r
	}
	res = p.run.run(ctx, command{tool: "pgbackrest", env: env, args: append(base, "--output=text", "--verbose", "verify")})
	if !res.ok() {
		return r.with(StatusError, "pgbackrest verify could not run: %s", describeFailure(res))
	}
	ok, summary := parsePgBackRestVerify(res.stdout, label)
	if !ok {
		return r.with(StatusFailed, "%s", summary)
	}
	r.Verified = true
	return r.with(StatusOK, "%s; %s", r.Message, summary)
}
