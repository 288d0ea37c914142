package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/directory"
)

// asManager is a continuity manager's context, for preparing records.
func asManager() context.Context {
	return orchestrator.WithActor(context.Background(), orchestrator.Actor{Name: "zhao.min", Role: orchestrator.RoleContinuityManager})
}

// esc is s as a page shows it.
func esc(s string) string {
	var b strings.Builder
	if err := template.Must(template.New("").Parse("{{.}}")).Execute(&b, s); err != nil {
		panic(err)
	}
	return b.String()
}

// demoDrills are the demo's drills of 2026 by planned start.
func demoDrills(t *testing.T, e *env) []drills.Drill {
	t.Helper()
	l, err := e.wired.Drills.List(asManager(), drills.Filter{Year: 2026}, orchestrator.Page{Limit: 1000})
	require.NoError(t, err)
	slices.SortStableFunc(l.Items, func(a, b drills.Drill) int { return a.PlannedStart.Compare(b.PlannedStart) })
	return l.Items
}

// drillOf is the first (or last) of ds that drills service.
func drillOf(t *testing.T, ds []drills.Drill, service string, last bool) drills.Drill {
	t.Helper()
	var found []drills.Drill
	for _, d := range ds {
		if slices.Contains(d.Services, service) && d.Result != nil {
			found = append(found, d)
		}
	}
	require.NotEmpty(t, found, service)
	if last {
		return found[len(found)-1]
	}
	return found[0]
}

// The programme lists the year's drills by month with their type, scope,
// status and result; a drill's page shows its result and reasons, the
// recovery against targets, the findings it raised and verified, and links
// to its report and its executions' boards.
func TestDrillProgrammeAndDrillPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	all := demoDrills(t, e)
	cm := e.signIn("cm", orchestrator.RoleContinuityManager)

	status, body := cm.get("/drills?year=2026")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `href="/drills"`, "a menu entry")
	require.Contains(t, body, "March 2026")
	require.Contains(t, body, "November 2026")
	for _, d := range all {
		require.Contains(t, body, fmt.Sprintf(`<a href="/drills/%d">%s</a>`, d.ID, esc(d.Title)))
	}
	require.Contains(t, body, `<span class="badge prog-approved">approved</span>`, "the demo's programme is approved")
	require.Contains(t, body, `<span class="badge fail">Fail</span>`)
	require.Contains(t, body, `<span class="badge partial">Partial</span>`)
	require.Contains(t, body, `<span class="badge planned">Planned</span>`)
	status, body = cm.get("/drills?year=2024")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "No drill programme for this year")
	status, _ = cm.get("/drills?year=twenty")
	require.Equal(t, http.StatusUnprocessableEntity, status)

	// The first technical drill of the tier 0–1 services failed; its
	// findings were verified by the next one, which passed.
	failed := drillOf(t, all, "declaration", false)
	passed := drillOf(t, all, "declaration", true)
	require.Equal(t, drills.ResultFail, *failed.Result)
	require.Equal(t, drills.ResultPass, *passed.Result)
	raised, err := e.wired.Drills.Findings(asManager(), drills.FindingFilter{Drill: failed.ID}, orchestrator.Page{Limit: 100})
	require.NoError(t, err)
	require.NotEmpty(t, raised.Items)

	status, body = cm.get(fmt.Sprintf("/drills/%d", failed.ID))
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `<span class="badge big-badge fail">Fail</span>`)
	for _, reason := range failed.Outcome.Reasons {
		require.Contains(t, body, esc(reason))
	}
	for _, f := range raised.Items {
		require.Contains(t, body, fmt.Sprintf(`<a href="/findings/%d">%s</a>`, f.ID, esc(f.Title)))
	}
	for _, x := range failed.Executions {
		require.Contains(t, body, fmt.Sprintf(`href="/executions/%d"`, x))
	}
	require.Contains(t, body, fmt.Sprintf(`href="/reports/view/after-action?drill=%d"`, failed.ID))
	require.Contains(t, body, fmt.Sprintf(`href="/reports/view/after-action?drill=%d&amp;format=pdf"`, failed.ID))
	require.NotContains(t, body, "/start\"", "a completed drill has no start button")

	status, body = cm.get(fmt.Sprintf("/drills/%d", passed.ID))
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `<span class="badge big-badge pass">Pass</span>`)
	require.Contains(t, body, "Earlier findings this drill verified")
	for _, f := range raised.Items {
		require.Contains(t, body, esc(f.Title), "verified by the drill that passed")
	}

	// taxpayer-reg's latest drill recovered too slowly: partial, its RTO
	// missed, and its findings open.
	slow := drillOf(t, all, "taxpayer-reg", true)
	require.Equal(t, drills.ResultPartial, *slow.Result)
	status, body = cm.get(fmt.Sprintf("/drills/%d", slow.ID))
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `<span class="badge big-badge partial">Partial</span>`)
	require.Contains(t, body, `<span class="met-no">no</span>`, "a target missed")
	require.Contains(t, body, "taxpayer-reg missed its RTO in drill")

	// In Chinese, in the source documents' terms.
	status, _ = cm.post("/lang", url.Values{"lang": {langZH}, "next": {"/drills"}})
	require.Equal(t, http.StatusOK, status)
	_, body = cm.get(fmt.Sprintf("/drills/%d", slow.ID))
	require.Contains(t, body, "部分通过")
	require.Contains(t, body, "演练记录")
	_, body = cm.get("/drills")
	require.Contains(t, body, "演练计划 2026")

	status, _ = cm.get("/drills/999999")
	require.Equal(t, http.StatusNotFound, status)
	status, _ = cm.get("/drills/abc")
	require.Equal(t, http.StatusNotFound, status)
}

