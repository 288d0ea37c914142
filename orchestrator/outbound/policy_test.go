package outbound_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/outbound"
)

// allow parses an allowlist that the test knows to be valid.
func allow(t *testing.T, s string) outbound.Policy {
	t.Helper()
	p, err := outbound.ParsePolicy(s)
	require.NoError(t, err)
	return p
}

// policyServer answers 204 and counts its requests.
func policyServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// clientWith is a client that follows redirects and retries, over a
// transport enforcing p.
func clientWith(p outbound.Policy, attempts *atomic.Int32) *outbound.Options {
	return &outbound.Options{Transport: outbound.NewTransport(p), FollowRedirects: true, Retries: 3,
		RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond,
		OnAttempt: func(int) { attempts.Add(1) }}
}

func TestLoopbackRefusedByDefault(t *testing.T) {
	t.Parallel()
	srv, hits := policyServer(t)
	port := srv.URL[len("http://127.0.0.1:"):]
	cases := map[string]struct {
		url, addr, host string
	}{
		"IP literal":           {url: srv.URL, addr: "127.0.0.1"},
		"name resolving to it": {url: "http://localhost:" + port, host: `of "localhost"`},
		"IPv4-mapped IPv6":     {url: "http://[::ffff:127.0.0.1]:" + port, addr: "127.0.0.1"},
		"another loopback":     {url: "http://127.0.0.2:" + port, addr: "127.0.0.2"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var attempts atomic.Int32
			resp, err := get(t, outbound.NewClient(*clientWith(outbound.Policy{}, &attempts)), tc.url)
			require.Nil(t, resp)
			require.ErrorContains(t, err, "is not allowed for outbound calls (loopback); allow it with BCDR_OUTBOUND_ALLOW")
			require.ErrorContains(t, err, "address "+tc.addr)
			require.ErrorContains(t, err, tc.host)
			var denied *outbound.DeniedError
			require.True(t, errors.As(err, &denied), "%T", err)
			require.Equal(t, "loopback", denied.Reason)
			require.EqualValues(t, 1, attempts.Load(), "a refusal is not retried")
		})
	}
	require.Zero(t, hits.Load(), "no request reached the server")
}

func TestAllowlistOpensTheWay(t *testing.T) {
	t.Parallel()
	srv, _ := policyServer(t)
	port := srv.URL[len("http://127.0.0.1:"):]
	cases := map[string]struct{ allow, url string }{
		"by address":           {allow: "127.0.0.1", url: srv.URL},
		"by CIDR":              {allow: "10.20.0.0/16, 127.0.0.0/8", url: srv.URL},
		"by host, any address": {allow: "localhost", url: "http://localhost:" + port},
		"by host, any case":    {allow: "LocalHost.", url: "http://localhost:" + port},
		"mapped form by CIDR":  {allow: "127.0.0.0/8", url: "http://[::ffff:127.0.0.1]:" + port},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var attempts atomic.Int32
			resp, err := get(t, outbound.NewClient(*clientWith(allow(t, tc.allow), &attempts)), tc.url)
			require.NoError(t, err)
			require.Equal(t, http.StatusNoContent, resp.StatusCode)
		})
	}
}

// A redirect is a new connection, judged like the first: an allowed host
// cannot send the client to one that is not.
func TestRedirectToRefusedAddress(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	port := srv.URL[len("http://127.0.0.1:"):]
	mux.HandleFunc("/from", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.2:"+port+"/to", http.StatusFound)
	})
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) { reached.Add(1) })
	var attempts atomic.Int32
	_, err := get(t, outbound.NewClient(*clientWith(allow(t, "127.0.0.1"), &attempts)), srv.URL+"/from")
	require.ErrorContains(t, err, "address 127.0.0.2 is not allowed for outbound calls (loopback)")
	require.Zero(t, reached.Load())
}

func TestPolicyRanges(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"127.0.0.1": "loopback", "127.255.0.9": "loopback", "::1": "loopback", "::ffff:127.0.0.1": "loopback",
		"169.254.169.254": "link-local", "fe80::1": "link-local", "::ffff:169.254.169.254": "link-local",
		"10.1.2.3": "private", "172.16.0.1": "private", "172.31.255.255": "private", "192.168.1.1": "private",
		"::ffff:10.0.0.1": "private",
		"fd00::1":         "unique-local", "fc00::1": "unique-local",
		"0.0.0.0": "unspecified", "::": "unspecified", "0.1.2.3": "unspecified",
		"100.64.0.1": "carrier-grade NAT", "100.127.255.254": "carrier-grade NAT",
		"8.8.8.8": "", "172.32.0.1": "", "100.128.0.1": "", "2001:4860:4860::8888": "", "192.169.0.1": "",
	}
	for addr, reason := range cases {
		t.Run(addr, func(t *testing.T) {
			t.Parallel()
			err := outbound.Policy{}.Check("", netip.MustParseAddr(addr))
			if reason == "" {
				require.NoError(t, err)
				return
			}
			var denied *outbound.DeniedError
			require.True(t, errors.As(err, &denied), "%v", err)
			require.Equal(t, reason, denied.Reason)
			require.ErrorContains(t, err, fmt.Sprintf("(%s); allow it with BCDR_OUTBOUND_ALLOW", reason))
		})
	}
}

func TestPolicyAllowances(t *testing.T) {
	t.Parallel()
	p := allow(t, " 10.20.0.0/16 ,backup.internal,, [fd00::5], ::ffff:192.168.0.0/112")
	for _, tc := range []struct {
		host, addr string
		ok         bool
	}{
		{"10.20.3.4", "10.20.3.4", true},
		{"db.example", "10.20.255.1", true},
		{"db.example", "10.21.0.1", false},
		{"backup.internal", "10.99.0.1", true},
		{"BACKUP.internal.", "169.254.169.254", true},
		{"other.internal", "10.99.0.1", false},
		{"fd00::5", "fd00::5", true},
		{"fd00::6", "fd00::6", false},
		{"x", "192.168.4.4", true},
		{"x", "::ffff:10.20.0.1", true},
	} {
		err := p.Check(tc.host, netip.MustParseAddr(tc.addr))
		if tc.ok {
			require.NoError(t, err, "%s at %s", tc.host, tc.addr)
		} else {
			require.Error(t, err, "%s at %s", tc.host, tc.addr)
		}
	}
	empty, err := outbound.ParsePolicy("  ")
	require.NoError(t, err)
	require.Error(t, empty.Check("localhost", netip.MustParseAddr("127.0.0.1")))
}

func TestParsePolicyErrors(t *testing.T) {
	t.Parallel()
	for _, entry := range []string{"http://backup.internal", "10.0.0.0/33", "backup.internal:8080", "bad host",
		"*.corp", "-a.example", "a..b", "10.0.0.1/8/2", "host/path", "snow\u2603man", "[::1]:80", "a\x00b"} {
		t.Run(url.PathEscape(entry), func(t *testing.T) {
			t.Parallel()
			_, err := outbound.ParsePolicy("127.0.0.1," + entry)
			require.ErrorContains(t, err, fmt.Sprintf("BCDR_OUTBOUND_ALLOW entry %q", entry))
		})
	}
}
