package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/report"
)

// stepTimeout bounds one browser action, so that a page that never shows
// what a step waits for fails that step rather than the whole run's bound.
const stepTimeout = 30 * time.Second

// browser is one headless Chromium shared by every person of a UI test;
// each person browses in a browser context of their own (cookies apart).
type browser struct {
	root      context.Context
	base      string
	artifacts string
}

// startBrowser starts Chromium under ctx. A machine without Chromium fails
// the test: make test installs it, so its absence is a broken setup.
func startBrowser(t *testing.T, ctx context.Context, base string) *browser {
	t.Helper()
	exe, err := report.FindChromium()
	if err != nil {
		t.Fatalf("the web UI test drives a real browser: %v", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Flag("disable-gpu", true),
		chromedp.WindowSize(1280, 900),
	)
	// As report/pdf.go: Chromium refuses its sandbox as root (containers).
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	alloc, stopAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(stopAlloc)
	root, stopRoot := chromedp.NewContext(alloc)
	t.Cleanup(stopRoot)
	require.NoError(t, chromedp.Do(root), "start %s", exe)
	dir := os.Getenv("BCDR_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else {
		require.NoError(t, os.MkdirAll(dir, 0o755))
	}
	t.Logf("screenshots in %s", dir)
	return &browser{root: root, base: base, artifacts: dir}
}

// person is someone at the browser: a tab in a fresh browser context, and
// what its pages wrote to the console.
type person struct {
	b   *browser
	ctx context.Context

	mu      sync.Mutex
	console []string
	dialogs []string
}

// person opens a tab for a new person.
func (b *browser) person(t *testing.T) *person {
	t.Helper()
	p := &person{b: b}
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext(), chromedp.WithListener(p.listen))
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx))
	p.ctx = ctx
	return p
}

// listen keeps the console's errors and warnings, exceptions and the
// browser's log (where CSP violations are reported), and accepts every
// confirmation a page asks for (htmx's hx-confirm), keeping its question.
// It runs in the tab's event loop: it must return fast and send no command
// itself, so the confirmation is answered from a goroutine.
func (p *person) listen(ev any) {
	var line string
	switch ev := ev.(type) {
	case *page.EventJavascriptDialogOpening:
		p.mu.Lock()
		p.dialogs = append(p.dialogs, ev.Message)
		p.mu.Unlock()
		go func() {
			_, _ = chromedp.Call(p.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}()
		return
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeWarning {
			return
		}
		var args []string
		for _, a := range ev.Args {
			if len(a.Value) > 0 {
				args = append(args, string(a.Value))
			} else {
				args = append(args, a.Description)
			}
		}
		line = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		line = "exception: " + d.Text
		if d.Exception != nil {
			line += " " + d.Exception.Description
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level != log.EntryLevelError && ev.Entry.Level != log.EntryLevelWarning {
			return
		}
		line = fmt.Sprintf("log %s/%s: %s (%s)", ev.Entry.Source, ev.Entry.Level, ev.Entry.Text, ev.Entry.URL)
	default:
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.console = append(p.console, line)
}

// consoleLines is what the person's pages wrote so far.
func (p *person) consoleLines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.console...)
}

// confirmations are the questions the person's pages asked and the person
// accepted.
func (p *person) confirmations() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.dialogs...)
}

// do runs actions, bounded by stepTimeout.
func (p *person) do(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, actions...))
}

// load runs actions that lead to a new page and returns its response (the
// last one of a redirect chain).
func (p *person) load(t *testing.T, actions ...chromedp.Action[chromedp.Void]) *network.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	require.NoError(t, err)
	require.NotNil(t, resp)
	return resp
}

// open navigates to path on the server.
func (p *person) open(t *testing.T, path string) *network.Response {
	t.Helper()
	return p.load(t, chromedp.Navigate(p.b.base+path))
}

// waitUntil waits until expr is true in the page. What htmx swaps in
// loads no page, so it is waited for by what it shows.
func (p *person) waitUntil(t *testing.T, expr string) {
	t.Helper()
	p.do(t, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(stepTimeout)))
}

// path is the page's path and query.
func (p *person) path(t *testing.T) string {
	t.Helper()
	loc := evalJS[string](t, p, `location.href`)
	u, err := url.Parse(loc)
	require.NoError(t, err)
	return u.RequestURI()
}

// text is the visible text of the first element sel matches.
func (p *person) text(t *testing.T, sel string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err, sel)
	return strings.TrimSpace(s)
}

