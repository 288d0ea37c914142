package report

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// recent keeps the last value a costly computation made, for pages that
// many people look at at once: a value younger than the age asked for is
// returned as it is, and the requests that arrive while it is computed
// again wait for that one computation instead of each starting their own.
type recent[T any] struct {
	mu    sync.Mutex
	value T
	at    time.Time
	made  bool
	group singleflight.Group
}

// get returns the value made at most maxAge ago, making it with compute when
// there is none. compute runs for whoever waits, not only the request that
// started it, so it does not end with that request.
func (r *recent[T]) get(ctx context.Context, maxAge time.Duration, compute func(context.Context) (T, error)) (T, error) {
	r.mu.Lock()
	if r.made && time.Since(r.at) <= maxAge {
		v := r.value
		r.mu.Unlock()
		return v, nil
	}
	r.mu.Unlock()
	v, err, _ := r.group.Do("", func() (any, error) {
		v, err := compute(context.WithoutCancel(ctx))
		if err != nil {
			return v, err
		}
		r.mu.Lock()
		r.value, r.at, r.made = v, time.Now(), true
		r.mu.Unlock()
		return v, nil
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return v.(T), nil
}
