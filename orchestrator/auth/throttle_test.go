package auth_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/auth"
)

func TestThrottleMemoryIsBounded(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f := auth.NewThrottle(auth.ThrottleOptions{Burst: 2, Refill: 1, MaxClients: 3})
	for _, c := range []string{"a", "b", "c", "d", "e"} {
		f.Fail(c, start)
	}
	require.Equal(t, 3, f.Tracked())
	// The least recently failing are forgotten first.
	require.Zero(t, f.Wait("a", start))
	f.Fail("e", start)
	f.Fail("e", start)
	require.Positive(t, f.Wait("e", start))

	// Buckets that have refilled are forgotten on the next failure.
	f.Fail("f", start.Add(time.Minute))
	require.Equal(t, 1, f.Tracked())
}
