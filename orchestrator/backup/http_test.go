package backup

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

// flakyServer answers 503 failures times, then body; it counts requests
// and records the last Authorization header.
func flakyServer(t *testing.T, failures int, body string) (*httptest.Server, *atomic.Int32, *atomic.Value) {
	t.Helper()
	var calls atomic.Int32
	var auth atomic.Value
	auth.Store("")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		if int(calls.Add(1)) <= failures {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls, &auth
}

func TestHTTP_FailsTwiceThenAnswers(t *testing.T) {
	t.Parallel()
	h := setup(t)
	finished := time.Now().Add(-20 * time.Minute).UTC().Truncate(time.Second)
	srv, calls, auth := flakyServer(t, 2, fmt.Sprintf(`{"job":"db1","last_success":{"finished_at":%q,"state":"Succeeded","bytes":12345,"verified":true}}`,
		finished.Format(time.RFC3339)))
	h.env["BCDR_SECRET_BACKUP_API_TOKEN"] = "s3cr3t-token"
	tg := h.target(KindHTTP, HTTPConfig{URL: srv.URL + "/jobs/db1", TimeField: "last_success.finished_at",
		StatusField: "last_success.state", SizeField: "last_success.bytes", VerifiedField: "last_success.verified",
		BearerTokenEnv: "BCDR_SECRET_BACKUP_API_TOKEN"})

	c := h.check(tg)
	require.Equal(t, StatusOK, c.Status, "%s\n%s", c.Message, c.Output)
	require.Equal(t, 3, c.Attempts)
	require.EqualValues(t, 3, calls.Load())
	require.True(t, c.Verified)
	require.True(t, finished.Equal(*c.LatestBackupAt))
	require.EqualValues(t, 12345, *c.SizeBytes)
	require.Contains(t, c.Message, "answered on attempt 3")
	require.Equal(t, "Bearer s3cr3t-token", auth.Load())
	require.NotContains(t, c.Output, "s3cr3t-token")
}

func TestHTTP_GivesUpAfterRetries(t *testing.T) {
	t.Parallel()
	h := setup(t)
	srv, calls, _ := flakyServer(t, 1000, "")
	tg := h.target(KindHTTP, HTTPConfig{URL: srv.URL, TimeField: "t", Retries: ptr(2)})
	c := h.check(tg)
	require.Equal(t, StatusError, c.Status)
	require.Equal(t, 3, c.Attempts)
	require.EqualValues(t, 3, calls.Load())
	require.Contains(t, c.Message, "answered HTTP 503 after 3 attempts")

	srv.Close()
	c = h.check(tg)
	require.Equal(t, StatusError, c.Status)
	require.Contains(t, c.Message, "failed after 3 attempts")
}

func TestJudgeHTTPDocument(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 31, 2, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		cfg      HTTPConfig
		body     string
		status   CheckStatus
		verified bool
		message  string
	}{
		{"array index and unix seconds", HTTPConfig{TimeField: "items[0].time", StatusField: "items[0].ok"},
			fmt.Sprintf(`{"items":[{"time":%d,"ok":"done"},{"time":1}]}`, at.Unix()), StatusOK, true, "status ok"},
		{"last item, unix milliseconds", HTTPConfig{TimeField: "items[-1].time"},
			fmt.Sprintf(`{"items":[{"time":1},{"time":%d}]}`, at.UnixMilli()), StatusOK, false, "integrity not verified"},
		{"custom ok values", HTTPConfig{TimeField: "t", StatusField: "s", OKValues: []string{"GREEN"}},
			`{"t":"2026-01-31 02:00:00","s":"green"}`, StatusOK, true, "status ok"},
		{"status not ok", HTTPConfig{TimeField: "t", StatusField: "s"},
			`{"t":"2026-01-31T02:00:00Z","s":"failed"}`, StatusFailed, false, `s reports "failed"`},
		{"verified field false", HTTPConfig{TimeField: "t", StatusField: "s", VerifiedField: "v"},
			`{"t":"2026-01-31T02:00:00Z","s":"ok","v":false}`, StatusOK, false, "v is false"},
		{"missing time", HTTPConfig{TimeField: "last.finished_at"}, `{"last":{}}`, StatusError, false, "no field last.finished_at"},
		{"time of wrong type", HTTPConfig{TimeField: "t"}, `{"t":{"a":1}}`, StatusError, false, "is an object, not a time"},
		{"unreadable time", HTTPConfig{TimeField: "t"}, `{"t":"yesterday"}`, StatusError, false, `"yesterday" is not a time`},
		{"missing status", HTTPConfig{TimeField: "t", StatusField: "s"}, `{"t":"2026-01-31T02:00:00Z"}`, StatusError, false, "no field s"},
		{"not json", HTTPConfig{TimeField: "t"}, `<html>`, StatusError, false, "not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := judgeHTTPDocument([]byte(tc.body), &tc.cfg, 1)
			require.Equal(t, tc.status, r.Status, r.Message)
			require.Equal(t, tc.verified, r.Verified)
			require.Contains(t, r.Message, tc.message)
			if tc.status != StatusError {
				require.True(t, at.Equal(*r.LatestBackupAt), "got %s", r.LatestBackupAt)
			}
		})
	}
}

