package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/bcdr/bcdr/orchestrator/audit"
)

// anchorLog is the file under the kit directory that anchors are appended to.
const anchorLog = "audit-anchors.log"

// withAuditKey puts the audit key into ctx. serve creates the key file when
// it is missing (create); commands use it when it exists, and otherwise
// write plain rows, which the audit log refuses once it is keyed.
func withAuditKey(ctx context.Context, cfg *config, create bool, logger *slog.Logger) (context.Context, error) {
	var (
		key     audit.Key
		created bool
		err     error
	)
	if create {
		key, created, err = audit.EnsureKey(cfg.AuditKeyFile)
	} else {
		key, err = audit.LoadKey(cfg.AuditKeyFile)
		if errors.Is(err, fs.ErrNotExist) {
			return ctx, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("BCDR_AUDIT_KEY_FILE: %w", err)
	}
	if created {
		logger.Info("created the audit key; keep a copy outside the database's reach", "file", cfg.AuditKeyFile, "key", key)
	} else if st, err := os.Stat(cfg.AuditKeyFile); err == nil && st.Mode().Perm()&0o077 != 0 {
		logger.Warn("the audit key file is readable by others; make it 0600", "file", cfg.AuditKeyFile)
	}
	return audit.WithKey(ctx, key), nil
}

func runAudit(ctx context.Context, args []string, env map[string]string, stdout, stderr io.Writer) error {
	if _, err := subcommand("audit", args); err != nil {
		return err
	}
	var anchorFile string
	addFlags := func(fs *flag.FlagSet) {
		fs.StringVar(&anchorFile, "anchor", "", "also check the log against every anchor line in this file (audit-anchors.log, a kit's audit-anchor.txt)")
	}
	return withDatabase(ctx, "audit verify", args[1:], env, stderr, addFlags, true, func(ctx context.Context, db *database, _ []string) error {
		var anchors []audit.Anchor
		if anchorFile != "" {
			var err error
			if anchors, err = readAnchors(ctx, anchorFile, db.cfg.AuditKeyFile); err != nil {
				return err
			}
		}
		v, err := audit.Verify(ctx, db.Pool)
		if err != nil {
			return err
		}
		if !v.OK {
			fmt.Fprintf(stdout, "audit chain BROKEN at row %d after %s: %s\n", v.BadID, plural(v.Checked, "row"), v.Problem)
			return exitError{code: 1}
		}
		fmt.Fprintf(stdout, "audit chain intact: %s verified (%d keyed)\n", plural(v.Checked, "row"), v.Keyed)
		if anchorFile == "" {
			return nil
		}
		av, err := audit.CheckAnchors(ctx, db.Pool, anchors)
		if err != nil {
			return err
		}
		if !av.OK {
			a := anchors[av.Checked-1]
			fmt.Fprintf(stdout, "audit log BROKEN against anchor %s line %d: %s\n", anchorFile, a.Line, av.Problem)
			return exitError{code: 1}
		}
		fmt.Fprintf(stdout, "audit log holds %s in %s\n", plural(av.Checked, "anchor"), anchorFile)
		return nil
	})
}

// readAnchors reads and checks the signature of every anchor in path.
func readAnchors(ctx context.Context, path, keyFile string) ([]audit.Anchor, error) {
	key, ok := audit.KeyFrom(ctx)
	if !ok {
		return nil, fmt.Errorf("checking anchors needs the audit key, and BCDR_AUDIT_KEY_FILE %s does not exist", keyFile)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open anchors: %w", err)
	}
	defer f.Close()
	anchors, err := audit.ParseAnchors(f, key)
	if err != nil {
		return nil, fmt.Errorf("anchor file %s %w", path, err)
	}
	if len(anchors) == 0 {
		return nil, fmt.Errorf("anchor file %s holds no anchor", path)
	}
	return anchors, nil
}

// runAuditAnchors appends a signed anchor of the audit chain's head to the
// kit directory's anchor log now and every BCDR_AUDIT_ANCHOR_EVERY, and
// logs it, until ctx ends: copies of the head outside the database, which
// `bcdr audit verify --anchor` holds the log to. Every replica anchors; a
// failed round is logged and tried again at the next.
func runAuditAnchors(ctx context.Context, cfg *config, db *database, logger *slog.Logger) error {
	t := time.NewTimer(0)
	defer t.Stop()
	path := filepath.Join(cfg.KitDir, anchorLog)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		line, err := appendAnchor(ctx, db, path)
		switch {
		case err != nil && ctx.Err() == nil:
			logger.Warn("audit anchor failed; trying again later", "error", err, "file", path)
		case err == nil:
			logger.Info("audit anchor", "anchor", line, "file", path)
		}
		t.Reset(cfg.AuditAnchorEvery)
	}
}

// appendAnchor takes a signed anchor and appends it to path as one write.
func appendAnchor(ctx context.Context, db *database, path string) (string, error) {
	line, ok, err := audit.AnchorLine(ctx, db.Pool)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errors.New("no audit key")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("create kit directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return "", fmt.Errorf("open anchor log: %w", err)
	}
	_, err = f.WriteString(line + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("append anchor: %w", err)
	}
	return line, nil
}
