package backup

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// probe is one check in progress: the target, its scratch directory and
// command runner, and the service's clock and settings.
type probe struct {
	target    Target
	cfg       any
	run       *runner
	scratch   string
	now       time.Time
	lookupEnv func(string) (string, bool)
	limits    limits
	http      httpSettings
}

// httpSettings are the service-wide parts of the http kind.
type httpSettings struct {
	transport    http.RoundTripper
	retryWaitMin time.Duration
	retryWaitMax time.Duration
}

// envValue reads a referenced variable from bcdr's own environment, if
// the operator exposed it.
func (p *probe) envValue(name, field string) (string, error) {
	v, err := p.limits.secrets.Env(p.lookupEnv, name)
	switch {
	case errors.Is(err, secretref.ErrNotSet):
		return "", fmt.Errorf("environment variable %s (%s) %w on this replica", name, field, secretref.ErrNotSet)
	case err != nil:
		return "", fmt.Errorf("%s: %w", field, err)
	}
	return v, nil
}

// passEnv turns pass_env names into KEY=VALUE entries.
func (p *probe) passEnv(names []string) ([]string, error) {
	var env []string
	for _, n := range names {
		v, err := p.envValue(n, "pass_env")
		if err != nil {
			return nil, err
		}
		env = append(env, n+"="+v)
	}
	return env, nil
}

// secretFile returns the real path of a referenced secret file, its links
// followed, failing unless it lies in the secrets directory and is a
// regular file bcdr can open, as the tool that reads it needs.
func (p *probe) secretFile(path, field string) (string, error) {
	real, err := p.limits.secrets.Path(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	f, err := secretref.Open(real)
	if err != nil {
		return "", fmt.Errorf("%s %w", field, err)
	}
	return real, f.Close()
}

// runProbe runs the checker of p's kind under ctx.
func runProbe(ctx context.Context, p *probe) Result {
	var r Result
	switch cfg := p.cfg.(type) {
	case *ResticConfig:
		r = checkRestic(ctx, p, cfg)
	case *BorgConfig:
		r = checkBorg(ctx, p, cfg)
	case *PgBackRestConfig:
		r = checkPgBackRest(ctx, p, cfg)
	case *PgBaseBackupConfig:
		r = checkPgBaseBackup(ctx, p, cfg)
	case *FileConfig:
		r = checkFile(ctx, p, cfg)
	case *HTTPConfig:
		r = checkHTTP(ctx, p, cfg)
	default:
		r = Result{Status: StatusError, Message: fmt.Sprintf("unknown backup kind %q", p.target.Kind)}
	}
	switch {
	case ctx.Err() == nil || r.Status == StatusFailed:
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		r = r.with(StatusError, "check did not finish within its time limit (timeout %s)", p.target.Timeout)
	default:
		r = r.with(StatusError, "check was cancelled before it finished")
	}
	if r.Attempts == 0 {
		r.Attempts = 1
	}
	p.applyMaxAge(&r)
	if r.Output == "" {
		r.Output = p.run.output()
	}
	r.Message = orchestrator.Excerpt(r.Message, maxMessageBytes)
	r.Output = orchestrator.Excerpt(r.Output, MaxOutputBytes)
	return r
}

// applyMaxAge turns an ok result whose newest backup is older than the
// target's max_age into a warning.
func (p *probe) applyMaxAge(r *Result) {
	if p.target.MaxAge == nil || r.Status != StatusOK || r.LatestBackupAt == nil {
		return
	}
	age := p.now.Sub(*r.LatestBackupAt)
	if age > time.Duration(*p.target.MaxAge) {
		r.Status = StatusWarning
		r.Message = fmt.Sprintf("%s; but the newest backup is %s old, beyond max_age %s", r.Message,
			roundAge(age), *p.target.MaxAge)
	}
}

// roundAge makes an age readable: whole seconds, or minutes past an hour.
func roundAge(d time.Duration) string {
	if d >= time.Hour {
		d = d.Round(time.Minute)
	} else {
		d = d.Round(time.Second)
	}
	return d.String()
}

func ptr[T any](v T) *T { return &v }
