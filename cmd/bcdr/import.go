package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bcdr/bcdr/demo"
	"github.com/bcdr/bcdr/orchestrator/importer"
)

func runImport(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	var typ, format, source, charset, dateFormat, timezone string
	var partial bool
	addFlags := func(fs *flag.FlagSet) {
		fs.StringVar(&typ, "type", "", "record type: "+strings.Join(demo.Registry().Types(), ", ")+" (required)")
		fs.StringVar(&format, "format", "", "csv or jsonl (default: from the file name, else csv)")
		fs.StringVar(&source, "source", "", "source name for rows that carry none (default import)")
		fs.BoolVar(&partial, "partial", false, "write the good rows even when some are bad")
		fs.StringVar(&charset, "charset", "", "the file's charset: utf-8, gb18030 or windows-1252 (default: detected)")
		fs.StringVar(&dateFormat, "date-format", "", "order of dates written with the year last: dmy, mdy, or a Go layout (default: detected)")
		fs.StringVar(&timezone, "timezone", "", "IANA zone of times written without one (default UTC)")
	}
	return withDatabase(ctx, "import", args, env, stderr, addFlags, true, func(ctx context.Context, db *database, rest []string) error {
		f, err := os.Open(rest[0])
		if err != nil {
			return fmt.Errorf("open import file: %w", err)
		}
		defer f.Close()
		if format == "" {
			format = "csv"
			if ext := strings.ToLower(filepath.Ext(rest[0])); ext == ".jsonl" || ext == ".ndjson" {
				format = "jsonl"
			}
		}
		opts := importer.Options{Format: format, Partial: partial, Source: source,
			Charset: charset, DateFormat: dateFormat, Timezone: timezone}
		if st, err := f.Stat(); err == nil && isTerminal(stderr) {
			opts.Progress = progressBar(stderr, st.Size())
		}
		rep, err := newApp(db).services.Imports.Import(cliActor(ctx), db.Pool, typ, f, opts)
		if opts.Progress != nil {
			fmt.Fprintln(stderr)
		}
		if err != nil && !errors.Is(err, importer.ErrRejected) {
			return err
		}
		if encErr := writeJSON(stdout, rep); encErr != nil {
			return encErr
		}
		if err != nil {
			fmt.Fprintln(stderr, "bcdr:", err)
			return exitError{code: 1}
		}
		return nil
	})
}

// progressBar redraws one terminal line with how much of the file has
// been read and how fast.
func progressBar(w io.Writer, size int64) func(int64) {
	start := time.Now()
	last := time.Time{}
	return func(read int64) {
		now := time.Now()
		if now.Sub(last) < 200*time.Millisecond {
			return
		}
		last = now
		fraction := 0.0
		if size > 0 {
			fraction = float64(read) / float64(size)
		}
		rate := float64(read) / now.Sub(start).Seconds() / (1 << 20)
		drawBar(w, fraction, fmt.Sprintf("%.1f of %.1f MiB  %.1f MiB/s", float64(read)/(1<<20), float64(size)/(1<<20), rate))
	}
}

// drawBar redraws one terminal line: a bar filled to fraction (0 to 1),
// the percentage and text.
func drawBar(w io.Writer, fraction float64, text string) {
	const width = 30
	filled := int(min(max(fraction, 0), 1) * width)
	fmt.Fprintf(w, "\r[%s%s] %5.1f%%  %s ", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), 100*fraction, text)
}