// A continuity manager starts a planned drill and completes one in
// progress; what the service refuses is shown with its reason.
func TestDrillStartCompleteCancel(t *testing.T) {
	t.Parallel()
	e := setup(t)
	all := demoDrills(t, e)
	cm := e.signIn("cm", orchestrator.RoleContinuityManager)
	i := slices.IndexFunc(all, func(d drills.Drill) bool { return d.Status == drills.StatusPlanned })
	require.GreaterOrEqual(t, i, 0, "the demo plans a retest")
	retest := all[i]
	page := fmt.Sprintf("/drills/%d", retest.ID)

	_, body := cm.get(page)
	require.Contains(t, body, fmt.Sprintf(`action="%s/start"`, page))
	require.Contains(t, body, `hx-confirm="Start this drill now?`)
	require.NotContains(t, body, "/complete\"", "only a drill in progress completes")
	require.NotContains(t, body, "/approve\"", "only an admin approves, and only a full interruption")

	status, body := cm.post(page+"/start", url.Values{"note": {"started from the web"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The drill started.")
	require.Contains(t, body, `<span class="badge in_progress">In progress</span>`)
	d, err := e.wired.Drills.Get(asManager(), retest.ID)
	require.NoError(t, err)
	require.Equal(t, drills.StatusInProgress, d.Status)
	require.Equal(t, "cm", d.StartedBy)
	require.NotEmpty(t, d.Executions, "a simulation runs its runbook")
	require.Contains(t, body, fmt.Sprintf(`href="/executions/%d"`, d.Executions[0]))

	status, body = cm.post(page+"/start", url.Values{})
	require.Equal(t, http.StatusConflict, status)
	require.Contains(t, body, "only a planned drill starts")
	status, body = cm.post(page+"/complete", url.Values{})
	require.Equal(t, http.StatusConflict, status)
	require.Contains(t, body, "finish or abort it first", "its execution is still running")
	status, body = cm.post(page+"/cancel", url.Values{"reason": {""}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "say why the drill is cancelled")
	status, body = cm.post(page+"/cancel", url.Values{"reason": {"the mail team is at the year-end closing"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The drill was cancelled.")

	// A tabletop planned by hand: started and completed here, scored by
	// the service (nothing was walked, so it fails and raises findings).
	start := demoNow.Add(48 * time.Hour)
	tt, err := e.wired.Drills.Create(asManager(), drills.Input{Title: "Tabletop of the e-mail runbook", Type: drills.TypeTabletop,
		Services: []string{"email"}, PlannedStart: &start})
	require.NoError(t, err)
	page = fmt.Sprintf("/drills/%d", tt.ID)
	status, body = cm.post(page+"/start", url.Values{"failure_point": {"2026-11-23T08:50"}})
	require.Equal(t, http.StatusOK, status, body)
	_, body = cm.get(page)
	require.Contains(t, body, `action="`+page+`/complete"`)
	status, body = cm.post(page+"/complete", url.Values{"went_well": {"everyone came\n\nthe call tree worked"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The drill was completed and scored.")
	d, err = e.wired.Drills.Get(asManager(), tt.ID)
	require.NoError(t, err)
	require.Equal(t, drills.StatusCompleted, d.Status)
	require.Equal(t, []string{"everyone came", "the call tree worked"}, d.Report.WentWell)
	require.Contains(t, body, fmt.Sprintf(`<span class="badge big-badge %s">`, *d.Result))
	for _, reason := range d.Outcome.Reasons {
		require.Contains(t, body, esc(reason))
	}
	status, body = cm.post(page+"/start", url.Values{"failure_point": {"yesterday"}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "failure_point")
}

// Executives may not open the drills or the register; auditors and
// operators read them but see no action and may not post one.
func TestDrillPagesByRole(t *testing.T) {
	t.Parallel()
	e := setup(t)
	all := demoDrills(t, e)
	planned := all[slices.IndexFunc(all, func(d drills.Drill) bool { return d.Status == drills.StatusPlanned })]
	page := fmt.Sprintf("/drills/%d", planned.ID)
	open, err := e.wired.Drills.Findings(asManager(), drills.FindingFilter{Open: true}, orchestrator.Page{Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, open.Items)
	finding := fmt.Sprintf("/findings/%d", open.Items[0].ID)

	exec := e.signIn("cfo", orchestrator.RoleExecutive)
	_, body := exec.get("/")
	require.NotContains(t, body, `href="/drills"`)
	require.NotContains(t, body, `href="/findings"`)
	for _, path := range []string{"/drills", page, "/findings", finding} {
		status, _ := exec.get(path)
		require.Equal(t, http.StatusForbidden, status, path)
	}

	for _, role := range []orchestrator.Role{orchestrator.RoleAuditor, orchestrator.RoleOperator} {
		p := e.signIn(string(role), role)
		status, body := p.get(page)
		require.Equal(t, http.StatusOK, status, role)
		require.NotContains(t, body, `method="post" action="/drills/`, role)
		status, body = p.get(finding)
		require.Equal(t, http.StatusOK, status, role)
		require.NotContains(t, body, `action="`+finding+`"`, role)
		for _, action := range []string{"/start", "/complete", "/cancel", "/approve"} {
			status, _ = p.post(page+action, url.Values{"reason": {"no"}})
			require.Equal(t, http.StatusForbidden, status, "%s %s", role, action)
		}
		status, _ = p.post(finding, url.Values{"owner": {"mallory"}, "status": {"resolved"}})
		require.Equal(t, http.StatusForbidden, status, role)
	}
	d, err := e.wired.Drills.Get(asManager(), planned.ID)
	require.NoError(t, err)
	require.Equal(t, drills.StatusPlanned, d.Status, "nothing was done")
	f, err := e.wired.Drills.Finding(asManager(), open.Items[0].ID)
	require.NoError(t, err)
	require.NotEqual(t, "mallory", f.Owner)

	admin := e.signIn("root", orchestrator.RoleAdmin)
	_, body = admin.get(page)
	require.Contains(t, body, `action="`+page+`/start"`, "admins write records too")

	// Only an admin approves a full interruption.
	start := demoNow.Add(72 * time.Hour)
	full, err := e.wired.Drills.Create(asManager(), drills.Input{Title: "Fail e-mail over to dc-dr", Type: drills.TypeFullInterruption,
		Services: []string{"email"}, PlannedStart: &start})
	require.NoError(t, err)
	page = fmt.Sprintf("/drills/%d", full.ID)
	cm := e.signIn("cm", orchestrator.RoleContinuityManager)
	_, body = cm.get(page)
	require.NotContains(t, body, `action="`+page+`/approve"`)
	status, _ := cm.post(page+"/approve", url.Values{})
	require.Equal(t, http.StatusForbidden, status)
	_, body = admin.get(page)
	require.Contains(t, body, `action="`+page+`/approve"`)
	status, body = admin.post(page+"/approve", url.Values{})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The full interruption is approved.")
	require.NotContains(t, body, `action="`+page+`/approve"`, "approved once")
}

// The register lists findings by filter, overdue ones marked; a continuity
// manager updates a finding's owner, due date and status, and may not
// verify by hand one that waits for a retest.
func TestFindingRegister(t *testing.T) {
	t.Parallel()
	e := setup(t)
	due := directory.DateOf(demoNow.AddDate(0, -1, 0))
	title, sev, owner := "Backup catalogue still lists the retired tape library", "critical", "li.na"
	late, err := e.wired.Drills.CreateFinding(asManager(), drills.FindingInput{Title: &title, Severity: &sev, Owner: &owner,
		DueDate: &due, Services: []string{"email"}})
	require.NoError(t, err)
	require.True(t, late.Overdue)
	open, err := e.wired.Drills.Findings(asManager(), drills.FindingFilter{Open: true}, orchestrator.Page{Limit: 100})
	require.NoError(t, err)
	verified, err := e.wired.Drills.Findings(asManager(), drills.FindingFilter{Status: drills.FindingVerified}, orchestrator.Page{Limit: 100})
	require.NoError(t, err)
	require.NotEmpty(t, verified.Items)

	cm := e.signIn("cm", orchestrator.RoleContinuityManager)
	status, body := cm.get("/findings")
	require.Equal(t, http.StatusOK, status, body)
	for _, f := range open.Items {
		require.Contains(t, body, fmt.Sprintf(`<a href="/findings/%d">%s</a>`, f.ID, esc(f.Title)))
		if f.Drill != nil {
			require.Contains(t, body, fmt.Sprintf(`<a href="/drills/%d">Drill %d</a>`, *f.Drill, *f.Drill))
		}
	}
	for _, f := range verified.Items {
		require.NotContains(t, body, esc(f.Title), "the register shows open findings first")
	}
	require.Contains(t, body, fmt.Sprintf(`<td class="overdue">%s (overdue)</td>`, due))

	_, body = cm.get("/findings?show=all")
	for _, f := range verified.Items {
		require.Contains(t, body, esc(f.Title))
	}
	_, body = cm.get("/findings?show=overdue")
	require.Contains(t, body, esc(title))
	require.NotContains(t, body, esc(open.Items[0].Title))
	_, body = cm.get("/findings?show=all&severity=critical&source=audit&service=email")
	require.Contains(t, body, esc(title))
	require.NotContains(t, body, esc(verified.Items[0].Title))
	status, body = cm.get("/findings?source=rumour")
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "source: must be one of")
	status, _ = cm.get("/findings?show=some")
	require.Equal(t, http.StatusUnprocessableEntity, status)

	// Update: new owner and due date, in progress.
	page := fmt.Sprintf("/findings/%d", late.ID)
	status, body = cm.post(page, url.Values{"owner": {"wang.fang"}, "due_date": {"2027-01-31"}, "status": {"in_progress"}, "resolution": {""}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "Saved.")
	require.Contains(t, body, `value="wang.fang"`)
	f, err := e.wired.Drills.Finding(asManager(), late.ID)
	require.NoError(t, err)
	require.Equal(t, "wang.fang", f.Owner)
	require.Equal(t, "2027-01-31", f.DueDate.String())
	require.Equal(t, drills.FindingInProgress, f.Status)
	require.False(t, f.Overdue)
	status, body = cm.post(page, url.Values{"owner": {"wang.fang"}, "due_date": {"31/01/2027"}, "status": {"in_progress"}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "due_date: must be a date")
	status, body = cm.post(page, url.Values{"status": {"resolved"}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "say how the finding was resolved")

	// A finding a drill raised waits for a retest: verifying it by hand
	// is refused with the service's reason.
	i := slices.IndexFunc(open.Items, func(f drills.Finding) bool { return f.Retest })
	require.GreaterOrEqual(t, i, 0)
	retest := open.Items[i]
	page = fmt.Sprintf("/findings/%d", retest.ID)
	_, body = cm.get(page)
	require.Contains(t, body, "it is verified only when a later drill of its scope passes")
	status, body = cm.post(page, url.Values{"owner": {retest.Owner}, "status": {"verified"}, "resolution": {"fixed, trust us"}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "this finding needs a retest")
	f, err = e.wired.Drills.Finding(asManager(), retest.ID)
	require.NoError(t, err)
	require.Equal(t, retest.Status, f.Status)
	status, _ = cm.get("/findings/0")
	require.Equal(t, http.StatusNotFound, status)
}

// Every value a drills page shows has its word in both languages.
func TestDrillWordsForEveryValue(t *testing.T) {
	t.Parallel()
	keys := []string{"drill_prog_draft", "drill_prog_approved", "drill_yes", "drill_no"}
	for prefix, values := range map[string][]string{"drill_type_": drills.Types, "drill_status_": drillStatuses,
		"drill_result_": drillResults, "finding_sev_": drills.Severities, "finding_src_": drills.Sources,
		"finding_status_": drills.FindingStatuses, "finding_show_": findingShows,
		"drill_done_": {"started", "completed", "cancelled", "approved"}} {
		for _, v := range values {
			keys = append(keys, prefix+v)
		}
	}
	for m := 1; m <= 12; m++ {
		keys = append(keys, fmt.Sprintf("drill_month_%d", m))
	}
	for _, k := range keys {
		for _, lang := range languages {
			require.NotEmpty(t, dictionary[lang][k], "%s in %s", k, lang)
		}
	}
}
