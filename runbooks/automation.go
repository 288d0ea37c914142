package runbooks

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// Automation is an HTTP call that performs or checks a step. Secrets appear
// only as references, {{secret:NAME}}, where NAME is an environment
// variable under the one secret-reference rule (orchestrator/secretref),
// resolved by whoever executes the step; a literal credential is rejected
// so none is ever stored. Nothing here sends the call: the executor is to
// send it through the one outbound client (orchestrator/outbound).
type Automation struct {
	Type           string                `json:"type"`
	Method         string                `json:"method"`
	URL            string                `json:"url"`
	Headers        map[string]string     `json:"headers"`
	BodyTemplate   string                `json:"body_template"`
	ExpectedStatus int                   `json:"expected_status"`
	Assertion      *Assertion            `json:"assertion,omitempty"`
	Timeout        orchestrator.Duration `json:"timeout"`
	Retries        int                   `json:"retries"`
	// DrillURL is called instead of URL in a drill; without one the step
	// is not called in a drill but waits for a person, so that a drill
	// never touches production by accident.
	DrillURL string `json:"drill_url,omitempty"`
	// Delay is how long the step waits, once ready, before its call.
	Delay orchestrator.Duration `json:"delay,omitempty"`
}

// Assertion checks the JSON response: the value at Path (dot-separated
// keys or array indices) must equal Equals, or merely exist when Equals is
// null.
type Assertion struct {
	Path   string `json:"path"`
	Equals any    `json:"equals"`
}

// Automation limits.
const (
	maxURL        = 2000
	maxHeaders    = 30
	maxHeaderText = 2000
	maxBody       = 64 << 10
	maxRetries    = 10
)

var (
	placeholderPattern = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)
	headerNamePattern  = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
	assertPathPattern  = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)
	// sensitivePattern matches the names of headers, query parameters and
	// body fields that carry credentials.
	sensitivePattern = regexp.MustCompile(`(?i)auth|token|secret|passw|api[-_]?key|cookie|session|signature|credential|private`)
	// schemeWords may stand beside a secret reference in a credential.
	schemeWords = []string{"bearer", "basic", "token", "digest", "apikey", "negotiate"}
	methods     = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	// contextPlaceholders are the non-secret values a template may use.
	contextPlaceholders = []string{"runbook.id", "runbook.version", "step.id", "service"}
)

// normalize fills defaults: GET, status 200, 30 s timeout.
func (a *Automation) normalize() {
	a.Type = strings.TrimSpace(a.Type)
	if a.Type == "" {
		a.Type = "http"
	}
	a.Method = strings.ToUpper(strings.TrimSpace(a.Method))
	if a.Method == "" {
		a.Method = http.MethodGet
	}
	a.URL = strings.TrimSpace(a.URL)
	a.DrillURL = strings.TrimSpace(a.DrillURL)
	if a.Headers == nil {
		a.Headers = map[string]string{}
	}
	if a.ExpectedStatus == 0 {
		a.ExpectedStatus = http.StatusOK
	}
	if a.Timeout == 0 {
		a.Timeout = orchestrator.Duration(30 * time.Second)
	}
}

// validate records every problem of the automation under field.
func (a *Automation) validate(v *orchestrator.Validation, field string) {
	if a.Type != "http" {
		v.Add(field+".type", "must be http (or leave the automation out for a manual step)")
	}
	if !slices.Contains(methods, a.Method) {
		v.Add(field+".method", "must be one of %s", strings.Join(methods, ", "))
	}
	validateURL(v, field+".url", a.URL)
	if a.DrillURL != "" {
		validateURL(v, field+".drill_url", a.DrillURL)
	}
	if a.Delay < 0 || a.Delay > orchestrator.Duration(time.Hour) {
		v.Add(field+".delay", "must be from 0 to 1h")
	}
	if len(a.Headers) > maxHeaders {
		v.Add(field+".headers", "must hold at most %d headers", maxHeaders)
	}
	names := make([]string, 0, len(a.Headers))
	for name := range a.Headers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		f := field + ".headers." + name
		if !headerNamePattern.MatchString(name) {
			v.Add(field+".headers", "%q is not a valid header name", clip(name))
			continue
		}
		value := a.Headers[name]
		if msg := checkTemplateText(value, maxHeaderText, false); msg != "" {
			v.Add(f, "%s", msg)
			continue
		}
		if sensitivePattern.MatchString(name) && !onlySecrets(value) {
			v.Add(f, "a credential must be a secret reference such as \"Bearer {{secret:NAME}}\", never the value itself")
		}
	}
	if msg := checkTemplateText(a.BodyTemplate, maxBody, true); msg != "" {
		v.Add(field+".body_template", "%s", msg)
	} else if key := literalCredential(a.BodyTemplate); key != "" {
		v.Add(field+".body_template", "field %q holds a literal credential; use {{secret:NAME}}", clip(key))
	}
	if a.ExpectedStatus < 100 || a.ExpectedStatus > 599 {
		v.Add(field+".expected_status", "must be an HTTP status from 100 to 599")
	}
	if a.Assertion != nil && !assertPathPattern.MatchString(a.Assertion.Path) {
		v.Add(field+".assertion.path", "must be dot-separated keys or indices such as status or checks.0.ok")
	}
	if a.Timeout < orchestrator.Duration(time.Second) || a.Timeout > orchestrator.Duration(10*time.Minute) {
		v.Add(field+".timeout", "must be from 1s to 10m")
	}
	if a.Retries < 0 || a.Retries > maxRetries {
		v.Add(field+".retries", "must be from 0 to %d", maxRetries)
	}
}

