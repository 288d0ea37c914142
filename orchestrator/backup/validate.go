package backup

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
)

// checkRepository accepts a local path or a tool URL (sftp:, s3:,
// rest:https://...) without embedded credentials; a local path must lie
// under a backup root.
func checkRepository(v *orchestrator.Validation, field, repo string, l limits) {
	switch {
	case strings.TrimSpace(repo) == "":
		v.Add(field, "is required")
	case len(repo) > maxPathBytes || hasControl(repo):
		v.Add(field, "must be printable text of at most %d bytes", maxPathBytes)
	case strings.HasPrefix(repo, "-"):
		v.Add(field, "must not start with '-'")
	case hasURLPassword(repo):
		v.Add(field, "must not embed a password; reference the secret by environment variable or file")
	default:
		l.repositoryInRoots(v, field, repo)
	}
}

// hasURLPassword finds user:password@ in a URL, possibly behind a tool
// prefix such as rest: or s3:.
func hasURLPassword(s string) bool {
	i := strings.Index(s, "://")
	if i < 0 {
		return false
	}
	rest := s[i+3:]
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		rest = rest[:j]
	}
	at := strings.LastIndexByte(rest, '@')
	return at >= 0 && strings.Contains(rest[:at], ":")
}

// checkURL accepts an http(s) URL without credentials in it.
func checkURL(v *orchestrator.Validation, field, raw string) {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		v.Add(field, "is required")
	case len(raw) > maxPathBytes || hasControl(raw):
		v.Add(field, "must be printable text of at most %d bytes", maxPathBytes)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		v.Add(field, "must be an http or https URL")
	case u.User != nil:
		v.Add(field, "must not embed credentials; use bearer_token_env")
	default:
		for name := range u.Query() {
			if secretName.MatchString(name) || strings.EqualFold(name, "sig") || strings.EqualFold(name, "signature") {
				v.Add(field, "must not carry a secret in its query (%s); use bearer_token_env", name)
				return
			}
		}
	}
}

// checkPath accepts a clean absolute path under a backup root; with glob,
// also a valid pattern.
func checkPath(v *orchestrator.Validation, field, p string, glob bool, l limits) {
	switch {
	case p == "":
		v.Add(field, "is required")
	case len(p) > maxPathBytes || hasControl(p):
		v.Add(field, "must be printable text of at most %d bytes", maxPathBytes)
	case !filepath.IsAbs(p):
		v.Add(field, "must be an absolute path")
	case filepath.Clean(p) != p || strings.Contains(p, "/../"):
		v.Add(field, "must be a clean path (no '..', '//' or trailing '/')")
	case !glob && strings.ContainsAny(p, "*?["):
		v.Add(field, "must be a single file, not a pattern")
	case glob && !validGlob(p):
		v.Add(field, "is not a valid glob pattern")
	default:
		l.inRoots(v, field, p)
	}
}

func validGlob(p string) bool {
	_, err := filepath.Match(p, "")
	return err == nil
}

// checkPassEnv applies the secret-reference rule to the variables passed
// to a tool: their values leave bcdr as much as a password does.
func checkPassEnv(v *orchestrator.Validation, names []string, l limits) {
	if len(names) > maxPassEnv {
		v.Add("config.pass_env", "must name at most %d variables", maxPassEnv)
		return
	}
	for i, n := range names {
		l.secrets.ValidateEnv(v, fmt.Sprintf("config.pass_env[%d]", i), n)
	}
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == 0xfffd })
}
