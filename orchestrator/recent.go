package orchestrator

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Recent keeps the last values a costly computation made, by key, for
// pages that many people look at at once: a value younger than the age
// asked for is returned as it is, and the requests that arrive while it is
// computed again wait for that one computation instead of each starting
// their own. Values older than the age asked for are dropped as new ones
// are kept, so the cache holds only what was asked for lately. The zero
// Recent is ready to use.
type Recent[K comparable, T any] struct {
	mu     sync.Mutex
	values map[K]recentValue[T]
	calls  map[K]*recentCall[T]
}

type recentValue[T any] struct {
	value T
	at    time.Time
}

// recentCall is a computation under way and, once done is closed, its
// outcome.
type recentCall[T any] struct {
	done  chan struct{}
	value T
	err   error
}

// Get returns the value for key made at most maxAge ago, making it with
// compute when there is none. compute runs for whoever waits, not only the
// request that started it, so it does not end with that request; a waiter
// whose ctx ends stops waiting.
func (r *Recent[K, T]) Get(ctx context.Context, key K, maxAge time.Duration, compute func(context.Context) (T, error)) (T, error) {
	r.mu.Lock()
	if v, ok := r.values[key]; ok && time.Since(v.at) <= maxAge {
		r.mu.Unlock()
		return v.value, nil
	}
	if c, ok := r.calls[key]; ok {
		r.mu.Unlock()
		select {
		case <-c.done:
			return c.value, c.err
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
	}
	c := &recentCall[T]{done: make(chan struct{})}
	if r.calls == nil {
		r.calls, r.values = map[K]*recentCall[T]{}, map[K]recentValue[T]{}
	}
	r.calls[key] = c
	r.mu.Unlock()

	r.compute(ctx, key, maxAge, c, compute)
	return c.value, c.err
}

// compute makes the value of call c and keeps it; waiters are released
// even when compute panics (the panic goes on up, nothing is kept).
func (r *Recent[K, T]) compute(ctx context.Context, key K, maxAge time.Duration, c *recentCall[T], compute func(context.Context) (T, error)) {
	made := false
	defer func() {
		now := time.Now()
		r.mu.Lock()
		delete(r.calls, key)
		if made && c.err == nil {
			for k, old := range r.values {
				if now.Sub(old.at) > maxAge {
					delete(r.values, k)
				}
			}
			r.values[key] = recentValue[T]{value: c.value, at: now}
		} else if !made {
			c.err = errors.New("the computation failed")
		}
		r.mu.Unlock()
		close(c.done)
	}()
	c.value, c.err = compute(context.WithoutCancel(ctx))
	made = true
}
