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

// taxpayer-reg's October 2026 in the demo: two incidents, none major,
// after three in September; its SLA of 99.9 % in business hours; two
// failed changes to CIs it depends on; and, as the report is generated in
// November, its last drill (7) passed only partially, leaving two findings
// open, and its readiness and RPO show what that and its stale database
// backup cost.
func TestServiceReportDemo(t *testing.T) {
	t.Parallel()
	e := seedExecutive(t)
	ctx := t.Context()
	q := report.Request{Kind: report.KindService, Subject: "taxpayer-reg", Period: "2026-10", Format: report.FormatJSON}

	out, err := e.Render(ctx, q, nil)
	require.NoError(t, err)
	require.Equal(t, "bcdr-service-taxpayer-reg-2026-10-en.json", out.Filename)
	var rep report.ServiceReport
	require.NoError(t, json.Unmarshal(out.Body, &rep))
	require.Equal(t, "taxpayer-reg", rep.Service)

	sla := rep.SLA
	require.NotEmpty(t, sla.SLA)
	require.NotNil(t, sla.Target)
	require.InDelta(t, 99.9, *sla.Target, 1e-9, "tier 1's target")
	require.Equal(t, "business_hours", sla.MeasuredIn)
	require.NotNil(t, sla.Achieved)
	require.NotNil(t, sla.Previous, "September is measured too")
	require.NotNil(t, sla.Met)

	in := rep.Incidents
	require.Equal(t, 2, in.Count)
	require.Zero(t, in.Major)
	require.Equal(t, 3, in.PreviousCount)
	require.Len(t, in.Items, 2)
	for _, i := range in.Items {
		require.Equal(t, 2026, i.OpenedAt.Year())
		require.Equal(t, time.October, i.OpenedAt.Month())
		require.NotEmpty(t, i.ExternalID)
	}

	ch := rep.Changes
	require.Equal(t, len(ch.Items), ch.Count)
	ids := make([]string, len(ch.Items))
	for i, c := range ch.Items {
		ids[i] = c.ExternalID
		require.NotEmpty(t, c.CIs, "a change is listed for the CIs of the service it touched")
	}
	// One to a CI of its own, one to identity's, which it depends on;
	// both failed.
	require.ElementsMatch(t, []string{"CHG000044", "CHG000112"}, ids)
	require.Equal(t, 2, ch.Failed)

	c := rep.Continuity
	require.NotNil(t, c.BIA)
	require.Equal(t, 1, c.BIA.Tier)
	require.Equal(t, report.StatusNotReady, c.Readiness.Status, "its partial drill, stale runbook and unknown backups cost it")
	require.Equal(t, "taxpayer-reg", c.Readiness.Service)
	lost := 0
	for _, comp := range c.Readiness.Components {
		for _, l := range comp.Lost {
			lost += l.Points
			require.NotEmpty(t, l.Reason)
		}
	}
	require.Equal(t, 100-c.Readiness.Score, lost, "every lost point is listed with its reason")
	require.NotNil(t, c.LastDrill)
	require.Equal(t, int64(7), c.LastDrill.ID)
	require.Equal(t, "partial", *c.LastDrill.Result)
	require.Len(t, c.Runbooks, 1)
	require.Equal(t, "approved", c.Runbooks[0].Status)
	require.Len(t, c.Findings, 2, "the partial drill's findings are open")
	require.NotEmpty(t, c.RPO)
	require.True(t, slices.ContainsFunc(c.RPO, func(r report.RPORow) bool { return r.CI == "taxpayer-reg-db" }))
	require.Empty(t, c.Invocations)

	for _, tc := range []struct {
		lang  string
		words []string
	}{
		{report.LangEN, []string{"Service report: ", "Performance against the service level agreement (SLA)", "99.90%", "Incidents",
			"CHG000044", "Business continuity", "partial", "Readiness: every lost point"}},
		{report.LangZH, []string{"服务报告：", "服务级别协议", "事件", "问题", "变更", "发布", "业务连续性", "就绪度", "部分通过", "恢复预案"}},
	} {
		q.Format, q.Lang = report.FormatHTML, tc.lang
		start := time.Now()
		out, err := e.Render(ctx, q, nil)
		require.NoError(t, err)
		t.Logf("service report taxpayer-reg 2026-10, %s HTML: %d bytes in %s", tc.lang, len(out.Body), time.Since(start).Round(time.Millisecond))
		html := string(out.Body)
		assertSelfContained(t, html)
		require.Contains(t, html, `<html lang="`+tc.lang+`">`)
		for _, w := range tc.words {
			require.Contains(t, html, w)
		}
		require.NotContains(t, html, "col_", "every word is translated")
	}
	t.Run("pdf", func(t *testing.T) {
		checkPDF(t, e, report.Request{Kind: report.KindService, Subject: "taxpayer-reg", Period: "2026-10"}, map[string][]string{
			report.LangEN: {"Service report", "taxpayer-reg", "Business continuity"},
			report.LangZH: {"服务报告", "业务连续性", "就绪度"},
		})
	})
}

