package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// TestWebUIBIAEditorInChromium edits a BIA in a real headless Chromium
// against a real `bcdr serve --demo`: a continuity manager opens a
// service's BIA editor, changes a cell of the impact grid with the
// keyboard and sees MTPD, suggested RTO and tier follow, sets an RTO that
// fits, saves the next version and approves it (confirming); an auditor
// sees the grid and no control. axe-core checks the service page and the
// editor; screenshots go to the artifacts.
func TestWebUIBIAEditorInChromium(t *testing.T) {
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
	secret, err := os.ReadFile(filepath.Join(dataDir, "admin-token"))
	require.NoError(t, err)
	api := apiClient{t: t, base: base + "/api/v1", token: strings.TrimSpace(string(secret))}
	cmToken, auditorToken := api.newToken("bia-lead", "continuity_manager"), api.newToken("bia-auditor", "auditor")

	// taxpayer-reg is tier 1 in the demo: RTO 4h, WRT 2h, its regulatory
	// impact intolerable from 8h on (3 at 4h).
	const service = "taxpayer-reg"
	editor := "/services/" + service + "/bia"
	b := startBrowser(t, ctx, base)
	lead, auditor := b.person(t), b.person(t)

	t.Run("the service page shows its BIA, resilience, requirements and backups", func(t *testing.T) {
		signIn(t, lead, cmToken)
		resp := lead.open(t, "/services/"+service)
		require.EqualValues(t, http.StatusOK, resp.Status)
		require.Equal(t, "4h", lead.text(t, "#svc-bia-rto"))
		require.Equal(t, "8h", lead.text(t, "#svc-bia-mtpd"))
		require.Equal(t, "1", lead.text(t, "#svc-bia-tier"))
		require.Positive(t, lead.count(t, "#resilience tbody tr"), "scenarios that take the service down")
		require.Positive(t, lead.count(t, "#requirements tbody tr"), "the CIs it needs")
		lead.checkAccessibility(t, axe, "service "+service)
		lead.screenshot(t, "service-"+service)
		lead.load(t, chromedp.Click(chromedp.CSS(`#bia a[href="`+editor+`"]`)))
		require.Equal(t, editor, lead.path(t))
	})

	t.Run("a grid cell changed, the derived figures follow", func(t *testing.T) {
		require.Equal(t, "8h", lead.text(t, "#bia-mtpd"))
		require.Equal(t, "6h", lead.text(t, "#bia-suggested-rto"))
		require.Equal(t, "2", lead.text(t, "#bia-suggested-tier"))
		require.Equal(t, "1", lead.text(t, "#bia-tier"))
		require.Equal(t, 7, lead.count(t, "#bia-form table.bia-grid thead th[scope=col]"), "a column per time point")
		require.Equal(t, 5, lead.count(t, "#bia-form table.bia-grid tbody th[scope=row]"), "a row per impact category")
		lead.checkAccessibility(t, axe, "BIA editor")

		// The keyboard picks "4 severe" in the regulatory cell at 4h.
		lead.do(t, chromedp.Focus(chromedp.ID("rating-regulatory-4h")), chromedp.KeyEvent("4"))
		lead.do(t, chromedp.Poll[chromedp.Void](`document.getElementById("bia-suggested-rto").textContent.trim() === "2h"`,
			chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(stepTimeout)))
		require.Equal(t, "4", evalJS[string](t, lead, `document.getElementById("rating-regulatory-4h").value`))
		require.Equal(t, "4h", lead.text(t, "#bia-mtpd"))
		require.Equal(t, "1", lead.text(t, "#bia-suggested-tier"))
		require.Contains(t, lead.text(t, "#bia-derived .bia-problems"), "exceeds MTPD 4h", "the RTO no longer fits")

		lead.do(t, chromedp.Focus(chromedp.ID("rto")))
		evalJS[chromedp.Void](t, lead, `document.getElementById("rto").select()`)
		lead.do(t, chromedp.KeyEvent("1h"), chromedp.KeyEvent(kb.Tab))
		lead.do(t, chromedp.Poll[chromedp.Void](`document.getElementById("bia-tier").textContent.trim() === "0"`,
			chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(stepTimeout)))
		require.Equal(t, 0, lead.count(t, "#bia-derived .bia-problems"), "nothing left to refuse")
		lead.checkAccessibility(t, axe, "BIA editor, edited")
		lead.screenshot(t, "bia-editor")
	})

	t.Run("save writes the next version, approve puts it in force", func(t *testing.T) {
		resp := lead.load(t, chromedp.Click(chromedp.ID("bia-save")))
		require.EqualValues(t, http.StatusOK, resp.Status)
		require.Equal(t, editor+"?done=saved", lead.path(t))
		require.Equal(t, "The draft is saved.", lead.text(t, `main .bia-notice.ok`))
		require.Contains(t, lead.text(t, "#bia-version"), "v2")
		require.Equal(t, "4", evalJS[string](t, lead, `document.getElementById("rating-regulatory-4h").value`))
		require.Equal(t, "1h", evalJS[string](t, lead, `document.getElementById("rto").value`))
		require.Equal(t, 2, lead.count(t, "main table:not(.bia-grid) tbody tr"), "two versions")

		lead.do(t, chromedp.Click(chromedp.ID("bia-approve")))
		lead.do(t, chromedp.Poll[chromedp.Void](`location.search === "?done=approved"`, chromedp.WithPollingTimeout(stepTimeout)))
		lead.do(t, chromedp.WaitVisible(chromedp.CSS(`main .bia-notice.ok`)))
		require.Equal(t, "The draft is approved and in force.", lead.text(t, `main .bia-notice.ok`))
		require.Len(t, lead.confirmations(), 1, "approval asks first")
		lead.screenshot(t, "bia-approved")

		lead.open(t, "/services/"+service)
		require.Equal(t, "1h", lead.text(t, "#svc-bia-rto"))
		require.Equal(t, "4h", lead.text(t, "#svc-bia-mtpd"))
		require.Equal(t, "0", lead.text(t, "#svc-bia-tier"))
	})

	t.Run("an auditor sees the grid and no control", func(t *testing.T) {
		signIn(t, auditor, auditorToken)
		resp := auditor.open(t, editor)
		require.EqualValues(t, http.StatusOK, resp.Status)
		require.Positive(t, auditor.count(t, "table.bia-grid tbody th[scope=row]"))
		require.Zero(t, auditor.count(t, "main select, main input, main textarea, main button"))
		require.Equal(t, "4h", auditor.text(t, "#bia-mtpd"))
		auditor.checkAccessibility(t, axe, "BIA (auditor)")
	})

	t.Run("no CSP violation or exception in the console", func(t *testing.T) {
		for i, p := range []*person{lead, auditor} {
			for _, line := range p.consoleLines() {
				if strings.Contains(line, "Content Security Policy") || strings.HasPrefix(line, "exception:") {
					t.Errorf("person %d: %s", i, line)
				} else {
					t.Logf("person %d: %s", i, line)
				}
			}
		}
	})
}
