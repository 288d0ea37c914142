package runbooks

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// kitPrefix names the kit directories RotateKit writes and prunes; nothing
// else in the alternate-site directory is touched.
const kitPrefix = "kit-"

// RotateKit writes a fresh kit into a new directory under base (the
// alternate site), named by the time it was made, and removes the oldest
// kits so that at most keep remain. It returns the new kit's path.
func (s *Service) RotateKit(ctx context.Context, base string, keep int, now time.Time) (string, error) {
	if keep < 1 {
		return "", fmt.Errorf("keep must be at least 1, not %d", keep)
	}
	dir := filepath.Join(base, kitPrefix+now.UTC().Format("20060102T150405Z"))
	sink, err := NewDirSink(dir)
	if err != nil {
		return "", err
	}
	_, err = s.WriteKit(ctx, sink)
	if cerr := sink.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// A half-written kit must not pass for a good one.
		_ = os.RemoveAll(dir)
		return "", err
	}
	return dir, pruneKits(base, keep)
}

// pruneKits removes all but the newest keep kit directories; their names
// sort by time.
func pruneKits(base string, keep int) error {
	entries, err := os.ReadDir(base)
	if err != nil {
		return fmt.Errorf("list kits: %w", err)
	}
	var kits []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), kitPrefix) {
			kits = append(kits, e.Name())
		}
	}
	slices.Sort(kits)
	for _, old := range kits[:max(0, len(kits)-keep)] {
		if err := os.RemoveAll(filepath.Join(base, old)); err != nil {
			return fmt.Errorf("remove old kit %s: %w", old, err)
		}
	}
	return nil
}
