package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/migrations"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/auth"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// throttleEnv is a testEnv whose server runs on a manual clock and logs
// JSON into a buffer.
type throttleEnv struct {
	*testEnv
	clock *orchestrator.ManualClock
	logs  *bytes.Buffer
}

func setupThrottle(t *testing.T, opts Options) *throttleEnv {
	t.Helper()
	env := setup(t)
	migrator, err := postgres.NewMigrator(env.pool, migrations.FS, nil)
	require.NoError(t, err)
	te := &throttleEnv{testEnv: env, clock: orchestrator.NewManualClock(time.Date(2030, 1, 1, 9, 0, 0, 0, time.UTC)), logs: &bytes.Buffer{}}
	opts.Pool, opts.Migrator, opts.Services, opts.BaseURL = env.pool, migrator, testServices(env.pool), "http://bcdr.test"
	opts.Runtime = orchestrator.Runtime{Logger: slog.New(slog.NewJSONHandler(te.logs, nil)), Clock: te.clock}
	env.server = NewServer(opts)
	return te
}

// get sends GET path from remoteAddr with token ("" for none) and checks
// the answer against openapi.yaml.
func (e *throttleEnv) get(path, remoteAddr, token string, header ...string) *response {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = remoteAddr
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.server.ServeHTTP(rec, req)
	resp := &response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	e.checkContract(http.MethodGet, path, req.Header, nil, resp)
	return resp
}

