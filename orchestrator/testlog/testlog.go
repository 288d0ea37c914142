// Package testlog sends the logs of code under test to the test's log,
// shown when the test fails, and drops what goroutines still write after
// the test has ended: calling t.Log then panics or races.
package testlog

import (
	"io"
	"log/slog"
	"sync"
	"testing"
)

// writer writes to t.Log until the test's cleanups run.
type writer struct {
	mu    sync.Mutex
	t     testing.TB
	ended bool
}

// Writer returns a writer to t's log that falls silent once t's cleanups
// start. Create it before starting goroutines that write to it, so that
// cleanups stopping them run first (cleanups run last-registered first).
func Writer(t testing.TB) io.Writer {
	w := &writer{t: t}
	t.Cleanup(w.end)
	return w
}

// Logger returns a text logger at debug level writing to Writer(t).
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(Writer(t), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (w *writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.ended {
		w.t.Logf("%s", p)
	}
	return len(p), nil
}

func (w *writer) end() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ended = true
}
