package backup

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// Bounds of a SHA-256 manifest.
const (
	maxManifestFileBytes = 16 << 20
	maxManifestEntries   = 100_000
)

// newestFile returns the most recently modified regular file matching
// pattern, named in field, and how many matched; a match leading outside
// the roots is an error.
func newestFile(l limits, field, pattern string) (string, os.FileInfo, int, error) {
	matches, err := l.glob(field, pattern)
	if err != nil {
		return "", nil, 0, err
	}
	var best string
	var bestInfo os.FileInfo
	n := 0
	for _, m := range matches {
		fi, err := os.Stat(m)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		n++
		if bestInfo == nil || fi.ModTime().After(bestInfo.ModTime()) {
			best, bestInfo = m, fi
		}
	}
	return best, bestInfo, n, nil
}

// manifestEntry is one "HASH  name" line of a sha256sum file.
type manifestEntry struct {
	hash string
	name string
}

// parseManifest reads sha256sum output: a 64-digit hex hash, a space, a
// space or '*' (binary mode), and a file name relative to the manifest.
// Names that leave the manifest's directory are refused.
func parseManifest(r io.Reader) ([]manifestEntry, error) {
	var entries []manifestEntry
	sc := bufio.NewScanner(io.LimitReader(r, maxManifestFileBytes))
	sc.Buffer(make([]byte, 0, 64<<10), 64<<10)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if len(text) < 67 || (text[65] != ' ' && text[65] != '*') || text[64] != ' ' {
			return nil, fmt.Errorf("manifest line %d is not \"SHA256  name\"", line)
		}
		hash := strings.ToLower(text[:64])
		if _, err := hex.DecodeString(hash); err != nil {
			return nil, fmt.Errorf("manifest line %d: %q is not a SHA-256 hash", line, text[:64])
		}
		name := text[66:]
		if filepath.IsAbs(name) || name != filepath.Clean(name) || strings.HasPrefix(name, "..") || hasControl(name) {
			return nil, fmt.Errorf("manifest line %d: %q must be a plain name relative to the manifest", line, name)
		}
		if len(entries) == maxManifestEntries {
			return nil, fmt.Errorf("manifest has more than %d entries", maxManifestEntries)
		}
		entries = append(entries, manifestEntry{hash: hash, name: name})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	if len(entries) == 0 {
		return nil, errors.New("manifest lists no files")
	}
	return entries, nil
}

// hashFile returns the hex SHA-256 of a file, reading through buf and
// stopping when ctx ends.
func hashFile(ctx context.Context, path string, buf []byte) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		n, err := f.Read(buf)
		h.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			return hex.EncodeToString(h.Sum(nil)), nil
		}
		if err != nil {
			return "", err
		}
	}
}

// hashInRoots hashes a file a manifest lists, unless a symbolic link
// leads it outside the roots: the manifest's hash must not confirm a guess
// at a host file.
func hashInRoots(ctx context.Context, l limits, path string, buf []byte) (string, error) {
	if _, err := l.resolve("config.manifest", path); err != nil {
		return "", err
	}
	return hashFile(ctx, path, buf)
}

// checkFile judges the newest file matching the path: its time is the
// latest backup, its size must be within the bounds, and with a manifest
// every listed file must hash as listed. Only a manifest that covers the
// newest file verifies it.
func checkFile(ctx context.Context, p *probe, c *FileConfig) Result {
	path, fi, n, err := newestFile(p.limits, "config.path", c.Path)
	if err != nil {
		return Result{Status: StatusError, Message: err.Error()}
	}
	if fi == nil {
		return Result{Status: StatusFailed, Message: fmt.Sprintf("no file matches %s", c.Path)}
	}
	r := Result{LatestBackupAt: ptr(fi.ModTime().UTC()), SizeBytes: ptr(fi.Size())}
	p.run.note("newest of %d matching files: %s (%d bytes, modified %s)", n, path, fi.Size(), fi.ModTime().UTC().Format(time.RFC3339))
	if c.MinSize != nil && fi.Size() < *c.MinSize {
		return r.with(StatusFailed, "newest file %s is %d bytes, below min_size %d", path, fi.Size(), *c.MinSize)
	}
	if c.MaxSize != nil && fi.Size() > *c.MaxSize {
		return r.with(StatusFailed, "newest file %s is %d bytes, above max_size %d", path, fi.Size(), *c.MaxSize)
	}
	if c.Manifest == "" {
		return r.with(StatusOK, "newest file %s, %d bytes; integrity not verified (no manifest)", path, fi.Size())
	}
	manifest, mfi, _, err := newestFile(p.limits, "config.manifest", c.Manifest)
	if err != nil {
		return r.with(StatusError, "%v", err)
	}
	if mfi == nil {
		return r.with(StatusFailed, "manifest %s not found", c.Manifest)
	}
	checked, covered, err := verifyManifest(ctx, p, manifest, path)
	if err != nil {
		return r.with(StatusFailed, "%v", err)
	}
	if !covered {
		return r.with(StatusWarning, "manifest %s (%d files, all match) does not list the newest file %s; integrity not verified",
			manifest, checked, path)
	}
	r.Verified = true
	return r.with(StatusOK, "newest file %s, %d bytes; %d files match manifest %s", path, fi.Size(), checked, manifest)
}

// verifyManifest hashes every file the manifest lists and reports how many
// matched and whether newest was among them. The first mismatch or missing
// file is the error.
func verifyManifest(ctx context.Context, p *probe, manifest, newest string) (int, bool, error) {
	f, err := os.Open(manifest)
	if err != nil {
		return 0, false, fmt.Errorf("manifest %s cannot be read: %w", manifest, errors.Unwrap(err))
	}
	entries, err := parseManifest(f)
	f.Close()
	if err != nil {
		return 0, false, fmt.Errorf("manifest %s: %w", manifest, err)
	}
	dir := filepath.Dir(manifest)
	covered := false
	var bad []string
	buf := make([]byte, 256<<10)
	for _, e := range entries {
		path := filepath.Join(dir, e.name)
		got, err := hashInRoots(ctx, p.limits, path, buf)
		switch {
		case ctx.Err() != nil:
			return 0, false, ctx.Err()
		case errors.Is(err, secretref.ErrOutside):
			bad = append(bad, e.name+" leads outside the backup roots")
		case errors.Is(err, os.ErrNotExist):
			bad = append(bad, e.name+" is missing")
		case err != nil:
			bad = append(bad, e.name+" cannot be read")
		case got != e.hash:
			bad = append(bad, e.name+" does not match its SHA-256")
		}
		if path == newest {
			covered = true
		}
	}
	p.run.note("manifest %s: %d files, %d mismatches", manifest, len(entries), len(bad))
	for _, b := range bad {
		p.run.note("  %s", b)
	}
	if len(bad) > 0 {
		more := ""
		if len(bad) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(bad)-1)
		}
		return 0, false, fmt.Errorf("manifest check failed: %s%s", bad[0], more)
	}
	return len(entries), covered, nil
}
