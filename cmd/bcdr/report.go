package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/bcdr/bcdr/report"
)

// runReport writes a report: today the executive recovery status report,
// to a file or (--out -) to stdout.
func runReport(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	if _, err := subcommand("report", args); err != nil {
		return err
	}
	var q report.Request
	var out string
	addFlags := func(fs *flag.FlagSet) {
		fs.StringVar(&q.Period, "period", "", "the month, YYYY-MM (default: the current month)")
		fs.StringVar(&q.Format, "format", report.FormatHTML, "html, pdf or json")
		fs.StringVar(&q.Lang, "lang", report.LangEN, "en or zh-CN")
		fs.StringVar(&out, "out", "-", "the file to write (- for stdout)")
	}
	return withDatabase(ctx, "report executive", args[1:], env, stderr, addFlags, true, func(ctx context.Context, db *database, _ []string) error {
		start := time.Now()
		exec := newApp(db).services.Reports
		defer exec.Close()
		r, err := exec.Render(ctx, q, nil)
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
		fmt.Fprintf(stderr, "wrote %s (%s, %d bytes) in %s\n", out, r.ContentType, len(r.Body), time.Since(start).Round(time.Millisecond))
		return nil
	})
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
