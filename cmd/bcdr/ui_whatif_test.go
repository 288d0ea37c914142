package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// The CMDB browser, a service's dependency view and the what-if simulator
// as a continuity manager uses them in a real headless Chromium against
// `bcdr serve --demo`: filtering the CIs, opening one, reading the
// dependency chart and its list, asking a what-if that htmx answers in
// place, and a refused question naming its field; axe-core's rules on
// every page and the content security policy. Screenshots go to the
// artifacts.
func TestWebUIWhatIfInChromium(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	axeSource, err := os.ReadFile(filepath.Join("..", "..", "web", "testdata", "axe.min.js"))
	require.NoError(t, err)
	axe := string(axeSource)

	dataDir := t.TempDir()
	env := []string{"DATABASE_URL=" + pgtest.NewURL(t), "BCDR_DATA_DIR=" + dataDir, "BCDR_KIT_DIR=" + t.TempDir()}
	server := startServeWith(t, []string{"--demo"}, env...)
	base := "http://" + server.waitReady(t, 2*time.Minute)
	stdout, stderr, code := runBCDR(t, env, "token", "create", "--name", "lead", "--role", "continuity_manager")
	require.Equal(t, 0, code, stderr)

	b := startBrowser(t, ctx, base)
	cm := b.person(t)
	resp := signIn(t, cm, strings.TrimSpace(stdout))
	require.EqualValues(t, http.StatusOK, resp.Status)

	t.Run("the CMDB, filtered, and one CI", func(t *testing.T) {
		cm.load(t, chromedp.Click(chromedp.CSS(`nav a[href="/cmdb"]`)))
		require.Equal(t, "/cmdb", cm.path(t))
		require.Equal(t, 50, cm.count(t, `main tbody tr`), "a page of CIs")
		require.Equal(t, 1, cm.count(t, `main a[href^="/cmdb?after="]`), "and a link to the next")
		cm.checkAccessibility(t, axe, "cmdb")
		cm.screenshot(t, "cmdb")

		cm.do(t, chromedp.SetValue(chromedp.ID("class"), "database"), chromedp.SendKeys(chromedp.ID("q"), "taxpayer-reg"))
		cm.load(t, chromedp.Click(chromedp.CSS("form.cmdb-filters button")))
		require.Equal(t, "/cmdb?class=database&status=&site=&q=taxpayer-reg", cm.path(t))
		keys := evalJS[[]string](t, cm, `[...document.querySelectorAll("main tbody tr td:first-child a")].map(a => a.textContent)`)
		require.Contains(t, keys, "taxpayer-reg-db")
		for _, k := range keys {
			require.Contains(t, k, "taxpayer-reg")
		}

		cm.load(t, chromedp.Click(chromedp.CSS(`main tbody a[href="/cmdb/taxpayer-reg-db"]`)))
		require.Equal(t, "taxpayer-reg-db", cm.text(t, "main h1"))
		require.Positive(t, cm.count(t, `main a[href="/services/taxpayer-reg/dependencies"]`), "the services that need it")
		cm.checkAccessibility(t, axe, "CI taxpayer-reg-db")
		cm.screenshot(t, "cmdb-ci")

		cm.open(t, "/cmdb/cycles")
		require.Equal(t, "Dependency cycles and anomalies", cm.text(t, "main h1"))
		cm.checkAccessibility(t, axe, "cmdb cycles")
	})

	t.Run("a service's dependency view", func(t *testing.T) {
		cm.open(t, "/cmdb/taxpayer-reg-db")
		cm.load(t, chromedp.Click(chromedp.CSS(`main a[href="/services/taxpayer-reg/dependencies"]`)))
		require.Equal(t, "/services/taxpayer-reg/dependencies", cm.path(t))
		require.Equal(t, 1, cm.count(t, `.dep-chart svg[role="img"]`))
		require.Equal(t, "Dependencies of taxpayer-reg", evalJS[string](t, cm, `document.querySelector(".dep-chart svg > title").textContent`))
		listed := cm.count(t, "table.dep-list tbody tr")
		require.Positive(t, listed)
		require.Equal(t, min(listed+1, 60), cm.count(t, ".dep-chart svg g"), "a box per CI listed, the service too")
		require.Equal(t, 1, cm.count(t, `table.dep-list tbody a[href="/cmdb/taxpayer-reg-db"]`))
		// The chart is drawn wide enough to read: boxes do not overlap.
		overlaps := evalJS[int](t, cm, `(() => { const r = [...document.querySelectorAll(".dep-chart svg g rect")].map(e => e.getBBox());
			let n = 0; for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++) {
				const a = r[i], b = r[j]; if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) n++; }
			return n; })()`)
		require.Zero(t, overlaps)
		cm.checkAccessibility(t, axe, "dependencies of taxpayer-reg")
		cm.screenshot(t, "dependencies")
	})

	t.Run("a what-if answered in place, and a refused one", func(t *testing.T) {
		cm.load(t, chromedp.Click(chromedp.CSS(`nav a[href="/what-if"]`)))
		require.Equal(t, "What-if simulator", cm.text(t, "main h1"))
		cm.checkAccessibility(t, axe, "what-if")
		// A mark on the page survives only if the answer is swapped in
		// without loading the page again.
		evalJS[chromedp.Void](t, cm, `window.bcdrStill = "here"`)
		cm.do(t, chromedp.SendKeys(chromedp.ID("wi-failed"), "taxpayer-reg-db"), chromedp.SendKeys(chromedp.ID("wi-duration"), "8h"),
			chromedp.Click(chromedp.CSS("form.wi-form button")),
			chromedp.WaitVisible(chromedp.CSS("#wi-answer table.wi-services")))
		require.Equal(t, "here", evalJS[string](t, cm, `window.bcdrStill`), "htmx swapped the answer in")
		require.Contains(t, cm.path(t), "failed=taxpayer-reg-db", "the answer's address is in the location bar")
		down := evalJS[[]string](t, cm, `[...document.querySelectorAll("#wi-answer table.wi-services tbody tr td:first-child > a")].map(a => a.textContent)`)
		require.Contains(t, down, "taxpayer-reg")
		require.Contains(t, cm.text(t, "#wi-answer .wi-total"), "Total loss")
		require.Positive(t, cm.count(t, "#wi-answer ol.wi-order li"), "the recovery order")
		cm.checkAccessibility(t, axe, "what-if answer")
		cm.screenshot(t, "whatif")

		cm.do(t, chromedp.SetValue(chromedp.ID("wi-duration"), "soon"), chromedp.Click(chromedp.CSS("form.wi-form button")),
			chromedp.WaitVisible(chromedp.CSS(`#wi-answer [role="alert"]`)))
		require.Contains(t, cm.text(t, "#wi-answer .wi-problems"), "(duration): must be a duration such as 90m, 4h or 3d")
		require.Zero(t, cm.count(t, "#wi-answer table.wi-services"), "no answer to a refused question")
		require.Equal(t, "here", evalJS[string](t, cm, `window.bcdrStill`))
		cm.screenshot(t, "whatif-refused")

		// Without script the same question is an ordinary page.
		resp := cm.open(t, "/what-if?failed=taxpayer-reg-db&duration=8h")
		require.EqualValues(t, http.StatusOK, resp.Status)
		require.Positive(t, cm.count(t, "#wi-answer table.wi-services tbody tr"))

		// In Chinese, the same answer in the source documents' terms.
		switchLanguage(t, cm, "zh-CN")
		require.Equal(t, "情景模拟（假设分析）", cm.text(t, "main h1"))
		require.Equal(t, "恢复顺序", cm.text(t, "#wi-order-title"))
		cm.checkAccessibility(t, axe, "what-if (zh-CN)")
		cm.screenshot(t, "whatif-zh-CN")
		switchLanguage(t, cm, "en")
	})

	t.Run("content security policy", func(t *testing.T) {
		broken := 0
		for _, line := range cm.consoleLines() {
			// The refused question's 422 is logged by the browser; CSP
			// violations and exceptions are not allowed.
			if strings.Contains(line, "Content Security Policy") || strings.HasPrefix(line, "exception:") {
				broken++
				t.Error(line)
			} else {
				t.Log(line)
			}
		}
		require.Zero(t, broken, fmt.Sprintf("%d CSP violations or exceptions in the browser console", broken))
	})
}
