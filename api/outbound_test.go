package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/outbound"
)

// loopbackAllowed is the address policy of tests whose receivers are
// httptest servers on 127.0.0.1. The services of testServices keep the
// default policy: no API test checks a backup endpoint on loopback except
// to see it refused.
func loopbackAllowed(t *testing.T) outbound.Policy {
	t.Helper()
	p, err := outbound.ParsePolicy("127.0.0.1")
	require.NoError(t, err)
	return p
}

// An http backup target on loopback is accepted when created (whether it
// may be reached is decided where connections are made, by the outbound
// address policy, for names and redirects alike) and its check fails
// without a request being sent, naming the policy and the setting that
// widens it.
func TestBackupTargetOnLoopbackRefused(t *testing.T) {
	t.Parallel()
	env := setup(t)
	createDB1(t, env)
	var hits atomic.Int32
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprintf(w, `{"t":%q,"token":"SECRET-BODY-123"}`, time.Now().UTC().Format(time.RFC3339))
	}))
	t.Cleanup(internal.Close)

	resp := env.do("POST", "/api/v1/backup-targets", cm, map[string]any{"ci": "db1", "kind": "http", "schedule": "0 * * * *",
		"config": map[string]any{"url": internal.URL + "/metrics", "time_field": "t", "retries": 2}})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	var tg backupTargetBody
	resp.JSON(t, &tg)

	resp = env.do("POST", "/api/v1/backup-targets/"+itoa(tg.ID)+"/check", cm, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var c backupCheck
	resp.JSON(t, &c)
	require.Equal(t, "error", c.Status)
	require.Contains(t, c.Message, "address 127.0.0.1 is not allowed for outbound calls (loopback); allow it with BCDR_OUTBOUND_ALLOW")
	require.Zero(t, hits.Load(), "nothing was sent")

	history := env.do("GET", "/api/v1/backup-targets/"+itoa(tg.ID)+"/checks", cm, nil)
	require.Equal(t, http.StatusOK, history.Status)
	require.Contains(t, string(history.Body), "BCDR_OUTBOUND_ALLOW")
	require.NotContains(t, string(history.Body), "SECRET-BODY-123")
}
