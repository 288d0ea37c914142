package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// TestWebUIDrillBoardInChromium drives a drill from the browser against a
// real `bcdr serve --demo`: a continuity manager starts a simulation drill
// on its page (confirming), an operator takes the decision step the
// manager may not take, then completes a manual step while a second
// operator and the manager watch their boards update over the event
// stream. The latency from the click to the watching browser's page is
// logged (the live-board figure).
func TestWebUIDrillBoardInChromium(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	axeSource, err := os.ReadFile(filepath.Join("..", "..", "web", "testdata", "axe.min.js"))
	require.NoError(t, err)

	dataDir := t.TempDir()
	env := []string{"DATABASE_URL=" + pgtest.NewURL(t), "BCDR_DATA_DIR=" + dataDir, "BCDR_KIT_DIR=" + t.TempDir()}
	server := startServeWith(t, []string{"--demo"}, env...)
	base := "http://" + server.waitReady(t, 2*time.Minute)
	secret, err := os.ReadFile(filepath.Join(dataDir, "admin-token"))
	require.NoError(t, err)
	api := apiClient{t: t, base: base + "/api/v1", token: strings.TrimSpace(string(secret))}

	// Through the API: three people, and the demo's first runbook with a
	// decision for operators in front, approved, in a drill planned now.
	cmToken, opAToken, opBToken := api.newToken("lead", "continuity_manager"), api.newToken("op-a", "operator"), api.newToken("op-b", "operator")
	cm := apiClient{t: t, base: api.base, token: cmToken}
	var rb struct {
		Scope struct {
			Service string `json:"service"`
		} `json:"scope"`
		Version struct {
			Steps []struct {
				ID string `json:"id"`
			} `json:"steps"`
		} `json:"version"`
	}
	cm.call("GET", "/runbooks/1", nil, http.StatusOK, &rb)
	decision := rb.Version.Steps[0].ID
	cm.call("PATCH", "/runbooks/1/steps/"+decision, map[string]any{"decision": map[string]string{"role": "operator"}}, http.StatusOK, nil)
	cm.call("POST", "/runbooks/1/approve", nil, http.StatusOK, nil)
	var drill struct {
		ID int64 `json:"id"`
	}
	cm.call("POST", "/drills", map[string]any{"title": "Board rehearsal", "type": "simulation", "services": []string{rb.Scope.Service},
		"planned_start": time.Now().UTC().Format(time.RFC3339)}, http.StatusCreated, &drill)
	drillPage := fmt.Sprintf("/drills/%d", drill.ID)

	b := startBrowser(t, ctx, base)
	lead, opA, opB := b.person(t), b.person(t), b.person(t)
	var board string

	t.Run("the manager starts the drill on its page, confirming", func(t *testing.T) {
		signIn(t, lead, cmToken)
		lead.open(t, drillPage)
		lead.do(t, chromedp.SendKeys(chromedp.ID("note"), "board rehearsal"))
		lead.do(t, chromedp.Click(chromedp.CSS(`form[action="`+drillPage+`/start"] button`)))
		require.Equal(t, []string{"Start this drill now? Its executions start at once."}, lead.confirmations())
		eventually.TrueWithin(t, 30*time.Second, func() bool {
			return lead.count(t, `a[href^="/executions/"]`) > 0
		}, "the drill page links its execution")
		board = evalJS[string](t, lead, `document.querySelector('main a[href^="/executions/"]').getAttribute("href")`)
		lead.open(t, board)
		require.Equal(t, "waiting", stepState(t, lead, decision))
		require.Zero(t, lead.count(t, `form[action="`+board+`/steps/`+decision+`/approve"]`), "the starter may not take the decision")
	})

	t.Run("an operator takes the decision", func(t *testing.T) {
		signIn(t, opA, opAToken)
		signIn(t, opB, opBToken)
		opA.open(t, board)
		opB.open(t, board)
		opA.checkAccessibility(t, string(axeSource), "live board")
		watch(t, opB)
		start := time.Now()
		act(t, opA, board, decision, "approve")
		t.Logf("the decision reached the other operator's board %v after the click", seen(t, opB, decision, "succeeded", start))
		require.Equal(t, "succeeded", stepState(t, opA, decision))
		opA.screenshot(t, "board-decided")
	})

	t.Run("a manual step completed in one browser updates the others", func(t *testing.T) {
		var latencies []time.Duration
		for range 2 {
			step := evalJS[string](t, opA, `(document.querySelector('#board form[action$="/complete"]') || {}).action || ""`)
			require.NotEmpty(t, step, "a manual step waits for an operator")
			step = strings.TrimSuffix(step[strings.LastIndex(step, "/steps/")+len("/steps/"):], "/complete")
			watch(t, opB)
			watch(t, lead)
			start := time.Now()
			act(t, opA, board, step, "complete")
			latencies = append(latencies, seen(t, opB, step, "succeeded", start))
			seen(t, lead, step, "succeeded", start)
		}
		t.Logf("a completed step reached the other operator's board %v after the click", latencies)
		opB.screenshot(t, "board-watched")
		for _, p := range []*person{lead, opA, opB} {
			for _, line := range p.consoleLines() {
				require.NotContains(t, line, "Content Security Policy", "no CSP violation")
				require.False(t, strings.HasPrefix(line, "exception"), line)
			}
		}
	})
}

