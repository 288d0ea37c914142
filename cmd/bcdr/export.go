package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/bcdr/bcdr/runbooks"
)

// runExport writes the offline continuity kit into a directory, or checks
// one against its manifest (which needs no database). Both print text, or
// JSON with --json for scripts.
func runExport(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	sub, err := subcommand("export", args)
	if err != nil {
		return err
	}
	var asJSON bool
	addFlags := func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print the result as JSON (for scripts) instead of text")
	}
	if sub == "verify" {
		fs := flag.NewFlagSet("export verify", flag.ContinueOnError)
		addFlags(fs)
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		return verifyKit(fs.Arg(0), asJSON, stdout, stderr)
	}
	return withDatabase(ctx, "export kit", args[1:], env, stderr, addFlags, true, func(ctx context.Context, db *database, rest []string) error {
		dir := rest[0]
		sink, err := runbooks.NewDirSink(dir)
		if err != nil {
			return err
		}
		defer sink.Close()
		m, err := newApp(db).services.Runbooks.WriteKit(cliActor(ctx), sink)
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(stdout, struct {
				Dir string `json:"dir"`
				runbooks.Manifest
			}{dir, m})
		}
		fmt.Fprintf(stdout, "wrote continuity kit to %s: %s, %s, made %s\n", dir, plural(m.Runbooks, "runbook"),
			plural(len(m.Files)+1, "file"), m.CreatedAt.Format("2006-01-02 15:04:05 UTC"))
		return nil
	})
}

// verifyKit prints the verification and fails when the kit does not match
// its manifest.
func verifyKit(dir string, asJSON bool, stdout, stderr io.Writer) error {
	v, err := runbooks.VerifyKit(dir)
	if err != nil {
		return err
	}
	if asJSON {
		if err := writeJSON(stdout, v); err != nil {
			return err
		}
		if !v.OK {
			fmt.Fprintf(stderr, "bcdr: kit %s does not match its manifest (%s)\n", dir, plural(len(v.Problems), "problem"))
			return exitError{code: 1}
		}
		return nil
	}
	made := v.CreatedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	if v.OK {
		fmt.Fprintf(stdout, "kit %s matches its manifest: %s checked, made %s\n", dir, plural(v.Checked, "file"), made)
		return nil
	}
	fmt.Fprintf(stdout, "kit %s does not match its manifest (%s in %s checked, made %s):\n", dir,
		plural(len(v.Problems), "problem"), plural(v.Checked, "file"), made)
	for _, p := range v.Problems {
		fmt.Fprintf(stdout, "  %s\n", p)
	}
	return exitError{code: 1}
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
