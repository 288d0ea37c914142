package report

import (
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator/directory"
	"github.com/bcdr/bcdr/runbooks"
)

// Every word the annual review and the service report ask for is there in
// both languages, and no word is left empty.
func TestAnnualAndServiceWordsInBothLanguages(t *testing.T) {
	t.Parallel()
	used := regexp.MustCompile(`\bw\("([a-z_]+)"\)`)
	for _, tc := range []struct {
		words dict
		files []string
	}{
		{annualWords, []string{"annual_review_render.go"}},
		{serviceWords, []string{"service_report_render.go"}},
	} {
		for _, lang := range Langs {
			require.Len(t, tc.words[lang], len(tc.words[LangEN]), "%s has as many words as en", lang)
			for key, w := range tc.words[lang] {
				require.NotEmpty(t, w, "%s %s", lang, key)
				require.Contains(t, tc.words[LangEN], key, "%s's %s is in en", lang, key)
			}
			for _, f := range tc.files {
				src, err := os.ReadFile(f)
				require.NoError(t, err)
				for _, m := range used.FindAllStringSubmatch(string(src), -1) {
					_, own := tc.words[lang][m[1]]
					_, common := commonWords[lang][m[1]]
					require.True(t, own || common, "%s: %s has no word for %q", f, lang, m[1])
				}
			}
		}
	}
	for key := range continuityTerms[LangEN] {
		require.NotEmpty(t, continuityTerms[LangZH][key], "zh-CN term for %s", key)
	}
	require.Len(t, continuityTerms[LangZH], len(continuityTerms[LangEN]))
}

// A runbook's review in a year: done when its latest review falls in the
// year, else overdue when it fell due before the year's end or now, due
// later in the year, or not due in it.
func TestReviewRow(t *testing.T) {
	t.Parallel()
	y2026, y2027 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	at := func(s string) time.Time {
		d, err := time.Parse("2006-01-02", s)
		require.NoError(t, err)
		return d
	}
	brief := func(approved string, reviewed string, outcome string) runbooks.Brief {
		v := runbooks.Version{Number: 2, Approval: &runbooks.Approval{At: at(approved)}}
		last := v.Approval.At
		if reviewed != "" {
			v.LastReview = &runbooks.Review{At: at(reviewed), By: "li.na", Outcome: outcome, Actions: []string{"update the call tree"}}
			last = v.LastReview.At
		}
		return runbooks.Brief{ID: 3, Title: "rb", Scope: runbooks.Scope{Service: "etax"}, Status: runbooks.StatusApproved, Version: v,
			Staleness: runbooks.Staleness{Review: &runbooks.ReviewDetail{LastAt: last, DueAt: last.AddDate(1, 0, 0)}}}
	}
	for _, tc := range []struct {
		name          string
		b             runbooks.Brief
		from, to, now time.Time
		state, due    string
		reviewed      bool
	}{
		{"reviewed in the year", brief("2025-03-01", "2026-02-20", runbooks.ReviewUpdateNeeded), y2026, y2027, now, ReviewStateReviewed, "2027-02-20", true},
		{"approved a year ago, never reviewed", brief("2025-06-01", "", ""), y2026, y2027, now, ReviewStateOverdue, "2026-06-01", false},
		{"reviewed the year before, not since", brief("2024-01-10", "2025-05-01", runbooks.ReviewFit), y2026, y2027, now, ReviewStateOverdue, "2026-05-01", false},
		{"falls due after now, in the year", brief("2025-12-22", "", ""), y2026, y2027, now, ReviewStateDue, "2026-12-22", false},
		{"approved in the year", brief("2026-03-01", "", ""), y2026, y2027, now, ReviewStateNotDue, "2027-03-01", false},
		{"a past year: fell due in it", brief("2024-02-01", "", ""), y2026.AddDate(-1, 0, 0), y2026, now, ReviewStateOverdue, "2025-02-01", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			row := reviewRow(tc.b, tc.from, tc.to, tc.now)
			require.Equal(t, tc.state, row.State)
			require.Equal(t, tc.due, row.DueAt.Format("2006-01-02"))
			require.Equal(t, tc.reviewed, row.Review != nil)
			require.NotNil(t, row.Flags)
		})
	}
}

// A finding as it stood at a moment: open from its raising until its
// verification, overdue once its due day passed unresolved.
func TestFindingAt(t *testing.T) {
	t.Parallel()
	asOf := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	due := func(s string) *directory.Date {
		d, err := time.Parse("2006-01-02", s)
		require.NoError(t, err)
		dd := directory.DateOf(d)
		return &dd
	}
	ptr := func(t time.Time) *time.Time { return &t }
	raised := asOf.AddDate(0, -2, 0)
	for _, tc := range []struct {
		name          string
		f             drills.Finding
		open, overdue bool
	}{
		{"open, due later", drills.Finding{CreatedAt: raised, DueDate: due("2027-01-15"), Status: drills.FindingOpen}, true, false},
		{"open, past due", drills.Finding{CreatedAt: raised, DueDate: due("2026-11-01"), Status: drills.FindingInProgress}, true, true},
		{"due today is not yet overdue", drills.Finding{CreatedAt: raised, DueDate: due("2026-11-21"), Status: drills.FindingOpen}, true, false},
		{"resolved before due, awaiting verification", drills.Finding{CreatedAt: raised, DueDate: due("2026-11-01"), Status: drills.FindingResolved,
			ResolvedAt: ptr(asOf.AddDate(0, 0, -30))}, true, false},
		{"verified", drills.Finding{CreatedAt: raised, DueDate: due("2026-11-01"), Status: drills.FindingVerified,
			ResolvedAt: ptr(asOf.AddDate(0, 0, -30)), VerifiedAt: ptr(asOf.AddDate(0, 0, -1))}, false, false},
		{"verified after the moment", drills.Finding{CreatedAt: raised, DueDate: due("2026-11-01"), Status: drills.FindingVerified,
			ResolvedAt: ptr(asOf.AddDate(0, 0, 1)), VerifiedAt: ptr(asOf.AddDate(0, 0, 2))}, true, true},
		{"raised after the moment", drills.Finding{CreatedAt: asOf.Add(time.Hour), Status: drills.FindingOpen}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			row, open := findingAt(tc.f, asOf)
			require.Equal(t, tc.open, open)
			require.Equal(t, tc.overdue, row.Overdue)
		})
	}
}
