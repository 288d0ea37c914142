package report_test

import (
	"encoding/json"
	"strings"
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

// The risk report over the demo's register of 25: its distribution, both
// heat maps, the costliest risk (the primary data centre's power) with
// the services it takes down, the two overdue reviews; an HTML page
// standing alone in both languages and a PDF in both.
func TestRiskReportDemo(t *testing.T) {
	t.Parallel()
	e := seedExecutive(t)
	ctx := t.Context()

	out, err := e.Render(ctx, report.Request{Kind: report.KindRisk, Format: report.FormatJSON}, nil)
	require.NoError(t, err)
	require.Equal(t, "bcdr-risk-en.json", out.Filename)
	var rep report.RiskReport
	require.NoError(t, json.Unmarshal(out.Body, &rep))
	s := rep.Summary
	require.Equal(t, 25, s.Total)
	require.Equal(t, 25, rep.Heatmap.Total)
	require.Len(t, rep.Heatmap.Inherent, 25)
	require.Len(t, rep.Heatmap.Residual, 25)
	require.Equal(t, "CNY", rep.Currency)
	require.Equal(t, 7, s.ByThreat["supplier"])
	require.Equal(t, map[string]int{"mitigate": 18, "accept": 4, "transfer": 3}, s.ByTreatment)
	require.Equal(t, map[string]int{report.RiskHigh: 5, report.RiskMedium: 12, report.RiskLow: 8}, s.Inherent)
	require.Equal(t, map[string]int{report.RiskHigh: 0, report.RiskMedium: 8, report.RiskLow: 17}, s.Residual, "the controls leave no high risk")
	require.Equal(t, 2, s.ReviewOverdue)
	require.Zero(t, s.NoOwner)
	require.Zero(t, s.NoTreatment)

	require.Len(t, rep.Top, 10)
	top := rep.Top[0]
	require.Equal(t, "主数据中心长时间停电 Extended power loss at the primary data centre", top.Title)
	require.Positive(t, top.ALE)
	require.InDelta(t, top.ARO*top.SLE, top.ALE, 0.01, "ALE = ARO × SLE")
	hit := map[string]bool{}
	for _, l := range top.Services {
		hit[l.Service] = true
	}
	require.True(t, hit["core-levy"], "losing dc-main's power takes the core levy system down: %v", top.Services)
	require.Len(t, top.Services, 30, "every demo service runs at dc-main")
	total := 0.0
	for i, r := range rep.Top {
		if i > 0 {
			require.LessOrEqual(t, r.ALE, rep.Top[i-1].ALE, "largest ALE first")
		}
	}
	for _, r := range rep.Register {
		total += r.ALE
	}
	require.InDelta(t, total, s.TotalALE, 0.01)

	require.Len(t, rep.Register, 25)
	for i := 1; i < len(rep.Register); i++ {
		require.LessOrEqual(t, rep.Register[i].ResidualScore, rep.Register[i-1].ResidualScore, "highest residual score first")
	}
	overdue := map[string]bool{}
	for _, a := range rep.Attention {
		require.Equal(t, []string{report.RiskReviewOverdue}, a.Reasons)
		overdue[a.Title] = true
	}
	require.Equal(t, map[string]bool{"防火墙误配置 Firewall misconfiguration blocks traffic": true,
		"误删生产数据 Production data deleted by mistake": true}, overdue)

	for _, tc := range []struct {
		lang  string
		words []string
	}{
		{report.LangEN, []string{"<title>Risk assessment report</title>", "Inherent risk", "Residual risk", "Extended power loss at the primary data centre", "review overdue"}},
		{report.LangZH, []string{"<title>风险评估报告</title>", "固有风险", "剩余风险", "年度预期损失 ALE", "可能性", "风险处置", "供应商中断", "复审已逾期"}},
	} {
		start := time.Now()
		out, err := e.Render(ctx, report.Request{Kind: report.KindRisk, Format: report.FormatHTML, Lang: tc.lang}, nil)
		require.NoError(t, err)
		t.Logf("risk report HTML (%s): %d bytes in %s", tc.lang, len(out.Body), time.Since(start).Round(time.Millisecond))
		html := string(out.Body)
		assertSelfContained(t, html)
		require.GreaterOrEqual(t, strings.Count(html, "<svg"), 4, "threats, treatment and both heat maps are charted")
		for _, w := range tc.words {
			require.Contains(t, html, w)
		}
	}
	t.Run("pdf", func(t *testing.T) {
		checkPDF(t, e, report.Request{Kind: report.KindRisk}, map[string][]string{
			report.LangEN: {"Risk assessment report", "主数据中心长时间停电", "Inherent risk"},
			report.LangZH: {"风险评估报告", "主数据中心长时间停电", "剩余风险"},
		})
	})
}

// An empty register says so; a risk without an owner or a review date is
// listed as needing attention, with the service it takes down.
func TestRiskReportAttention(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := orchestrator.WithActor(t.Context(), orchestrator.Actor{Name: "wu.hong", Role: orchestrator.RoleAdmin})
	e := report.NewReports(demo.Readiness(pool, demoNow), report.ReportOptions{})

	out, err := e.Render(ctx, report.Request{Kind: report.KindRisk, Format: report.FormatHTML}, nil)
	require.NoError(t, err)
	require.Contains(t, string(out.Body), "The risk register is empty.")
	assertSelfContained(t, string(out.Body))

	_, err = cmdb.NewService(pool).CreateCI(ctx, cmdb.CIInput{Key: "payments", Name: "Payments", Class: cmdb.ClassBusinessService})
	require.NoError(t, err)
	rt := orchestrator.Runtime{}
	r, err := impact.NewService(pool, rt, impact.NewGraphCache(pool, rt)).CreateRisk(ctx, impact.RiskInput{
		Title: "Payments fire", Threat: "fire", Scope: impact.Scope{CIs: []string{"payments"}},
		Likelihood: 3, Impact: 5, ResidualLikelihood: 2, ResidualImpact: 5, Treatment: "accept"})
	require.NoError(t, err)

	out, err = e.Render(ctx, report.Request{Kind: report.KindRisk, Format: report.FormatJSON}, nil)
	require.NoError(t, err)
	var rep report.RiskReport
	require.NoError(t, json.Unmarshal(out.Body, &rep))
	require.Equal(t, 1, rep.Summary.NoOwner)
	require.Equal(t, []report.RiskAttention{{ID: r.ID, Title: "Payments fire",
		Reasons: []string{report.RiskNoOwner, report.RiskNoReview}}}, rep.Attention)
	require.Equal(t, map[string]int{report.RiskHigh: 1, report.RiskMedium: 0, report.RiskLow: 0}, rep.Summary.Inherent)
	require.Equal(t, map[string]int{report.RiskHigh: 0, report.RiskMedium: 1, report.RiskLow: 0}, rep.Summary.Residual)
	require.Equal(t, []string{"payments"}, rep.Register[0].Services)
	require.Equal(t, []string{"payments"}, rep.Top[0].Unpriced, "without a BIA the service adds nothing to the SLE")
	require.Zero(t, rep.Top[0].ALE)

	for lang, words := range map[string][]string{
		report.LangEN: {"no owner; no review date", "payments (no BIA)", "2\u00a0×\u00a05\u00a0=\u00a010"},
		report.LangZH: {"无负责人; 无复审日期", "payments (无业务影响分析)", "火灾"},
	} {
		out, err := e.Render(ctx, report.Request{Kind: report.KindRisk, Format: report.FormatHTML, Lang: lang}, nil)
		require.NoError(t, err)
		for _, w := range words {
			require.Contains(t, string(out.Body), w)
		}
	}
}

// The risk report describes the present: a period is refused, naming the
// field (the API answers 422).
func TestRiskReportRefusesAPeriod(t *testing.T) {
	t.Parallel()
	e := report.NewReports(demo.Readiness(nil, demoNow), report.ReportOptions{})
	_, err := e.Render(t.Context(), report.Request{Kind: report.KindRisk, Period: "2026", Format: report.FormatHTML, Lang: report.LangZH}, nil)
	require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
	require.Equal(t, "period", orchestrator.ErrorFields(err)[0].Field)
}
