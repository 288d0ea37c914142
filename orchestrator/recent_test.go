package orchestrator

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Requests for one key at once share one computation; keys apart are
// computed apart; a failure is not kept; old values are dropped.
func TestRecentSharesByKey(t *testing.T) {
	var r Recent[int, int]
	var calls atomic.Int32
	release := make(chan struct{})
	compute := func(v int) func(context.Context) (int, error) {
		return func(context.Context) (int, error) {
			calls.Add(1)
			<-release
			return v, nil
		}
	}
	var wg sync.WaitGroup
	got := make([]int, 8)
	for i := range got {
		wg.Go(func() {
			v, err := r.Get(t.Context(), i%2, time.Minute, compute(10+i%2))
			require.NoError(t, err)
			got[i] = v
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	require.LessOrEqual(t, calls.Load(), int32(4), "waiters share a computation")
	for i, v := range got {
		require.Equal(t, 10+i%2, v)
	}
	before := calls.Load()
	v, err := r.Get(t.Context(), 1, time.Minute, compute(99))
	require.NoError(t, err)
	require.Equal(t, 11, v, "a recent value is kept")
	require.Equal(t, before, calls.Load())

	_, err = r.Get(t.Context(), 2, time.Minute, func(context.Context) (int, error) { return 0, errors.New("down") })
	require.Error(t, err)
	v, err = r.Get(t.Context(), 2, time.Minute, func(context.Context) (int, error) { return 5, nil })
	require.NoError(t, err)
	require.Equal(t, 5, v, "a failure is not kept")

	time.Sleep(5 * time.Millisecond)
	_, err = r.Get(t.Context(), 3, time.Millisecond, func(context.Context) (int, error) { return 3, nil })
	require.NoError(t, err)
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Len(t, r.values, 1, "values older than the age asked for are dropped")
}

// A computation that panics keeps nothing and leaves the key free.
func TestRecentAfterPanic(t *testing.T) {
	var r Recent[string, int]
	require.Panics(t, func() {
		_, _ = r.Get(t.Context(), "k", time.Minute, func(context.Context) (int, error) { panic("boom") })
	})
	v, err := r.Get(t.Context(), "k", time.Minute, func(context.Context) (int, error) { return 7, nil })
	require.NoError(t, err)
	require.Equal(t, 7, v)
}
