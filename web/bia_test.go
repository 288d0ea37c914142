package web

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/backup"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// The demo's taxpayer-reg is tier 1: RTO 4h, RPO 15m, WRT 2h, and its
// regulatory impact becomes intolerable at 8h (rated 2, 3, 4, 4, 4, 4).
const biaService = "taxpayer-reg"

var (
	formInput    = regexp.MustCompile(`<input id="([^"]+)" name="[^"]+" value="([^"]*)"`)
	formSelect   = regexp.MustCompile(`(?s)<select id="([^"]+)" name="[^"]+"[^>]*>(.*?)</select>`)
	formSelected = regexp.MustCompile(`<option value="([^"]*)" selected>`)
	formArea     = regexp.MustCompile(`(?s)<textarea id="([^"]+)" name="[^"]+"[^>]*>(.*?)</textarea>`)
)

// editorForm is the BIA form a page shows, as its browser would post it.
func editorForm(t *testing.T, body string) url.Values {
	t.Helper()
	form := url.Values{}
	for _, m := range formInput.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	for _, m := range formSelect.FindAllStringSubmatch(body, -1) {
		if m[1] == "lang" {
			continue
		}
		sel := formSelected.FindStringSubmatch(m[2])
		require.NotNil(t, sel, "select %s has a choice", m[1])
		form.Set(m[1], sel[1])
	}
	for _, m := range formArea.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], html.UnescapeString(strings.TrimPrefix(m[2], "\n")))
	}
	require.NotEmpty(t, form.Get("rating-regulatory-8h"), "the grid is in the form")
	return form
}

// biaVersions are the stored versions of the service's BIA, newest first.
func biaVersions(t *testing.T, e *env, key string) []impact.BIA {
	t.Helper()
	vs, err := e.wired.Impact.BIAVersions(asManager(), key)
	require.NoError(t, err)
	return vs
}

// dd is the text of the definition with id in body.
func dd(t *testing.T, body, id string) string {
	t.Helper()
	m := regexp.MustCompile(`<dd id="` + id + `">([^<]*)`).FindStringSubmatch(body)
	require.NotNil(t, m, "%s in the page", id)
	return strings.TrimSpace(m[1])
}

// The service page shows the demo's BIA in force, every scenario that can
// take the service down with its recovery, what the CIs it needs must meet
// and the backups of its data.
func TestServicePageBIAResilienceRequirementsBackups(t *testing.T) {
	t.Parallel()
	e := setup(t)
	dir := t.TempDir()
	svc := serveBackups(t, e, dir)
	cfg, err := json.Marshal(backup.FileConfig{Path: filepath.Join(dir, "*.dump")})
	require.NoError(t, err)
	for ci, name := range map[string]string{"taxpayer-reg-db": "registration dumps", "finance-db": "finance exports"} {
		_, err := svc.Create(asManager(), backup.TargetInput{CI: ci, Name: name, Kind: backup.KindFile, Schedule: "0 3 * * *", Config: cfg})
		require.NoError(t, err)
	}
	op := e.signIn("li.wei", orchestrator.RoleOperator)
	status, body := op.get("/services/" + biaService)
	require.Equal(t, http.StatusOK, status, body)

	require.Contains(t, dd(t, body, "svc-bia-current"), "v1")
	require.Contains(t, dd(t, body, "svc-bia-approved"), "v1")
	require.Equal(t, "8h", dd(t, body, "svc-bia-mtpd"))
	require.Equal(t, "4h", dd(t, body, "svc-bia-rto"))
	require.Equal(t, "15m", dd(t, body, "svc-bia-rpo"))
	require.Equal(t, "1", dd(t, body, "svc-bia-tier"))
	require.Contains(t, body, `<a href="/services/`+biaService+`/bia">Open the BIA</a>`, "operators read the BIA")

	res, err := e.wired.Impact.Resilience(asManager(), biaService)
	require.NoError(t, err)
	require.NotEmpty(t, res.Scenarios)
	resilience := section(t, body, "resilience")
	require.Equal(t, len(res.Scenarios), strings.Count(resilience, "<tr>")-1, "a row per scenario")
	worst := res.Scenarios[0]
	require.Contains(t, resilience, "<td>"+worst.RTOEstimate.String()+"</td>")
	if worst.RTOMet != nil && !*worst.RTOMet {
		require.Contains(t, resilience, `<span class="svc-no">no</span>`)
	}

	deps, err := e.wired.Impact.Dependencies(asManager(), biaService)
	require.NoError(t, err)
	requirements := section(t, body, "requirements")
	require.Equal(t, len(deps.Items), strings.Count(requirements, "<tr>")-1, "a row per CI the service needs")
	reqs, err := e.wired.Impact.RequirementsOf(asManager(), []string{deps.Items[0].Key})
	require.NoError(t, err)
	if r := reqs[deps.Items[0].Key]; r.RTO != nil {
		require.Contains(t, requirements, "<td><code>"+deps.Items[0].Key+"</code></td><td>"+deps.Items[0].Class+"</td>\n<td>"+r.RTO.String())
	}

	backups := section(t, body, "backups")
	require.Contains(t, backups, ">registration dumps</a>", "the target of the service's database")
	require.NotContains(t, backups, "finance exports", "not another service's")
	require.Contains(t, backups, "Never checked")
	require.Contains(t, backups, `class="badge rpo-`)

	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/services/"+biaService, nil)
	require.NoError(t, err)
	req.Header.Set("Accept-Language", "zh-CN")
	resp, err := op.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	zh, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(zh), "最大可容忍中断时间 MTPD")
	require.Contains(t, string(zh), "各场景下的恢复能力")

	status, _ = op.get("/services/nobody")
	require.Equal(t, http.StatusNotFound, status)
}

