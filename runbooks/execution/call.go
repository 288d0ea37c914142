package execution

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/outbound"
)

// maxResponse bounds how much of a response is read for its assertion.
const maxResponse = 1 << 20

// IdempotencyHeader carries the step's key: the same on every attempt and
// on every replica that performs the step, new only when a person retries
// it.
const IdempotencyHeader = "Idempotency-Key"

var placeholder = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)

// call performs an automated step: its drill URL in a drill (unless the
// drill calls live URLs), its URL otherwise, with the step's idempotency key, retried as the step says,
// and checks the status and the assertion. The output says what was found
// (status, time, the asserted value), never the response body, which may
// be another system's data.
func (s *Service) call(ctx context.Context, c claimed) (string, error) {
	a := c.spec.Automation
	if a == nil {
		return "", errors.New("the step has no automation")
	}
	target := a.URL
	if c.mode == ModeDrill && c.automations != AutomationsLive {
		target = a.DrillURL
	}
	if target == "" {
		return "", errors.New("the step has no URL for this mode")
	}
	fill := func(text string) (string, error) {
		var missing error
		out := placeholder.ReplaceAllStringFunc(text, func(m string) string {
			name := placeholder.FindStringSubmatch(m)[1]
			switch {
			case strings.HasPrefix(name, "secret:"):
				v, err := s.opts.Secrets.Env(s.lookup(), strings.TrimPrefix(name, "secret:"))
				if err != nil && missing == nil {
					missing = fmt.Errorf("secret %s: %w", strings.TrimPrefix(name, "secret:"), err)
				}
				return v
			case name == "runbook.id":
				return strconv.FormatInt(c.runbook, 10)
			case name == "runbook.version":
				return strconv.Itoa(c.version)
			case name == "step.id":
				return c.step
			case name == "service":
				return strings.Join(c.services, ",")
			}
			return m
		})
		return out, missing
	}
	url, err := fill(target)
	if err != nil {
		return "", err
	}
	body, err := fill(a.BodyTemplate)
	if err != nil {
		return "", err
	}
	var reqBody io.Reader
	if body != "" {
		reqBody = strings.NewReader(body)
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, a.Method, url, reqBody)
	if err != nil {
		return "", fmt.Errorf("build the request: %w", err)
	}
	for name, value := range a.Headers {
		v, err := fill(value)
		if err != nil {
			return "", err
		}
		req.Header.Set(name, v)
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set(IdempotencyHeader, c.key)
	attempts := 0
	client := outbound.NewClient(outbound.Options{Timeout: time.Duration(a.Timeout), Retries: a.Retries,
		Transport: s.opts.Transport, OnAttempt: func(n int) { attempts = n }})
	start := time.Now()
	resp, err := client.Do(req)
	took := time.Since(start).Round(time.Millisecond)
	if err != nil {
		// The client's errors quote the URL as sent, which may hold a
		// resolved secret; the message names the URL as configured.
		msg := strings.ReplaceAll(err.Error(), url, redact(target))
		return "", fmt.Errorf("%s %s: %s (after %d attempts in %s)", a.Method, redact(target), msg, attempts, took)
	}
	defer resp.Body.Close()
	found := fmt.Sprintf("HTTP %d from %s %s in %s (attempt %d)", resp.StatusCode, a.Method, redact(target), took, attempts)
	if resp.StatusCode != a.ExpectedStatus {
		return found, fmt.Errorf("%s; expected %d", found, a.ExpectedStatus)
	}
	if a.Assertion == nil {
		return found, nil
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return found, fmt.Errorf("%s; reading the response: %w", found, err)
	}
	got, ok := lookupPath(raw, a.Assertion.Path)
	switch {
	case !ok:
		return found, fmt.Errorf("%s; assertion: the response has no %s", found, a.Assertion.Path)
	case a.Assertion.Equals == nil:
		return found + fmt.Sprintf("; %s present", a.Assertion.Path), nil
	case !sameJSON(got, a.Assertion.Equals):
		return found, fmt.Errorf("%s; assertion: %s is %s, expected %s", found, a.Assertion.Path, short(got), short(a.Assertion.Equals))
	}
	return found + fmt.Sprintf("; %s = %s as expected", a.Assertion.Path, short(got)), nil
}

// lookup is how secret references read the environment.
func (s *Service) lookup() func(string) (string, bool) {
	if s.opts.Lookup != nil {
		return s.opts.Lookup
	}
	return os.LookupEnv
}

// redact drops the query string of a URL for messages: it may carry a
// resolved secret.
func redact(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}

// lookupPath reads a dot-separated path of keys and indices from JSON.
func lookupPath(raw []byte, path string) (any, bool) {
	var doc any
	if json.Unmarshal(raw, &doc) != nil {
		return nil, false
	}
	for _, part := range strings.Split(path, ".") {
		switch node := doc.(type) {
		case map[string]any:
			v, ok := node[part]
			if !ok {
				return nil, false
			}
			doc = v
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(node) {
				return nil, false
			}
			doc = node[i]
		default:
			return nil, false
		}
	}
	return doc, true
}

// sameJSON compares two values as JSON documents.
func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	var x, y any
	_ = json.Unmarshal(ja, &x)
	_ = json.Unmarshal(jb, &y)
	return reflect.DeepEqual(x, y)
}

func short(v any) string {
	b, _ := json.Marshal(v)
	return orchestrator.Excerpt(string(b), 100)
}
