package orchestrator

import (
	"log/slog"
	"sync"
	"time"
)

// Clock tells the time; services take one so tests can fix it.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// Runtime is what every service is given besides its storage: where it logs
// and what time it is. Constructors take it by value as their second
// argument, after the pool.
//
// The zero value is ready to use: a nil Logger discards, a nil Clock means
// real time. Real time is the system clock for what one process decides on
// its own, and the database's now() for what replicas coordinate (leases,
// firings, due times), so that every replica measures those on one clock;
// postgres.NowArg turns a Runtime's Clock into that SQL argument. Tests set
// Clock to fix or move time in both places.
type Runtime struct {
	Logger *slog.Logger
	Clock  Clock
}

// Log is the runtime's logger, discarding when none was given.
func (r Runtime) Log() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// Now is the runtime's time: its Clock's, else the system clock's.
func (r Runtime) Now() time.Time {
	if r.Clock == nil {
		return time.Now()
	}
	return r.Clock.Now()
}

// ManualClock is a Clock moved by hand, safe for concurrent use: what tests
// (and anything replaying time) give a Runtime to fix or move time.
type ManualClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewManualClock returns a clock standing at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{t: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Advance moves the clock on by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