// section is the part of body in the section with id.
func section(t *testing.T, body, id string) string {
	t.Helper()
	start := strings.Index(body, `<section class="card" id="`+id+`">`)
	require.GreaterOrEqual(t, start, 0, "section %s", id)
	end := strings.Index(body[start:], "</section>")
	require.Positive(t, end)
	return body[start : start+end]
}

// The editor derives MTPD, suggested RTO and tiers from the grid as it
// stands, with what saving it would refuse, and writes nothing.
func TestBIADerive(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cm := e.signIn("zhao.min", orchestrator.RoleContinuityManager)
	path := "/services/" + biaService + "/bia"
	status, body := cm.get(path)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `hx-post="`+path+`/derive" hx-trigger="change"`)
	require.Equal(t, "8h", dd(t, body, "bia-mtpd"))
	require.Equal(t, "6h", dd(t, body, "bia-suggested-rto"))
	require.Equal(t, "2", dd(t, body, "bia-suggested-tier"))
	require.Equal(t, "1", dd(t, body, "bia-tier"))
	form := editorForm(t, body)

	for _, tc := range []struct {
		name                   string
		change                 map[string]string
		mtpd, rto, sTier, tier string
		problem                string
	}{
		{name: "as stored", mtpd: "8h", rto: "6h", sTier: "2", tier: "1"},
		{name: "intolerable at 4h", change: map[string]string{"rating-regulatory-4h": "4", "rto": "1h"},
			mtpd: "4h", rto: "2h", sTier: "1", tier: "0"},
		{name: "intolerable later", change: map[string]string{"rating-regulatory-8h": "3", "rto": "30h"},
			mtpd: "24h", rto: "22h", sTier: "2", tier: "3", problem: "RTO 30h + WRT 2h = 32h exceeds MTPD 24h"},
		{name: "never intolerable", change: map[string]string{"rating-regulatory-8h": "", "just-regulatory-8h": "", "rating-regulatory-24h": "3",
			"rating-regulatory-72h": "3", "rating-regulatory-168h": "3"},
			mtpd: "none: no category reaches the intolerable level (4)", rto: "none: no MTPD, or the WRT uses it up", sTier: "—", tier: "1"},
		{name: "falling rating", change: map[string]string{"rating-regulatory-24h": "1"},
			mtpd: "8h", rto: "6h", sTier: "2", tier: "1", problem: "Regulatory at 24h · rating: regulatory rating 1 at 24h is lower than 4 at 8h"},
		{name: "unreadable RTO", change: map[string]string{"rto": "soon"},
			mtpd: "8h", rto: "6h", sTier: "2", tier: "—", problem: "Recovery time objective (RTO): invalid duration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			for k, v := range tc.change {
				f.Set(k, v)
			}
			status, part := cm.post(path+"/derive", f)
			require.Equal(t, http.StatusOK, status, part)
			require.NotContains(t, part, "<html", "a partial, not a page")
			require.Equal(t, tc.mtpd, html.UnescapeString(dd(t, part, "bia-mtpd")))
			require.Equal(t, tc.rto, html.UnescapeString(dd(t, part, "bia-suggested-rto")))
			require.Equal(t, tc.sTier, dd(t, part, "bia-suggested-tier"))
			require.Equal(t, tc.tier, dd(t, part, "bia-tier"))
			if tc.problem != "" {
				require.Contains(t, html.UnescapeString(part), tc.problem)
			} else {
				require.NotContains(t, part, "What saving would refuse")
			}
		})
	}
	require.Len(t, biaVersions(t, e, biaService), 1, "deriving writes nothing")
}