// validateURL checks an automation's URL (or drill URL) target.
func validateURL(v *orchestrator.Validation, field, target string) {
	if target == "" {
		v.Add(field, "is required")
		return
	}
	if msg := checkTemplateText(target, maxURL, false); msg != "" {
		v.Add(field, "%s", msg)
		return
	}
	u, err := url.Parse(placeholderPattern.ReplaceAllString(target, "x"))
	switch {
	case err != nil:
		v.Add(field, "is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		v.Add(field, "must be an absolute http or https URL")
	case u.Host == "":
		v.Add(field, "must name a host")
	case u.User != nil:
		v.Add(field, "must not carry credentials; send them in a header as {{secret:NAME}}")
	}
	if err != nil {
		return
	}
	raw, _ := url.Parse(target)
	if raw == nil {
		return
	}
	for name, values := range raw.Query() {
		for _, value := range values {
			if sensitivePattern.MatchString(name) && !onlySecrets(value) {
				v.Add(field, "query parameter %q holds a literal credential; use {{secret:NAME}}", clip(name))
			}
		}
	}
}

// checkTemplateText checks length, text and placeholders; multiline allows
// line breaks (bodies), header values and URLs may not have them.
func checkTemplateText(s string, limit int, multiline bool) string {
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case len(s) > limit:
		return fmt.Sprintf("must be at most %d bytes", limit)
	case strings.ContainsFunc(s, func(r rune) bool {
		return (r < 0x20 || r == 0x7f) && !(multiline && (r == '\n' || r == '\t' || r == '\r'))
	}):
		return "must not contain control characters"
	}
	for _, m := range placeholderPattern.FindAllStringSubmatch(s, -1) {
		name := m[1]
		if secret, ok := strings.CutPrefix(name, "secret:"); ok {
			if err := secretref.CheckEnvName(secret); err != nil {
				return fmt.Sprintf("secret name %q %s (e.g. {{secret:DR_API_TOKEN}})", clip(secret), err)
			}
			continue
		}
		if !slices.Contains(contextPlaceholders, name) {
			return fmt.Sprintf("unknown placeholder {{%s}}; use {{secret:NAME}} or one of {{%s}}", clip(name), strings.Join(contextPlaceholders, "}}, {{"))
		}
	}
	if rest := placeholderPattern.ReplaceAllString(s, ""); strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		return "has an unbalanced {{ or }}"
	}
	return ""
}

// onlySecrets reports whether a credential value is made of secret
// references and scheme words only, with at least one reference.
func onlySecrets(value string) bool {
	refs := 0
	rest := placeholderPattern.ReplaceAllStringFunc(value, func(m string) string {
		if strings.HasPrefix(placeholderPattern.FindStringSubmatch(m)[1], "secret:") {
			refs++
			return " "
		}
		return m
	})
	for _, w := range strings.Fields(rest) {
		if !slices.Contains(schemeWords, strings.ToLower(w)) {
			return false
		}
	}
	return refs > 0
}

// literalCredential returns the name of a JSON body field that looks like
// a credential but holds a literal string, or "".
func literalCredential(body string) string {
	var doc any
	if json.Unmarshal([]byte(placeholderPattern.ReplaceAllStringFunc(body, func(m string) string {
		return strings.NewReplacer(`"`, "", `{`, "(", `}`, ")").Replace(m)
	})), &doc) != nil {
		return ""
	}
	var found string
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			for k, val := range t {
				if s, ok := val.(string); ok && sensitivePattern.MatchString(k) && s != "" && !strings.Contains(s, "(secret:") {
					found = k
				}
				walk(val)
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(doc)
	return found
}

// Secrets lists the secret names the automation refers to.
func (a *Automation) Secrets() []string {
	var out []string
	texts := []string{a.URL, a.DrillURL, a.BodyTemplate}
	for _, v := range a.Headers {
		texts = append(texts, v)
	}
	for _, t := range texts {
		for _, m := range placeholderPattern.FindAllStringSubmatch(t, -1) {
			if s, ok := strings.CutPrefix(m[1], "secret:"); ok && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}
