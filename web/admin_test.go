package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/notify"
)

// newTokenShown finds the secret the answer to a token's creation shows.
var newTokenShown = regexp.MustCompile(`<code class="secret" data-token>(bcdr_[A-Za-z0-9_]+)</code>`)

func TestAdminTokens(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin := e.signIn("root", orchestrator.RoleAdmin)

	status, body := admin.post("/admin/tokens", url.Values{"name": {"ci-runner"}, "role": {"operator"}})
	require.Equal(t, http.StatusOK, status, body)
	m := newTokenShown.FindStringSubmatch(body)
	require.NotNil(t, m, "the answer shows the new token")
	secret := m[1]
	require.Contains(t, body, "not shown again")

	// The list shows it, and never its secret again.
	status, body = admin.get("/admin")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "ci-runner")
	require.NotContains(t, body, secret)

	// The new token signs in until it is revoked.
	ctx := orchestrator.WithActor(context.Background(), orchestrator.Actor{Name: "test", Role: orchestrator.RoleAdmin})
	_, err := e.wired.Tokens.Authenticate(ctx, secret)
	require.NoError(t, err)
	l, err := e.wired.Tokens.List(ctx, false, orchestrator.Page{Limit: 100})
	require.NoError(t, err)
	var id int64
	for _, tok := range l.Items {
		if tok.Name == "ci-runner" {
			id = tok.ID
		}
	}
	require.NotZero(t, id)
	require.Contains(t, body, `action="/admin/tokens/`+strconv.FormatInt(id, 10)+`/revoke"`)
	require.Contains(t, body, "hx-confirm=")

	status, body = admin.post("/admin/tokens/"+strconv.FormatInt(id, 10)+"/revoke", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "The token was revoked.")
	require.NotContains(t, body, `action="/admin/tokens/`+strconv.FormatInt(id, 10)+`/revoke"`)

	_, err = e.wired.Tokens.Authenticate(ctx, secret)
	require.Equal(t, orchestrator.EUNAUTHORIZED, orchestrator.ErrorCode(err))
	status, _ = admin.post("/login", url.Values{"token": {secret}, "next": {"/"}})
	require.Equal(t, http.StatusUnauthorized, status)

	// Bad input is refused in place, naming the problem, and nothing is made.
	status, body = admin.post("/admin/tokens", url.Values{"name": {"x"}, "role": {"superuser"}})
	require.Equal(t, http.StatusUnprocessableEntity, status, body)
	require.Contains(t, body, "Not done:")
	require.Nil(t, newTokenShown.FindStringSubmatch(body))
}

func TestAdminRoles(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, role := range []orchestrator.Role{orchestrator.RoleOperator, orchestrator.RoleExecutive, orchestrator.RoleContinuityManager} {
		p := e.signIn(string(role), role)
		status, _ := p.get("/admin")
		require.Equal(t, http.StatusForbidden, status, role)
		status, _ = p.post("/admin/audit/verify", nil)
		require.Equal(t, http.StatusForbidden, status, role)
		_, body := p.get("/")
		require.NotContains(t, body, `href="/admin"`, role)
	}

	auditor := e.signIn("inspector", orchestrator.RoleAuditor)
	status, body := auditor.get("/admin")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `href="/admin"`)
	require.Contains(t, body, `id="audit"`)
	require.NotContains(t, body, `id="tokens"`)
	require.NotContains(t, body, `action="/admin/tokens"`)
	status, _ = auditor.post("/admin/tokens", url.Values{"name": {"sneaky"}, "role": {"admin"}})
	require.Equal(t, http.StatusForbidden, status)

	status, body = auditor.post("/admin/audit/verify", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `data-verify="intact"`)
	require.Contains(t, body, "The chain is intact")
}

func TestAdminAuditAndChannels(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ctx := orchestrator.WithActor(context.Background(), orchestrator.Actor{Name: "test", Role: orchestrator.RoleAdmin})
	name, kind, hook := "ops-hook", notify.KindWebhook, "https://hooks.example.com/services/T0/SECRETPATH"
	ch, err := e.ui.svc.Notify.Create(ctx, notify.ChannelInput{Name: &name, Kind: &kind, URL: &hook, Events: []string{"*"}})
	require.NoError(t, err)

	admin := e.signIn("root", orchestrator.RoleAdmin)
	status, body := admin.get("/admin")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "ops-hook")
	require.NotContains(t, body, "SECRETPATH", "the channel's URL is redacted")
	// The audit log shows the newest entries: the channel just made.
	require.Contains(t, body, "notification-channels")

	status, body = admin.post("/admin/channels/"+strconv.FormatInt(ch.ID, 10)+"/test", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `data-delivery-status>pending<`)

	status, _ = admin.post("/admin/channels/999999/test", nil)
	require.Equal(t, http.StatusNotFound, status)

	auditor := e.signIn("inspector", orchestrator.RoleAuditor)
	_, body = auditor.get("/admin")
	require.Contains(t, body, "ops-hook", "auditors read channels, as in the API")
	require.NotContains(t, body, `/test"`, "but do not test them")
	status, _ = auditor.post("/admin/channels/"+strconv.FormatInt(ch.ID, 10)+"/test", nil)
	require.Equal(t, http.StatusForbidden, status)

	// A chain that was tampered with is reported broken with the reason.
	// (as a database superuser could, with the append-only triggers off).
	conn, err := e.pool.Acquire(ctx)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `SET session_replication_role = replica`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `UPDATE audit_log SET summary = 'rewritten' WHERE id = (SELECT min(id) FROM audit_log)`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `RESET session_replication_role`)
	require.NoError(t, err)
	conn.Release()
	status, body = admin.post("/admin/audit/verify", nil)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `data-verify="broken"`)
	require.Contains(t, body, "does not match its hash")
}