// Saving writes a draft (the next version, then the same one again);
// a value that cannot be read or that impact refuses is named next to its
// control and nothing is written.
func TestBIASave(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cm := e.signIn("zhao.min", orchestrator.RoleContinuityManager)
	path := "/services/" + biaService + "/bia"
	_, body := cm.get(path)
	require.Contains(t, body, "Saving starts draft v2")
	form := editorForm(t, body)

	for _, tc := range []struct {
		name    string
		change  map[string]string
		control string
		message string
	}{
		{"unreadable duration", map[string]string{"rto": "soon"}, "rto", "invalid duration"},
		{"negative RPO", map[string]string{"rpo": "-15m"}, "rpo", "must not be negative"},
		{"missing MBCO", map[string]string{"mbco": ""}, "mbco", "is required"},
		{"rating out of range", map[string]string{"rating-customer-4h": "9"}, "rating-customer-4h", "must be between 0 and 4"},
		{"rating not a number", map[string]string{"rating-customer-4h": "'; DROP TABLE bia_versions; --"}, "rating-customer-4h", "must be a whole number"},
		{"falling rating", map[string]string{"rating-regulatory-24h": "1"}, "rating-regulatory-24h", "ratings may not decrease over time"},
		{"amount not a number", map[string]string{"amount-financial-4h": "lots"}, "amount-financial-4h", "must be a number"},
		{"control characters", map[string]string{"just-customer-1h": "bad\x00text"}, "just-customer-1h", "must not contain control characters"},
		{"amount without a rating", map[string]string{"rating-financial-1h": ""}, "rating-financial-1h", "rate this cell"},
		{"RTO beyond the MTPD", map[string]string{"rto": "7h"}, "rto", "RTO 7h + WRT 2h = 9h exceeds MTPD 8h"},
		{"list entry too long", map[string]string{"people": strings.Repeat("x", 201)}, "people", "at most 200 characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			for k, v := range tc.change {
				f.Set(k, v)
			}
			status, body := cm.post(path, f)
			require.Equal(t, http.StatusUnprocessableEntity, status, body)
			require.Contains(t, body, "Not saved, nothing was written.")
			require.Contains(t, body, `<a href="#`+tc.control+`">`, "the summary links to the control")
			require.Contains(t, body, `id="`+tc.control+`" name="`+tc.control+`"`)
			require.Regexp(t, `id="`+regexp.QuoteMeta(tc.control)+`" name="[^"]+"[^>]*aria-invalid="true" aria-describedby="`+regexp.QuoteMeta(tc.control)+`-err"`, body)
			require.Contains(t, html.UnescapeString(body), tc.message)
			for k, v := range tc.change {
				if k != "just-customer-1h" && !strings.HasPrefix(k, "rating-") && k != "people" {
					require.Contains(t, body, `value="`+esc(v)+`"`, "what was typed is shown again")
				}
			}
			require.Len(t, biaVersions(t, e, biaService), 1, "nothing written")
		})
	}

	form.Set("rto", "2h")
	form.Set("people", "wu.hong\n\nzhao.min\n")
	form.Set("suppliers", "Robert'); DROP TABLE students;--")
	status, body := cm.post(path, form)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The draft is saved.")
	require.Contains(t, dd(t, body, "bia-version"), "v2")
	require.Contains(t, body, "Saving replaces draft v2")
	vs := biaVersions(t, e, biaService)
	require.Len(t, vs, 2)
	require.Equal(t, impact.StatusDraft, vs[0].Status)
	require.Equal(t, "2h", vs[0].RTO.String())
	require.Equal(t, 1, vs[0].Tier)
	require.Equal(t, []string{"wu.hong", "zhao.min"}, vs[0].People)
	require.Equal(t, []string{"Robert'); DROP TABLE students;--"}, vs[0].Suppliers)
	require.Equal(t, "zhao.min", vs[0].UpdatedBy)
	require.Equal(t, vs[1].Thresholds, vs[0].Thresholds, "the grid round-trips through the form")
	approved, err := e.wired.Impact.ApprovedBIA(asManager(), biaService)
	require.NoError(t, err)
	require.Equal(t, 1, approved.Version, "the version in force stays until the draft is approved")

	form.Set("rto", "3h")
	status, body = cm.post(path, form)
	require.Equal(t, http.StatusOK, status, body)
	vs = biaVersions(t, e, biaService)
	require.Len(t, vs, 2, "the draft is replaced")
	require.Equal(t, "3h", vs[0].RTO.String())

	status, body = cm.get(path + "?version=1")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "This is version 1, not the newest")
	require.NotContains(t, body, `<select id="rating-`, "an older version is not edited")
	for _, bad := range []string{"?version=99", "?version=..%2F1", "?version=0"} {
		status, _ = cm.get(path + bad)
		require.Equal(t, http.StatusNotFound, status, bad)
	}
	status, _ = cm.get("/services/nobody/bia")
	require.Equal(t, http.StatusNotFound, status)
	status, _ = cm.post("/services/nobody/bia", form)
	require.Equal(t, http.StatusNotFound, status)
}