// The month the report is asked in is measured up to now: taxpayer-reg had
// no incident in November, two the month before.
func TestServiceReportCurrentMonth(t *testing.T) {
	t.Parallel()
	e := seedExecutive(t)
	out, err := e.Render(t.Context(), report.Request{Kind: report.KindService, Subject: "taxpayer-reg", Format: report.FormatJSON}, nil)
	require.NoError(t, err)
	var rep report.ServiceReport
	require.NoError(t, json.Unmarshal(out.Body, &rep))
	require.Equal(t, "2026-11", rep.Period, "the current month by default")
	require.Zero(t, rep.Incidents.Count)
	require.Equal(t, 2, rep.Incidents.PreviousCount)
	require.NotNil(t, rep.SLA.Achieved)

	out, err = e.Render(t.Context(), report.Request{Kind: report.KindService, Subject: "taxpayer-reg", Format: report.FormatHTML}, nil)
	require.NoError(t, err)
	require.Contains(t, string(out.Body), "No incident affecting the service was opened this month.")
	require.Contains(t, string(out.Body), "No continuity plan of the service was invoked this month.")
}

// A service that does not exist, or a CI that is not a business service,
// is not found, named; a service key or period written wrongly is
// invalid, naming the field.
func TestServiceReportBadRequests(t *testing.T) {
	t.Parallel()
	e := seedExecutive(t)
	for _, key := range []string{"no-such-service", "taxpayer-reg-db", "../../etc/passwd", "taxpayer-reg'; DROP TABLE cis;--", "纳税人登记"} {
		_, err := e.Render(t.Context(), report.Request{Kind: report.KindService, Subject: key, Period: "2026-10", Format: report.FormatJSON}, nil)
		require.Equal(t, orchestrator.ENOTFOUND, orchestrator.ErrorCode(err), "%q: %v", key, err)
		require.Contains(t, orchestrator.ErrorMessage(err), key)
	}
	for _, tc := range []struct {
		q     report.Request
		field string
	}{
		{report.Request{Kind: report.KindService, Subject: "taxpayer-reg", Period: "2026"}, "period"},
		{report.Request{Kind: report.KindService, Subject: "taxpayer-reg", Period: "2026-13"}, "period"},
		{report.Request{Kind: report.KindService, Subject: "taxpayer-reg", Period: "2026-12"}, "period"},
		{report.Request{Kind: report.KindService, Subject: "taxpayer-reg", Period: "10/2026"}, "period"},
		{report.Request{Kind: report.KindService, Period: "2026-10"}, "service"},
		{report.Request{Kind: report.KindService, Subject: "taxpayer-reg\x00", Period: "2026-10"}, "service"},
		{report.Request{Kind: report.KindService, Subject: "taxpayer-reg\xff", Period: "2026-10"}, "service"},
		{report.Request{Kind: report.KindService, Subject: string(make([]byte, 201)), Period: "2026-10"}, "service"},
	} {
		tc.q.Format = report.FormatHTML
		_, err := e.Render(t.Context(), tc.q, nil)
		require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err), "%+v", tc.q)
		require.Equal(t, tc.field, orchestrator.ErrorFields(err)[0].Field)
	}
}