// count is how many elements sel matches now.
func (p *person) count(t *testing.T, sel string) int {
	t.Helper()
	return evalJS[int](t, p, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

// evalJS evaluates expr in the page (awaiting a promise) and decodes its
// value. DevTools evaluation is not subject to the page's CSP.
func evalJS[T any](t *testing.T, p *person, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	require.NoError(t, err, "evaluate %.80s", expr)
	return v
}

// screenshot saves the whole page as name.png among the artifacts.
func (p *person) screenshot(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	file := filepath.Join(p.b.artifacts, "ui-"+name+".png")
	require.NoError(t, os.WriteFile(file, png, 0o644))
}

// axeViolation is one rule axe-core found broken on a page.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
	Summary string   `json:"summary"`
}

// axeResult is what axe-core reports of a page: the rules violated, how
// many passed, and the rules it could not decide (for a person to review).
type axeResult struct {
	Violations []axeViolation `json:"violations"`
	Passes     int            `json:"passes"`
	Review     []string       `json:"review"`
}

// checkAccessibility runs axe-core (web/testdata, vendored) on the page
// and fails on any serious or critical violation; lesser ones are logged.
func (p *person) checkAccessibility(t *testing.T, axeSource, page string) {
	t.Helper()
	if !evalJS[bool](t, p, `typeof window.axe === "object"`) {
		evalJS[chromedp.Void](t, p, axeSource)
	}
	res := evalJS[axeResult](t, p, `axe.run(document, {resultTypes: ["violations"]}).then(r => ({
		passes: r.passes.length,
		review: r.incomplete.map(i => i.id + " " + JSON.stringify(i.nodes.slice(0, 3).map(n => n.target))),
		violations: r.violations.map(v => ({
			id: v.id, impact: v.impact || "", help: v.help,
			targets: v.nodes.map(n => JSON.stringify(n.target)),
			summary: v.nodes.length ? (v.nodes[0].failureSummary || "") : ""}))}))`)
	require.Positive(t, res.Passes, "axe ran its rules on %s", page)
	t.Logf("axe on %s: %d rules pass, %d violated, to review by hand: %v", page, res.Passes, len(res.Violations), res.Review)
	for _, v := range res.Violations {
		msg := fmt.Sprintf("%s: axe %s (%s): %s; %d nodes, first %s: %s", page, v.ID, v.Impact, v.Help, len(v.Targets),
			first(v.Targets), v.Summary)
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(msg)
		} else {
			t.Log(msg)
		}
	}
}

// first is the first of s, or "".
func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// session is the person's session cookie, read from the browser (it is
// HttpOnly, out of the page's reach, not of DevTools').
func (p *person) session(t *testing.T) *http.Cookie {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{p.b.base + "/"}})
	require.NoError(t, err)
	for _, c := range res.Cookies {
		if c.Name == "bcdr_session" {
			return &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	t.Fatal("no session cookie in the browser")
	return nil
}

// noRedirects is an HTTP client that shows redirects instead of following them.
var noRedirects = &http.Client{Timeout: stepTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// httpGet requests url with the cookie or bearer token and returns the
// response (not following redirects) and its body.
func httpGet(t *testing.T, url string, cookie *http.Cookie, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	require.NoError(t, err)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirects.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

// apiJob is a report job as the API shows it.
type apiJob struct {
	ID        int64  `json:"id"`
	Status    string `json:"status"`
	Error     string `json:"error"`
	ArchiveID *int64 `json:"archive_id"`
}

// decodeJob reads a job from an API answer.
func decodeJob(t *testing.T, body []byte) apiJob {
	t.Helper()
	var j apiJob
	require.NoError(t, json.Unmarshal(body, &j), string(body))
	return j
}

// directive is the value of a CSP directive in policy, "" when absent.
func directive(policy, name string) string {
	for _, d := range strings.Split(policy, ";") {
		if n, v, _ := strings.Cut(strings.TrimSpace(d), " "); n == name {
			return v
		}
	}
	return ""
}

// header is a response header as the browser reports it.
func header(resp *network.Response, name string) string {
	for k, v := range resp.Headers {
		if strings.EqualFold(k, name) {
			return fmt.Sprint(v)
		}
	}
	return ""
}

// signIn signs in on the login page with token and returns the answer.
func signIn(t *testing.T, p *person, token string) *network.Response {
	t.Helper()
	p.open(t, "/login")
	p.do(t, chromedp.SendKeys(chromedp.ID("token"), token))
	return p.load(t, chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))
}

// switchLanguage chooses lang with the header's switch.
func switchLanguage(t *testing.T, p *person, lang string) {
	t.Helper()
	p.do(t, chromedp.SetValue(chromedp.ID("lang"), lang))
	resp := p.load(t, chromedp.Click(chromedp.CSS(`form[action="/lang"] button`)))
	require.EqualValues(t, http.StatusOK, resp.Status)
}
