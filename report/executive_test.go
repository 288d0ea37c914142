package report_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/demo"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/report"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// demoNow anchors the demo the report tests read.
var demoNow = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// seedExecutive returns the reports over the demo organisation, seeded
// once per test run and cloned for each test, printing PDFs when Chromium
// is installed (a missing printer fails the PDF tests, it never skips
// them).
func seedExecutive(t testing.TB) *report.Reports {
	t.Helper()
	e, _ := seedDemo(t)
	return e
}

// seedDemo is seedExecutive with the pool the reports read.
func seedDemo(t testing.TB) (*report.Reports, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.Seeded(t, "demo", demo.SeedAt(demoNow))
	rs := demo.Readiness(pool, demoNow)
	opts := report.ReportOptions{ITSM: itsm.NewStore(pool), Executions: execution.NewService(pool, orchestrator.Runtime{}, nil, execution.Options{})}
	if p, err := report.NewPrinter("", 0); err == nil {
		opts.PDF = p
		t.Cleanup(p.Close)
	}
	return report.NewReports(rs, opts), pool
}

// artifactDir is where tests keep what a person looks at: $BCDR_TEST_ARTIFACTS
// when set, else the test's temporary directory; the test prints it.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("BCDR_TEST_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// The JSON has every section, each with the demo's data, page one's
// sections included; the HTML stands alone in both languages.
func TestExecutiveReportDemo(t *testing.T) {
	t.Parallel()
	e := seedExecutive(t)
	ctx := t.Context()

	out, err := e.Render(ctx, report.Request{Period: "2026-11", Format: report.FormatJSON, Lang: report.LangEN}, nil)
	require.NoError(t, err)
	require.Equal(t, "application/json", out.ContentType)
	var body map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(out.Body, &body))
	for _, section := range []string{"readiness", "tiers", "top_fixes", "worst_scenario", "rto", "rpo", "drills", "findings",
		"risks", "sla", "major_incidents", "deployments", "invocations"} {
		require.Contains(t, body, section)
		require.NotEqual(t, "null", string(body[section]), "%s has data on the demo", section)
	}
	rep, err := e.Executive(ctx, report.Request{Period: "2026-11", Format: report.FormatJSON})
	require.NoError(t, err)
	require.Len(t, rep.TopFixes, 5)
	for i := 1; i < len(rep.TopFixes); i++ {
		require.GreaterOrEqual(t, rep.TopFixes[i-1].Gain, rep.TopFixes[i].Gain, "fixes worth most first")
	}
	require.NotNil(t, rep.WorstScenario)
	require.Positive(t, rep.WorstScenario.TotalLoss, "the worst scenario costs something")
	require.NotEmpty(t, rep.WorstScenario.Services)
	require.NotEmpty(t, rep.RTO, "the demo has critical services")
	for _, r := range rep.RTO {
		require.LessOrEqual(t, r.Tier, 1)
	}
	require.NotEmpty(t, rep.RPO.Items)
	require.GreaterOrEqual(t, len(rep.Readiness.Trend), 12, "a year of monthly points")
	require.Equal(t, "2026-11", rep.Readiness.Trend[len(rep.Readiness.Trend)-1].Month)
	require.Positive(t, rep.Risks.Heatmap.Total)
	require.NotEmpty(t, rep.Risks.Top)

	for _, lang := range report.Langs {
		out, err := e.Render(ctx, report.Request{Period: "2026-11", Format: report.FormatHTML, Lang: lang}, nil)
		require.NoError(t, err)
		require.Equal(t, "text/html; charset=utf-8", out.ContentType)
		assertSelfContained(t, string(out.Body))
		require.Contains(t, string(out.Body), "<svg", "charts are inline SVG")
		if lang == report.LangZH {
			require.Contains(t, string(out.Body), "恢复时间目标 RTO")
			require.Contains(t, string(out.Body), "风险评估")
		} else {
			require.Contains(t, string(out.Body), "Recovery status report")
		}
	}
	t.Run("pdf", func(t *testing.T) {
		checkPDF(t, e, report.Request{Period: "2026-11"}, map[string][]string{
			report.LangEN: {"Recovery status report"}, report.LangZH: {"恢复状态报告", "恢复时间目标 RTO"}})
	})
}

