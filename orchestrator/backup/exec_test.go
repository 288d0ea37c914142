package backup

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRunner_CleanEnvironment(t *testing.T) {
	t.Setenv("BCDR_SECRET_OF_THE_PROCESS", "must not leak")
	scratch := t.TempDir()
	r := newRunner(scratch)
	res := r.run(context.Background(), command{tool: "env", env: []string{"RESTIC_PASSWORD=only this one"}})
	require.True(t, res.ok(), "%v %s", res.err, res.stderr)
	got := strings.Split(strings.TrimSpace(string(res.stdout)), "\n")
	slices.Sort(got)
	require.Equal(t, []string{"HOME=" + scratch, "LANG=C", "LC_ALL=C", "PATH=" + os.Getenv("PATH"), "RESTIC_PASSWORD=only this one", "TZ=UTC"}, got)
	require.NotContains(t, r.output(), "only this one", "the transcript shows commands, not their environment")
}

func TestRunner_TimeoutKillsTheCommand(t *testing.T) {
	t.Parallel()
	r := newRunner(t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := r.run(ctx, command{tool: "sleep", args: []string{"30"}})
	require.Less(t, time.Since(start), 10*time.Second)
	require.Error(t, res.err)
	require.Contains(t, res.err.Error(), "sleep did not finish in time")
	require.False(t, res.ok())
}

func TestRunner_BoundsOutput(t *testing.T) {
	t.Parallel()
	r := newRunner(t.TempDir())
	res := r.run(context.Background(), command{tool: "head", args: []string{"-c", "20000000", "/dev/zero"}})
	require.True(t, res.ok(), "a tool writing past the bound is not blocked")
	require.Equal(t, maxStdoutBytes, len(res.stdout))
	require.Contains(t, r.output(), "standard output cut")

	res = r.run(context.Background(), command{tool: "no-such-backup-tool"})
	require.Error(t, res.err)
	require.Contains(t, res.err.Error(), "no-such-backup-tool is not installed")
	require.LessOrEqual(t, len(r.output()), MaxOutputBytes)
}
