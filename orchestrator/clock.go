package orchestrator

import (
	"log/slog"
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
