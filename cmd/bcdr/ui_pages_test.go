package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/runbooks"
)

// apiRunbook is a runbook as GET /api/v1/runbooks/{id} shows it.
type apiRunbook struct {
	Title           string `json:"title"`
	ApprovedVersion *int   `json:"approved_version"`
	DraftVersion    *int   `json:"draft_version"`
	Version         struct {
		Number int       `json:"number"`
		Steps  []apiStep `json:"steps"`
	} `json:"version"`
}

// apiStep is a runbook step as the API shows it.
type apiStep struct {
	ID        string   `json:"id"`
	Title     string   `json:"title"`
	Estimate  string   `json:"estimate"`
	DependsOn []string `json:"depends_on"`
}

// stepIDs are the ids of steps, in order.
func stepIDs(steps []apiStep) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.ID
	}
	return out
}

// TestWebUIEditingInChromium uses the editing pages in a real headless
// Chromium against a real `bcdr serve --demo`: a continuity manager adds
// a step to a runbook through its form, moves it, is refused a dependency
// cycle with the field named and nothing written, compares the draft with
// the version in force, makes and downloads the offline kit (whose
// manifest verifies) and imports suppliers from a file, good and bad; an
// administrator changes the drill policy (and is refused a bad value),
// makes, tests, changes and deletes a webhook channel; then the drills
// calendar, the findings register, backups and administration pages.
// axe-core checks every page; screenshots go to the artifacts.
func TestWebUIEditingInChromium(t *testing.T) {
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
	adminToken := strings.TrimSpace(string(secret))
	api := apiClient{t: t, base: base + "/api/v1", token: adminToken}
	cmToken := api.newToken("editor", "continuity_manager")

	var before apiRunbook
	api.call("GET", "/runbooks/1", nil, http.StatusOK, &before)
	require.NotNil(t, before.ApprovedVersion, "the demo's first runbook is in force")
	require.Nil(t, before.DraftVersion, "and has no draft")
	first := before.Version.Steps[0]
	const rbPath = "/runbooks/1"

	b := startBrowser(t, ctx, base)
	lead, admin := b.person(t), b.person(t)
	signIn(t, lead, cmToken)
	signIn(t, admin, adminToken)

	const stepTitle = "Call the harbour master"
	var added string
	var moved apiRunbook

	t.Run("a step added through its form, then moved up", func(t *testing.T) {
		lead.load(t, chromedp.Click(chromedp.CSS(`nav a[href="/runbooks"]`)))
		lead.load(t, chromedp.Click(chromedp.CSS(`main a[href="`+rbPath+`"]`)))
		require.Equal(t, before.Title, lead.text(t, "main h1"))
		lead.load(t, chromedp.Click(chromedp.CSS(`main a[href="`+rbPath+`/edit"]`)))
		require.Equal(t, rbPath+"/edit", lead.path(t))
		require.Contains(t, lead.text(t, "main section.card"), fmt.Sprintf("your first change makes draft version v%d", before.Version.Number+1))
		lead.checkAccessibility(t, axe, "runbook edit")

		lead.load(t, chromedp.Click(chromedp.CSS(`a.rbe-button[href="`+rbPath+`/steps/new"]`)))
		require.Equal(t, "Add a step", lead.text(t, "main h1"))
		lead.checkAccessibility(t, axe, "new step form")
		lead.do(t, chromedp.SendKeys(chromedp.ID("title"), stepTitle),
			chromedp.SendKeys(chromedp.ID("owner_role"), "harbour_liaison"),
			chromedp.SendKeys(chromedp.ID("estimate"), "25m"),
			chromedp.Click(chromedp.CSS(`#depends_on option[value="`+first.ID+`"]`)))
		require.Equal(t, []string{first.ID}, evalJS[[]string](t, lead, `[...document.getElementById("depends_on").selectedOptions].map(o => o.value)`))
		lead.screenshot(t, "runbook-step-new")
		lead.do(t, chromedp.Click(chromedp.CSS(`form.rbe-step button[type="submit"]`)))
		lead.waitUntil(t, `location.search === "?done=step_added" && !!document.querySelector("main .rb-notice.ok")`)
		require.Equal(t, rbPath+"/edit?done=step_added", lead.path(t))
		require.Equal(t, "The step is added.", lead.text(t, "main .rb-notice.ok"))

		// The page lists the step with its estimate and what it waits for.
		added = evalJS[string](t, lead, fmt.Sprintf(`([...document.querySelectorAll("#steps tbody tr")]
			.find(tr => tr.cells[1].textContent.includes(%q)) || {id: ""}).id.replace(/^step-/, "")`, stepTitle))
		require.NotEmpty(t, added, "the new step is on the page")
		row := "#step-" + added
		require.Equal(t, "25m", lead.text(t, row+" td:nth-child(5)"))
		require.Equal(t, first.ID+" "+first.Title, lead.text(t, row+" td:nth-child(6)"))

		var after apiRunbook
		api.call("GET", "/runbooks/1", nil, http.StatusOK, &after)
		require.NotNil(t, after.DraftVersion)
		require.Equal(t, before.Version.Number+1, *after.DraftVersion, "the first change made a draft")
		require.Equal(t, *before.ApprovedVersion, *after.ApprovedVersion, "the version in force stays")
		order := stepIDs(after.Version.Steps)
		at := indexOf(order, added)
		require.GreaterOrEqual(t, at, 2, "the step is placed after steps it does not depend on: %v", order)
		step := after.Version.Steps[at]
		require.Equal(t, stepTitle, step.Title)
		require.Equal(t, "25m", step.Estimate)
		require.Equal(t, []string{first.ID}, step.DependsOn)

		lead.do(t, chromedp.Click(chromedp.CSS(row+` form[action$="/move"]:has(input[value="up"]) button`)))
		lead.waitUntil(t, `location.search === "?done=step_moved" && !!document.querySelector("main .rb-notice.ok")`)
		require.Equal(t, "The step is moved.", lead.text(t, "main .rb-notice.ok"))
		shown := evalJS[[]string](t, lead, `[...document.querySelectorAll("#steps tbody tr")].map(tr => tr.id.replace(/^step-/, ""))`)
		api.call("GET", "/runbooks/1", nil, http.StatusOK, &moved)
		require.Equal(t, stepIDs(moved.Version.Steps), shown, "the page shows the stored order")
		require.Equal(t, added, shown[at-1], "one place up")
		require.Equal(t, order[at-1], shown[at], "the step it passed is after it")
		lead.screenshot(t, "runbook-edit")
	})

	t.Run("a dependency cycle is refused, naming the field, and nothing is written", func(t *testing.T) {
		require.NotEmpty(t, added)
		lead.load(t, chromedp.Click(chromedp.CSS(`#step-`+first.ID+` a[href="`+rbPath+`/steps/`+first.ID+`"]`)))
		stepPage := rbPath + "/steps/" + first.ID
		require.Equal(t, stepPage, lead.path(t))
		require.Equal(t, "Edit step "+first.ID, lead.text(t, "main h1"))
		// The first step made to wait for the new one, which waits for it.
		lead.do(t, chromedp.Click(chromedp.CSS(`#depends_on option[value="`+added+`"]`)))
		lead.do(t, chromedp.Click(chromedp.CSS(`form.rbe-step button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS(`main .rb-notice.error[role="alert"]`)))
		alert := lead.text(t, `main .rb-notice.error[role="alert"]`)
		require.Contains(t, alert, "Not done:")
		require.Contains(t, alert, "step dependencies form a cycle")
		require.Contains(t, lead.text(t, `main .rb-notice.error li`), "Depends on (depends_on)")
		require.Equal(t, "true", evalJS[string](t, lead, `document.getElementById("depends_on").getAttribute("aria-invalid")`))
		require.Contains(t, evalJS[[]string](t, lead, `[...document.getElementById("depends_on").selectedOptions].map(o => o.value)`), added,
			"what was chosen is kept")
		require.Equal(t, stepPage, lead.path(t), "the refused form stays where it was")
		lead.checkAccessibility(t, axe, "step form, refused")
		lead.screenshot(t, "runbook-step-refused")

		var now apiRunbook
		api.call("GET", "/runbooks/1", nil, http.StatusOK, &now)
		require.Equal(t, moved.Version, now.Version, "nothing was written")
	})

	t.Run("the diff shows the added step between the version in force and the draft", func(t *testing.T) {
		lead.load(t, chromedp.Click(chromedp.CSS(`.rb-crumbs a[href="`+rbPath+`/edit"]`)))
		lead.load(t, chromedp.Click(chromedp.CSS(`.rbe-links a[href="`+rbPath+`/diff"]`)))
		require.Equal(t, rbPath+"/diff", lead.path(t))
		require.Equal(t, fmt.Sprintf("v%d → v%d", *before.ApprovedVersion, before.Version.Number+1), lead.text(t, "#diff-h"))
		require.Contains(t, lead.text(t, "main"), "Steps added (1)")
		plus := lead.text(t, "ul.rbe-diff li.rb-added")
		for _, want := range []string{"+ " + added + " " + stepTitle, "harbour_liaison", "25m", first.ID} {
			require.Contains(t, plus, want)
		}
		lead.checkAccessibility(t, axe, "runbook diff")
		lead.screenshot(t, "runbook-diff")
	})

	t.Run("the offline kit is made, followed and downloaded, and its manifest verifies", func(t *testing.T) {
		lead.open(t, "/kit")
		require.Equal(t, "Offline continuity kit", lead.text(t, "main h1"))
		lead.checkAccessibility(t, axe, "kit")
		lead.load(t, chromedp.Click(chromedp.CSS(`form[action="/kit"] button`)))
		job := lead.path(t)
		require.Regexp(t, `^/kit/jobs/[0-9a-f]{32}$`, job)
		// The job as first drawn is kept: htmx swaps a running job's part of
		// the page, and the mark survives only if the page is not loaded again.
		running := evalJS[bool](t, lead, `(window.bcdrKitNode = document.getElementById("kit-job")).querySelector("progress") !== null`)
		t.Logf("kit being made when its page opened: %v", running)
		lead.do(t, chromedp.WaitVisible(chromedp.CSS(`#kit-job a[href="`+job+`/download"]`)))
		if running {
			require.True(t, evalJS[bool](t, lead, `!!window.bcdrKitNode && window.bcdrKitNode !== document.getElementById("kit-job")`),
				"htmx polled the job and swapped the link in")
		}
		require.Contains(t, lead.text(t, "#kit-job .ok"), "The kit is ready")
		require.Zero(t, lead.count(t, "#kit-job[hx-trigger]"), "a finished kit is no longer polled")
		lead.checkAccessibility(t, axe, "kit job")
		lead.screenshot(t, "kit-job")

		resp, archive := httpGet(t, base+job+"/download", lead.session(t))
		require.Equal(t, http.StatusOK, resp.StatusCode, string(archive))
		require.Equal(t, "application/zip", resp.Header.Get("Content-Type"))
		require.Regexp(t, `^attachment; filename=continuity-kit-\d{8}T\d{6}Z\.zip$`, resp.Header.Get("Content-Disposition"))
		dir := unzipTo(t, archive)
		raw, err := os.ReadFile(filepath.Join(dir, runbooks.ManifestName))
		require.NoError(t, err)
		var m runbooks.Manifest
		require.NoError(t, json.Unmarshal(raw, &m))
		require.Equal(t, runbooks.KitFormat, m.Format)
		require.Positive(t, m.Runbooks)
		var listed []string
		documents := 0
		for _, f := range m.Files {
			listed = append(listed, f.Path)
			if strings.HasPrefix(f.Path, "runbooks/") {
				documents++
				content, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
				require.NoError(t, err)
				require.NotContains(t, string(content), stepTitle, "%s: the kit carries the versions in force, not drafts", f.Path)
			}
		}
		require.Contains(t, listed, "index.html")
		require.Equal(t, m.Runbooks*len(runbooks.Formats), documents, "every runbook in force in every format")
		v, err := runbooks.VerifyKit(dir)
		require.NoError(t, err)
		require.True(t, v.OK, "%v", v.Problems)
		require.Equal(t, len(m.Files), v.Checked)

		resp, _ = httpGet(t, base+job+"/download", lead.session(t))
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "a kit is handed over once")
	})

	t.Run("an import of suppliers reaches 100% and reports; a bad row is named", func(t *testing.T) {
		files := t.TempDir()
		good := filepath.Join(files, "suppliers.csv")
		require.NoError(t, os.WriteFile(good, []byte("key,name,notes\nui-harbour-tugs,Harbour Tugs,Tow boats\nui-harbour-fuel,Harbour Fuel,Bunker fuel\n"), 0o644))
		bad := filepath.Join(files, "suppliers-bad.csv")
		require.NoError(t, os.WriteFile(bad, []byte("key,name,notes\nui-harbour-pilots,Harbour Pilots,Pilotage\nui-harbour-nameless,,no name\n"), 0o644))

		upload := func(file string) string {
			t.Helper()
			lead.load(t, chromedp.Click(chromedp.CSS(`nav a[href="/imports"]`)))
			lead.do(t, chromedp.SetValue(chromedp.ID("imp-type"), "suppliers"),
				chromedp.SetUploadFiles(chromedp.ID("imp-file"), []string{file}))
			lead.load(t, chromedp.Click(chromedp.CSS(`form[action="/imports"] button[type="submit"]`)))
			job := lead.path(t)
			require.Regexp(t, `^/imports/jobs/[0-9a-f]{24}$`, job)
			lead.do(t, chromedp.WaitVisible(chromedp.CSS(`#job [data-import-result]`)))
			require.Equal(t, "100%", lead.text(t, "#job [data-percent]"))
			require.Equal(t, "100", evalJS[string](t, lead, `document.getElementById("import-progress").getAttribute("value")`))
			return evalJS[string](t, lead, `document.querySelector("#job [data-import-result]").dataset.importResult`)
		}

		lead.open(t, "/imports")
		lead.checkAccessibility(t, axe, "imports")
		require.Equal(t, "done", upload(good))
		require.Equal(t, "The import is done.", lead.text(t, "#job [data-import-result]"))
		require.Equal(t, "2", lead.text(t, "#job [data-rows]"))
		require.Equal(t, "2", lead.text(t, "#job [data-inserted]"))
		require.Equal(t, "0", lead.text(t, "#job [data-rejected]"))
		lead.checkAccessibility(t, axe, "import job")
		lead.screenshot(t, "import-done")
		var supplier struct {
			Name string `json:"name"`
		}
		api.call("GET", "/suppliers/ui-harbour-fuel", nil, http.StatusOK, &supplier)
		require.Equal(t, "Harbour Fuel", supplier.Name)

		require.Equal(t, "rejected", upload(bad))
		require.Contains(t, lead.text(t, "#job [data-import-result]"), "Nothing was written")
		require.Equal(t, "1", lead.text(t, "#job [data-rejected]"))
		require.Equal(t, 1, lead.count(t, "#job tr[data-problem-row]"), "only the bad row is listed")
		cells := evalJS[[]string](t, lead, `[...document.querySelectorAll('#job tr[data-problem-row="2"] td')].map(td => td.textContent.trim())`)
		require.Len(t, cells, 4)
		require.Equal(t, []string{"2", "3", "name"}, cells[:3], "row 2, on line 3 of the file, its name")
		require.Contains(t, cells[3], "required")
		lead.checkAccessibility(t, axe, "import job, rejected")
		lead.screenshot(t, "import-rejected")
		api.call("GET", "/suppliers/ui-harbour-pilots", nil, http.StatusNotFound, nil)
	})

	t.Run("settings: the drill policy saved, and a bad value refused naming its field", func(t *testing.T) {
		type policy struct {
			Tiers []struct {
				Tier    int `json:"tier"`
				PerYear int `json:"per_year"`
			} `json:"tiers"`
		}
		var stored policy
		api.call("GET", "/drills/policy", nil, http.StatusOK, &stored)
		require.NotEmpty(t, stored.Tiers)
		tier := stored.Tiers[0]
		input := fmt.Sprintf("per-year-%d", tier.Tier)

		admin.load(t, chromedp.Click(chromedp.CSS(`nav a[href="/settings"]`)))
		require.Equal(t, "Settings", admin.text(t, "main h1"))
		require.Equal(t, fmt.Sprint(tier.PerYear), evalJS[string](t, admin, `document.getElementById("`+input+`").value`))
		admin.checkAccessibility(t, axe, "settings")
		admin.screenshot(t, "settings")

		want := tier.PerYear + 1
		admin.do(t, chromedp.SetValue(chromedp.ID(input), fmt.Sprint(want)))
		admin.load(t, chromedp.Click(chromedp.CSS(`form[action="/settings/drill-policy"] button[type="submit"]`)))
		require.Equal(t, "/settings?done=policy", admin.path(t))
		require.Equal(t, "The drill policy was saved.", admin.text(t, `main .notice.ok[role="status"]`))
		require.Equal(t, fmt.Sprint(want), evalJS[string](t, admin, `document.getElementById("`+input+`").value`))
		api.call("GET", "/drills/policy", nil, http.StatusOK, &stored)
		require.Equal(t, want, stored.Tiers[0].PerYear)

		admin.do(t, chromedp.SetValue(chromedp.ID(input), "twice"))
		resp := admin.load(t, chromedp.Click(chromedp.CSS(`form[action="/settings/drill-policy"] button[type="submit"]`)))
		require.EqualValues(t, http.StatusUnprocessableEntity, resp.Status)
		require.Contains(t, admin.text(t, `main .notice.error[role="alert"]`), "tiers[0].per_year: must be a whole number")
		require.Equal(t, "true", evalJS[string](t, admin, `document.getElementById("`+input+`").getAttribute("aria-invalid")`))
		require.Equal(t, "twice", evalJS[string](t, admin, `document.getElementById("`+input+`").value`), "what was typed is kept")
		admin.checkAccessibility(t, axe, "settings, refused")
		admin.screenshot(t, "settings-refused")
		api.call("GET", "/drills/policy", nil, http.StatusOK, &stored)
		require.Equal(t, want, stored.Tiers[0].PerYear, "nothing was saved")
	})

	t.Run("a webhook channel made, tested, changed and deleted", func(t *testing.T) {
		var hits atomic.Int32
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(hook.Close)

		admin.load(t, chromedp.Click(chromedp.CSS(`nav a[href="/channels"]`)))
		require.Equal(t, "Notification channels", admin.text(t, "main h1"))
		admin.checkAccessibility(t, axe, "channels")
		admin.do(t, chromedp.SendKeys(chromedp.ID("ch-name"), "Harbour hook"),
			chromedp.SendKeys(chromedp.ID("ch-url"), hook.URL+"/bcdr"))
		require.Equal(t, "webhook", evalJS[string](t, admin, `document.getElementById("ch-kind").value`))
		admin.load(t, chromedp.Click(chromedp.CSS(`form[action="/channels"] button[type="submit"]`)))
		m := regexp.MustCompile(`^/channels/(\d+)\?done=created$`).FindStringSubmatch(admin.path(t))
		require.NotNil(t, m, admin.path(t))
		page := "/channels/" + m[1]
		require.Equal(t, "The channel was created.", admin.text(t, `main .notice.ok[role="status"]`))
		require.Equal(t, "Harbour hook", admin.text(t, "main h1"))
		admin.checkAccessibility(t, axe, "channel")

		// serve --demo keeps the default outbound policy: loopback is
		// refused, and the delivery says so and how to allow it.
		admin.load(t, chromedp.Click(chromedp.CSS(`form[action="`+page+`/test"] button`)))
		require.Equal(t, "pending", admin.text(t, "[data-delivery-status]"))
		var deliveries struct {
			Items []struct {
				LastError string `json:"last_error"`
			} `json:"items"`
		}
		eventually.TrueWithin(t, 30*time.Second, func() bool {
			api.call("GET", "/notification-channels/"+m[1]+"/deliveries", nil, http.StatusOK, &deliveries)
			return len(deliveries.Items) == 1 && deliveries.Items[0].LastError != ""
		}, "the test delivery is attempted")
		admin.open(t, page)
		refusal := admin.text(t, "#deliveries tbody td .error")
		require.Contains(t, refusal, "is not allowed for outbound calls (loopback); allow it with BCDR_OUTBOUND_ALLOW")
		require.Zero(t, hits.Load(), "nothing reached the loopback receiver")
		admin.checkAccessibility(t, axe, "channel with a refused delivery")
		admin.screenshot(t, "channel")

		admin.do(t, chromedp.SetValue(chromedp.ID("ch-url"), "ftp://harbour.example"))
		resp := admin.load(t, chromedp.Click(chromedp.CSS(`form[action="`+page+`"] button[type="submit"]`)))
		require.EqualValues(t, http.StatusUnprocessableEntity, resp.Status)
		require.Contains(t, admin.text(t, `main .notice.error[role="alert"]`), "url: must be an absolute http or https URL")
		require.Equal(t, "true", evalJS[string](t, admin, `document.getElementById("ch-url").getAttribute("aria-invalid")`))
		admin.checkAccessibility(t, axe, "channel, refused")

		admin.do(t, chromedp.Clear(chromedp.ID("ch-url")), chromedp.SetValue(chromedp.ID("ch-name"), "Harbour webhook"))
		admin.load(t, chromedp.Click(chromedp.CSS(`form[action="`+page+`"] button[type="submit"]`)))
		require.Equal(t, page+"?done=saved", admin.path(t))
		require.Equal(t, "The channel was saved.", admin.text(t, `main .notice.ok[role="status"]`))
		require.Equal(t, "Harbour webhook", admin.text(t, "main h1"))
		var ch struct {
			Name string `json:"name"`
			URL  string `json:"url"`
		}
		api.call("GET", "/notification-channels/"+m[1], nil, http.StatusOK, &ch)
		require.Equal(t, "Harbour webhook", ch.Name)
		require.Contains(t, ch.URL, strings.TrimPrefix(hook.URL, "http://"), "an empty address keeps the stored one")

		admin.do(t, chromedp.Click(chromedp.CSS(`form[action="`+page+`/delete"] button`)))
		admin.waitUntil(t, `location.pathname + location.search === "/channels?done=deleted" && !!document.querySelector("main .notice.ok")`)
		require.Equal(t, "The channel was deleted.", admin.text(t, `main .notice.ok[role="status"]`))
		require.Equal(t, []string{"Delete this channel? Notifications waiting to be sent to it are dropped."}, admin.confirmations())
		require.Zero(t, admin.count(t, `main a[href="`+page+`"]`))
		api.call("GET", "/notification-channels/"+m[1], nil, http.StatusNotFound, nil)
	})

	t.Run("drills, findings, backups and administration", func(t *testing.T) {
		for _, c := range []struct {
			nav, name, link string
		}{
			{"/drills", "drills", `main table a[href^="/drills/"]`},
			{"/findings", "findings", `main tbody a[href^="/findings/"]`},
			{"/backups", "backups", `main tbody a[href^="/backups/"]`},
		} {
			lead.load(t, chromedp.Click(chromedp.CSS(`nav a[href="`+c.nav+`"]`)))
			require.Equal(t, c.nav, lead.path(t))
			require.Positive(t, lead.count(t, c.link), "the demo has %s", c.name)
			lead.checkAccessibility(t, axe, c.name)
			lead.screenshot(t, c.name)
			lead.load(t, chromedp.Click(chromedp.CSS(c.link)))
			require.True(t, strings.HasPrefix(lead.path(t), c.nav+"/"), lead.path(t))
			lead.checkAccessibility(t, axe, "one of "+c.name)
			lead.screenshot(t, c.name+"-one")
		}
		admin.load(t, chromedp.Click(chromedp.CSS(`nav a[href="/admin"]`)))
		require.Equal(t, "/admin", admin.path(t))
		require.Positive(t, admin.count(t, "#tokens tbody tr"))
		require.Positive(t, admin.count(t, "#audit tbody tr"))
		admin.checkAccessibility(t, axe, "admin")
		admin.screenshot(t, "admin")
	})

	t.Run("no CSP violation or exception in the console", func(t *testing.T) {
		for i, p := range []*person{lead, admin} {
			for _, line := range p.consoleLines() {
				// The refusals the steps asked for (422) are logged.
				if strings.Contains(line, "Content Security Policy") || strings.HasPrefix(line, "exception:") {
					t.Errorf("person %d: %s", i, line)
				} else {
					t.Logf("person %d: %s", i, line)
				}
			}
		}
	})
}

// indexOf is the index of s in l, or -1.
func indexOf(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return -1
}

// unzipTo writes a zip archive into a new directory, refusing any name
// that would leave it.
func unzipTo(t *testing.T, archive []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	require.NoError(t, err)
	dir := t.TempDir()
	for _, f := range zr.File {
		require.True(t, filepath.IsLocal(f.Name), f.Name)
		rc, err := f.Open()
		require.NoError(t, err)
		content, err := io.ReadAll(rc)
		rc.Close()
		require.NoError(t, err)
		path := filepath.Join(dir, filepath.FromSlash(f.Name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, content, 0o644))
	}
	return dir
}
