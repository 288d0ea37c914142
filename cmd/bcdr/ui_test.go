package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// The web UI, as people use it in a real headless Chromium against a real
// `bcdr serve --demo`: signing in and out, the dashboard in both
// languages, services, reports and a report job that htmx follows, what
// an executive may not open, the keyboard, axe-core's accessibility rules
// and the content security policy. Screenshots go to the artifacts.
func TestWebUIInChromium(t *testing.T) {
	t.Parallel()
	// The whole test, server start included, is bounded; each browser step
	// has its own, shorter bound (stepTimeout).
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	axeSource, err := os.ReadFile(filepath.Join("..", "..", "web", "testdata", "axe.min.js"))
	require.NoError(t, err)
	axe := string(axeSource)

	dataDir := t.TempDir()
	env := []string{"DATABASE_URL=" + pgtest.NewURL(t), "BCDR_DATA_DIR=" + dataDir, "BCDR_KIT_DIR=" + t.TempDir()}
	server := startServeWith(t, []string{"--demo"}, env...)
	base := "http://" + server.waitReady(t, 2*time.Minute)
	secret, err := os.ReadFile(filepath.Join(dataDir, "admin-token"))
	require.NoError(t, err)
	adminToken := strings.TrimSpace(string(secret))

	b := startBrowser(t, ctx, base)
	admin, visitor := b.person(t), b.person(t)
	people := []*person{admin, visitor}
	var serviceKey string
	var jobID int64

	t.Run("an anonymous visit is sent to sign in", func(t *testing.T) {
		resp := admin.open(t, "/")
		require.EqualValues(t, http.StatusOK, resp.Status)
		require.Equal(t, "/login?next=%2F", admin.path(t))
		require.Equal(t, "API token", admin.text(t, `label[for="token"]`))
		require.Equal(t, "password", evalJS[string](t, admin, `document.getElementById("token").type`))
		require.Equal(t, 1, evalJS[int](t, admin, `document.getElementById("token").labels.length`))
		admin.checkAccessibility(t, axe, "login")
	})

	t.Run("sign in", func(t *testing.T) {
		resp := signIn(t, admin, "bcdr_not_a_real_token")
		require.EqualValues(t, http.StatusUnauthorized, resp.Status)
		require.True(t, strings.HasPrefix(admin.path(t), "/login"), admin.path(t))
		require.Equal(t, "That token is not valid, or it was revoked.", admin.text(t, `main .error[role="alert"]`))

		resp = signIn(t, admin, adminToken)
		require.EqualValues(t, http.StatusOK, resp.Status)
		require.Equal(t, "/", admin.path(t))
		require.Equal(t, "Dashboard", admin.text(t, "main h1"))
		require.Equal(t, "42.5", admin.text(t, ".score .big"), "the demo organisation's readiness")
		require.Equal(t, 1, admin.count(t, ".chart svg"), "the trend chart")
		require.Equal(t, "Lowest-scoring services", admin.text(t, "main table caption"))
		rows := admin.count(t, "main table:has(caption) tbody tr")
		require.Positive(t, rows)
		require.LessOrEqual(t, rows, 10)
		admin.checkAccessibility(t, axe, "dashboard (en)")
		admin.screenshot(t, "dashboard-en")
	})

	t.Run("the language switch turns the page to Chinese and back", func(t *testing.T) {
		switchLanguage(t, admin, "zh-CN")
		require.Equal(t, "总览", admin.text(t, "main h1"))
		require.Contains(t, admin.text(t, "main"), "组织就绪度")
		require.Equal(t, "zh-CN", evalJS[string](t, admin, `document.documentElement.lang`))
		require.Equal(t, "/", admin.path(t), "the switch stays on the page")
		admin.checkAccessibility(t, axe, "dashboard (zh-CN)")
		admin.screenshot(t, "dashboard-zh-CN")

		switchLanguage(t, admin, "en")
		require.Equal(t, "Dashboard", admin.text(t, "main h1"))
		require.Equal(t, "en", evalJS[string](t, admin, `document.documentElement.lang`))
	})

	t.Run("services, filtered by status, and one service", func(t *testing.T) {
		admin.open(t, "/services")
		require.Equal(t, 30, admin.count(t, `main tbody tr a[href^="/services/"]`), "the demo's services")
		admin.checkAccessibility(t, axe, "services")
		admin.screenshot(t, "services")

		admin.do(t, chromedp.SetValue(chromedp.ID("status"), "not_ready"))
		admin.load(t, chromedp.Click(chromedp.CSS("form.filters button")))
		require.Equal(t, "/services?status=not_ready", admin.path(t))
		badges := admin.count(t, "main tbody .badge")
		require.Positive(t, badges)
		require.Less(t, badges, 30)
		require.Equal(t, badges, admin.count(t, "main tbody .badge.not_ready"), "only not-ready services")
		require.Equal(t, "not_ready", evalJS[string](t, admin, `document.getElementById("status").value`))

		serviceKey = evalJS[string](t, admin, `document.querySelector('main tbody a[href^="/services/"]').textContent`)
		admin.load(t, chromedp.Click(chromedp.CSS(`main tbody a[href^="/services/"]`)))
		require.Equal(t, "/services/"+serviceKey, admin.path(t))
		require.Equal(t, serviceKey, admin.text(t, "main h1"))
		require.Equal(t, "What the score is made of", admin.text(t, "main h2"))
		require.Positive(t, admin.count(t, "main tbody tr"), "the score's components")
		admin.checkAccessibility(t, axe, "service "+serviceKey)
	})

	t.Run("reports in HTML and PDF", func(t *testing.T) {
		admin.open(t, "/reports")
		admin.checkAccessibility(t, axe, "reports")
		admin.screenshot(t, "reports")
		for lang, title := range map[string]string{"zh-CN": "业务影响分析报告", "en": "Business impact analysis report"} {
			admin.open(t, "/reports")
			admin.do(t, chromedp.SetValue(chromedp.ID("f-bia"), "html"), chromedp.SetValue(chromedp.ID("l-bia"), lang))
			resp := admin.load(t, chromedp.Click(chromedp.CSS(`form[action="/reports/view/bia"] button`)))
			require.EqualValues(t, http.StatusOK, resp.Status, lang)
			require.Contains(t, admin.path(t), "/reports/view/bia?format=html&lang="+lang)
			require.Contains(t, evalJS[string](t, admin, `document.title`), title)
			require.Equal(t, lang, evalJS[string](t, admin, `document.documentElement.lang`))
			require.Contains(t, header(resp, "Content-Security-Policy"), "default-src 'none'", "a report runs no script")
		}

		// The browser's session downloads the PDF; a report that takes
		// longer than the page waits is followed as a job.
		cookie := admin.session(t)
		resp, body := httpGet(t, base+"/reports/view/executive?format=pdf", cookie)
		if resp.StatusCode == http.StatusSeeOther {
			t.Logf("the PDF took longer than the page waits: followed as a job at %s", resp.Header.Get("Location"))
			loc := resp.Header.Get("Location")
			m := regexp.MustCompile(`^/reports/jobs/(\d+)$`).FindStringSubmatch(loc)
			require.NotNil(t, m, loc)
			job := waitForJob(t, base, adminToken, m[1])
			resp, body = httpGet(t, fmt.Sprintf("%s/reports/archive/%d", base, *job.ArchiveID), cookie)
		}
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		require.Equal(t, "application/pdf", resp.Header.Get("Content-Type"))
		require.True(t, bytes.HasPrefix(body, []byte("%PDF-")), "a PDF")
		require.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")
	})

	t.Run("a report job page follows the job until its download", func(t *testing.T) {
		resp, body := httpGet(t, base+"/api/v1/reports/executive?format=pdf", nil,
			"Authorization", "Bearer "+adminToken, "Prefer", "respond-async")
		require.Equal(t, http.StatusAccepted, resp.StatusCode, string(body))
		jobID = decodeJob(t, body).ID
		require.Equal(t, fmt.Sprintf("/api/v1/reports/jobs/%d", jobID), resp.Header.Get("Location"))

		admin.open(t, fmt.Sprintf("/reports/jobs/%d", jobID))
		require.Equal(t, "Making the report", admin.text(t, "main h1"))
		running := admin.count(t, "#job progress") == 1
		t.Logf("job %d running when its page opened: %v", jobID, running)
		// htmx polls the page while the job runs and swaps the link in.
		admin.do(t, chromedp.WaitVisible(chromedp.CSS(`#job a[href^="/reports/archive/"]`)))
		require.Equal(t, "The report is ready", admin.text(t, "#job .ok"))
		href := evalJS[string](t, admin, `document.querySelector('#job a[href^="/reports/archive/"]').getAttribute("href")`)
		admin.checkAccessibility(t, axe, "report job")
		admin.screenshot(t, "report-job")

		resp, body = httpGet(t, base+href, admin.session(t))
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.True(t, bytes.HasPrefix(body, []byte("%PDF-")), "the archived PDF")
	})

	t.Run("an executive sees the dashboard, not the services", func(t *testing.T) {
		stdout, stderr, code := runBCDR(t, env, "token", "create", "--name", "exec", "--role", "executive")
		require.Equal(t, 0, code, stderr)
		execToken := strings.TrimSpace(stdout)
		require.Regexp(t, `^bcdr_\S+$`, execToken)

		executive := b.person(t)
		people = append(people, executive)
		resp := signIn(t, executive, execToken)
		require.EqualValues(t, http.StatusOK, resp.Status)
		require.Equal(t, "/", executive.path(t))
		require.Equal(t, "42.5", executive.text(t, ".score .big"))
		require.Contains(t, executive.text(t, "header .who"), "exec")
		require.Equal(t, 0, executive.count(t, `nav a[href="/services"]`), "no Services link")
		require.Equal(t, 1, executive.count(t, `nav a[href="/reports"]`))
		require.Equal(t, 0, executive.count(t, `main a[href^="/services"]`), "no link to a page the role may not open")
		executive.checkAccessibility(t, axe, "dashboard (executive)")

		resp = executive.open(t, "/services")
		require.EqualValues(t, http.StatusForbidden, resp.Status)
		require.Equal(t, "Your role may not open this page.", executive.text(t, `main .error[role="alert"]`))
		resp = executive.open(t, "/services/"+serviceKey)
		require.EqualValues(t, http.StatusForbidden, resp.Status)
		resp = executive.open(t, fmt.Sprintf("/reports/jobs/%d", jobID))
		require.EqualValues(t, http.StatusOK, resp.Status, "executives read reports")
	})

	t.Run("the keyboard reaches the skip link first, then the token field", func(t *testing.T) {
		visitor.open(t, "/login")
		visitor.do(t, chromedp.KeyEvent(kb.Tab))
		require.Equal(t, "skip", evalJS[string](t, visitor, `document.activeElement.className`))
		require.Equal(t, "#main", evalJS[string](t, visitor, `document.activeElement.getAttribute("href")`))
		reached := false
		for range 8 {
			visitor.do(t, chromedp.KeyEvent(kb.Tab))
			if reached = evalJS[string](t, visitor, `document.activeElement.id`) == "token"; reached {
				break
			}
		}
		require.True(t, reached, "Tab reaches the token field")
		visitor.checkAccessibility(t, axe, "login (focus on the token)")
	})

	t.Run("sign out ends the session", func(t *testing.T) {
		admin.open(t, "/")
		admin.load(t, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
		require.Equal(t, "/login", admin.path(t))
		admin.open(t, "/reports")
		require.Equal(t, "/login?next=%2Freports", admin.path(t), "the session is over")
	})

	t.Run("content security policy", func(t *testing.T) {
		signIn(t, visitor, adminToken)
		resp := visitor.open(t, "/")
		require.Equal(t, "/", visitor.path(t))
		csp := header(resp, "Content-Security-Policy")
		require.Equal(t, "'self'", directive(csp, "script-src"), "the dashboard runs only the UI's own script: %s", csp)
		require.Equal(t, "'self'", directive(csp, "style-src"), csp)
		require.NotContains(t, csp, "unsafe-", csp)

		// What every page so far wrote to the console: a CSP violation or
		// an uncaught exception fails; the rest (the 401 and 403 answers
		// the steps asked for) is logged.
		broken := 0
		for i, p := range people {
			for _, line := range p.consoleLines() {
				if strings.Contains(line, "Content Security Policy") || strings.HasPrefix(line, "exception:") {
					broken++
					t.Errorf("person %d: %s", i, line)
				} else {
					t.Logf("person %d: %s", i, line)
				}
			}
		}
		require.Zero(t, broken, "CSP violations or exceptions in the browser console")
	})
}

// waitForJob follows a report job in the API until it is done.
func waitForJob(t *testing.T, base, token, id string) apiJob {
	t.Helper()
	var job apiJob
	eventually.TrueWithin(t, time.Minute, func() bool {
		resp, body := httpGet(t, base+"/api/v1/reports/jobs/"+id, nil, "Authorization", "Bearer "+token)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		job = decodeJob(t, body)
		require.NotEqual(t, "failed", job.Status, job.Error)
		return job.Status == "done"
	}, "report job %s done", id)
	require.NotNil(t, job.ArchiveID)
	return job
}
