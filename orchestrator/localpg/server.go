package localpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	// port only names the socket file (.s.PGSQL.5432): nothing listens on TCP.
	port      = 5432
	superuser = "postgres"
	// pgctlWait is how long pg_ctl waits for the server to start or stop.
	pgctlWait  = "60"
	readyWait  = 60 * time.Second
	maxLogSize = 16 << 20
	tailBytes  = 4 << 10
)

// initdb creates the cluster. It works in a scratch directory renamed into
// place at the end, so an initdb cut short (even by SIGKILL) never leaves a
// half-made cluster that looks initialised. C.UTF-8 sorts like C but knows
// UTF-8 character classes; systems without that locale get plain C.
func (c *Cluster) initdb(ctx context.Context) error {
	scratch := c.lay.dataDir + ".init"
	if err := os.RemoveAll(scratch); err != nil {
		return fmt.Errorf("remove unfinished cluster %s: %w", scratch, err)
	}
	if err := c.user.ensureDir(scratch); err != nil {
		return err
	}
	c.log.Info("initialising PostgreSQL cluster", "data", c.lay.dataDir)
	base := []string{"-D", scratch, "-U", superuser, "--auth=trust", "--encoding=UTF8"}
	if c.ephemeral {
		base = append(base, "--no-sync")
	}
	_, err := c.run(ctx, "initdb", slices.Concat(base, []string{"--locale=C.UTF-8"})...)
	if err != nil && ctx.Err() == nil {
		c.log.Warn("initdb with locale C.UTF-8 failed; retrying with locale C", "error", err)
		if _, err2 := c.run(ctx, "initdb", slices.Concat(base, []string{"--locale=C"})...); err2 != nil {
			err = fmt.Errorf("%w (with C.UTF-8: %w)", err2, err)
		} else {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("initialise cluster in %s: %w", scratch, err)
	}
	if err := c.writeConf(scratch); err != nil {
		return err
	}
	// An empty data directory may be in the way; a non-empty one is not
	// ours to remove.
	if err := os.Remove(c.lay.dataDir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("make room for new cluster: %w", err)
	}
	if err := os.Rename(scratch, c.lay.dataDir); err != nil {
		return fmt.Errorf("move new cluster into place: %w", err)
	}
	return nil
}

// writeConf records the safety settings in postgresql.conf too, so that a
// person starting the cluster by hand with pg_ctl gets no TCP listener
// either: trust authentication is safe only behind a private socket.
func (c *Cluster) writeConf(dataDir string) error {
	path := filepath.Join(dataDir, "postgresql.conf")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	_, err = fmt.Fprintf(f, "\n# Added by bcdr: no TCP listener, only a private unix socket,\n"+
		"# because authentication is trust.\n"+
		"listen_addresses = ''\nunix_socket_directories = '%s'\nunix_socket_permissions = 0700\nport = %d\n",
		c.lay.socketDir, port)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// running reports whether a live server owns the data directory; pg_ctl
// status ignores a postmaster.pid whose process is gone.
func (c *Cluster) running(ctx context.Context) (bool, error) {
	_, err := c.run(ctx, "pg_ctl", "-D", c.lay.dataDir, "status")
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return true, c.checkNotZombie()
	case errors.As(err, &exitErr) && exitErr.ExitCode() == 3: // not running
		return false, nil
	default:
		return false, err
	}
}

// checkNotZombie fails when the postmaster has died but its parent (often
// PID 1 in a container) has not reaped it: pg_ctl and the server itself
// count such a process as alive, so the cluster can neither be used nor be
// started until it is reaped.
func (c *Cluster) checkNotZombie() error {
	p, err := readPIDFile(c.lay.dataDir)
	if err != nil {
		return err
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.pid), "stat"))
	if err != nil {
		return nil // no /proc: trust pg_ctl
	}
	// The state follows the command name, which is in parentheses and
	// may itself contain them.
	rest := string(stat[bytes.LastIndexByte(stat, ')')+1:])
	if strings.HasPrefix(strings.TrimSpace(rest), "Z") {
		return fmt.Errorf("use server in %s: its process %d has died but was not reaped by its parent; "+
			"start again once it is gone", c.lay.dataDir, p.pid)
	}
	return nil
}

