package localpg

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Two flock(2) files in Config.Dir coordinate every process that uses one
// cluster. The kernel drops a dead process's locks, so a crash never leaves
// them held.
//
//   - startLock is held exclusively while a process starts or stops the
//     server, so two processes never run initdb or pg_ctl at once.
//   - usersLock is held shared by every live Cluster. Stop stops the server
//     only if it can then take usersLock exclusively, i.e. when no other
//     Cluster uses the server, whoever started it. A server orphaned by a
//     crashed process is thus stopped by the next process that uses it.
const (
	startLockName = "localpg-start.lock"
	usersLockName = "localpg-users.lock"
	lockPollEvery = 50 * time.Millisecond
)

// lock opens path and takes a flock of kind how (syscall.LOCK_SH or
// LOCK_EX), waiting until it is free or ctx ends. Closing the file releases
// the lock.
func lock(ctx context.Context, path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	ticker := time.NewTicker(lockPollEvery)
	defer ticker.Stop()
	for {
		err := flock(f, how|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for lock %s: %w", path, ctx.Err())
		case <-ticker.C:
		}
	}
}

// tryLock is lock without waiting: ok is false when the lock is held
// elsewhere.
func tryLock(path string, how int) (f *os.File, ok bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("open lock %s: %w", path, err)
	}
	err = flock(f, how|syscall.LOCK_NB)
	if err == nil {
		return f, true, nil
	}
	f.Close()
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, false, nil
	}
	return nil, false, fmt.Errorf("lock %s: %w", path, err)
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
