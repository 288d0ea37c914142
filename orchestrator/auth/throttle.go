package auth

import (
	"container/list"
	"math"
	"net/netip"
	"sync"
	"time"
)

// Defaults for the failed-authentication throttle.
const (
	defaultAuthBurst      = 20
	defaultAuthRefill     = 1.0
	defaultAuthMaxClients = 10000
)

// ThrottleOptions bound how many failed authentications one client
// address may make: a bucket of Burst failures that refills at Refill
// failures a second. Zero fields take the defaults (20, 1/s, 10,000).
type ThrottleOptions struct {
	Burst  int
	Refill float64
	// MaxClients caps the addresses tracked at once; past it the address
	// that failed least recently is forgotten.
	MaxClients int
}

// Throttle is a token bucket per client address that only failed
// authentications drain: the API's bearer tokens and the web UI's logins
// share one, so a client guessing tokens gets no second budget. An address is tracked only while its bucket is
// below full, so successful clients cost nothing and memory is bounded by
// MaxClients.
type Throttle struct {
	burst, refill float64
	max           int

	mu      sync.Mutex
	clients map[string]*list.Element // of *bucket; front = most recent failure
	order   *list.List
}

type bucket struct {
	client string
	tokens float64
	at     time.Time // when tokens was last brought up to date
}

// NewThrottle returns a throttle bounded by o.
func NewThrottle(o ThrottleOptions) *Throttle {
	if o.Burst <= 0 {
		o.Burst = defaultAuthBurst
	}
	if o.Refill <= 0 {
		o.Refill = defaultAuthRefill
	}
	if o.MaxClients <= 0 {
		o.MaxClients = defaultAuthMaxClients
	}
	return &Throttle{burst: float64(o.Burst), refill: o.Refill, max: o.MaxClients,
		clients: map[string]*list.Element{}, order: list.New()}
}

// Wait is how long client must wait before its next attempt; zero when it
// may try now.
func (f *Throttle) Wait(client string, now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.clients[client]
	if !ok {
		return 0
	}
	tokens := f.level(e.Value.(*bucket), now)
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) / f.refill * float64(time.Second))
}

// Fail records a failed authentication by client and reports whether that
// emptied its bucket.
func (f *Throttle) Fail(client string, now time.Time) (emptied bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forgetRefilled(now)
	e, ok := f.clients[client]
	if !ok {
		if len(f.clients) >= f.max {
			f.remove(f.order.Back())
		}
		e = f.order.PushFront(&bucket{client: client, tokens: f.burst, at: now})
		f.clients[client] = e
	}
	b := e.Value.(*bucket)
	before := f.level(b, now)
	b.tokens, b.at = before-1, now
	f.order.MoveToFront(e)
	return before >= 1 && b.tokens < 1
}

// level is the bucket's tokens refilled up to now. Concurrent failures may
// have driven it below zero; the client then waits that much longer.
func (f *Throttle) level(b *bucket, now time.Time) float64 {
	elapsed := max(now.Sub(b.at).Seconds(), 0)
	return math.Min(f.burst, b.tokens+elapsed*f.refill)
}

// forgetRefilled drops the least recently failed clients whose buckets are
// full again: tracking them changes nothing.
func (f *Throttle) forgetRefilled(now time.Time) {
	for e := f.order.Back(); e != nil && f.level(e.Value.(*bucket), now) >= f.burst; e = f.order.Back() {
		f.remove(e)
	}
}

func (f *Throttle) remove(e *list.Element) {
	f.order.Remove(e)
	delete(f.clients, e.Value.(*bucket).client)
}

// Tracked is how many clients are tracked.
func (f *Throttle) Tracked() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.clients)
}

// ThrottleKey is the budget a host draws on: its own for IPv4, its /64 for
// IPv6, which one host usually holds whole.
func ThrottleKey(host string) string {
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}