// startServer starts the server and waits until it accepts connections.
// The options repeat the safety settings on the command line, which beats
// anything in postgresql.conf or postgresql.auto.conf.
func (c *Cluster) startServer(ctx context.Context) error {
	rotateLog(c.lay.logFile)
	from := fileSize(c.lay.logFile)
	opts := fmt.Sprintf("-h '' -k %s -p %d -c unix_socket_permissions=0700", shellQuote(c.lay.socketDir), port)
	if c.ephemeral {
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	c.log.Info("starting PostgreSQL", "data", c.lay.dataDir, "socket_dir", c.lay.socketDir)
	cmd := c.user.command(ctx, filepath.Join(c.bin, "pg_ctl"),
		"-D", c.lay.dataDir, "-w", "-t", pgctlWait, "-l", c.lay.logFile, "-o", opts, "start")
	// A session of its own keeps a terminal's Ctrl-C away from the server,
	// so bcdr can finish its work before stopping it.
	cmd.SysProcAttr.Setsid = true
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("start server: %w\n%s\nserver log %s:\n%s",
			err, bytes.TrimSpace(out), c.lay.logFile, logTail(c.lay.logFile, from))
	}
	return nil
}

// stopServer shuts the server down with fast mode: open sessions are
// disconnected, transactions rolled back, and the shutdown checkpoint
// written.
func (c *Cluster) stopServer(ctx context.Context) error {
	c.log.Info("stopping PostgreSQL", "data", c.lay.dataDir)
	_, err := c.run(ctx, "pg_ctl", "-D", c.lay.dataDir, "-m", "fast", "-w", "-t", pgctlWait, "stop")
	if err == nil {
		return nil
	}
	if up, serr := c.running(ctx); serr == nil && !up {
		return nil
	}
	return fmt.Errorf("stop server: %w", err)
}

// run runs a binary from the bin dir as the server user.
func (c *Cluster) run(ctx context.Context, prog string, args ...string) (string, error) {
	out, err := c.user.command(ctx, filepath.Join(c.bin, prog), args...).CombinedOutput()
	text := strings.TrimSpace(string(out))
	if ctx.Err() != nil {
		err = ctx.Err() // the real reason the program ended
	}
	if err != nil {
		return text, fmt.Errorf("run %s: %w: %s", prog, err, text)
	}
	return text, nil
}

// pidFile is what a running server reports in postmaster.pid.
type pidFile struct {
	pid       int
	port      int
	socketDir string
	status    string // "starting", "ready", "stopping", "standby"
}

// readPIDFile parses postmaster.pid: line 1 is the pid, 4 the port, 5 the
// first socket directory and 8 the status.
func readPIDFile(dataDir string) (pidFile, error) {
	path := filepath.Join(dataDir, "postmaster.pid")
	b, err := os.ReadFile(path)
	if err != nil {
		return pidFile{}, fmt.Errorf("read %s: %w", path, err)
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 5 {
		return pidFile{}, fmt.Errorf("parse %s: only %d lines", path, len(lines))
	}
	var p pidFile
	if p.pid, err = strconv.Atoi(strings.TrimSpace(lines[0])); err != nil {
		return pidFile{}, fmt.Errorf("parse pid in %s: %w", path, err)
	}
	if p.port, err = strconv.Atoi(strings.TrimSpace(lines[3])); err != nil {
		return pidFile{}, fmt.Errorf("parse port in %s: %w", path, err)
	}
	p.socketDir = strings.TrimSpace(lines[4])
	if len(lines) >= 8 {
		p.status = strings.TrimSpace(lines[7])
	}
	return p, nil
}

// waitReady waits until the server accepts connections, for a server that
// another process started and may still be starting.
func (c *Cluster) waitReady(ctx context.Context) (pidFile, error) {
	ctx, cancel := context.WithTimeout(ctx, readyWait)
	defer cancel()
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		p, err := readPIDFile(c.lay.dataDir)
		if err == nil && (p.status == "ready" || p.status == "standby") {
			return p, nil
		}
		select {
		case <-ctx.Done():
			return pidFile{}, fmt.Errorf("wait for server in %s to be ready (status %q, %v): %w",
				c.lay.dataDir, p.status, err, ctx.Err())
		case <-ticker.C:
		}
	}
}

// rotateLog keeps the server log from growing without bound: a log over
// maxLogSize moves aside (replacing the previous one) before a start.
func rotateLog(path string) {
	if fileSize(path) > maxLogSize {
		_ = os.Rename(path, path+".1")
	}
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logTail returns the end of what the log gained after offset from.
func logTail(path string, from int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	defer f.Close()
	if size := fileSize(path); size-from > tailBytes {
		from = size - tailBytes
	}
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	b, err := io.ReadAll(io.LimitReader(f, tailBytes))
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	return strings.TrimSpace(string(b))
}

// shellQuote quotes s for /bin/sh, which pg_ctl runs the server through.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
