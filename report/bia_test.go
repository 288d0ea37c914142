package report_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/demo"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/report"
)

// The BIA report over the demo: its 30 services, all with an approved
// BIA, most critical first with the targets of their tier; the impact
// over time of each; an HTML page standing alone in both languages and a
// PDF in both.
func TestBIAReportDemo(t *testing.T) {
	t.Parallel()
	e := seedExecutive(t)
	ctx := t.Context()

	out, err := e.Render(ctx, report.Request{Kind: report.KindBIA, Format: report.FormatJSON}, nil)
	require.NoError(t, err)
	require.Equal(t, "application/json", out.ContentType)
	require.Equal(t, "bcdr-bia-en.json", out.Filename)
	var rep report.BIAReport
	require.NoError(t, json.Unmarshal(out.Body, &rep))
	require.Equal(t, report.BIASummary{Services: 30, Approved: 30,
		ByTier: map[string]int{"0": 4, "1": 7, "2": 7, "3": 6, "4": 6}}, rep.Summary)
	require.True(t, demoNow.Equal(rep.GeneratedAt), "as of the demo's today: %s", rep.GeneratedAt)
	require.Equal(t, "CNY", rep.Currency)
	require.Empty(t, rep.Findings, "every demo service has an approved BIA within its MTPD")
	require.Len(t, rep.Services, 30)
	for i, s := range rep.Services {
		require.NotNil(t, s.Tier, s.Service)
		if i > 0 {
			require.GreaterOrEqual(t, *s.Tier, *rep.Services[i-1].Tier, "most critical tier first")
		}
		require.NotEmpty(t, s.Impact, s.Service)
		require.NotNil(t, s.Dependencies, s.Service)
		require.Positive(t, s.Dependencies.CIs, "%s depends on its stack", s.Service)
	}

	var levy report.BIAServiceRow
	for _, s := range rep.Services {
		if s.Service == "core-levy" {
			levy = s
		}
	}
	require.Equal(t, "金税征管核心系统 Core tax levy system", levy.Name)
	require.Equal(t, "wang.fang", levy.Owner)
	require.Equal(t, report.BIAApproved, levy.Status)
	require.Equal(t, 0, *levy.Tier)
	require.Equal(t, 1, *levy.Version)
	require.Equal(t, "1h", levy.RTO.String())
	require.Equal(t, "5m", levy.RPO.String())
	require.Equal(t, "4h", levy.MTPD.String(), "its regulatory impact is intolerable after 4h")
	require.NotNil(t, levy.ApprovedAt)
	require.Equal(t, "test", levy.ApprovedBy)
	first := levy.Impact[0]
	require.Equal(t, "1h", first.After.String())
	require.InDelta(t, 625_000, first.Loss, 0.01, "CNY 500,000 an hour, a quarter more for the second service")
	require.Equal(t, 3, first.Ratings["regulatory"])
	require.False(t, first.RTOBreached)
	var past bool
	for _, p := range levy.Impact {
		if p.MTPDBreached {
			past = true
			require.Equal(t, 4, p.Ratings["regulatory"], "intolerable past the MTPD")
		}
	}
	require.True(t, past, "the time points reach past the MTPD")
	require.Greater(t, levy.Impact[len(levy.Impact)-1].Loss, first.Loss, "the loss grows with the outage")

	for _, tc := range []struct{ lang, title string }{
		{report.LangEN, "Business impact analysis report"}, {report.LangZH, "业务影响分析报告"},
	} {
		start := time.Now()
		out, err := e.Render(ctx, report.Request{Kind: report.KindBIA, Format: report.FormatHTML, Lang: tc.lang}, nil)
		require.NoError(t, err)
		t.Logf("BIA report HTML (%s): %d bytes in %s", tc.lang, len(out.Body), time.Since(start).Round(time.Millisecond))
		html := string(out.Body)
		assertSelfContained(t, html)
		require.Contains(t, html, `<html lang="`+tc.lang+`">`)
		require.Contains(t, html, "<title>"+tc.title+"</title>")
		require.Contains(t, html, "<svg", "the tiers are charted")
		require.Contains(t, html, "金税征管核心系统 Core tax levy system")
		if tc.lang == report.LangZH {
			require.Contains(t, html, "恢复时间目标 RTO")
			require.Contains(t, html, "最大可容忍中断时间 MTPD")
			require.Contains(t, html, "监管合规", "impact categories are in Chinese")
			require.NotContains(t, html, "Impact over time")
		}
	}
	t.Run("pdf", func(t *testing.T) {
		checkPDF(t, e, report.Request{Kind: report.KindBIA}, map[string][]string{
			report.LangEN: {"Business impact analysis report", "金税征管核心系统"},
			report.LangZH: {"业务影响分析报告", "金税征管核心系统", "恢复时间目标"},
		})
	})
}

