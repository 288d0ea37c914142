package main

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A drill started and watched from the command line: the board as text
// and as JSON; bad usage exits 2 before the database is touched.
func TestExecutionCommands(t *testing.T) {
	env := []string{"DATABASE_URL=" + emptyDatabase(t), "BCDR_DATA_DIR=" + t.TempDir()}
	_, stderr, code := runBCDR(t, env, "demo")
	require.Equal(t, 0, code, stderr)

	stdout, stderr, code := runBCDR(t, env, "execution", "start", "--runbook", "1", "--mode", "drill", "--note", "tabletop")
	require.Equal(t, 0, code, stderr)
	m := regexp.MustCompile(`^execution (\d+): drill of ".+" \(runbook 1 v\d+\), running after \d+s, projected to end \S+\n`).FindStringSubmatch(stdout)
	require.NotNil(t, m, stdout)
	require.Contains(t, stdout, "STEP")
	require.Contains(t, stdout, "waiting")

	stdout, stderr, code = runBCDR(t, env, "execution", "show", "--json", m[1])
	require.Equal(t, 0, code, stderr)
	var board struct {
		ID    int64  `json:"id"`
		Mode  string `json:"mode"`
		Note  string `json:"note"`
		Steps []struct {
			Status string `json:"status"`
		} `json:"steps"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &board))
	require.Equal(t, m[1], strconv.FormatInt(board.ID, 10))
	require.Equal(t, "tabletop", board.Note)
	require.NotEmpty(t, board.Steps)

	_, stderr, code = runBCDR(t, env, "execution", "show", "one")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, `"one" is not an execution id`)
	_, stderr, code = runBCDR(t, env, "execution", "start", "--runbook", "1")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "needs --mode")
	_, stderr, code = runBCDR(t, env, "execution", "start", "--runbook", "1", "--mode", "rehearsal")
	require.Equal(t, 1, code)
	require.True(t, strings.Contains(stderr, "mode: must be invocation or drill"), stderr)
	_, stderr, code = runBCDR(t, env, "execution", "show", "99")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "execution 99 not found")

	// The demo's drills are there, finished, with what they achieved: the
	// last of taxpayer-reg's missed its RTO and RPO.
	stdout, stderr, code = runBCDR(t, env, "drill", "list", "--json")
	require.Equal(t, 0, code, stderr)
	var drills []struct {
		ID         int64    `json:"id"`
		Services   []string `json:"services"`
		Result     *string  `json:"result"`
		Executions []int64  `json:"executions"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &drills))
	var partial int64
	var executions []int64
	for _, d := range drills {
		if d.Result != nil && *d.Result == "partial" && slices.Contains(d.Services, "taxpayer-reg") {
			partial, executions = d.ID, d.Executions
		}
	}
	require.NotZero(t, partial, stdout)
	boards := ""
	for _, ex := range executions {
		stdout, stderr, code = runBCDR(t, env, "execution", "show", strconv.FormatInt(ex, 10))
		require.Equal(t, 0, code, stderr)
		boards += stdout
	}
	require.Regexp(t, `(?m)^execution \d+: drill of .*taxpayer-reg.*, succeeded after`, boards)
	require.Regexp(t, `(?m)^  service taxpayer-reg: RTO 4h, achieved \S+, data lost 20m$`, boards)

	stdout, stderr, code = runBCDR(t, env, "drill", "report", strconv.FormatInt(partial, 10))
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "结果 Result: partial")
	stdout, stderr, code = runBCDR(t, env, "finding", "list", "--open")
	require.Equal(t, 0, code, stderr)
	require.Regexp(t, `taxpayer-reg missed its RTO in drill `+strconv.FormatInt(partial, 10), stdout)
	_, stderr, code = runBCDR(t, env, "drill", "start", "x")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, `"x" is not a drill id`)
}