// logLines are the buffered log records with the given message.
func (e *throttleEnv) logLines(msg string) []map[string]any {
	e.t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var rec map[string]any
		require.NoError(e.t, json.Unmarshal([]byte(line), &rec), line)
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

const (
	attacker  = "198.51.100.7:40000"
	bystander = "198.51.100.8:40000"
	badToken  = "bcdr_AAAAAAAA_0123456789012345678901234567890123456789"
)

func TestFailedAuthenticationIsThrottledPerAddress(t *testing.T) {
	e := setupThrottle(t, Options{})
	good := e.tokens[orchestrator.RoleAuditor]

	// Successful authentications cost nothing, nor do requests without a
	// token.
	for range 30 {
		require.Equal(t, http.StatusOK, e.get("/api/v1/whoami", attacker, good).Status)
		require.Equal(t, http.StatusUnauthorized, e.get("/api/v1/whoami", attacker, "").Status)
	}
	for i := range 20 {
		resp := e.get("/api/v1/whoami", attacker, badToken)
		require.Equal(t, http.StatusUnauthorized, resp.Status, "failure %d", i+1)
		require.Empty(t, resp.Header.Get("Retry-After"))
	}
	resp := e.get("/api/v1/whoami", attacker, badToken)
	require.Equal(t, http.StatusTooManyRequests, resp.Status)
	require.Equal(t, "1", resp.Header.Get("Retry-After"))
	require.Equal(t, orchestrator.ERATELIMITED, resp.ErrorCode(t))

	// The right token, another source port, a forged X-Forwarded-For or no
	// token at all: the address is throttled all the same.
	require.Equal(t, http.StatusTooManyRequests, e.get("/api/v1/whoami", attacker, good).Status)
	require.Equal(t, http.StatusTooManyRequests, e.get("/api/v1/whoami", "198.51.100.7:40001", good).Status)
	require.Equal(t, http.StatusTooManyRequests, e.get("/api/v1/whoami", attacker, good, "X-Forwarded-For", "203.0.113.9").Status)
	require.Equal(t, http.StatusTooManyRequests, e.get("/api/v1/tokens", attacker, "").Status)

	// Others are unaffected, and so are the routes that need no token.
	require.Equal(t, http.StatusOK, e.get("/api/v1/whoami", bystander, good).Status)
	require.Equal(t, http.StatusUnauthorized, e.get("/api/v1/whoami", bystander, badToken).Status)
	require.Equal(t, http.StatusOK, e.get("/healthz", attacker, "").Status)

	// One second refills one attempt.
	e.clock.Advance(time.Second)
	require.Equal(t, http.StatusOK, e.get("/api/v1/whoami", attacker, good).Status)
	require.Equal(t, http.StatusUnauthorized, e.get("/api/v1/whoami", attacker, badToken).Status)
	require.Equal(t, http.StatusTooManyRequests, e.get("/api/v1/whoami", attacker, badToken).Status)

	// Twenty seconds refill the whole burst.
	e.clock.Advance(20 * time.Second)
	for range 20 {
		require.Equal(t, http.StatusUnauthorized, e.get("/api/v1/whoami", attacker, badToken).Status)
	}
	require.Equal(t, http.StatusTooManyRequests, e.get("/api/v1/whoami", attacker, good).Status)
	// Each time a failure empties the bucket: the burst, the one refilled
	// attempt, the burst again.
	require.Len(t, e.logLines("throttling client after repeated authentication failures"), 3)
}

func TestThrottleSettings(t *testing.T) {
	e := setupThrottle(t, Options{AuthThrottle: auth.ThrottleOptions{Burst: 2, Refill: 0.1}})
	for range 2 {
		require.Equal(t, http.StatusUnauthorized, e.get("/api/v1/whoami", attacker, badToken).Status)
	}
	resp := e.get("/api/v1/whoami", attacker, badToken)
	require.Equal(t, http.StatusTooManyRequests, resp.Status)
	require.Equal(t, "10", resp.Header.Get("Retry-After"))
	e.clock.Advance(9500 * time.Millisecond)
	require.Equal(t, "1", e.get("/api/v1/whoami", attacker, badToken).Header.Get("Retry-After"))
	e.clock.Advance(500 * time.Millisecond)
	require.Equal(t, http.StatusUnauthorized, e.get("/api/v1/whoami", attacker, badToken).Status)
}

func TestFailedAuthenticationLogsAddressAndPrefixOnly(t *testing.T) {
	e := setupThrottle(t, Options{})
	real := e.tokens[orchestrator.RoleAdmin]
	wrongSecret := real[:len("bcdr_12345678_")] + strings.Repeat("x", 40)
	cases := []struct {
		name, token string
		want        map[string]any
		hidden      string
	}{
		{"unknown prefix", badToken, map[string]any{"token_prefix": "bcdr_AAAAAAAA_"}, badToken[14:]},
		{"known prefix, wrong secret", wrongSecret, map[string]any{"token_prefix": real[:14]}, wrongSecret[14:]},
		{"malformed", "hunter2-is-my-password", map[string]any{"token_length": float64(22)}, "hunter2"},
		{"prefix-shaped but hostile", "bcdr_A'; --XY_0123456789012345678901234567890123456789", map[string]any{"token_length": float64(54)}, "--XY"},
	}
	// A request without a token guesses nothing.
	require.Equal(t, http.StatusUnauthorized, e.get("/api/v1/whoami", "[2001:db8::5]:443", "").Status)
	require.Empty(t, e.logLines("authentication failed"))
	for _, tc := range cases {
		e.logs.Reset()
		require.Equal(t, http.StatusUnauthorized, e.get("/api/v1/whoami", "[2001:db8::5]:443", tc.token).Status, tc.name)
		lines := e.logLines("authentication failed")
		require.Len(t, lines, 1, tc.name)
		require.Equal(t, "WARN", lines[0]["level"], tc.name)
		require.Equal(t, "2001:db8::5", lines[0]["client"], tc.name)
		require.Equal(t, "/api/v1/whoami", lines[0]["route"], tc.name)
		for k, v := range tc.want {
			require.Equal(t, v, lines[0][k], "%s: %s", tc.name, k)
		}
		if tc.hidden != "" {
			require.NotContains(t, e.logs.String(), tc.hidden, tc.name)
		}
	}
}

func TestThrottleKey(t *testing.T) {
	for remote, want := range map[string]string{
		"192.0.2.1:5":                 "192.0.2.1",
		"[::ffff:192.0.2.1]:5":        "192.0.2.1",
		"[2001:db8:1:2:3::4]:80":      "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::9]:80":   "2001:db8:1:2::/64",
		"[2001:db8:1:3::4]:80":        "2001:db8:1:3::/64",
		"not an address":              "not an address",
		"@unix-socket":                "@unix-socket",
		"[fe80::1%eth0]:22":           "fe80::/64",
		"203.0.113.255:65535":         "203.0.113.255",
		"[2001:db8::1]:1, 192.0.2.9:": "[2001:db8::1]:1, 192.0.2.9:",
	} {
		require.Equal(t, want, auth.ThrottleKey(peerHost(remote)), remote)
	}
}

func TestHSTS(t *testing.T) {
	on := setupThrottle(t, Options{HSTS: true})
	for _, path := range []string{"/healthz", "/api/v1/whoami", "/no-such-route"} {
		require.Equal(t, "max-age=31536000", on.get(path, bystander, "").Header.Get("Strict-Transport-Security"), path)
	}
	off := setupThrottle(t, Options{})
	require.Empty(t, off.get("/healthz", bystander, "").Header.Get("Strict-Transport-Security"))
}
