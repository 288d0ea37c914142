// Package eventually waits in tests for a condition that other goroutines
// or processes will make true.
//
// Unlike testify's Eventually, the condition runs on the test's own
// goroutine, so it may call require (a failed require ends the test
// properly instead of leaving a goroutine behind), and the bound is
// generous: it only stops a hung test, and a loaded two-core machine must
// not fail a test that is merely slow. What a test asserts never depends on
// the bound.
package eventually

import (
	"fmt"
	"testing"
	"time"
)

// Within is how long True waits before failing the test.
const Within = 2 * time.Minute

// every is how often the condition is polled.
const every = 10 * time.Millisecond

// True polls cond until it returns true, failing the test with msg (a
// format, with args) when Within passes first.
func True(t testing.TB, cond func() bool, msg string, args ...any) {
	t.Helper()
	TrueWithin(t, Within, cond, msg, args...)
}

// TrueWithin is True with another bound, for conditions that a test
// expects quickly and that would otherwise make a broken run slow to end.
func TrueWithin(t testing.TB, within time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if t.Failed() {
			t.FailNow()
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, fmt.Sprintf(msg, args...))
		}
		time.Sleep(every)
	}
}
