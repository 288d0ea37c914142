// Package outbound is the one place bcdr builds an HTTP client for calls to
// addresses its users configure: notification webhooks, HTTP backup checks
// and, once the execution engine sends them, the automated steps of
// runbooks. Every such client is a
// go-retryablehttp client made by NewClient, with a timeout per attempt,
// the library's logger off, bounded backoff between retries, redirects
// refused unless asked for, and the last response handed back after the
// final attempt so that callers can report its status.
//
// The address policy (Policy: refusing loopback, link-local, private and
// similar destinations unless BCDR_OUTBOUND_ALLOW allows them, so that a
// configured URL cannot reach bcdr's own database, its metrics or a cloud
// metadata service) belongs here and nowhere else. The transports
// NewTransport builds enforce it where every connection is made: the
// dialer judges the resolved address of each connection, redirects
// included, unless the requested host is allowed by name. Through a proxy
// from the environment the connection goes to the proxy, whose own address
// is judged like any other (a proxy on a private address must be allowed);
// the request's host is then judged before it is sent: an IP literal by the
// policy, a name by the addresses bcdr resolves it to (a name bcdr cannot
// resolve is left to the proxy and its own egress rules).
package outbound

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
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
	// Transport carries the requests [a new NewTransport(Policy)].
	// Production callers pass a transport from NewTransport (or nothing),
	// which is where the address policy is enforced; tests may pass their
	// own.
	Transport http.RoundTripper
	// Policy is the address policy of the transport built when Transport
	// is nil [the zero Policy: public addresses only].
	Policy Policy
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
		o.Transport = NewTransport(o.Policy)
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
	c.CheckRetry = retryUnlessDenied
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

// retryUnlessDenied is retryablehttp's retry policy, except that a
// destination the address policy refuses is not asked again: it will be
// refused again.
func retryUnlessDenied(ctx context.Context, resp *http.Response, err error) (bool, error) {
	var denied *DeniedError
	if errors.As(err, &denied) {
		return false, nil
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

// NewTransport returns a pooled transport for outbound clients that
// enforces p: proxies from the environment, bounded dial and TLS
// handshake, and every connection judged by p before it is made. Hold one
// to share its connections among clients.
func NewTransport(p Policy) *http.Transport {
	return newTransport(p, http.ProxyFromEnvironment)
}

// newTransport is NewTransport with the proxy chooser given (tests pass a
// fixed proxy: the environment's is read once per process).
func newTransport(p Policy, proxy func(*http.Request) (*url.URL, error)) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = func(req *http.Request) (*url.URL, error) {
		u, err := proxy(req)
		if u == nil || err != nil {
			return u, err
		}
		return u, p.checkProxied(req.Context(), req.URL.Hostname())
	}
	tr.DialContext = p.dial
	tr.TLSHandshakeTimeout = tlsHandshakeTimeout
	tr.MaxIdleConnsPerHost = maxIdleConnsPerHost
	return tr
}

// dial connects to addr, the host and port a request asked for (or its
// proxy's). A host allowed by name is dialled whatever it resolves to;
// otherwise every address the dialer tries is judged first, in the
// dialer's Control hook, after resolution: a name that resolves to a
// refused address is caught, and so is a redirect to one, since every
// connection dials.
func (p Policy) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if !p.allowsHost(host) {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("outbound address policy: %w", err)
			}
			return p.Check(host, ap.Addr())
		}
	}
	return d.DialContext(ctx, network, addr)
}

// checkProxied judges the host of a request sent through a proxy, whose
// connection the dialer sees instead: an IP literal as an address, a name
// by the addresses it resolves to here. A name bcdr cannot resolve is left
// to the proxy, which resolves names for hosts that only it can reach.
func (p Policy) checkProxied(ctx context.Context, host string) error {
	if p.allowsHost(host) {
		return nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return p.Check(host, a)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if err := p.Check(host, a); err != nil {
			return err
		}
	}
	return nil
}
