package backup

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// MaxCheckDuration bounds one check, recording included: the longest
// target timeout and a minute. The API's check-now route waits this long.
const MaxCheckDuration = maxTimeout + time.Minute

// CheckNow runs a check of target id at once, records it and returns it.
// It is audited as the caller's action.
func (s *Service) CheckNow(ctx context.Context, id int64) (Check, error) {
	return s.checkAndRecord(ctx, id, TriggerManual)
}

// checkAndRecord loads the target, runs its check and records the result
// in a transaction of its own.
func (s *Service) checkAndRecord(ctx context.Context, id int64, trigger string) (Check, error) {
	c, err := s.check(ctx, id)
	if err != nil {
		return Check{}, err
	}
	// The check's own deadline may have passed; recording must not fail
	// for it.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return s.record(rctx, c, trigger)
}

// checked is a check that ran, with what recording it needs.
type checked struct {
	target   Target
	required *orchestrator.Duration // the CI's required RPO; nil when none
	result   Result
	started  time.Time
	took     time.Duration
}

// check loads target id and its CI's required RPO, then runs its check. It
// writes nothing: the caller records the result.
func (s *Service) check(ctx context.Context, id int64) (checked, error) {
	t, err := s.Get(ctx, id)
	if err != nil {
		return checked{}, err
	}
	required, err := s.required(ctx, t.CI)
	if err != nil {
		return checked{}, err
	}
	started := s.rt.Now()
	mono := time.Now()
	r := s.run(ctx, t)
	took := time.Since(mono)
	s.logger.LogAttrs(ctx, logLevel(r.Status), "backup check", slogAttrs(t, r, took)...)
	return checked{target: t, required: required, result: r, started: started, took: took}, nil
}

// run checks t under its timeout in a scratch directory of its own,
// removed afterwards; it never returns an error, only results.
func (s *Service) run(ctx context.Context, t Target) Result {
	var v orchestrator.Validation
	cfg := parseConfig(t.Kind, t.Config, s.limits, &v)
	if err := v.Err(); err != nil || cfg == nil {
		return Result{Status: StatusError, Attempts: 1, Message: fmt.Sprintf("stored config is no longer valid: %v", err)}
	}
	// Only kinds that run tools need a scratch directory (their HOME).
	var scratch string
	if t.Kind != KindFile && t.Kind != KindHTTP {
		var err error
		if scratch, err = os.MkdirTemp(s.scratchDir, "bcdr-check-"); err != nil {
			return Result{Status: StatusError, Attempts: 1, Message: fmt.Sprintf("create scratch directory: %v", err)}
		}
		defer removeScratch(scratch, s)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(t.Timeout))
	defer cancel()
	p := &probe{target: t, cfg: cfg, run: newRunner(scratch), scratch: scratch, now: s.rt.Now(),
		lookupEnv: s.lookupEnv, limits: s.limits, http: s.http}
	return runProbe(ctx, p)
}

// removeScratch deletes a check's scratch directory, first making every
// directory in it writable: a restore may have recreated read-only ones.
func removeScratch(dir string, s *Service) {
	if os.RemoveAll(dir) == nil {
		return
	}
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(path, 0o700)
		}
		return nil
	})
	if err := os.RemoveAll(dir); err != nil {
		s.logger.Warn("could not remove a backup check's scratch directory", "dir", dir, "error", err)
	}
}
