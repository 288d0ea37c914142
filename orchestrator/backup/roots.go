package backup

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// limits are what a target may reach on this host: the secrets the
// operator exposed, and local paths under the backup roots. bcdr often
// runs as root; without them a target would report on, or name, any host
// file (/etc/shadow's size, the newest file in /root).
type limits struct {
	secrets secretref.Policy
	// roots are absolute, clean directories; none refuses every local path.
	roots []string
}

// inRoots records on v, under field, that the local path or glob p lies
// outside every root, judged by its text: checks judge it again with
// symbolic links followed.
func (l limits) inRoots(v *orchestrator.Validation, field, p string) {
	for _, r := range l.roots {
		if secretref.Inside(r, p) {
			return
		}
	}
	v.Add(field, "%s", l.outside(p))
}

func (l limits) outside(p string) string {
	if len(l.roots) == 0 {
		return fmt.Sprintf("%s is outside the backup roots: none are configured (BCDR_BACKUP_ROOTS)", p)
	}
	return fmt.Sprintf("%s is outside the backup roots %s (BCDR_BACKUP_ROOTS)", p, strings.Join(l.roots, ":"))
}

// resolve returns the real path of p, named in field, its symbolic links
// followed, failing unless it lies under a root: a link planted under a
// root after the target was created must not lead out of them.
func (l limits) resolve(field, p string) (string, error) {
	real, err := secretref.ResolveInside(l.roots, p)
	if err != nil {
		return "", fmt.Errorf("%s: %w (BCDR_BACKUP_ROOTS)", field, err)
	}
	return real, nil
}

// remoteRepository matches the repositories tools reach over the network
// (s3:, sftp:, rest:, b2:, ssh://, user@host:path): the roots are about
// this host's files, these are somebody else's.
var remoteRepository = regexp.MustCompile(`^([a-z][a-z0-9+.-]*:[^/]|[a-z][a-z0-9+.-]*://|[^/:]+@[^/:]+:)`)

// localRepository returns the local path of a restic or borg repository
// (a path, restic's local:/path, file:///path) and whether it is one.
func localRepository(repo string) (string, bool) {
	for _, prefix := range []string{"local:", "file://"} {
		if rest, ok := strings.CutPrefix(repo, prefix); ok {
			return rest, true
		}
	}
	if remoteRepository.MatchString(repo) {
		return "", false
	}
	return repo, true
}

// repositoryInRoots records on v that a local repository is not an
// absolute path under a root.
func (l limits) repositoryInRoots(v *orchestrator.Validation, field, repo string) {
	local, ok := localRepository(repo)
	switch {
	case !ok:
	case !filepath.IsAbs(local):
		v.Add(field, "must be an absolute path or a remote repository URL")
	default:
		l.inRoots(v, field, local)
	}
}

// resolveRepository checks a local repository again with its links
// followed; a remote one is left alone.
func (l limits) resolveRepository(field, repo string) error {
	if local, ok := localRepository(repo); ok {
		_, err := l.resolve(field, local)
		return err
	}
	return nil
}

// glob returns the matches of pattern, named in field, failing when one
// leads outside the roots by a symbolic link.
func (l limits) glob(field, pattern string) ([]string, error) {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	for _, m := range matches {
		if _, err := l.resolve(field, m); err != nil {
			return nil, err
		}
	}
	return matches, nil
}
