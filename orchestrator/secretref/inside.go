package secretref

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// Inside reports whether path, cleaned, is dir or lies below it, by their
// text alone: both are absolute, and a glob's metacharacters count as
// plain characters, so a pattern is inside only if everything it can
// match is.
func Inside(dir, path string) bool {
	if !filepath.IsAbs(dir) || !filepath.IsAbs(path) {
		return false
	}
	dir, path = filepath.Clean(dir), filepath.Clean(path)
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}

// ErrOutside says a path leads out of the directories it must stay in.
var ErrOutside = errors.New("is outside")

// ResolveInside follows path's symbolic links and returns the real path,
// failing unless it lies inside one of dirs (their own links followed
// too). A path that does not exist is returned cleaned when inside by its
// text, for the caller to report as missing.
func ResolveInside(dirs []string, path string) (string, error) {
	real, err := filepath.EvalSymlinks(path)
	if errors.Is(err, fs.ErrNotExist) {
		real, err = filepath.Clean(path), nil
	}
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", path, unwrapPathError(err))
	}
	for _, d := range dirs {
		if rd, err := filepath.EvalSymlinks(d); err == nil {
			d = rd
		}
		if Inside(d, real) {
			return real, nil
		}
	}
	if real != filepath.Clean(path) {
		return "", fmt.Errorf("%s leads to %s, which %w %s", path, real, ErrOutside, strings.Join(dirs, ":"))
	}
	return "", fmt.Errorf("%s %w %s", path, ErrOutside, strings.Join(dirs, ":"))
}
