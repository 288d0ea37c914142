package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/bcdr/bcdr/runbooks"
)

// runExport writes the offline continuity kit into a directory, or checks
// one against its manifest (which needs no database).
func runExport(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	const use = "usage: bcdr export kit DIR | bcdr export verify DIR"
	if len(args) == 0 {
		fmt.Fprintln(stderr, use)
		return exitError{code: 2}
	}
	switch args[0] {
	case "verify":
		if len(args) != 2 {
			fmt.Fprintln(stderr, use)
			return exitError{code: 2}
		}
		return verifyKit(args[1], stdout, stderr)
	case "kit":
		return withDatabase(ctx, "export kit", args[1:], env, stderr, nil, true, func(db *database, rest []string) error {
			if len(rest) != 1 {
				return fmt.Errorf("%s", use)
			}
			sink, err := runbooks.NewDirSink(rest[0])
			if err != nil {
				return err
			}
			defer sink.Close()
			m, err := newApp(db).services.Runbooks.WriteKit(cliActor(ctx), sink)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "wrote continuity kit to %s: %d runbooks, %d files, made %s\n", rest[0], m.Runbooks, len(m.Files)+1,
				m.CreatedAt.Format("2006-01-02 15:04:05 UTC"))
			return nil
		})
	}
	fmt.Fprintln(stderr, use)
	return exitError{code: 2}
}

// verifyKit prints the verification and fails when the kit does not match
// its manifest.
func verifyKit(dir string, stdout, stderr io.Writer) error {
	v, err := runbooks.VerifyKit(dir)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	if !v.OK {
		fmt.Fprintf(stderr, "bcdr: kit %s does not match its manifest (%d problems)\n", dir, len(v.Problems))
		return exitError{code: 1}
	}
	return nil
}
