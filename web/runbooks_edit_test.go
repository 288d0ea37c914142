package web

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
)

// reread is the runbook as the service has it now.
func reread(t *testing.T, e *env, id int64) runbooks.Runbook {
	t.Helper()
	rb, err := e.wired.Runbooks.Get(asManager(), strconv.FormatInt(id, 10))
	require.NoError(t, err)
	return rb
}

// stepTitled is the step of rb with title, or fails.
func stepTitled(t *testing.T, rb runbooks.Runbook, title string) (int, runbooks.Step) {
	t.Helper()
	i := slices.IndexFunc(rb.Version.Steps, func(s runbooks.Step) bool { return s.Title == title })
	require.GreaterOrEqual(t, i, 0, "no step %q", title)
	return i, rb.Version.Steps[i]
}

// stepValues is the form of step s as its edit page would post it.
func stepValues(s runbooks.Step) url.Values {
	f := stepFormOf(s)
	v := url.Values{"title": {f.Title}, "text": {f.Text}, "owner_role": {f.OwnerRole}, "owner": {f.Owner},
		"estimate": {f.Estimate}, "kind": {f.Kind}, "depends_on": f.DependsOn, "method": {f.Method}, "url": {f.URL},
		"drill_url": {f.DrillURL}, "expected_status": {f.ExpectedStatus}, "decision_role": {f.DecisionRole}, "on_reject": {f.OnReject}}
	if f.Mandatory {
		v.Set("mandatory", "yes")
	}
	if f.Cleanup {
		v.Set("cleanup", "yes")
	}
	return v
}

