package outbound

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Through a proxy the dial goes to the proxy (allowed here by address), so
// the request's own host is judged before the request is sent.
func TestProxiedRequestsJudgeTheirHost(t *testing.T) {
	t.Parallel()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(proxy.Close)
	proxyURL, err := url.Parse(proxy.URL)
	require.NoError(t, err)
	p, err := ParsePolicy("127.0.0.1,internal.example")
	require.NoError(t, err)
	client := &http.Client{Transport: newTransport(p, http.ProxyURL(proxyURL))}
	send := func(target string) (*http.Response, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		t.Cleanup(cancel)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		require.NoError(t, err)
		resp, err := client.Do(req)
		if resp != nil {
			t.Cleanup(func() { resp.Body.Close() })
		}
		return resp, err
	}

	for target, reason := range map[string]string{
		"http://169.254.169.254/latest/meta-data/": "link-local",
		"http://10.0.0.1/":                         "private",
		"http://[::ffff:192.168.0.1]/":             "private",
	} {
		_, err := send(target)
		require.ErrorContains(t, err, "("+reason+"); allow it with BCDR_OUTBOUND_ALLOW", target)
	}
	for _, target := range []string{"http://internal.example/", "http://127.0.0.1:9/", "http://no-such-host.invalid/"} {
		resp, err := send(target)
		require.NoError(t, err, target)
		require.Equal(t, http.StatusNoContent, resp.StatusCode, "the proxy answered for %s", target)
	}

	_, err = (&http.Client{Transport: newTransport(Policy{}, http.ProxyURL(proxyURL))}).Get("http://example.com/")
	require.ErrorContains(t, err, "address 127.0.0.1 is not allowed for outbound calls (loopback)",
		"a proxy on a refused address must be allowed like any destination")
}