// Services without an approved BIA are gaps, a draft is told apart from
// nothing, and an approved BIA whose RTO + WRT the current settings put
// past the MTPD is a finding.
func TestBIAReportGaps(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := orchestrator.WithActor(t.Context(), orchestrator.Actor{Name: "wu.hong", Role: orchestrator.RoleAdmin})
	cis := cmdb.NewService(pool)
	for _, in := range []cmdb.CIInput{
		{Key: "payments", Name: "Payments", Class: cmdb.ClassBusinessService, Owner: "li.na"},
		{Key: "payroll", Name: "Payroll", Class: cmdb.ClassBusinessService},
		{Key: "wiki", Name: "Wiki", Class: cmdb.ClassBusinessService},
	} {
		_, err := cis.CreateCI(ctx, in)
		require.NoError(t, err)
	}
	rt := orchestrator.Runtime{}
	impacts := impact.NewService(pool, rt, impact.NewGraphCache(pool, rt))
	amount := func(a float64) *float64 { return &a }
	hour := orchestrator.Duration(time.Hour)
	a := impact.Assessment{RTO: hour, RPO: hour / 4, WRT: hour, Thresholds: []impact.Threshold{
		{Category: "financial", At: hour, Rating: 2, Amount: amount(1000)},
		{Category: "financial", At: 4 * hour, Rating: 3, Amount: amount(4000)},
		{Category: "financial", At: 8 * hour, Rating: 4, Amount: amount(8000)},
	}}
	_, err := impacts.SaveBIA(ctx, "payments", a)
	require.NoError(t, err)
	_, err = impacts.ApproveBIA(ctx, "payments")
	require.NoError(t, err)
	_, err = impacts.SaveBIA(ctx, "payroll", a)
	require.NoError(t, err)
	// Rating 2 becomes intolerable: payments' MTPD falls from 8h to 1h,
	// short of its RTO + WRT of 2h.
	settings := impact.DefaultSettings()
	settings.IntolerableLevel = 2
	_, err = impacts.ReplaceSettings(ctx, settings)
	require.NoError(t, err)

	e := report.NewReports(demo.Readiness(pool, demoNow), report.ReportOptions{})
	out, err := e.Render(ctx, report.Request{Kind: report.KindBIA, Format: report.FormatJSON}, nil)
	require.NoError(t, err)
	var rep report.BIAReport
	require.NoError(t, json.Unmarshal(out.Body, &rep))
	require.Equal(t, report.BIASummary{Services: 3, Approved: 1, Draft: 1, None: 1, ExceedsMTPD: 1,
		ByTier: map[string]int{"0": 1, "unassessed": 2}}, rep.Summary)
	require.Len(t, rep.Findings, 3)
	require.Equal(t, impact.GapExceedsMTPD, rep.Findings[0].Kind)
	require.Equal(t, "payments", rep.Findings[0].Service)
	require.Equal(t, "1h", rep.Findings[0].MTPD.String())
	require.Equal(t, report.BIAFinding{Kind: impact.GapNoBIA, Service: "payroll", Version: rep.Findings[1].Version}, rep.Findings[1])
	require.Equal(t, 1, *rep.Findings[1].Version, "the draft awaiting approval")
	require.Equal(t, report.BIAFinding{Kind: impact.GapNoBIA, Service: "wiki"}, rep.Findings[2])
	require.Equal(t, "8h", rep.Services[0].MTPD.String(), "the MTPD as approved is kept")
	require.Equal(t, report.BIADraft, rep.Services[1].Status)
	require.Nil(t, rep.Services[1].RTO, "a draft sets no target")
	require.Equal(t, report.BIANone, rep.Services[2].Status)
	require.Equal(t, 0, rep.Services[2].Dependencies.CIs)

	for lang, words := range map[string][]string{
		report.LangEN: {"No approved BIA", "draft v1 awaits approval", "= 2h is beyond the MTPD of 1h"},
		report.LangZH: {"无已批准的业务影响分析", "草稿 v1 待批准", "超过其评级按现行设置得出的最大可容忍中断时间 1h"},
	} {
		out, err := e.Render(ctx, report.Request{Kind: report.KindBIA, Format: report.FormatHTML, Lang: lang}, nil)
		require.NoError(t, err)
		for _, w := range words {
			require.Contains(t, string(out.Body), w)
		}
		assertSelfContained(t, string(out.Body))
	}

	// An organisation without services says so.
	empty := report.NewReports(demo.Readiness(pgtest.New(t), demoNow), report.ReportOptions{})
	out, err = empty.Render(ctx, report.Request{Kind: report.KindBIA, Format: report.FormatHTML}, nil)
	require.NoError(t, err)
	require.Contains(t, string(out.Body), "No business services are recorded")
	require.Contains(t, string(out.Body), "No business service has an approved BIA yet")
}

// The BIA report describes the present: a period is refused, naming the
// field (the API answers 422).
func TestBIAReportRefusesAPeriod(t *testing.T) {
	t.Parallel()
	e := report.NewReports(demo.Readiness(nil, demoNow), report.ReportOptions{})
	_, err := e.Render(t.Context(), report.Request{Kind: report.KindBIA, Period: "2026-11", Format: report.FormatJSON}, nil)
	require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
	require.Equal(t, "period", orchestrator.ErrorFields(err)[0].Field)
}
