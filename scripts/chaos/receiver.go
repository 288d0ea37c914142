package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// receiver is the loopback server the targets and the channel call.
type receiver struct {
	url      string
	mu       sync.Mutex
	keys     map[string]int
	requests int
	// healthy counts the healthy answers per target and minute: a check
	// performed again after its replica died shows up as a second one.
	healthy map[string]int
	// stepKeys counts the drill steps' calls per idempotency key.
	stepKeys   map[string]int
	production int
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rv := &receiver{url: "http://" + ln.Addr().String(), keys: map[string]int{}, healthy: map[string]int{}, stepKeys: map[string]int{}}
	mux := http.NewServeMux()
	// A backup endpoint is healthy in minutes of one parity and failing in
	// the others, so every check of it differs from the one before.
	// It answers after 1–4 s, so that a replica killed is often in the
	// middle of a check.
	mux.HandleFunc("/backup/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		minute := time.Now().Unix() / 60
		time.Sleep(time.Duration(1000+rand.IntN(3000)) * time.Millisecond)
		if (minute+int64(n))%2 == 0 {
			http.Error(w, "backup job failed", http.StatusServiceUnavailable)
			return
		}
		rv.mu.Lock()
		rv.healthy[fmt.Sprintf("%d/%d", n, minute)]++
		rv.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"finished_at":%q}`, time.Now().UTC().Add(-time.Minute).Format(time.RFC3339))
	})
	// Drill steps answer after 1–4 s, so kills land mid-call; calls to a
	// production URL are counted as the violation they are.
	mux.HandleFunc("/step", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(1000+rand.IntN(3000)) * time.Millisecond)
		rv.mu.Lock()
		rv.stepKeys[r.Header.Get("Idempotency-Key")]++
		rv.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	})
	mux.HandleFunc("/production", func(w http.ResponseWriter, r *http.Request) {
		rv.mu.Lock()
		rv.production++
		rv.mu.Unlock()
		http.Error(w, "a drill called production", http.StatusTeapot)
	})
	mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		rv.mu.Lock()
		rv.requests++
		fail := rand.IntN(10) == 0
		if !fail {
			rv.keys[r.Header.Get("Idempotency-Key")]++
		}
		rv.mu.Unlock()
		if fail {
			http.Error(w, "try again", http.StatusInternalServerError)
		}
	})
	go func() { _ = http.Serve(ln, mux) }()
	return rv, nil
}

// deliveries returns how often each idempotency key was accepted and how
// many requests came.
func (rv *receiver) deliveries() (map[string]int, int) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	keys := make(map[string]int, len(rv.keys))
	for k, v := range rv.keys {
		keys[k] = v
	}
	return keys, rv.requests
}

// steps returns the calls per step key and the calls to production.
func (rv *receiver) steps() (map[string]int, int) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	keys := make(map[string]int, len(rv.stepKeys))
	for k, v := range rv.stepKeys {
		keys[k] = v
	}
	return keys, rv.production
}

// repeated is how many checks were performed more than once.
func (rv *receiver) repeated() int {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	n := 0
	for _, v := range rv.healthy {
		if v > 1 {
			n++
		}
	}
	return n
}
