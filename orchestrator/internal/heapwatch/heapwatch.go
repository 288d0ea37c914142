// Package heapwatch measures the peak live heap of a stretch of work, for
// the benchmarks that show memory stays flat as an input grows.
package heapwatch

import (
	"runtime"
	"time"
)

// interval is how often the heap is sampled.
const interval = 20 * time.Millisecond

// Start samples the live heap until the returned stop is called, which
// returns the largest value seen, in bytes.
func Start() (stop func() uint64) {
	done := make(chan struct{})
	result := make(chan uint64)
	go func() {
		var (
			m    runtime.MemStats
			peak uint64
		)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
			select {
			case <-done:
				result <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-result }
}
