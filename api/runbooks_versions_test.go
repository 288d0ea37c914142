package api

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/runbooks"
)

func TestRunbookVersionsApprovalAndDiff(t *testing.T) {
	t.Parallel()
	env := rbFixture(t)
	rb := rbCreate(t, env)
	base := "/api/v1/runbooks/" + fmt.Sprint(rb.ID)

	require.Equal(t, http.StatusForbidden, env.do("POST", base+"/approve", rbOperator, nil).Status, "operators do not approve")
	rb = rbDo(t, env, "POST", base+"/approve", nil)
	require.Equal(t, runbooks.StatusApproved, rb.Status)
	require.Equal(t, 1, *rb.ApprovedVersion)
	require.Nil(t, rb.DraftVersion)
	a := rb.Version.Approval
	require.NotNil(t, a)
	require.Equal(t, "test-continuity_manager", a.By)
	require.Len(t, a.Fingerprint, 64)
	require.Equal(t, map[string]int{"svc-pay": 1}, a.BIAVersions)
	require.Contains(t, a.ScopeCIs, "db")
	require.Contains(t, a.ScopeRelations, "app runs_on vm1 (group hosts, min_up 1)")
	require.False(t, rb.Staleness.Stale, "%+v", rb.Staleness)
	require.Equal(t, http.StatusConflict, env.do("POST", base+"/approve", rbManager, nil).Status, "nothing left to approve")

	// Editing the approved runbook starts version 2 as a draft.
	db := rbStep(t, rb, runbooks.KindRecover, "db")
	rb = rbDo(t, env, "PATCH", base+"/steps/"+db.ID, map[string]any{"estimate": "2h", "text": "Restore db from the nightly dump."})
	require.Equal(t, 1, *rb.ApprovedVersion)
	require.Equal(t, 2, *rb.DraftVersion)
	require.Equal(t, runbooks.StatusDraft, rb.Version.Status)
	require.Nil(t, rb.Version.Approval)
	rb = rbDo(t, env, "POST", base+"/steps", map[string]any{"title": "Tell the bank", "estimate": "10m"})
	require.Equal(t, 2, *rb.DraftVersion, "further edits stay in the same draft")
	rb = rbDo(t, env, "PATCH", base+"/sections", map[string]any{"failback": []string{"Fail back on Sunday"}})

	var d runbooks.Diff
	resp := env.do("GET", base+"/versions/1/diff/2", rbAuditor, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &d)
	require.Equal(t, 1, d.From)
	require.Equal(t, 2, d.To)
	require.Len(t, d.StepsAdded, 1)
	require.Equal(t, "Tell the bank", d.StepsAdded[0].Title)
	require.Empty(t, d.StepsRemoved)
	require.Len(t, d.StepsChanged, 1)
	require.Equal(t, db.ID, d.StepsChanged[0].Step)
	changed := map[string]runbooks.FieldChange{}
	for _, c := range d.StepsChanged[0].Changes {
		changed[c.Field] = c
	}
	require.Equal(t, "3h", changed["estimate"].From)
	require.Equal(t, "2h", changed["estimate"].To)
	require.Contains(t, changed, "text")
	require.Len(t, d.Sections, 1)
	require.Equal(t, "failback", d.Sections[0].Field)
	require.Equal(t, []string{"Fail back on Sunday"}, d.Sections[0].Added)
	require.NotEmpty(t, d.Sections[0].Removed)

	rb = rbDo(t, env, "POST", base+"/approve", nil)
	require.Equal(t, 2, *rb.ApprovedVersion)
	var vs struct {
		Items []runbooks.VersionSummary `json:"items"`
	}
	resp = env.do("GET", base+"/versions", rbOperator, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	resp.JSON(t, &vs)
	require.Len(t, vs.Items, 2)
	require.Equal(t, runbooks.StatusSuperseded, vs.Items[0].Status)
	require.Equal(t, runbooks.StatusApproved, vs.Items[1].Status)
	resp = env.do("GET", base+"/versions/1", rbOperator, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	var v1 runbooks.Version
	resp.JSON(t, &v1)
	require.Equal(t, "3h", rbStepIn(t, v1.Steps, db.ID).Estimate.String(), "old versions are kept as they were")

	// Regenerating keeps the ids of the same CIs' steps, so the diff
	// shows what really changed.
	rb = rbDo(t, env, "POST", base+"/regenerate", nil)
	require.Equal(t, 3, *rb.DraftVersion)
	resp = env.do("GET", base+"/versions/2/diff/3", rbManager, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	resp.JSON(t, &d)
	require.Len(t, d.StepsRemoved, 1, "the custom step")
	require.Len(t, d.StepsChanged, 1, "only the db step reverts")
	require.Equal(t, db.ID, d.StepsChanged[0].Step)

	// Retired: kept, read-only, and the service may get a new runbook.
	rb = rbDo(t, env, "POST", base+"/retire", nil)
	require.Equal(t, runbooks.StatusRetired, rb.Status)
	require.Equal(t, http.StatusConflict, env.do("POST", base+"/steps", rbManager, map[string]any{"title": "x"}).Status)
	require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/runbooks", rbManager, map[string]any{"service": "svc-pay"}).Status)
	resp = env.do("GET", "/api/v1/runbooks?status=retired", rbAuditor, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	require.Contains(t, string(resp.Body), fmt.Sprintf(`"id":%d`, rb.ID))
}

func rbStepIn(t *testing.T, steps []runbooks.Step, id string) runbooks.Step {
	t.Helper()
	for _, s := range steps {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no step %s", id)
	return runbooks.Step{}
}

func TestRunbookStaleness(t *testing.T) {
	t.Parallel()
	env := rbFixture(t)
	rb := rbCreate(t, env)
	base := "/api/v1/runbooks/" + fmt.Sprint(rb.ID)
	rbDo(t, env, "POST", base+"/approve", nil)
	// Approved ten days ago.
	_, err := env.pool.Exec(t.Context(), `UPDATE runbook_versions SET approved_at = now() - interval '10 days' WHERE runbook_id = $1`, rb.ID)
	require.NoError(t, err)
	rb = rbDo(t, env, "GET", base, nil)
	require.False(t, rb.Staleness.Stale)
	require.False(t, rb.Staleness.Review.Due)

	t.Run("retest_required", func(t *testing.T) {
		at := time.Now().Add(-48 * time.Hour).UTC()
		minor := map[string]any{"title": "Patch db", "status": "implemented", "affected_cis": []string{"db"}, "actual_start": at}
		require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/changes", rbManager, minor).Status)
		before := map[string]any{"title": "Old major change", "major": true, "status": "implemented", "affected_cis": []string{"db"},
			"actual_start": time.Now().Add(-30 * 24 * time.Hour).UTC()}
		require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/changes", rbManager, before).Status)
		printer := map[string]any{"key": "printer", "name": "printer", "class": "server"}
		require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/cis", rbManager, printer).Status)
		elsewhere := map[string]any{"title": "Major change elsewhere", "major": true, "status": "implemented", "affected_cis": []string{"printer"},
			"actual_start": at}
		require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/changes", rbManager, elsewhere).Status)
		rb := rbDo(t, env, "GET", base, nil)
		require.NotContains(t, rb.Staleness.Flags, runbooks.FlagRetestRequired, "minor, earlier or out-of-scope changes do not count: %+v", rb.Staleness.RetestRequired)

		major := map[string]any{"title": "数据库升级 Upgrade db to 16", "external_id": "CHG-42", "major": true, "status": "implemented",
			"affected_cis": []string{"db", "app"}, "actual_start": at}
		require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/changes", rbManager, major).Status)
		release := map[string]any{"version": "2.1", "title": "payroll", "status": "deployed", "affected_cis": []string{"app"}, "deployed_at": at}
		require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/releases", rbManager, release).Status)
		rb = rbDo(t, env, "GET", base, nil)
		require.True(t, rb.Staleness.Stale)
		require.Contains(t, rb.Staleness.Flags, runbooks.FlagRetestRequired)
		ch := rb.Staleness.RetestRequired.Changes
		require.Len(t, ch, 2, "%+v", ch)
		require.Equal(t, "CHG-42", ch[0].ExternalID)
		require.Equal(t, []string{"app", "db"}, ch[0].CIs)
		require.Equal(t, "release", ch[1].Kind)
	})

	t.Run("scope_changed", func(t *testing.T) {
		body := map[string]any{"key": "cache", "name": "cache", "class": "middleware"}
		require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/cis", rbManager, body).Status)
		rbRel(t, env, "app", "depends_on", "cache", "", 0)
		rb := rbDo(t, env, "GET", base, nil)
		require.Contains(t, rb.Staleness.Flags, runbooks.FlagScopeChanged)
		sc := rb.Staleness.ScopeChanged
		require.Equal(t, []string{"cache"}, sc.CIsAdded)
		require.Empty(t, sc.CIsRemoved)
		require.Equal(t, []string{"app depends_on cache"}, sc.RelationsAdded)
		require.NotEqual(t, sc.Approved, sc.Current)
	})

	t.Run("review_due", func(t *testing.T) {
		_, err := env.pool.Exec(t.Context(), `UPDATE runbook_versions SET approved_at = now() - interval '13 months' WHERE runbook_id = $1`, rb.ID)
		require.NoError(t, err)
		rb := rbDo(t, env, "GET", base, nil)
		require.Contains(t, rb.Staleness.Flags, runbooks.FlagReviewDue)
		require.True(t, rb.Staleness.Review.Due)

		require.Equal(t, http.StatusForbidden, env.do("POST", base+"/review", rbAuditor, map[string]any{}).Status)
		rb = rbDo(t, env, "POST", base+"/review", map[string]any{"notes": "年度审查 annual review: contacts checked"})
		require.NotContains(t, rb.Staleness.Flags, runbooks.FlagReviewDue)
		require.Equal(t, "年度审查 annual review: contacts checked", rb.Version.LastReview.Notes)
		require.WithinDuration(t, time.Now().AddDate(1, 0, 0), rb.Staleness.Review.DueAt, time.Minute)
	})
}