// act opens step's action on the board and submits it, as a person does.
func act(t *testing.T, p *person, board, step, action string) {
	t.Helper()
	form := fmt.Sprintf(`form[action="%s/steps/%s/%s"]`, board, step, action)
	p.do(t, chromedp.Click(chromedp.CSS(`#step-`+step+` details:has(`+form+`) summary`)),
		chromedp.SendKeys(chromedp.CSS(form+` textarea[name="note"]`), "done in the browser"),
		chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)))
}

// stepState is the state the person's board shows step in.
func stepState(t *testing.T, p *person, step string) string {
	t.Helper()
	return evalJS[string](t, p, fmt.Sprintf(`(document.getElementById("step-%s") || {dataset: {}}).dataset.status || ""`, step))
}

// watch starts recording, in the person's page, when each step's state
// changes on the board (the board is swapped whole, so the page is watched).
func watch(t *testing.T, p *person) {
	t.Helper()
	evalJS[chromedp.Void](t, p, `(() => {
		window.bcdrSeen = {};
		if (window.bcdrWatch) return;
		const look = () => document.querySelectorAll("#board tr[id^=step-]").forEach(tr => {
			const k = tr.id + "=" + tr.dataset.status;
			if (!(k in window.bcdrSeen)) window.bcdrSeen[k] = Date.now();
		});
		look();
		window.bcdrWatch = new MutationObserver(look);
		window.bcdrWatch.observe(document.body, {subtree: true, childList: true, attributes: true});
	})()`)
}

// seen waits until the person's page showed step in state, and returns how
// long after start it did (the browser and the test share the clock).
func seen(t *testing.T, p *person, step, state string, start time.Time) time.Duration {
	t.Helper()
	var at int64
	eventually.TrueWithin(t, 10*time.Second, func() bool {
		at = evalJS[int64](t, p, fmt.Sprintf(`window.bcdrSeen["step-%s=%s"] || 0`, step, state))
		return at > 0
	}, "step %s shown %s", step, state)
	return time.UnixMilli(at).Sub(start).Round(time.Millisecond)
}

// apiClient calls the API with a bearer token.
type apiClient struct {
	t           *testing.T
	base, token string
}

// call sends body as JSON, requires status and decodes the answer into out.
func (c apiClient) call(method, path string, body any, status int, out any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(c.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, rd)
	require.NoError(c.t, err)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	require.Equal(c.t, status, resp.StatusCode, "%s %s: %s", method, path, got)
	if out != nil {
		require.NoError(c.t, json.Unmarshal(got, out), string(got))
	}
}

// token makes a token named name with role and returns its secret.
func (c apiClient) newToken(name, role string) string {
	c.t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	c.call("POST", "/tokens", map[string]string{"name": name, "role": role}, http.StatusCreated, &out)
	require.NotEmpty(c.t, out.Token)
	return out.Token
}
