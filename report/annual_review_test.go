package report_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/report"
)

// The demo's 2026: nine drills planned, eight run (six passed, drill 1
// failed, drill 7 of taxpayer-reg passed partially) and the email retest
// still planned; four findings raised, the two of the failed drill
// verified by the next one, the two of the partial drill open; thirty
// runbooks approved just before the year, none reviewed yet, all falling
// due in December.
func TestAnnualReviewDemo(t *testing.T) {
	t.Parallel()
	e := seedExecutive(t)
	ctx := t.Context()

	out, err := e.Render(ctx, report.Request{Kind: report.KindAnnualReview, Period: "2026", Format: report.FormatJSON}, nil)
	require.NoError(t, err)
	require.Equal(t, "application/json", out.ContentType)
	require.Equal(t, "bcdr-annual-review-2026-en.json", out.Filename)
	var rep report.AnnualReview
	require.NoError(t, json.Unmarshal(out.Body, &rep))
	require.Equal(t, 2026, rep.Year)
	require.Equal(t, demoNow, rep.AsOf, "a running year is judged as of now")

	rv := rep.Reviews
	require.Equal(t, 30, rv.Runbooks)
	require.Len(t, rv.Items, 30)
	require.Equal(t, map[string]int{"reviewed": 0, "overdue": 0, "due": 30, "not_due": 0}, rv.ByState)
	for _, it := range rv.Items {
		require.Nil(t, it.Review)
		require.Equal(t, "2026-12-22", it.DueAt.UTC().Format("2006-01-02"), "12 months after the approval")
	}

	dr := rep.Drills
	require.Equal(t, 9, dr.Planned)
	require.Equal(t, 8, dr.Completed)
	require.Equal(t, map[string]int{"pass": 6, "partial": 1, "fail": 1}, dr.Results)
	require.Equal(t, map[string]int{"planned": 1, "in_progress": 0, "completed": 8, "cancelled": 0}, dr.ByStatus, "the email retest is planned")
	require.Equal(t, 30, dr.Coverage.Services)
	tiers := 0
	for _, tc := range dr.ByTier {
		tiers += tc.Services
		require.LessOrEqual(t, tc.Met, tc.Services)
	}
	require.Equal(t, dr.Coverage.Services, tiers, "every covered service is in a tier")
	i := slices.IndexFunc(dr.Items, func(d report.AnnualDrillRow) bool { return d.ID == 7 })
	require.GreaterOrEqual(t, i, 0, "drill 7 is listed")
	partial := dr.Items[i]
	require.Equal(t, "partial", *partial.Result)
	require.Contains(t, partial.Services, "taxpayer-reg")

	im := rep.Improvements
	require.Equal(t, 4, im.Opened)
	require.Equal(t, 2, im.Closed, "the failed drill's findings, verified by the drill that passed")
	require.Equal(t, 2, im.Open)
	require.Zero(t, im.Overdue)
	require.Len(t, im.OpenItems, 2)
	require.Equal(t, "taxpayer-reg missed its RTO in drill 7", im.OpenItems[0].Title)
	require.Equal(t, []string{"taxpayer-reg"}, im.OpenItems[0].Services)
	require.Equal(t, "2027-01-15", im.OpenItems[0].Due.Format("2006-01-02"))
	require.Equal(t, report.FindingCount{Key: "drill", Opened: 4, Closed: 2, Open: 2}, im.BySource[0])

	for _, tc := range []struct {
		lang  string
		words []string
	}{
		{report.LangEN, []string{"Annual plan review and service improvement summary", "due later this year", "taxpayer-reg missed its RTO in drill 7",
			"Service improvement summary", "partial"}},
		{report.LangZH, []string{"业务连续性计划年度审查与服务改进汇总表", "年内到期", "服务改进汇总表", "部分通过", "技术演练", "2027-01-15"}},
	} {
		start := time.Now()
		out, err := e.Render(ctx, report.Request{Kind: report.KindAnnualReview, Period: "2026", Format: report.FormatHTML, Lang: tc.lang}, nil)
		require.NoError(t, err)
		t.Logf("annual review 2026, %s HTML: %d bytes in %s", tc.lang, len(out.Body), time.Since(start).Round(time.Millisecond))
		html := string(out.Body)
		assertSelfContained(t, html)
		require.Contains(t, html, `<html lang="`+tc.lang+`">`)
		for _, w := range tc.words {
			require.Contains(t, html, w)
		}
		require.NotContains(t, html, "col_", "every word is translated")
	}
	t.Run("pdf", func(t *testing.T) {
		checkPDF(t, e, report.Request{Kind: report.KindAnnualReview, Period: "2026"}, map[string][]string{
			report.LangEN: {"Annual plan review", "taxpayer-reg missed its RTO"},
			report.LangZH: {"年度审查", "服务改进汇总表"},
		})
	})
}

// A year before anything was recorded says so in words, section by
// section; the runbooks approved at its very end were not due in it.
func TestAnnualReviewEarlierYear(t *testing.T) {
	t.Parallel()
	e := seedExecutive(t)
	out, err := e.Render(t.Context(), report.Request{Kind: report.KindAnnualReview, Period: "2025", Format: report.FormatJSON}, nil)
	require.NoError(t, err)
	var rep report.AnnualReview
	require.NoError(t, json.Unmarshal(out.Body, &rep))
	require.Equal(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), rep.AsOf, "a past year is judged at its end")
	require.Equal(t, 30, rep.Reviews.ByState["not_due"])
	require.Zero(t, rep.Drills.Planned)
	require.Zero(t, rep.Improvements.Opened+rep.Improvements.Open)

	out, err = e.Render(t.Context(), report.Request{Kind: report.KindAnnualReview, Period: "1999", Format: report.FormatJSON}, nil)
	require.NoError(t, err, "a year before any drill programme has nothing to cover")

	out, err = e.Render(t.Context(), report.Request{Kind: report.KindAnnualReview, Period: "2025", Format: report.FormatHTML}, nil)
	require.NoError(t, err)
	for _, words := range []string{"No review of the year decided an action.", "No drill was planned in this year.",
		"The improvement register has no finding."} {
		require.Contains(t, string(out.Body), words)
	}
}

// A period written wrongly is refused naming period; a subject is not
// taken.
func TestAnnualReviewRequestValidation(t *testing.T) {
	t.Parallel()
	for _, q := range []report.Request{
		{Kind: report.KindAnnualReview, Period: "2026-11"},
		{Kind: report.KindAnnualReview, Period: "26"},
		{Kind: report.KindAnnualReview, Period: "2027"},
		{Kind: report.KindAnnualReview, Period: "1969"},
		{Kind: report.KindAnnualReview, Period: "2026'; DROP TABLE findings;--"},
		{Kind: report.KindAnnualReview, Period: "２０２６"},
	} {
		_, _, err := q.Validate(demoNow)
		require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err), "%q", q.Period)
		require.Equal(t, "period", orchestrator.ErrorFields(err)[0].Field)
	}
	q := report.Request{Kind: report.KindAnnualReview, Subject: "taxpayer-reg"}
	_, _, err := q.Validate(demoNow)
	require.Equal(t, "subject", orchestrator.ErrorFields(err)[0].Field)

	e := seedExecutive(t)
	_, err = e.Render(t.Context(), report.Request{Kind: report.KindAnnualReview, Period: "2026-11", Format: report.FormatHTML}, nil)
	require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
	require.Equal(t, "period", orchestrator.ErrorFields(err)[0].Field)
}
