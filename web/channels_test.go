package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/notify"
)

// channelIDIn finds the channel page an answer was redirected to.
func channelIDIn(t *testing.T, body string) int64 {
	t.Helper()
	_, rest, ok := strings.Cut(body, `action="/channels/`)
	require.True(t, ok, "the answer is a channel's page")
	id, _, _ := strings.Cut(rest, `/`)
	n, err := strconv.ParseInt(id, 10, 64)
	require.NoError(t, err)
	return n
}

func TestChannelLifecycle(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := adminCtx()
	// A receiver on loopback: notify takes the channel; whether anything
	// is sent there is the deliverers' outbound address policy, checked at
	// each delivery (public addresses only unless BCDR_OUTBOUND_ALLOW).
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(rcv.Close)
	hook := rcv.URL + "/services/T0/SECRETPATH"

	manager := e.signIn("bcm", orchestrator.RoleContinuityManager)
	status, body := manager.get("/channels")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `action="/channels"`)
	require.Contains(t, body, `<label for="ch-secret">`)

	status, body = manager.post("/channels", url.Values{"name": {"ops-hook"}, "kind": {"webhook"}, "url": {hook},
		"events": {"check_failed", "rpo_breached"}, "secret": {"env:BCDR_SECRET_OPS_HOOK"}, "enabled": {"on"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The channel was created.")
	id := channelIDIn(t, body)
	ch, err := e.ui.svc.Notify.Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []string{"check_failed", "rpo_breached"}, ch.Events)
	require.True(t, ch.Signed)
	require.Equal(t, "BCDR_SECRET_OPS_HOOK", ch.SecretEnv)
	require.True(t, ch.Enabled)
	for _, path := range []string{"/channels", "/channels/" + strconv.FormatInt(id, 10)} {
		_, body = manager.get(path)
		require.Contains(t, body, "ops-hook")
		require.NotContains(t, body, "BCDR_SECRET_OPS_HOOK", "the secret reference is never shown back")
		require.NotContains(t, body, "SECRETPATH", "the address is shown redacted")
	}
	require.Contains(t, body, `value="check_failed" checked`)

	// The test send stays: a delivery is queued for the deliverers.
	chPath := "/channels/" + strconv.FormatInt(id, 10)
	status, body = manager.post(chPath+"/test", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `data-delivery-status>pending<`)
	require.Contains(t, body, "test")

	// An edit that leaves the address and the secret empty keeps them.
	status, body = manager.post(chPath, url.Values{"name": {"ops-hook-2"}, "kind": {"webhook"}, "events": {"*"}})
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The channel was saved.")
	ch2, err := e.ui.svc.Notify.Get(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "ops-hook-2", ch2.Name)
	require.Equal(t, []string{"*"}, ch2.Events)
	require.False(t, ch2.Enabled)
	require.Equal(t, ch.URL, ch2.URL)
	require.Equal(t, "BCDR_SECRET_OPS_HOOK", ch2.SecretEnv)

	// Bad edits are refused naming the field, and nothing changes; the
	// reference typed is not shown back either.
	for _, tc := range []struct {
		form  url.Values
		named string
	}{
		{url.Values{"name": {""}, "kind": {"webhook"}, "events": {"*"}}, "name"},
		{url.Values{"name": {"x"}, "kind": {"pager"}, "events": {"*"}}, "kind"},
		{url.Values{"name": {"x"}, "kind": {"webhook"}, "url": {"ftp://example.com/x"}, "events": {"*"}}, "url"},
		{url.Values{"name": {"x"}, "kind": {"webhook"}, "url": {"https://user:pw@example.com/x"}, "events": {"*"}}, "url"},
		{url.Values{"name": {"x"}, "kind": {"webhook"}}, "events"},
		{url.Values{"name": {"x"}, "kind": {"webhook"}, "events": {"disk_full"}}, "events"},
		{url.Values{"name": {"x"}, "kind": {"webhook"}, "events": {"*"}, "secret": {"hunter2"}}, "secret"},
		{url.Values{"name": {"x"}, "kind": {"webhook"}, "events": {"*"}, "secret": {"env:PATH_TO_NOWHERE"}}, "secret_env"},
		{url.Values{"name": {"x"}, "kind": {"webhook"}, "events": {"*"}, "secret": {"file:../../etc/shadow"}}, "secret_file"},
		// No SMTP settings on this server: an email channel has nothing
		// to send it.
		{url.Values{"name": {"x"}, "kind": {"email"}, "url": {"mailto:ops@example.com"}, "events": {"*"}, "remove_secret": {"on"}}, "kind"},
	} {
		status, body = manager.post(chPath, tc.form)
		require.Equal(t, http.StatusUnprocessableEntity, status, tc.form)
		require.Contains(t, body, "<code>"+tc.named+"</code>", tc.form)
		require.Contains(t, body, "Not saved:")
		require.NotContains(t, body, "hunter2")
		require.NotContains(t, body, "PATH_TO_NOWHERE")
		require.NotContains(t, body, "etc/shadow")
		now, err := e.ui.svc.Notify.Get(ctx, id)
		require.NoError(t, err)
		require.Equal(t, ch2, now, "nothing changes")
	}

	// Signing stops when asked.
	status, _ = manager.post(chPath, url.Values{"name": {"ops-hook-2"}, "kind": {"webhook"}, "events": {"*"}, "remove_secret": {"on"}, "enabled": {"on"}})
	require.Equal(t, http.StatusOK, status)
	ch3, err := e.ui.svc.Notify.Get(ctx, id)
	require.NoError(t, err)
	require.False(t, ch3.Signed)
	require.True(t, ch3.Enabled)

	// A bad new channel is refused in place, and none is made.
	before, err := e.ui.svc.Notify.List(ctx, notify.ChannelFilter{}, orchestrator.Page{Limit: 100})
	require.NoError(t, err)
	status, body = manager.post("/channels", url.Values{"name": {"ops-mail"}, "kind": {"email"}, "url": {"mailto:ops@example.com"}, "events": {"*"}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "email is not configured on this server")
	require.Contains(t, body, `value="ops-mail"`, "what was typed stays in the form")
	status, _ = manager.post("/channels", url.Values{"name": {"ops-hook-2"}, "kind": {"webhook"}, "url": {hook}, "events": {"*"}})
	require.Equal(t, http.StatusConflict, status, "names are unique")
	after, err := e.ui.svc.Notify.List(ctx, notify.ChannelFilter{}, orchestrator.Page{Limit: 100})
	require.NoError(t, err)
	require.Len(t, after.Items, len(before.Items))

	status, body = manager.post(chPath+"/delete", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The channel was deleted.")
	_, err = e.ui.svc.Notify.Get(ctx, id)
	require.Equal(t, orchestrator.ENOTFOUND, orchestrator.ErrorCode(err))
	status, _ = manager.get(chPath)
	require.Equal(t, http.StatusNotFound, status)
	status, _ = manager.post(chPath+"/delete", nil)
	require.Equal(t, http.StatusNotFound, status)
}

func TestChannelRoles(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := adminCtx()
	name, kind, hook := "ops-hook", notify.KindWebhook, "https://hooks.example.com/services/T0/SECRETPATH"
	ch, err := e.ui.svc.Notify.Create(ctx, notify.ChannelInput{Name: &name, Kind: &kind, URL: &hook, Events: []string{"*"}})
	require.NoError(t, err)
	chPath := "/channels/" + strconv.FormatInt(ch.ID, 10)

	for _, role := range []orchestrator.Role{orchestrator.RoleOperator, orchestrator.RoleAuditor} {
		p := e.signIn(string(role), role)
		status, body := p.get("/channels")
		require.Equal(t, http.StatusOK, status, role)
		require.Contains(t, body, "ops-hook", "readers read channels, as in the API")
		require.NotContains(t, body, `method="post" action="/channels`, role)
		status, body = p.get(chPath)
		require.Equal(t, http.StatusOK, status, role)
		require.NotContains(t, body, `method="post" action="/channels`, role)
		for _, path := range []string{"/channels", chPath, chPath + "/delete", chPath + "/test"} {
			status, _ = p.post(path, url.Values{"name": {"sneaky"}, "kind": {"webhook"}, "url": {hook}, "events": {"*"}})
			require.Equal(t, http.StatusForbidden, status, "%s %s", role, path)
		}
	}
	got, err := e.ui.svc.Notify.Get(ctx, ch.ID)
	require.NoError(t, err)
	require.Equal(t, ch, got)

	executive := e.signIn("ceo", orchestrator.RoleExecutive)
	status, _ := executive.get("/channels")
	require.Equal(t, http.StatusForbidden, status)
}