// A continuity manager adds a step to an approved runbook (which makes a
// draft, as the API does), changes it, moves it and removes it, and sees
// each change on the edit page.
func TestRunbookEditSteps(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cm := e.signIn("zhao.min", orchestrator.RoleContinuityManager)
	rb := runbookOf(t, e, "taxpayer-reg")
	require.Nil(t, rb.DraftVersion)
	base := fmt.Sprintf("/runbooks/%d", rb.ID)
	first := rb.Version.Steps[0]

	_, body := cm.get(base)
	require.Contains(t, body, `href="`+base+`/edit"`)
	require.Contains(t, body, `href="`+base+`/diff"`)
	require.Contains(t, body, `href="/kit"`)

	status, body := cm.get(base + "/edit")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, fmt.Sprintf("your first change makes draft version v%d", rb.Version.Number+1))
	status, body = cm.get(base + "/steps/new")
	require.Equal(t, http.StatusOK, status, body)
	for _, control := range []string{"title", "owner_role", "estimate", "mandatory", "depends_on", "kind", "after", "decision_role"} {
		require.Contains(t, body, `<label for="`+control+`">`, "every control is labelled")
	}
	require.NotContains(t, body, "style=")
	require.NotContains(t, body, "onclick")

	title := "Call the tax bureau's duty officer"
	status, body = cm.post(base+"/steps", url.Values{"title": {title}, "owner_role": {"duty_manager"}, "estimate": {"20m"},
		"mandatory": {"yes"}, "depends_on": {first.ID}, "kind": {"manual"}, "method": {"GET"}, "decision_role": {"admin"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The step is added.")
	require.Contains(t, body, esc(title))
	after := reread(t, e, rb.ID)
	require.NotNil(t, after.DraftVersion)
	require.Equal(t, rb.Version.Number+1, *after.DraftVersion, "the first change made a draft")
	require.Equal(t, *rb.ApprovedVersion, *after.ApprovedVersion, "the version in force stays")
	at, added := stepTitled(t, after, title)
	require.Equal(t, []string{first.ID}, added.DependsOn)
	require.Equal(t, "20m", added.Estimate.String())
	require.True(t, added.Mandatory)
	require.Nil(t, added.Automation)

	status, body = cm.get(base + "/steps/" + added.ID)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `value="`+esc(title)+`"`)
	require.Regexp(t, `<option value="`+first.ID+`" selected>`, body)

	form := stepValues(added)
	form.Set("title", title+" and the CIO")
	form.Set("estimate", "45m")
	form.Set("kind", "decision")
	form.Set("decision_role", "continuity_manager")
	form.Del("mandatory")
	status, body = cm.post(base+"/steps/"+added.ID, form)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The step is saved.")
	require.Contains(t, body, esc(title+" and the CIO"))
	after = reread(t, e, rb.ID)
	_, changed := stepTitled(t, after, title+" and the CIO")
	require.Equal(t, added.ID, changed.ID)
	require.Equal(t, "45m", changed.Estimate.String())
	require.False(t, changed.Mandatory)
	require.NotNil(t, changed.Decision)
	require.Equal(t, orchestrator.RoleContinuityManager, changed.Decision.Role)
	require.Equal(t, rb.Version.Number+1, *after.DraftVersion, "changes go to the same draft")

	// Moving up swaps the step with the one before it, and the page shows
	// the new order.
	prev := after.Version.Steps[at-1]
	status, body = cm.post(base+"/steps/"+added.ID+"/move", url.Values{"direction": {"up"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The step is moved.")
	after = reread(t, e, rb.ID)
	moved, _ := stepTitled(t, after, title+" and the CIO")
	require.Equal(t, at-1, moved)
	require.Equal(t, prev.ID, after.Version.Steps[at].ID)
	require.Less(t, strings.Index(body, `id="step-`+added.ID+`"`), strings.Index(body, `id="step-`+prev.ID+`"`))

	// A step cannot move above a step it depends on: the service refuses
	// and names the order, and nothing moves.
	steps := after.Version.Steps
	i := 1
	for ; i < len(steps) && !slices.Contains(steps[i].DependsOn, steps[i-1].ID); i++ {
	}
	require.Less(t, i, len(steps), "a step right after one it depends on")
	blocked := after.Version.Steps[i]
	status, body = cm.post(base+"/steps/"+blocked.ID+"/move", url.Values{"direction": {"up"}})
	require.Equal(t, http.StatusUnprocessableEntity, status, body)
	require.Contains(t, body, "Not done:")
	require.Contains(t, body, "<code>order[")
	require.Contains(t, body, "which it depends on")
	require.Equal(t, after.Version.Steps, reread(t, e, rb.ID).Version.Steps)

	status, body = cm.post(base+"/steps/"+added.ID+"/remove", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The step is removed.")
	require.NotContains(t, body, esc(title))
	after = reread(t, e, rb.ID)
	require.False(t, slices.ContainsFunc(after.Version.Steps, func(s runbooks.Step) bool { return s.ID == added.ID }))

	// The sections are edited a line per entry.
	status, body = cm.post(base+"/sections", url.Values{"criteria": {"Registration down for 30 minutes\n\n  The tax bureau declares an incident  "},
		"authority": {"CIO"}, "communications": {"Notify taxpayers on the portal"}, "failback": {"Switch back after a quiet day"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The sections are saved.")
	after = reread(t, e, rb.ID)
	require.Equal(t, []string{"Registration down for 30 minutes", "The tax bureau declares an incident"}, after.Version.Sections.Invocation.Criteria)
	require.Equal(t, []string{"CIO"}, after.Version.Sections.Invocation.Authority)
	require.Empty(t, after.Version.Sections.VitalRecords, "an emptied box empties its section")
}

// Invalid steps are refused with the field named, what was typed is kept,
// and nothing is written: not even the draft a first change would make.
func TestRunbookEditRefusals(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cm := e.signIn("zhao.min", orchestrator.RoleContinuityManager)
	rb := runbookOf(t, e, "taxpayer-reg")
	base := fmt.Sprintf("/runbooks/%d", rb.ID)
	versions, err := e.wired.Runbooks.Versions(asManager(), strconv.FormatInt(rb.ID, 10))
	require.NoError(t, err)

	// The first step, made to wait for a step that waits for it: a cycle.
	first := rb.Version.Steps[0]
	j := slices.IndexFunc(rb.Version.Steps, func(s runbooks.Step) bool { return slices.Contains(s.DependsOn, first.ID) })
	require.Greater(t, j, 0)
	cycle := stepValues(first)
	cycle["depends_on"] = []string{rb.Version.Steps[j].ID}
	status, body := cm.post(base+"/steps/"+first.ID, cycle)
	require.Equal(t, http.StatusUnprocessableEntity, status, body)
	require.Contains(t, body, "step dependencies form a cycle")
	require.Contains(t, body, "<b>Depends on</b> (<code>depends_on</code>)")
	require.Contains(t, body, `id="depends_on" name="depends_on" multiple`)
	require.Regexp(t, `name="depends_on"[^>]*aria-invalid="true"`, body)
	require.Regexp(t, `<option value="`+rb.Version.Steps[j].ID+`" selected>`, body, "what was chosen is kept")

	for _, c := range []struct {
		name, field string
		form        url.Values
	}{
		{"bad estimate", "estimate", url.Values{"title": {"Check"}, "estimate": {"soon"}, "kind": {"manual"}}},
		{"unknown step", "depends_on", url.Values{"title": {"Check"}, "depends_on": {"s99999"}, "kind": {"manual"}}},
		{"not a step id", "depends_on[0]", url.Values{"title": {"Check"}, "depends_on": {"'; DROP TABLE runbooks; --"}, "kind": {"manual"}}},
		{"no title", "title", url.Values{"title": {"  "}, "kind": {"manual"}}},
		{"control characters", "title", url.Values{"title": {"Check\x1b[31m"}, "kind": {"manual"}}},
		{"bad kind", "kind", url.Values{"title": {"Check"}, "kind": {"teleport"}}},
		{"decision without a role", "decision.role", url.Values{"title": {"Check"}, "kind": {"decision"}, "decision_role": {"auditor"}}},
		{"automated without a URL", "automation.url", url.Values{"title": {"Check"}, "kind": {"automated"}, "method": {"POST"}}},
		{"bad expected status", "automation.expected_status", url.Values{"title": {"Check"}, "kind": {"automated"}, "url": {"https://example.com"}, "expected_status": {"two hundred"}}},
		{"unknown place", "after", url.Values{"title": {"Check"}, "kind": {"manual"}, "after": {"s99999"}}},
	} {
		status, body := cm.post(base+"/steps", c.form)
		require.Equal(t, http.StatusUnprocessableEntity, status, "%s: %s", c.name, body)
		require.Contains(t, body, "(<code>"+esc(c.field)+"</code>)", c.name)
		require.Contains(t, body, esc(strings.TrimSpace(c.form.Get("title"))), "%s: what was typed is kept", c.name)
	}

	status, _ = cm.post(base+"/steps", url.Values{"title": {strings.Repeat("x", editMaxForm)}})
	require.Equal(t, http.StatusRequestEntityTooLarge, status)
	status, _ = cm.post(base+"/steps/s99999", url.Values{"title": {"Check"}, "kind": {"manual"}})
	require.Equal(t, http.StatusNotFound, status)
	status, body = cm.post(base+"/sections", url.Values{"call_tree_services": {"../../etc/passwd"}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "call_tree.services[0]")
	status, body = cm.post(base+"/review", url.Values{"outcome": {"update_needed"}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "<code>actions</code>")

	after := reread(t, e, rb.ID)
	require.Nil(t, after.DraftVersion, "no draft was made")
	require.Equal(t, rb.Version.Steps, after.Version.Steps)
	again, err := e.wired.Runbooks.Versions(asManager(), strconv.FormatInt(rb.ID, 10))
	require.NoError(t, err)
	require.Equal(t, versions, again)
}

// Retiring asks for a confirmation first; once confirmed the runbook is
// retired and can no longer be edited.
func TestRunbookRetire(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cm := e.signIn("zhao.min", orchestrator.RoleContinuityManager)
	rb := runbookOf(t, e, "taxpayer-reg")
	base := fmt.Sprintf("/runbooks/%d", rb.ID)
	id := strconv.FormatInt(rb.ID, 10)

	status, body := cm.get(base + "/retire")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "Retiring cannot be undone")
	require.Contains(t, body, `<input type="checkbox" id="confirm" name="confirm" value="yes" required>`)
	require.Contains(t, body, `<label for="confirm_id">`)

	for field, form := range map[string]url.Values{
		"confirm":    {"confirm_id": {id}},
		"confirm_id": {"confirm": {"yes"}, "confirm_id": {"1 OR 1=1"}},
	} {
		status, body = cm.post(base+"/retire", form)
		require.Equal(t, http.StatusUnprocessableEntity, status, body)
		require.Contains(t, body, "(<code>"+field+"</code>)")
		require.Equal(t, runbooks.StatusApproved, reread(t, e, rb.ID).Status, "not retired without confirmation")
	}

	status, body = cm.post(base+"/retire", url.Values{"confirm": {"yes"}, "confirm_id": {id}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `badge rb-retired">Retired`)
	require.NotContains(t, body, base+"/edit", "a retired runbook offers no editing")
	require.Equal(t, runbooks.StatusRetired, reread(t, e, rb.ID).Status)

	status, body = cm.post(base+"/steps", url.Values{"title": {"Too late"}, "kind": {"manual"}})
	require.Equal(t, http.StatusConflict, status)
	require.Contains(t, body, "is retired and can no longer be edited")
	status, body = cm.post(base+"/retire", url.Values{"confirm": {"yes"}, "confirm_id": {id}})
	require.Equal(t, http.StatusConflict, status)
	require.Contains(t, body, "already retired")
}

// The diff page shows what changed between two versions, in English and
// in Chinese; regenerating from the page makes the draft compared.
func TestRunbookDiffPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cm := e.signIn("zhao.min", orchestrator.RoleContinuityManager)
	rb := runbookOf(t, e, "taxpayer-reg")
	base := fmt.Sprintf("/runbooks/%d", rb.ID)

	status, body := cm.get(base + "/diff")
	require.Equal(t, http.StatusOK, status, body)
	if len(mustVersions(t, e, rb.ID)) == 1 {
		require.Contains(t, body, "a single version")
	}

	status, body = cm.post(base+"/regenerate", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The draft is regenerated.")
	draft := *reread(t, e, rb.ID).DraftVersion

	title := "Tell the call centre what to say"
	_, body = cm.post(base+"/steps", url.Values{"title": {title}, "estimate": {"15m"}, "kind": {"manual"}, "owner_role": {"comms"}})
	require.Contains(t, body, "The step is added.")
	changed := reread(t, e, rb.ID).Version.Steps[0]
	form := stepValues(changed)
	form.Set("estimate", "3h")
	_, body = cm.post(base+"/steps/"+changed.ID, form)
	require.Contains(t, body, "The step is saved.")
	removed := reread(t, e, rb.ID).Version.Steps[1]
	_, body = cm.post(base+"/steps/"+removed.ID+"/remove", nil)
	require.Contains(t, body, "The step is removed.")

	status, body = cm.get(base + "/diff")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, fmt.Sprintf("v%d → v%d", *rb.ApprovedVersion, draft), "the version in force against the draft by default")
	require.Contains(t, body, "Steps added (1)")
	require.Contains(t, body, esc(title))
	require.Contains(t, body, "Steps removed (1)")
	require.Contains(t, body, "− "+removed.ID+" "+esc(removed.Title))
	require.Contains(t, body, "Steps changed")
	require.Regexp(t, `<b>Estimate</b> <code>estimate</code>: <span class="rbe-from">`+regexp.QuoteMeta(changed.Estimate.String())+`</span> → <span class="rb-added">3h</span>`, body)

	status, same := cm.get(fmt.Sprintf("%s/diff?from=%d&to=%d", base, draft, draft))
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, same, "No change.")

	status, body = cm.post("/lang", url.Values{"lang": {langZH}, "next": {base + "/diff"}})
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "版本差异")
	require.Contains(t, body, "新增步骤 (1)")
	require.Contains(t, body, "删除步骤 (1)")
	require.Contains(t, body, "<b>预计用时</b>")

	for bad, want := range map[string]int{"?from=abc": http.StatusUnprocessableEntity, "?to=-1": http.StatusUnprocessableEntity,
		"?to=999": http.StatusNotFound, "?from=%27%3B--": http.StatusUnprocessableEntity} {
		status, _ = cm.get(base + "/diff" + bad)
		require.Equal(t, want, status, bad)
	}
	status, _ = cm.get("/runbooks/999999/diff")
	require.Equal(t, http.StatusNotFound, status)
}

func mustVersions(t *testing.T, e *env, id int64) []runbooks.VersionSummary {
	t.Helper()
	vs, err := e.wired.Runbooks.Versions(asManager(), strconv.FormatInt(id, 10))
	require.NoError(t, err)
	return vs
}

// Readers see no editing control and are refused (403) whatever they
// post; they may compare versions. Executives do not reach the kit.
func TestRunbookEditRoles(t *testing.T) {
	t.Parallel()
	e := setup(t)
	rb := runbookOf(t, e, "taxpayer-reg")
	base := fmt.Sprintf("/runbooks/%d", rb.ID)
	step := rb.Version.Steps[0].ID

	for _, p := range []*person{e.signIn("li.wei", orchestrator.RoleOperator), e.signIn("chen.jie", orchestrator.RoleAuditor)} {
		status, body := p.get(base)
		require.Equal(t, http.StatusOK, status)
		for _, control := range []string{base + "/edit", base + "/retire", base + "/regenerate", "/steps/"} {
			require.NotContains(t, body, control, "%s sees no %s", p.actor.Role, control)
		}
		require.Contains(t, body, base+"/diff")
		status, _ = p.get(base + "/diff")
		require.Equal(t, http.StatusOK, status)
		for _, path := range []string{base + "/edit", base + "/steps/new", base + "/steps/" + step, base + "/retire"} {
			status, _ = p.get(path)
			require.Equal(t, http.StatusForbidden, status, "%s GET %s", p.actor.Role, path)
		}
		for _, path := range []string{base + "/steps", base + "/steps/" + step, base + "/steps/" + step + "/remove",
			base + "/steps/" + step + "/move", base + "/sections", base + "/regenerate", base + "/review", base + "/retire"} {
			status, _ = p.post(path, url.Values{"title": {"Mine"}, "kind": {"manual"}, "direction": {"down"}, "confirm": {"yes"}, "confirm_id": {strconv.FormatInt(rb.ID, 10)}})
			require.Equal(t, http.StatusForbidden, status, "%s POST %s", p.actor.Role, path)
		}
	}
	after := reread(t, e, rb.ID)
	require.Equal(t, runbooks.StatusApproved, after.Status)
	require.Nil(t, after.DraftVersion, "nothing the readers posted was written")
	require.Equal(t, rb.Version.Steps, after.Version.Steps)

	ex := e.signIn("wang.fang", orchestrator.RoleExecutive)
	status, _ := ex.get("/kit")
	require.Equal(t, http.StatusForbidden, status)
	status, _ = ex.post("/kit", nil)
	require.Equal(t, http.StatusForbidden, status)
}

// An operator (a records reader, as GET /api/v1/exports/kit allows) makes
// the offline kit: the page follows it and offers the zip, whose manifest
// verifies; it is handed over once, and to no one else.
func TestKitExport(t *testing.T) {
	t.Parallel()
	e := setup(t)
	op := e.signIn("li.wei", orchestrator.RoleOperator)

	status, body := op.get("/kit")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `<form method="post" action="/kit">`)

	status, body = op.post("/kit", nil)
	require.Equal(t, http.StatusOK, status, body)
	jobPath := regexp.MustCompile(`/kit/jobs/[0-9a-f]{32}`).FindString(body)
	require.NotEmpty(t, jobPath, body)
	if strings.Contains(body, "being made") {
		require.Contains(t, body, `hx-get="`+jobPath+`" hx-trigger="every 1s"`)
		require.Contains(t, body, `<progress id="kit-progress"`)
	}
	require.Eventually(t, func() bool {
		_, body = op.get(jobPath)
		return !strings.Contains(body, "being made")
	}, time.Minute, 50*time.Millisecond, "the kit is made")
	require.Contains(t, body, "The kit is ready")
	require.NotContains(t, body, "hx-trigger", "a finished kit is no longer polled")
	require.Contains(t, body, jobPath+"/download")

	other := e.signIn("zhao.min", orchestrator.RoleContinuityManager)
	status, _ = other.get(jobPath)
	require.Equal(t, http.StatusNotFound, status, "a kit is its maker's")
	status, _ = other.get(jobPath + "/download")
	require.Equal(t, http.StatusNotFound, status)

	resp, err := op.client.Get(e.srv.URL + jobPath + "/download")
	require.NoError(t, err)
	archive, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/zip", resp.Header.Get("Content-Type"))
	require.Regexp(t, `attachment; filename=continuity-kit-\d{8}T\d{6}Z\.zip`, resp.Header.Get("Content-Disposition"))

	dir := unzip(t, archive)
	v, err := runbooks.VerifyKit(dir)
	require.NoError(t, err)
	require.True(t, v.OK, "%v", v.Problems)
	require.Greater(t, v.Checked, 6)
	approved, err := e.ui.approvedRunbooks(asManager())
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(dir, "index.html"))
	entries, err := os.ReadDir(filepath.Join(dir, "runbooks"))
	require.NoError(t, err)
	require.Len(t, entries, approved*len(runbooks.Formats))

	status, _ = op.get(jobPath + "/download")
	require.Equal(t, http.StatusNotFound, status, "a kit is handed over once")
}

// unzip writes a kit archive into a new directory.
func unzip(t *testing.T, archive []byte) string {
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

// A kit being made shows how far it is, and asks htmx to look again every
// second.
func TestKitProgressShown(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for lang, words := range map[string][]string{langEN: {"being made", "12 / ~96 files", "Writing"}, langZH: {"生成中", "12 / ~96 个文件", "正在写入"}} {
		r := httptest.NewRequest(http.MethodGet, "/kit/jobs/abc", nil)
		r.AddCookie(&http.Cookie{Name: langCookie, Value: lang})
		w := httptest.NewRecorder()
		e.ui.render(w, r, http.StatusOK, "kit_job", kitJob{ID: "abc", Status: kitRunning, Files: 12, Expected: 96, Current: "runbooks/x.md", Started: demoNow})
		body := w.Body.String()
		require.Contains(t, body, `hx-get="/kit/jobs/abc" hx-trigger="every 1s"`)
		require.Contains(t, body, `<progress id="kit-progress" max="100" value="12">`)
		for _, word := range words {
			require.Contains(t, body, word, lang)
		}
	}
}

// The kits held are bounded: a person has one being made at a time, at
// most maxKits are held, the oldest finished one makes room, and a kit is
// forgotten once taken or kitKeep after it was made.
func TestKitJobsBounded(t *testing.T) {
	t.Parallel()
	var k kitJobs
	now := demoNow
	first, started, err := k.start("a", now)
	require.NoError(t, err)
	require.True(t, started)
	again, started, err := k.start("a", now)
	require.NoError(t, err)
	require.False(t, started, "one kit being made per person")
	require.Equal(t, first.ID, again.ID)
	for _, owner := range []string{"b", "c", "d"} {
		_, started, err = k.start(owner, now)
		require.NoError(t, err)
		require.True(t, started)
	}
	_, _, err = k.start("e", now)
	require.Equal(t, orchestrator.EUNAVAILABLE, orchestrator.ErrorCode(err), "at most %d kits", maxKits)

	k.update(first.ID, func(j *kitJob) { j.Status, j.Finished, j.body = kitDone, now, []byte("zip") })
	_, ok := k.get(first.ID, "b", now)
	require.False(t, ok, "another person's kit is not found")
	got, ok := k.get(first.ID, "a", now)
	require.True(t, ok)
	require.Equal(t, 1.0, got.Progress())

	e, started, err := k.start("e", now.Add(time.Minute))
	require.NoError(t, err)
	require.True(t, started)
	_, ok = k.get(first.ID, "a", now)
	require.False(t, ok, "the finished kit made room")

	k.update(e.ID, func(j *kitJob) { j.Status, j.Finished = kitDone, now.Add(time.Minute) })
	_, ok = k.take(e.ID, "e", now.Add(time.Minute+kitKeep))
	require.True(t, ok)
	_, ok = k.take(e.ID, "e", now.Add(time.Minute+kitKeep))
	require.False(t, ok, "taken once")

	b := k.mine("b", now)
	require.Len(t, b, 1)
	k.update(b[0].ID, func(j *kitJob) { j.Status, j.Finished = kitFailed, now })
	require.Len(t, k.mine("b", now.Add(kitKeep)), 1)
	require.Empty(t, k.mine("b", now.Add(kitKeep+time.Second)), "forgotten %s after it was made", kitKeep)
}
