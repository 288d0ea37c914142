package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/report"
)

// bcdr report executive writes the report to --out (or stdout), and a bad
// value is refused naming the flag's field, writing nothing.
func TestReportExecutiveCommand(t *testing.T) {
	t.Parallel()
	env := []string{"DATABASE_URL=" + pgtest.NewURL(t), "BCDR_DATA_DIR=" + t.TempDir()}
	out := filepath.Join(t.TempDir(), "report.html")
	_, stderr, code := runBCDR(t, env, "report", "executive", "--period", "2026-11", "--lang", "zh-CN", "--out", out)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stderr, "wrote "+out)
	require.Contains(t, stderr, "  0% gather\n", "progress, a line per stage off a terminal")
	require.Contains(t, stderr, "100% done\n")
	body, err := os.ReadFile(out)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(body), "<!DOCTYPE html>"))
	require.Contains(t, string(body), "恢复状态报告")

	stdout, stderr, code := runBCDR(t, env, "report", "executive", "--format", "json", "--period", "2026-11")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, `"period":"2026-11"`)

	pdf := filepath.Join(t.TempDir(), "report.pdf")
	_, stderr, code = runBCDR(t, env, "report", "executive", "--format", "pdf", "--out", pdf)
	if _, err := report.FindChromium(); err != nil {
		require.NotEqual(t, 0, code)
		require.Contains(t, stderr, "chromium")
	} else {
		require.Equal(t, 0, code, stderr)
		body, err := os.ReadFile(pdf)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(string(body), "%PDF-"))
	}

	stdout, stderr, code = runBCDR(t, env, "report", "bia", "--lang", "zh-CN")
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "业务影响分析报告")
	_, stderr, code = runBCDR(t, env, "report", "service", "--service", "nobody")
	require.NotEqual(t, 0, code)
	require.Contains(t, stderr, "nobody")
	_, stderr, code = runBCDR(t, env, "report", "bia", "--period", "2026-01")
	require.NotEqual(t, 0, code, "the BIA report takes no period")
	require.Contains(t, stderr, "period")

	bad := filepath.Join(t.TempDir(), "bad.pdf")
	_, stderr, code = runBCDR(t, env, "report", "executive", "--lang", "fr", "--out", bad)
	require.NotEqual(t, 0, code)
	require.Contains(t, stderr, "lang")
	require.NoFileExists(t, bad)
}
