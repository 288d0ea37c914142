package report_test

import (
	"testing"

	"github.com/bcdr/bcdr/report"
)

// BenchmarkExecutiveReport times the executive report of the demo
// organisation (30 services, about 500 CIs), gathered and written each
// time: HTML (target ≤ 1 s) and PDF printed by headless Chromium (target
// ≤ 5 s, a browser started per report). docs/performance.md records the
// figures.
func BenchmarkExecutiveReport(b *testing.B) {
	e := seedExecutive(b)
	for _, tc := range []struct{ name, format, lang string }{
		{"html", report.FormatHTML, report.LangEN},
		{"html-zh", report.FormatHTML, report.LangZH},
		{"json", report.FormatJSON, report.LangEN},
		{"pdf", report.FormatPDF, report.LangEN},
		{"pdf-zh", report.FormatPDF, report.LangZH},
	} {
		b.Run(tc.name, func(b *testing.B) {
			q := report.Request{Period: demoNow.Format("2006-01"), Format: tc.format, Lang: tc.lang}
			for b.Loop() {
				if _, err := e.Render(b.Context(), q, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
