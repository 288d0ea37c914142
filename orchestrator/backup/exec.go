package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/localpg"
)

// Bounds of what is kept from a command.
const (
	maxStdoutBytes = 16 << 20 // JSON listings are parsed from it
	maxStderrBytes = 64 << 10
	// waitDelay is how long pipes held open by a killed command's
	// children are waited for.
	waitDelay = 2 * time.Second
)

// defaultPath is the search path when the process has none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// command is one tool invocation. Secrets travel in env or extraFiles,
// never in args, which other users can see in the process table.
type command struct {
	tool       string
	args       []string
	env        []string // KEY=VALUE added to the clean environment
	extraFiles []*os.File
	dir        string
}

// cmdResult is what a command left behind.
type cmdResult struct {
	stdout   []byte
	stderr   []byte
	exitCode int   // -1 when it did not exit normally
	err      error // could not start, killed, timed out
}

// ok reports a clean exit.
func (r cmdResult) ok() bool { return r.err == nil && r.exitCode == 0 }

// lastLines returns up to n non-empty lines of the command's error output
// (or standard output when that is empty), for a one-line message.
func (r cmdResult) lastLines(n int) string {
	text := strings.TrimSpace(string(r.stderr))
	if text == "" {
		text = strings.TrimSpace(string(r.stdout))
	}
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "[") {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}

// runner runs commands for one check: a clean environment (PATH, HOME in
// the check's scratch directory, LANG=C, TZ=UTC and nothing else unless
// asked), no shell, a process group killed on timeout, bounded capture,
// and a transcript for the check's output excerpt.
type runner struct {
	scratch    string
	path       string
	transcript bytes.Buffer
}

func newRunner(scratch string) *runner {
	path := os.Getenv("PATH")
	if path == "" {
		path = defaultPath
	}
	return &runner{scratch: scratch, path: path}
}

// environ is the clean environment plus extra.
func (r *runner) environ(extra []string) []string {
	return append([]string{"PATH=" + r.path, "HOME=" + r.scratch, "LANG=C", "LC_ALL=C", "TZ=UTC"}, extra...)
}

// run executes c until it exits or ctx ends.
func (r *runner) run(ctx context.Context, c command) cmdResult {
	fmt.Fprintf(&r.transcript, "$ %s %s\n", c.tool, strings.Join(c.args, " "))
	bin, err := findTool(c.tool)
	if err != nil {
		r.note("%v", err)
		return cmdResult{exitCode: -1, err: err}
	}
	cmd := exec.CommandContext(ctx, bin, c.args...)
	cmd.Env = r.environ(c.env)
	cmd.Dir = r.scratch
	if c.dir != "" {
		cmd.Dir = c.dir
	}
	cmd.ExtraFiles = c.extraFiles
	stdout := &boundedBuffer{max: maxStdoutBytes}
	stderr := &boundedBuffer{max: maxStderrBytes}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// Its own process group, so a timeout kills the tool's children too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = waitDelay
	err = cmd.Run()
	res := cmdResult{stdout: stdout.Bytes(), stderr: stderr.Bytes(), exitCode: cmd.ProcessState.ExitCode()}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		res.err = fmt.Errorf("%s did not finish in time: %w", c.tool, context.Cause(ctx))
	case errors.As(err, &exitErr):
	case err != nil:
		res.err = fmt.Errorf("run %s: %w", c.tool, err)
	}
	if errOut := strings.TrimSpace(string(res.stderr)); errOut != "" {
		r.transcript.WriteString(errOut + "\n")
	}
	if stdout.dropped > 0 {
		r.note("(standard output cut at %d bytes)", maxStdoutBytes)
	}
	if res.err != nil {
		r.note("%v", res.err)
	} else {
		r.note("exit status %d", res.exitCode)
	}
	return res
}

// note adds a line to the transcript.
func (r *runner) note(format string, args ...any) {
	fmt.Fprintf(&r.transcript, format+"\n", args...)
}

// output is the transcript cut to the excerpt bound.
func (r *runner) output() string { return orchestrator.Excerpt(r.transcript.String(), MaxOutputBytes) }

// findTool resolves a tool on PATH; PostgreSQL's client tools are also
// looked for where the server binaries are (Debian keeps pg_verifybackup
// in /usr/lib/postgresql/N/bin, off PATH).
func findTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	if strings.HasPrefix(name, "pg_") {
		if dir, err := localpg.FindBinDir(); err == nil {
			p := filepath.Join(dir, name)
			if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
				return p, nil
			}
		}
	}
	return "", fmt.Errorf("%s is not installed (not found on PATH); install it on every bcdr replica", name)
}

// boundedBuffer keeps the first max bytes written and counts the rest, so
// a chatty tool can neither exhaust memory nor block on a full pipe. The
// buffer is a field, not embedded: an embedded bytes.Buffer would lend it
// ReadFrom, which io.Copy prefers to Write, bypassing the bound.
type boundedBuffer struct {
	buf     bytes.Buffer
	max     int
	dropped int64
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	room := b.max - b.buf.Len()
	if room >= len(p) {
		return b.buf.Write(p)
	}
	if room > 0 {
		b.buf.Write(p[:room])
	}
	b.dropped += int64(len(p) - max(room, 0))
	return len(p), nil
}

// Bytes returns what was kept.
func (b *boundedBuffer) Bytes() []byte { return b.buf.Bytes() }
