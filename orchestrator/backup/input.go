package backup

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
)

// validTarget is a TargetInput that passed validation, with its parsed
// parts.
type validTarget struct {
	in      TargetInput
	cfg     any
	config  json.RawMessage // normalised
	spec    cron.Schedule
	timeout time.Duration
	maxAge  *time.Duration
}

// validate checks every field of in, naming each one at fault, and
// normalises the config so that only known settings are stored; secret
// references and local paths are judged by l.
func (in TargetInput) validate(l limits) (validTarget, error) {
	var v orchestrator.Validation
	in.CI = strings.TrimSpace(in.CI)
	in.Name = strings.TrimSpace(in.Name)
	in.Schedule = strings.TrimSpace(in.Schedule)
	if in.Timezone == "" {
		in.Timezone = "UTC"
	}
	v.Require("ci", in.CI)
	if len(in.CI) > 128 || hasControl(in.CI) {
		v.Add("ci", "must be a CI key")
	}
	if in.Name == "" {
		in.Name = in.CI + " " + string(in.Kind)
	}
	if len(in.Name) > maxNameBytes || hasControl(in.Name) {
		v.Add("name", "must be printable text of at most %d bytes", maxNameBytes)
	}
	vt := validTarget{timeout: defaultTimeout}
	if !slices.Contains(Kinds, in.Kind) {
		v.Add("kind", "must be one of restic, borg, pgbackrest, pg_basebackup, file, http")
	} else {
		vt.cfg = parseConfig(in.Kind, in.Config, l, &v)
	}
	if in.RestoreTest && in.Kind != KindRestic && in.Kind != KindPgBaseBackup {
		v.Add("restore_test", "is available for restic and pg_basebackup targets only")
	}
	if in.Schedule == "" {
		v.Add("schedule", "is required: a cron expression such as \"0 * * * *\" or @daily")
	} else if spec, err := scheduler.ParseCron(in.Schedule, in.Timezone); err != nil {
		for _, f := range orchestrator.ErrorFields(err) {
			name := f.Field
			if name == "cron" {
				name = "schedule"
			}
			v.Add(name, "%s", f.Message)
		}
	} else {
		vt.spec = spec
	}
	if in.Timeout != "" {
		d, err := orchestrator.ParseDuration(in.Timeout)
		if err != nil || d < orchestrator.Duration(time.Second) || time.Duration(d) > maxTimeout {
			v.Add("timeout", "must be a duration from 1s to %s", orchestrator.Duration(maxTimeout))
		}
		vt.timeout = time.Duration(d)
	}
	if in.MaxAge != "" {
		d, err := orchestrator.ParseDuration(in.MaxAge)
		if err != nil || d < orchestrator.Duration(time.Minute) {
			v.Add("max_age", "must be a duration of at least 1m, such as 26h")
		}
		vt.maxAge = ptr(time.Duration(d))
	}
	if err := v.Err(); err != nil {
		return validTarget{}, err
	}
	vt.config, _ = json.Marshal(vt.cfg)
	vt.in = in
	return vt, nil
}

// maxRun is the schedule's max run time: the check's timeout and a minute
// to record it.
func (vt validTarget) maxRun() time.Duration { return vt.timeout + time.Minute }