// A draft is approved from the editor; with nothing to approve, the
// editor says why.
func TestBIAApprove(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cm := e.signIn("zhao.min", orchestrator.RoleContinuityManager)
	path := "/services/" + biaService + "/bia"
	_, body := cm.get(path)
	require.NotContains(t, body, path+"/approve", "nothing to approve")
	status, body := cm.post(path+"/approve", nil)
	require.Equal(t, http.StatusConflict, status)
	require.Contains(t, body, "Not done: version 1 of the BIA of taxpayer-reg is already approved")

	form := editorForm(t, body)
	form.Set("rto", "1h")
	status, body = cm.post(path, form)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `action="`+path+`/approve"`)
	require.Contains(t, body, `hx-confirm="`)
	require.Contains(t, body, "Approve draft v2")

	status, body = cm.post(path+"/approve", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The draft is approved and in force.")
	approved, err := e.wired.Impact.ApprovedBIA(asManager(), biaService)
	require.NoError(t, err)
	require.Equal(t, 2, approved.Version)
	require.Equal(t, 0, approved.Tier)
	require.Equal(t, "zhao.min", approved.ApprovedBy)

	_, body = cm.get("/services/" + biaService)
	require.Contains(t, dd(t, body, "svc-bia-approved"), "v2")
	require.Equal(t, "1h", dd(t, body, "svc-bia-rto"))
	require.Equal(t, "0", dd(t, body, "svc-bia-tier"))
}

// Readers see the grid and the versions but no control; their posts are
// refused and write nothing. Executives do not open the editor.
func TestBIAReaders(t *testing.T) {
	t.Parallel()
	e := setup(t)
	path := "/services/" + biaService + "/bia"
	cm := e.signIn("zhao.min", orchestrator.RoleContinuityManager)
	_, body := cm.get(path)
	form := editorForm(t, body)

	au := e.signIn("chen.jie", orchestrator.RoleAuditor)
	status, body := au.get(path)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `<th scope="row">Regulatory</th>`)
	require.Contains(t, body, `<th scope="col">8h</th>`)
	require.Contains(t, body, `4 severe <span class="bia-flag">intolerable</span>`)
	require.Equal(t, "8h", dd(t, body, "bia-mtpd"))
	require.Contains(t, body, "<td>v1</td>")
	main := body[strings.Index(body, `<main id="main">`):]
	for _, control := range []string{"<select", "<input", "<textarea", "<button", `action="` + path} {
		require.NotContains(t, main, control, "readers have no controls")
	}
	_, body = au.get("/services/" + biaService)
	require.Contains(t, body, "Open the BIA")
	require.NotContains(t, body, "Edit the BIA")

	for _, p := range []string{path, path + "/approve", path + "/derive"} {
		status, _ = au.post(p, form)
		require.Equal(t, http.StatusForbidden, status, p)
	}
	require.Len(t, biaVersions(t, e, biaService), 1, "the auditor's posts wrote nothing")

	ex := e.signIn("wang.fang", orchestrator.RoleExecutive)
	status, _ = ex.get(path)
	require.Equal(t, http.StatusForbidden, status)
}
