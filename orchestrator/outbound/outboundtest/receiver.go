// Package outboundtest gives tests a loopback HTTP endpoint to send to:
// webhooks, automated runbook steps and HTTP backup checks.
package outboundtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Request is one request a Receiver got.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// Receiver is an HTTP endpoint on loopback that answers with the statuses
// it was given in turn, then 200, and keeps every request. It is closed
// when the test ends.
type Receiver struct {
	*httptest.Server
	mu       sync.Mutex
	statuses []int
	got      []Request
}

// NewReceiver starts a receiver answering with statuses in turn, then 200.
func NewReceiver(t testing.TB, statuses ...int) *Receiver {
	r := &Receiver{statuses: statuses}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, Request{Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Body: body})
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		_, _ = io.WriteString(w, http.StatusText(status))
	}))
	t.Cleanup(r.Close)
	return r
}

// Requests returns a copy of what the receiver got so far, in order.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.got...)
}
