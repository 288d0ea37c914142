package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/outbound/outboundtest"
)

type channelBody struct {
	ID         int64    `json:"id"`
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`
	URL        string   `json:"url"`
	Events     []string `json:"events"`
	SecretEnv  string   `json:"secret_env"`
	SecretFile string   `json:"secret_file"`
	Signed     bool     `json:"signed"`
	Enabled    bool     `json:"enabled"`
	CreatedBy  string   `json:"created_by"`
}

type deliveryBody struct {
	ID             int64  `json:"id"`
	ChannelID      int64  `json:"channel_id"`
	EventType      string `json:"event_type"`
	Status         string `json:"status"`
	Attempts       int    `json:"attempts"`
	IdempotencyKey string `json:"idempotency_key"`
	LastStatusCode *int   `json:"last_status_code"`
}

func TestNotificationChannelLifecycle(t *testing.T) {
	env := setup(t)
	cm := orchestrator.RoleContinuityManager
	t.Setenv("BCDR_SECRET_SLACK_SIGNING", "the-real-secret-value")

	resp := env.do("POST", "/api/v1/notification-channels", cm, map[string]any{
		"name": "dr-team slack", "kind": "slack", "url": "https://hooks.slack.com/services/T000/B000/XXXXSECRET",
		"events": []string{"rpo_breached", "check_failed", "check_failed"}, "secret_env": "BCDR_SECRET_SLACK_SIGNING",
	})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	var ch channelBody
	resp.JSON(t, &ch)
	require.Equal(t, "https://hooks.slack.com/services/***", ch.URL, "the webhook URL is a credential")
	require.Equal(t, []string{"check_failed", "rpo_breached"}, ch.Events)
	require.True(t, ch.Signed)
	require.True(t, ch.Enabled)
	require.Equal(t, "BCDR_SECRET_SLACK_SIGNING", ch.SecretEnv)
	require.Equal(t, "test-continuity_manager", ch.CreatedBy)
	require.NotContains(t, string(resp.Body), "XXXXSECRET")
	require.NotContains(t, string(resp.Body), "the-real-secret-value")
	id := itoa(ch.ID)

	// Readers of records read it; executives do not; operators cannot write.
	require.Equal(t, http.StatusOK, env.do("GET", "/api/v1/notification-channels/"+id, orchestrator.RoleOperator, nil).Status)
	require.Equal(t, http.StatusOK, env.do("GET", "/api/v1/notification-channels/"+id, orchestrator.RoleAuditor, nil).Status)
	require.Equal(t, http.StatusForbidden, env.do("GET", "/api/v1/notification-channels/"+id, orchestrator.RoleExecutive, nil).Status)
	require.Equal(t, http.StatusForbidden, env.do("PATCH", "/api/v1/notification-channels/"+id, orchestrator.RoleOperator, map[string]any{"enabled": false}).Status)
	require.Equal(t, http.StatusForbidden, env.do("POST", "/api/v1/notification-channels/"+id+"/test", orchestrator.RoleAuditor, nil).Status)

	env.do("POST", "/api/v1/notification-channels", orchestrator.RoleAdmin, map[string]any{
		"name": "siem", "kind": "webhook", "url": "http://siem.internal:8080/bcdr", "events": []string{"*"}})
	var list struct {
		Items []channelBody `json:"items"`
	}
	env.do("GET", "/api/v1/notification-channels?event=rpo_breached", orchestrator.RoleAuditor, nil).JSON(t, &list)
	require.Len(t, list.Items, 2, "subscribed directly or through *")
	env.do("GET", "/api/v1/notification-channels?event=schedule_missed&kind=webhook", orchestrator.RoleAuditor, nil).JSON(t, &list)
	require.Len(t, list.Items, 1)
	require.Equal(t, "siem", list.Items[0].Name)
	for _, q := range []string{"?kind=pager", "?event=disk_full", "?enabled=maybe", "?colour=red", "?after=bm9wZQ"} {
		require.Equal(t, http.StatusUnprocessableEntity, env.do("GET", "/api/v1/notification-channels"+q, cm, nil).Status, q)
	}

	// PATCH changes what it names; a file reference replaces the variable.
	resp = env.do("PATCH", "/api/v1/notification-channels/"+id, cm, map[string]any{
		"secret_file": "/run/secrets/slack", "events": []string{"*"}, "enabled": false})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &ch)
	require.Equal(t, "/run/secrets/slack", ch.SecretFile)
	require.Empty(t, ch.SecretEnv)
	require.Equal(t, []string{"*"}, ch.Events)
	require.False(t, ch.Enabled)
	require.Equal(t, "dr-team slack", ch.Name)
	require.Equal(t, http.StatusConflict, env.do("POST", "/api/v1/notification-channels/"+id+"/test", cm, nil).Status, "disabled")

	var audit struct {
		Items []struct {
			Action string `json:"action"`
		} `json:"items"`
	}
	env.do("GET", "/api/v1/audit?resource=notification-channels&resource_id="+id, orchestrator.RoleAuditor, nil).JSON(t, &audit)
	require.Len(t, audit.Items, 2)

	require.Equal(t, http.StatusNoContent, env.do("DELETE", "/api/v1/notification-channels/"+id, cm, nil).Status)
	for _, req := range [][2]string{{"GET", ""}, {"DELETE", ""}, {"GET", "/deliveries"}, {"POST", "/test"}} {
		require.Equal(t, http.StatusNotFound, env.do(req[0], "/api/v1/notification-channels/"+id+req[1], cm, nil).Status, req)
	}
	require.Equal(t, http.StatusUnprocessableEntity, env.do("GET", "/api/v1/notification-channels/abc", cm, nil).Status)
}

func TestNotificationChannelValidation(t *testing.T) {
	env := setup(t)
	valid := func(overrides map[string]any) map[string]any {
		body := map[string]any{"name": "ops", "kind": "webhook", "url": "https://hooks.example.com/bcdr", "events": []string{"check_failed"}}
		for k, v := range overrides {
			if v == nil {
				delete(body, k)
				continue
			}
			body[k] = v
		}
		return body
	}
	cases := map[string]struct {
		body    any
		status  int
		field   string
		message string
	}{
		"ftp URL":             {valid(map[string]any{"url": "ftp://example.com/x"}), 422, "url", "http or https"},
		"file URL":            {valid(map[string]any{"url": "file:///etc/passwd"}), 422, "url", "http or https"},
		"credentials in URL":  {valid(map[string]any{"url": "https://bob:pw@example.com/"}), 422, "url", "credentials"},
		"unknown event":       {valid(map[string]any{"events": []string{"check_failed", "disk_full"}}), 422, "events", `"disk_full" is not an event type`},
		"no events":           {valid(map[string]any{"events": []string{}}), 422, "events", "at least one"},
		"process variable":    {valid(map[string]any{"secret_env": "PATH"}), 422, "secret_env", "set by bcdr itself"},
		"any variable":        {valid(map[string]any{"secret_env": "AWS_SECRET_ACCESS_KEY"}), 422, "secret_env", "name variables BCDR_SECRET_"},
		"file elsewhere":      {valid(map[string]any{"secret_file": "/etc/shadow"}), 422, "secret_file", "under the secrets directory"},
		"glob secret file":    {valid(map[string]any{"secret_file": "/run/secrets/*"}), 422, "secret_file", "single file"},
		"inline secret":       {valid(map[string]any{"secret": "hunter2"}), 422, "secret", "secret_env or secret_file"},
		"secret in env field": {valid(map[string]any{"secret_env": "hunter2!"}), 422, "secret_env", "not the secret itself"},
		"secret in file":      {valid(map[string]any{"secret_file": "hunter2"}), 422, "secret_file", "not the secret itself"},
		"bcdr's database":     {valid(map[string]any{"secret_env": "BCDR_DATABASE_URL"}), 422, "secret_env", "bcdr's own"},
		"both references":     {valid(map[string]any{"secret_env": "A", "secret_file": "/run/a"}), 422, "secret_env", "not both"},
		"traversal file":      {valid(map[string]any{"secret_file": "/run/../etc/shadow"}), 422, "secret_file", "clean path"},
		"unknown kind":        {valid(map[string]any{"kind": "pager"}), 422, "kind", "must be one of"},
		"missing url":         {valid(map[string]any{"url": nil}), 422, "url", "is required"},
		"missing name":        {valid(map[string]any{"name": nil}), 422, "name", "is required"},
		"control characters":  {valid(map[string]any{"name": "ops\x1b[2J"}), 422, "name", "control characters"},
		"events as a string":  {valid(map[string]any{"events": "check_failed"}), 422, "events", ""},
		"unknown field":       {valid(map[string]any{"headers": map[string]string{"X": "y"}}), 422, "headers", "is not a known field"},
		"malformed":           {`{"name":`, 422, "", ""},
		"oversized":           {valid(map[string]any{"name": strings.Repeat("x", 2<<20)}), 413, "", ""},
		"sql-looking name":    {valid(map[string]any{"name": "x'); DROP TABLE notification_channels; --"}), 201, "", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var before int
			require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT count(*) FROM notification_channels`).Scan(&before))
			resp := env.do("POST", "/api/v1/notification-channels", orchestrator.RoleAdmin, c.body)
			require.Equal(t, c.status, resp.Status, "body: %s", resp.Body)
			if c.status < 400 {
				return
			}
			var body struct {
				Error struct {
					Fields []orchestrator.FieldError `json:"fields"`
				} `json:"error"`
			}
			resp.JSON(t, &body)
			if c.field != "" {
				require.NotEmpty(t, body.Error.Fields, "%s", resp.Body)
				require.Equal(t, c.field, body.Error.Fields[0].Field)
				require.Contains(t, body.Error.Fields[0].Message, c.message)
			}
			var after int
			require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT count(*) FROM notification_channels`).Scan(&after))
			require.Equal(t, before, after, "nothing written")
		})
	}

	dup := env.do("POST", "/api/v1/notification-channels", orchestrator.RoleAdmin, valid(map[string]any{"name": "x'); DROP TABLE notification_channels; --"}))
	require.Equal(t, http.StatusConflict, dup.Status)
	require.Contains(t, string(dup.Body), `"field":"name"`)
}

// A test notification is queued for the one channel, delivered by a
// running Deliverer, and shows in the channel's deliveries.
func TestNotificationTestDelivery(t *testing.T) {
	env := setup(t)
	rcv := outboundtest.NewReceiver(t)
	cm := orchestrator.RoleContinuityManager
	var ch, other channelBody
	env.do("POST", "/api/v1/notification-channels", cm, map[string]any{
		"name": "ops", "kind": "webhook", "url": rcv.URL + "/hook", "events": []string{"schedule_missed"}}).JSON(t, &ch)
	env.do("POST", "/api/v1/notification-channels", cm, map[string]any{
		"name": "everything", "kind": "webhook", "url": rcv.URL + "/all", "events": []string{"*"}}).JSON(t, &other)

	resp := env.do("POST", "/api/v1/notification-channels/"+itoa(ch.ID)+"/test", cm, nil)
	require.Equal(t, http.StatusAccepted, resp.Status, "%s", resp.Body)
	var queued deliveryBody
	resp.JSON(t, &queued)
	require.Equal(t, "pending", queued.Status)
	require.Equal(t, "test", queued.EventType)
	require.Zero(t, queued.Attempts)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	d := notify.NewDeliverer(env.pool, orchestrator.Runtime{}, notify.Options{Replica: "api-test", PollInterval: 10 * time.Millisecond,
		OutboundPolicy: loopbackAllowed(t)})
	go func() { defer close(done); _ = d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	eventually.True(t, func() bool { return len(rcv.Requests()) == 1 }, "the test notification arrives")

	var list struct {
		Items []deliveryBody `json:"items"`
	}
	eventually.True(t, func() bool {
		env.do("GET", "/api/v1/notification-channels/"+itoa(ch.ID)+"/deliveries?status=delivered", orchestrator.RoleOperator, nil).JSON(t, &list)
		return len(list.Items) == 1
	}, "the delivery is listed as delivered")
	require.Equal(t, queued.ID, list.Items[0].ID)
	require.Equal(t, 1, list.Items[0].Attempts)
	require.Equal(t, 200, *list.Items[0].LastStatusCode)

	got := rcv.Requests()
	require.Equal(t, "/hook", got[0].Path, "only the channel tested")
	require.Equal(t, queued.IdempotencyKey, got[0].Header.Get("Idempotency-Key"))
	var payload notify.WebhookPayload
	require.NoError(t, json.Unmarshal(got[0].Body, &payload))
	require.Equal(t, notify.EventTest, payload.Type)
	require.Equal(t, "test-continuity_manager", payload.Details["requested_by"])

	env.do("GET", "/api/v1/notification-channels/"+itoa(other.ID)+"/deliveries", orchestrator.RoleAuditor, nil).JSON(t, &list)
	require.Empty(t, list.Items)
	for _, q := range []string{"?status=lost", "?limit=0", "?kind=webhook"} {
		resp := env.do("GET", "/api/v1/notification-channels/"+itoa(ch.ID)+"/deliveries"+q, cm, nil)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, q)
	}
}
