package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/outbound"
)

// maxHTTPBody bounds the JSON document an http target may return.
const maxHTTPBody = 1 << 20

// newHTTPClient is an http check's client, from the one outbound
// constructor: the service's shared transport, a timeout per attempt,
// backoff between retries (5xx, 429 and connection errors) held to the
// service's bounds even when an endpoint asks for more, and the last
// response passed through after the final attempt so its status can be
// reported. Redirects are followed: a GET carries no body, and the bearer
// token is dropped on a redirect to another host. attempts counts every
// request sent.
func newHTTPClient(s httpSettings, timeout time.Duration, retries int, attempts *atomic.Int32) *retryablehttp.Client {
	return outbound.NewClient(outbound.Options{Timeout: timeout, Retries: retries,
		RetryWaitMin: s.retryWaitMin, RetryWaitMax: s.retryWaitMax, FollowRedirects: true, Transport: s.transport,
		OnAttempt: func(int) { attempts.Add(1) }})
}

// checkHTTP reads the endpoint's JSON and judges the fields it names.
func checkHTTP(ctx context.Context, p *probe, c *HTTPConfig) Result {
	var attempts atomic.Int32
	r := func(res Result) Result {
		res.Attempts = int(attempts.Load())
		return res
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
	if err != nil {
		return r(Result{Status: StatusError, Message: fmt.Sprintf("build request: %v", err)})
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "bcdr-backup-check")
	if c.BearerTokenEnv != "" {
		token, err := p.envValue(c.BearerTokenEnv, "bearer_token_env")
		if err != nil {
			return r(Result{Status: StatusError, Message: err.Error()})
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := newHTTPClient(p.http, c.timeout(), c.retries(), &attempts)
	p.run.note("GET %s (timeout %s, up to %d retries)", redactURL(c.URL), c.timeout(), c.retries())
	resp, err := client.Do(req)
	if err != nil {
		p.run.note("%d attempts: %v", attempts.Load(), err)
		return r(Result{Status: StatusError, Message: fmt.Sprintf("GET %s failed after %d attempts: %v",
			redactURL(c.URL), attempts.Load(), unwrapURLError(err))})
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody+1))
	// The body is another service's document, readable by whoever may read
	// check history: only its size and the fields judged below are kept.
	p.run.note("%d attempts; HTTP %d, %d bytes", attempts.Load(), resp.StatusCode, len(body))
	switch {
	case err != nil:
		return r(Result{Status: StatusError, Message: fmt.Sprintf("read response: %v", err)})
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return r(Result{Status: StatusError, Message: fmt.Sprintf("GET %s answered HTTP %d after %d attempts",
			redactURL(c.URL), resp.StatusCode, attempts.Load())})
	case len(body) > maxHTTPBody:
		return r(Result{Status: StatusError, Message: fmt.Sprintf("response is larger than %d bytes", maxHTTPBody)})
	}
	return r(judgeHTTPDocument(body, c, int(attempts.Load())))
}

// judgeHTTPDocument reads the configured fields of a JSON document.
func judgeHTTPDocument(body []byte, c *HTTPConfig, attempts int) Result {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return Result{Status: StatusError, Message: fmt.Sprintf("response is not JSON (syntax error at byte %d)", syntax.Offset)}
		}
		return Result{Status: StatusError, Message: "response is not JSON (incomplete document)"}
	}
	field := func(path string) (any, bool) {
		p, err := ParseFieldPath(path)
		if err != nil {
			return nil, false
		}
		return p.Lookup(doc)
	}
	var res Result
	tv, ok := field(c.TimeField)
	if !ok {
		return Result{Status: StatusError, Message: fmt.Sprintf("response has no field %s", c.TimeField)}
	}
	t, err := parseTimeValue(tv)
	if err != nil {
		return Result{Status: StatusError, Message: fmt.Sprintf("field %s: %v", c.TimeField, err)}
	}
	res.LatestBackupAt = &t
	if c.SizeField != "" {
		if sv, ok := field(c.SizeField); ok {
			res.SizeBytes = parseSizeValue(sv)
		}
	}
	when := fmt.Sprintf("last backup %s", t.Format(time.RFC3339))
	if attempts > 1 {
		when += fmt.Sprintf(" (answered on attempt %d)", attempts)
	}
	statusOK := false
	if c.StatusField != "" {
		sv, ok := field(c.StatusField)
		if !ok {
			return res.with(StatusError, "response has no field %s", c.StatusField)
		}
		status := scalarString(sv)
		okValues := c.OKValues
		if len(okValues) == 0 {
			okValues = defaultOKValues
		}
		for _, want := range okValues {
			statusOK = statusOK || strings.EqualFold(strings.TrimSpace(status), want)
		}
		if !statusOK {
			return res.with(StatusFailed, "%s reports %q, not one of %s; %s", c.StatusField, orchestrator.Excerpt(status, 64), strings.Join(okValues, ", "), when)
		}
	}
	if c.VerifiedField != "" {
		vv, _ := field(c.VerifiedField)
		res.Verified = vv == true
		if !res.Verified {
			return res.with(StatusOK, "%s; %s is %s, so integrity is not verified", when, c.VerifiedField, scalarString(vv))
		}
		return res.with(StatusOK, "%s; %s is true", when, c.VerifiedField)
	}
	res.Verified = statusOK
	if !statusOK {
		return res.with(StatusOK, "%s; integrity not verified (no status_field)", when)
	}
	return res.with(StatusOK, "%s; status ok", when)
}

// parseTimeValue reads an RFC 3339 time, a "YYYY-MM-DD hh:mm:ss" time
// (taken as UTC), or Unix seconds or milliseconds.
func parseTimeValue(v any) (time.Time, error) {
	switch x := v.(type) {
	case string:
		s := strings.TrimSpace(x)
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC(), nil
			}
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return unixTime(f)
		}
		return time.Time{}, fmt.Errorf("%q is not a time (RFC 3339 or Unix seconds)", orchestrator.Excerpt(s, 64))
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return time.Time{}, fmt.Errorf("%s is not a time", x)
		}
		return unixTime(f)
	}
	return time.Time{}, fmt.Errorf("is %s, not a time", describe(v))
}

// unixTime reads seconds, or milliseconds when the number is too large to
// be seconds of this era.
func unixTime(f float64) (time.Time, error) {
	if math.IsNaN(f) || f <= 0 || f > 1e15 {
		return time.Time{}, fmt.Errorf("%v is not a Unix time", f)
	}
	if f > 1e11 {
		f /= 1000
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// parseSizeValue reads a whole number of bytes, nil when it is not one.
func parseSizeValue(v any) *int64 {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	default:
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > math.MaxInt64/2 {
		return nil
	}
	n := int64(f)
	return &n
}

// scalarString writes a status value for comparison and messages.
func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return describe(v)
}

// redactURL drops the query, which may identify more than it should.
func redactURL(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		return raw[:i]
	}
	return raw
}

// unwrapURLError shortens "Get \"...\": dial tcp: ..." to its cause.
func unwrapURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}
