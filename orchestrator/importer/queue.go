package importer

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// Limits bound the imports one registry, and so one replica, runs. An
// import holds a pooled connection for as long as its upload lasts, so
// imports wait their turn in memory, holding none, and a replica with too
// many already waiting refuses more instead of queueing them without end.
type Limits struct {
	// Running is how many imports run at once, each on one connection [2].
	Running int
	// Waiting is how many more may wait in memory for a turn; an import
	// beyond them is refused with a BusyError [16].
	Waiting int
	// RetryAfter is how long a refused import is told to wait [30s].
	RetryAfter time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.Running <= 0 {
		l.Running = 2
	}
	if l.Waiting <= 0 {
		l.Waiting = 16
	}
	if l.RetryAfter <= 0 {
		l.RetryAfter = 30 * time.Second
	}
	return l
}

// BusyError refuses an import because the registry's queue is full;
// nothing was read or written. Its code is ERATELIMITED.
type BusyError struct {
	// RetryAfter is how long the caller should wait before trying again.
	RetryAfter time.Duration
}

func (e *BusyError) Error() string {
	return "too many imports are running or waiting on this server; retry later"
}

// Unwrap gives the error its ERATELIMITED code.
func (e *BusyError) Unwrap() error {
	return &orchestrator.Error{Code: orchestrator.ERATELIMITED, Message: e.Error()}
}

// queue admits the imports of one registry: at most Running+Waiting at
// once, one of each record type at a time (imports of one type take turns
// anyway, through an advisory lock, which would hold a connection while
// waiting), and at most Running past their wait.
type queue struct {
	limits   Limits
	admitted chan struct{} // one token per import running or waiting
	running  chan struct{} // one token per import running
}

func newQueue(l Limits) *queue {
	l = l.withDefaults()
	return &queue{limits: l, admitted: make(chan struct{}, l.Running+l.Waiting), running: make(chan struct{}, l.Running)}
}

// admitted is a record type registered with a queue: its turn lets one
// import of the type run at a time on this replica.
type admitted struct {
	Kind
	queue *queue
	turn  chan struct{}
}

// enter waits, without a connection, until the import may run, and returns
// what ends its turn. A full queue refuses at once; ctx ending gives up.
func (a *admitted) enter(ctx context.Context) (leave func(), err error) {
	q := a.queue
	select {
	case q.admitted <- struct{}{}:
	default:
		return nil, &BusyError{RetryAfter: q.limits.RetryAfter}
	}
	select {
	case a.turn <- struct{}{}:
	case <-ctx.Done():
		<-q.admitted
		return nil, fmt.Errorf("wait for other %s imports: %w", a.TypeName(), context.Cause(ctx))
	}
	select {
	case q.running <- struct{}{}:
	case <-ctx.Done():
		<-a.turn
		<-q.admitted
		return nil, fmt.Errorf("wait for an import slot: %w", context.Cause(ctx))
	}
	return func() {
		<-q.running
		<-a.turn
		<-q.admitted
	}, nil
}

// WithLimits returns a registry of the same record types admitting imports
// within l, with a queue of its own.
func (r Registry) WithLimits(l Limits) Registry {
	q := newQueue(l)
	out := Registry{}
	for name, k := range r {
		if a, ok := k.(*admitted); ok {
			k = a.Kind
		}
		out[name] = &admitted{Kind: k, queue: q, turn: make(chan struct{}, 1)}
	}
	return out
}

// Load says how many imports are running and how many are waiting for a
// turn.
func (r Registry) Load() (running, waiting int) {
	for _, k := range r {
		if a, ok := k.(*admitted); ok {
			return len(a.queue.running), max(len(a.queue.admitted)-len(a.queue.running), 0)
		}
	}
	return 0, 0
}

// interruptible returns a reader of body whose reads end as soon as ctx
// does, even while body blocks (a trickling upload), so that a cancelled
// import stops at once. body is read by a goroutine of its own, which
// finishes its blocked read on its own time after the import has gone;
// stop releases it.
func interruptible(ctx context.Context, body io.Reader) (r io.Reader, stop func()) {
	pr, pw := io.Pipe()
	go func() {
		_, err := io.Copy(pw, body)
		pw.CloseWithError(err)
	}()
	unwatch := context.AfterFunc(ctx, func() { pr.CloseWithError(context.Cause(ctx)) })
	return pr, func() {
		unwatch()
		pr.Close()
	}
}
