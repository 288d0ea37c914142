package outbound_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/outbound"
)

// get sends one GET to url with a deadline far beyond anything the test
// expects, so a client that ignores its own limits fails instead of hanging.
func get(t *testing.T, c *retryablehttp.Client, url string) (*http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := c.Do(req)
	if resp != nil {
		t.Cleanup(func() { resp.Body.Close() })
	}
	return resp, err
}

// redirector answers /from with a redirect to /to and counts visits to /to.
func redirector(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var reached atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/from", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/to", http.StatusFound) })
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) { reached.Add(1) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &reached
}

func TestRedirectsRefusedByDefault(t *testing.T) {
	t.Parallel()
	srv, reached := redirector(t)
	resp, err := get(t, outbound.NewClient(outbound.Options{Transport: srv.Client().Transport}), srv.URL+"/from")
	require.NoError(t, err)
	require.Equal(t, http.StatusFound, resp.StatusCode, "the redirect itself is the answer")
	require.Equal(t, "/to", resp.Header.Get("Location"))
	require.Zero(t, reached.Load(), "the redirect target was not called")
}

func TestRedirectsFollowedWhenAsked(t *testing.T) {
	t.Parallel()
	srv, reached := redirector(t)
	c := outbound.NewClient(outbound.Options{FollowRedirects: true, Transport: srv.Client().Transport})
	resp, err := get(t, c, srv.URL+"/from")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.EqualValues(t, 1, reached.Load())
}

func TestTimeoutBoundsAnAttempt(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var gaveUp atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
			gaveUp.Store(true)
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	var attempts atomic.Int32
	c := outbound.NewClient(outbound.Options{Timeout: 50 * time.Millisecond, Transport: srv.Client().Transport,
		OnAttempt: func(int) { attempts.Add(1) }})
	resp, err := get(t, c, srv.URL)
	require.Nil(t, resp)
	var netErr net.Error
	require.True(t, errors.As(err, &netErr) && netErr.Timeout(), "a timeout, not the caller's deadline: %v", err)
	require.EqualValues(t, 1, attempts.Load(), "no retries unless asked")
	eventually.True(t, gaveUp.Load, "the server saw the client hang up")
}

// flaky answers 503 (asking, through Retry-After, for an hour's pause)
// until it has failed `failures` times, then 200.
func flaky(t *testing.T, failures int32) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) <= failures {
			w.Header().Set("Retry-After", "3600")
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestRetriesAreCounted(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		failures, retries int
		status, attempts  int
	}{
		"succeeds on the third attempt":    {failures: 2, retries: 3, status: http.StatusOK, attempts: 3},
		"last failure is passed through":   {failures: 10, retries: 2, status: http.StatusServiceUnavailable, attempts: 3},
		"no retries: one attempt":          {failures: 1, retries: 0, status: http.StatusServiceUnavailable, attempts: 1},
		"negative retries count as none":   {failures: 1, retries: -4, status: http.StatusServiceUnavailable, attempts: 1},
		"success needs no further attempt": {failures: 0, retries: 5, status: http.StatusOK, attempts: 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, hits := flaky(t, int32(tc.failures))
			var numbers []int
			c := outbound.NewClient(outbound.Options{Retries: tc.retries, Transport: srv.Client().Transport,
				RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond,
				OnAttempt: func(n int) { numbers = append(numbers, n) }})
			resp, err := get(t, c, srv.URL)
			require.NoError(t, err, "Retry-After is held to RetryWaitMax")
			require.Equal(t, tc.status, resp.StatusCode)
			require.EqualValues(t, tc.attempts, hits.Load())
			want := make([]int, tc.attempts)
			for i := range want {
				want[i] = i + 1
			}
			require.Equal(t, want, numbers)
		})
	}
}

func TestConnectionErrorIsReturned(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	var attempts atomic.Int32
	c := outbound.NewClient(outbound.Options{Retries: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond,
		Policy: allow(t, "127.0.0.1"), OnAttempt: func(int) { attempts.Add(1) }})
	resp, err := get(t, c, url)
	require.Nil(t, resp)
	require.ErrorContains(t, err, "connection refused")
	require.EqualValues(t, 3, attempts.Load(), "connection errors are retried")
}

// Without a transport the client builds its own, which dials through the
// address policy given in Options: loopback only when allowed.
func TestDefaultTransport(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	_, err := get(t, outbound.NewClient(outbound.Options{}), srv.URL)
	require.ErrorContains(t, err, "(loopback); allow it with BCDR_OUTBOUND_ALLOW")
	resp, err := get(t, outbound.NewClient(outbound.Options{Policy: allow(t, "127.0.0.1")}), srv.URL)
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)

	tr := outbound.NewTransport(outbound.Policy{})
	require.NotNil(t, tr.DialContext)
	require.NotNil(t, tr.Proxy, "proxies from the environment are honoured")
	require.Equal(t, 10*time.Second, tr.TLSHandshakeTimeout)
}
