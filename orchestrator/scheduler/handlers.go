package scheduler

import (
	"context"
	"fmt"
)

// Handler executes one run of a kind. It should return when ctx ends (the
// schedule's max run time, a lost lease, or shutdown). The output is kept
// as an excerpt in the run history.
type Handler func(ctx context.Context, run Run) (output string, err error)

// Register sets the handler for kind, replacing any earlier one. Runs of a
// kind without a handler fail with a message saying so.
func (s *Scheduler) Register(kind Kind, h Handler) {
	if !kind.Valid() || h == nil {
		panic(fmt.Sprintf("scheduler: invalid registration for kind %q", kind))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[kind] = h
}

func (s *Scheduler) handler(kind Kind) Handler {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.handlers[kind]
}
