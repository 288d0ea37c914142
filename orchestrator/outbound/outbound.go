// Package outbound is the one place bcdr builds an HTTP client for calls to
// addresses its users configure: notification webhooks, HTTP backup checks
// and, once the execution engine sends them, the automated steps of
// runbooks. Every such client is a
// go-retryablehttp client made by NewClient, with a timeout per attempt,
// the library's logger off, bounded backoff between retries, redirects
// refused unless asked for, and the last response handed back after the
// final attempt so that callers can report its status.
//
// The address policy (refusing loopback, link-local and private
// destinations, so that a configured URL cannot reach bcdr's own database
// or a cloud metadata service) belongs here and nowhere else: it is to be
// enforced in checkAddress, the dialer hook of the transports NewTransport
// builds, where it sees the resolved address of every connection,
// redirects included. It accepts every address today.
package outbound

import (
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Defaults of Options and of NewTransport.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultRetryWaitMin = time.Second
	DefaultRetryWaitMax = 30 * time.Second
	dialTimeout         = 10 * time.Second
	tlsHandshakeTimeout = 10 * time.Second
	maxIdleConnsPerHost = 8
)

// Options tune a client; zero fields take the defaults in brackets.
type Options struct {
	// Timeout bounds one attempt, connection to last byte of the body
	// [DefaultTimeout].
	Timeout time.Duration
	// Retries is how many times a failed attempt (connection error, 429
	// or 5xx other than 501) is repeated [0: one attempt only].
	Retries int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff between
	// attempts; a Retry-After header lengthens the wait, never beyond
	// RetryWaitMax, so no endpoint decides how long bcdr sleeps
	// [DefaultRetryWaitMin, DefaultRetryWaitMax].
	RetryWaitMin, RetryWaitMax time.Duration
	// FollowRedirects follows up to 10 redirects. Off, a 3xx response is
	// the answer: a receiver that moved is a configuration to fix, and a
	// redirect must not carry a signed body or a token elsewhere [false].
	FollowRedirects bool
	// Transport carries the requests [a new NewTransport()]. Production
	// callers pass a transport from NewTransport (or nothing), which is
	// where the address policy is enforced; tests may pass their own.
	Transport http.RoundTripper
	// OnAttempt, when set, is called before every request sent, retries
	// included, with the attempt's number from 1.
	OnAttempt func(attempt int)
}

// NewClient returns a client for calls to configured addresses.
func NewClient(o Options) *retryablehttp.Client {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.RetryWaitMin <= 0 {
		o.RetryWaitMin = DefaultRetryWaitMin
	}
	if o.RetryWaitMax <= 0 {
		o.RetryWaitMax = max(DefaultRetryWaitMax, o.RetryWaitMin)
	}
	o.RetryWaitMax = max(o.RetryWaitMax, o.RetryWaitMin)
	if o.Transport == nil {
		o.Transport = NewTransport()
	}
	hc := &http.Client{Transport: o.Transport, Timeout: o.Timeout}
	if !o.FollowRedirects {
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	c := retryablehttp.NewClient()
	c.HTTPClient = hc
	c.Logger = nil
	c.RetryMax = max(o.Retries, 0)
	c.RetryWaitMin, c.RetryWaitMax = o.RetryWaitMin, o.RetryWaitMax
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	c.Backoff = cappedBackoff
	if o.OnAttempt != nil {
		c.RequestLogHook = func(_ retryablehttp.Logger, _ *http.Request, n int) { o.OnAttempt(n + 1) }
	}
	return c
}

// cappedBackoff is retryablehttp's exponential backoff, whose Retry-After
// handling has no ceiling, held to hi.
func cappedBackoff(lo, hi time.Duration, n int, resp *http.Response) time.Duration {
	return min(retryablehttp.DefaultBackoff(lo, hi, n, resp), hi)
}

// NewTransport returns a pooled transport for outbound clients: proxies
// from the environment, bounded dial and TLS handshake, and every
// connection's address checked by checkAddress before it is made. Hold one
// to share its connections among clients.
func NewTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second, Control: checkAddress}
	tr.DialContext = d.DialContext
	tr.TLSHandshakeTimeout = tlsHandshakeTimeout
	tr.MaxIdleConnsPerHost = maxIdleConnsPerHost
	return tr
}

// checkAddress is the address policy's hook: the dialer calls it with the
// resolved IP and port of every connection before connecting, so a name
// that resolves to a forbidden address is caught, and so is a redirect to
// one. Through a proxy it sees the proxy's address, so the policy will also
// have to judge the request's host. The policy (refusing loopback,
// link-local and private destinations, with whatever allowance a
// deployment needs) is a later change and goes here; today every address
// is accepted.
func checkAddress(network, address string, _ syscall.RawConn) error {
	return nil
}
