package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Handler executes one run of a kind. It should return when ctx ends (the
// schedule's max run time, a lost lease, or shutdown). The output is kept
// as an excerpt in the run history. An error the database's own failure
// caused (postgres.IsTransient) puts the run back in the queue instead of
// failing it.
type Handler func(ctx context.Context, run Run) (output string, err error)

// Recorder writes what a run produced on q, the transaction that records
// the run's outcome.
type Recorder func(ctx context.Context, q postgres.Querier) error

// RecordOnFinish makes rec part of the transaction that records the outcome
// of the run whose handler was given ctx, whatever that outcome: what rec
// writes commits with the run's end, exactly once, and is dropped with it
// when the lease was lost, the run goes back to the queue, or the handler
// panicked or had to be abandoned. A handler calls it before it returns.
// rec runs again, on a new transaction, when the database fails while the
// outcome is being written.
// If rec fails for a reason other than the database's (see
// postgres.IsTransient), the run is recorded failed without it.
func RecordOnFinish(ctx context.Context, rec Recorder) error {
	r, _ := ctx.Value(recordersKey{}).(*recorders)
	if r == nil || rec == nil {
		return errors.New("scheduler: RecordOnFinish needs a run handler's context and a recorder")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sealed {
		return errors.New("scheduler: RecordOnFinish called after the handler returned")
	}
	r.list = append(r.list, rec)
	return nil
}

// recorders are what one invocation's handler asked RecordOnFinish for.
type recorders struct {
	mu     sync.Mutex
	list   []Recorder
	sealed bool
}

type recordersKey struct{}

// seal ends registration and returns what was registered.
func (r *recorders) seal() []Recorder {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sealed = true
	return r.list
}

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