// An endpoint's body is another service's document: the check keeps its
// status code and the fields it judged, never the rest.
func TestHTTP_BodyNeverStored(t *testing.T) {
	t.Parallel()
	h := setup(t)
	const secret = "SECRET-BODY-123"
	fresh := time.Now().UTC().Format(time.RFC3339)
	for name, tc := range map[string]struct {
		code   int
		body   string
		status CheckStatus
	}{
		"judged document": {http.StatusOK, fmt.Sprintf(`{"t":%q,"s":"ok","internal":{"password":%q}}`, fresh, secret), StatusOK},
		"error status":    {http.StatusInternalServerError, `{"error":"` + secret + `"}`, StatusError},
		"not JSON":        {http.StatusOK, secret + ` {"t":1}`, StatusError},
		"trailing data":   {http.StatusOK, `{"t":` + secret, StatusError},
		"unreadable time": {http.StatusOK, `{"t":{"v":"` + secret + `"}}`, StatusError},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(tc.code)
			fmt.Fprint(w, tc.body)
		}))
		t.Cleanup(srv.Close)
		c := h.check(h.target(KindHTTP, HTTPConfig{URL: srv.URL, TimeField: "t", StatusField: "s", Retries: ptr(0)},
			func(in *TargetInput) { in.Name = name }))
		require.Equal(t, tc.status, c.Status, "%s: %s", name, c.Message)
		require.NotContains(t, c.Message, secret, name)
		require.NotContains(t, c.Output, secret, name)
		require.Contains(t, c.Output, fmt.Sprintf("HTTP %d, %d bytes", tc.code, len(tc.body)), name)
	}
}

// Without an allowance the outbound policy refuses a loopback endpoint
// before any request is sent, and says how to allow it.
func TestHTTP_LoopbackRefusedByDefault(t *testing.T) {
	t.Parallel()
	h := setup(t)
	srv, calls, _ := flakyServer(t, 0, `{"t":1}`)
	h.svc = NewService(h.pool, orchestrator.Runtime{Clock: h.clock}, Options{ScratchDir: t.TempDir()})
	c := h.check(h.target(KindHTTP, HTTPConfig{URL: srv.URL, TimeField: "t", Retries: ptr(3)}))
	require.Equal(t, StatusError, c.Status)
	require.Contains(t, c.Message, "address 127.0.0.1 is not allowed for outbound calls (loopback); allow it with BCDR_OUTBOUND_ALLOW")
	require.Equal(t, 1, c.Attempts, "a refusal is not retried")
	require.Zero(t, calls.Load())
}
