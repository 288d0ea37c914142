package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/bcdr/bcdr/report"
)

// runReport writes a report to a file or (--out -) to stdout, showing its
// progress on stderr.
func runReport(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	name, err := subcommand("report", args)
	if err != nil {
		return err
	}
	q := report.Request{Kind: report.Kind(name)}
	var out string
	addFlags := func(fs *flag.FlagSet) {
		switch q.Kind {
		case report.KindExecutive, report.KindService:
			fs.StringVar(&q.Period, "period", "", "the month, YYYY-MM (default: the current month)")
		case report.KindAnnualReview:
			fs.StringVar(&q.Period, "period", "", "the year, YYYY (default: the current year)")
		}
		if field := report.SubjectField(q.Kind); field != "" {
			fs.StringVar(&q.Subject, field, "", "the "+field+" the report is about ("+subjectHelp[field]+")")
		}
		fs.StringVar(&q.Format, "format", report.FormatHTML, "html, pdf or json")
		fs.StringVar(&q.Lang, "lang", report.LangEN, "en or zh-CN")
		fs.StringVar(&out, "out", "-", "the file to write (- for stdout)")
	}
	return withDatabase(ctx, "report "+name, args[1:], env, stderr, addFlags, true, func(ctx context.Context, db *database, _ []string) error {
		start := time.Now()
		reports := newApp(db).services.Reports
		defer reports.Close()
		show, end := reportProgress(stderr)
		r, err := reports.Render(ctx, q, show)
		end()
		if err != nil {
			return err
		}
		if out == "-" {
			_, err = stdout.Write(r.Body)
			return err
		}
		if err := writeFileAtomic(out, r.Body); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s (%s, %d bytes, SHA-256 %s) in %s\n", out, r.ContentType, len(r.Body),
			report.Digest(r.Body), time.Since(start).Round(time.Millisecond))
		return nil
	})
}

var subjectHelp = map[string]string{"service": "its key", "drill": "its id", "execution": "the id of a real invocation"}

// reportProgress shows a report's stages: on a terminal as a bar redrawn
// in place (end finishes its line), elsewhere (a log, a pipe) as one line
// per stage.
func reportProgress(w io.Writer) (show report.Progress, end func()) {
	var mu sync.Mutex
	drawn := false
	show = func(stage string, fraction float64) {
		mu.Lock()
		defer mu.Unlock()
		if !isTerminal(w) {
			fmt.Fprintf(w, "%3.0f%% %s\n", 100*fraction, stage)
			return
		}
		drawBar(w, fraction, stage)
		drawn = true
	}
	end = func() {
		mu.Lock()
		defer mu.Unlock()
		if drawn {
			fmt.Fprintln(w)
		}
	}
	return show, end
}

// writeFileAtomic writes body beside path and renames it into place, so a
// failed run never leaves half a report.
func writeFileAtomic(path string, body []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(body); err != nil {
		f.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