// assertSelfContained fails on anything an HTML file would fetch or run.
func assertSelfContained(t *testing.T, html string) {
	t.Helper()
	require.NotContains(t, strings.ToLower(html), "<script")
	require.NotRegexp(t, regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`), html)
	require.NotRegexp(t, regexp.MustCompile(`(?i)<link\b`), html)
	require.NotRegexp(t, regexp.MustCompile(`(?i)url\(`), html)
}

// A month without records says so in words, section by section.
func TestExecutiveReportEmptySectionsSaySo(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	rs := demo.Readiness(pool, demoNow)
	e := report.NewReports(rs, report.ReportOptions{ITSM: itsm.NewStore(pool)})
	out, err := e.Render(t.Context(), report.Request{Period: "2026-10", Format: report.FormatHTML, Lang: report.LangEN}, nil)
	require.NoError(t, err)
	html := string(out.Body)
	for _, words := range []string{"No readiness history", "No business services", "No disruption scenario", "No tier 0–1 service",
		"No data-bearing", "No drill was completed", "No finding is open", "risk register is empty", "No business service is under",
		"No major incident", "No release was deployed", "No continuity plan was invoked"} {
		require.Contains(t, html, words)
	}
	assertSelfContained(t, html)
}

func TestExecutiveRequestValidation(t *testing.T) {
	t.Parallel()
	now := demoNow
	for _, tc := range []struct {
		q     report.Request
		field string
	}{
		{report.Request{Period: "2026-13"}, "period"},
		{report.Request{Period: "26-11"}, "period"},
		{report.Request{Period: "2026-11'; DROP TABLE risks;--"}, "period"},
		{report.Request{Period: "2027-01"}, "period"},
		{report.Request{Period: "0000-01"}, "period"},
		{report.Request{Format: "docx"}, "format"},
		{report.Request{Lang: "fr"}, "lang"},
		{report.Request{Lang: "zh-CN\x00"}, "lang"},
	} {
		_, _, err := tc.q.Validate(now)
		require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err), "%+v", tc.q)
		require.Equal(t, tc.field, orchestrator.ErrorFields(err)[0].Field)
	}
	q := report.Request{}
	from, to, err := q.Validate(now)
	require.NoError(t, err)
	require.Equal(t, "2026-11", q.Period)
	require.Equal(t, report.FormatHTML, q.Format)
	require.Equal(t, report.LangEN, q.Lang)
	require.Equal(t, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), to)
	require.Equal(t, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), from)
}

// Without Chromium a PDF is refused as unavailable, naming what is missing.
func TestExecutivePDFWithoutChromium(t *testing.T) {
	t.Parallel()
	_, err := report.NewPrinter("/nonexistent/chromium", 0)
	require.Error(t, err)
	e := report.NewReports(demo.Readiness(nil, demoNow), report.ReportOptions{})
	_, err = e.Render(t.Context(), report.Request{Period: "2026-11", Format: report.FormatPDF}, nil)
	require.Equal(t, orchestrator.EUNAVAILABLE, orchestrator.ErrorCode(err))
	require.Contains(t, orchestrator.ErrorMessage(err), "chromium")
}

// checkPDF prints the report q asks for in each language, reads its
// text back with pdftotext for want's words (Chinese rendered as text, not
// boxes), checks the pages are numbered and keeps page one as a PNG.
func checkPDF(t *testing.T, e *report.Reports, q report.Request, want map[string][]string) {
	t.Helper()
	for _, tool := range []string{"pdftotext", "pdftoppm"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "%s (Debian poppler-utils) is installed by make test", tool)
	}
	dir := artifactDir(t)
	for _, lang := range report.Langs {
		q.Lang, q.Format = lang, report.FormatPDF
		start := time.Now()
		out, err := e.Render(t.Context(), q, nil)
		require.NoError(t, err, "chromium (Debian chromium) is installed by make test")
		t.Logf("%s report %s PDF (%s): %d bytes in %s", q.Kind, q.Period, lang, len(out.Body), time.Since(start).Round(time.Millisecond))
		require.Equal(t, "application/pdf", out.ContentType)
		require.True(t, strings.HasPrefix(string(out.Body), "%PDF-"))
		pdf := filepath.Join(dir, out.Filename)
		require.NoError(t, os.WriteFile(pdf, out.Body, 0o644))
		raw, err := exec.CommandContext(t.Context(), "pdftotext", "-layout", pdf, "-").Output()
		require.NoError(t, err)
		// The layout spreads a heading's words apart; one space is enough.
		text := strings.Join(strings.Fields(string(raw)), " ")
		for _, w := range want[lang] {
			require.Contains(t, text, w, "%s PDF (%s)", q.Kind, lang)
		}
		require.Contains(t, text, "1 / ", "pages are numbered")
		png := strings.TrimSuffix(pdf, ".pdf") + "-page1"
		require.NoError(t, exec.CommandContext(t.Context(), "pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", pdf, png).Run())
		st, err := os.Stat(png + ".png")
		require.NoError(t, err)
		require.Positive(t, st.Size())
		t.Logf("page one of the %s %s PDF: %s.png", q.Kind, lang, png)
	}
}
