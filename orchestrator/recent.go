package orchestrator

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
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
	group  singleflight.Group
}

type recentValue[T any] struct {
	value T
	at    time.Time
}

// Get returns the value for key made at most maxAge ago, making it with
// compute when there is none. compute runs for whoever waits, not only the
// request that started it, so it does not end with that request.
func (r *Recent[K, T]) Get(ctx context.Context, key K, maxAge time.Duration, compute func(context.Context) (T, error)) (T, error) {
	r.mu.Lock()
	if v, ok := r.values[key]; ok && time.Since(v.at) <= maxAge {
		r.mu.Unlock()
		return v.value, nil
	}
	r.mu.Unlock()
	v, err, _ := r.group.Do(fmt.Sprint(key), func() (any, error) {
		v, err := compute(context.WithoutCancel(ctx))
		if err != nil {
			return v, err
		}
		now := time.Now()
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.values == nil {
			r.values = map[K]recentValue[T]{}
		}
		for k, old := range r.values {
			if now.Sub(old.at) > maxAge {
				delete(r.values, k)
			}
		}
		r.values[key] = recentValue[T]{value: v, at: now}
		return v, nil
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}
