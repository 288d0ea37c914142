package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/outbound/outboundtest"
)

// One event reaches a generic, a Slack and a Teams channel, each in the
// shape its receiver understands.
func TestPayloadShapes(t *testing.T) {
	h := setup(t)
	generic, slack, teams := outboundtest.NewReceiver(t), outboundtest.NewReceiver(t), outboundtest.NewReceiver(t)
	gc := h.channel("generic", KindWebhook, generic.URL, []string{"check_failed"}, nil)
	h.channel("slack", KindSlack, slack.URL+"/services/T0/B0/XYZ", []string{"*"}, nil)
	h.channel("teams", KindTeams, teams.URL, []string{"check_failed", "rpo_breached"}, nil)
	e := event(12, "check/77")
	e.Summary = "restic check failed for <db1> & friends"
	h.publish(e)
	require.Equal(t, 3, h.step(h.deliverer("r1", Options{})))

	g := generic.Requests()
	require.Len(t, g, 1)
	require.Equal(t, "application/json", g[0].Header.Get("Content-Type"))
	require.Empty(t, g[0].Header.Get(SignatureHeader), "unsigned channel")
	var body map[string]any
	require.NoError(t, json.Unmarshal(g[0].Body, &body))
	require.Equal(t, map[string]any{
		"id": h.only(gc.ID).IdempotencyKey, "type": "check_failed", "subject": "backup-target/12",
		"summary": "restic check failed for <db1> & friends", "severity": "critical", "occurred_at": "2026-03-02T10:00:00Z",
		"details": map[string]any{"target_id": 12.0, "ci": "db1", "message": "pack 3f2a is damaged"},
	}, body)

	s := slack.Requests()
	require.Len(t, s, 1)
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
			Text *struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"text"`
			Fields []struct {
				Text string `json:"text"`
			} `json:"fields"`
		} `json:"blocks"`
	}
	require.NoError(t, json.Unmarshal(s[0].Body, &msg))
	require.Equal(t, "[CRITICAL] backup-target/12: restic check failed for &lt;db1&gt; &amp; friends", msg.Text)
	require.Equal(t, []string{"header", "section", "section", "context"},
		[]string{msg.Blocks[0].Type, msg.Blocks[1].Type, msg.Blocks[2].Type, msg.Blocks[3].Type})
	require.Equal(t, "plain_text", msg.Blocks[0].Text.Type)
	require.Equal(t, "CRITICAL: check failed — backup-target/12", msg.Blocks[0].Text.Text)
	require.Equal(t, "mrkdwn", msg.Blocks[1].Text.Type)
	require.Contains(t, msg.Blocks[2].Fields[0].Text, "*Subject*\nbackup-target/12")
	require.Contains(t, string(s[0].Body), `"*ci*\ndb1"`)

	tm := teams.Requests()
	require.Len(t, tm, 1)
	var card struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Type    string           `json:"type"`
				Version string           `json:"version"`
				Body    []map[string]any `json:"body"`
			} `json:"content"`
		} `json:"attachments"`
	}
	require.NoError(t, json.Unmarshal(tm[0].Body, &card))
	require.Equal(t, "message", card.Type)
	require.Len(t, card.Attachments, 1)
	require.Equal(t, "application/vnd.microsoft.card.adaptive", card.Attachments[0].ContentType)
	require.Equal(t, "AdaptiveCard", card.Attachments[0].Content.Type)
	require.Equal(t, "Attention", card.Attachments[0].Content.Body[0]["color"])
	require.Equal(t, "FactSet", card.Attachments[0].Content.Body[2]["type"])
	require.Equal(t, e.Summary, card.Attachments[0].Content.Body[1]["text"])
}

// verifier is a receiver that checks X-Bcdr-Signature with its copy of the
// secret and answers 401 when it does not match.
func verifier(t *testing.T, secret string) (*httptest.Server, *atomic.Int32) {
	var accepted atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Bcdr-Signature"))) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		accepted.Add(1)
	}))
	t.Cleanup(srv.Close)
	return srv, &accepted
}

// The receiver verifies the HMAC computed with the secret the channel
// references, from an environment variable or a file; a wrong secret is
// refused, and a reference that does not resolve sends nothing.
func TestSignedDeliveries(t *testing.T) {
	h := setup(t)
	byEnv, envOK := verifier(t, "env-secret")
	byFile, fileOK := verifier(t, "file secret")
	path := filepath.Join(h.secrets.Dir, "hook.key")
	require.NoError(t, os.WriteFile(path, []byte("file secret\n"), 0o600))
	envRef, fileRef := "HOOK_SECRET", path
	ec := h.channel("env", KindWebhook, byEnv.URL, []string{"*"}, func(in *ChannelInput) { in.SecretEnv = &envRef })
	fc := h.channel("file", KindTeams, byFile.URL, []string{"*"}, func(in *ChannelInput) { in.SecretFile = &fileRef })
	require.True(t, ec.Signed)
	require.Equal(t, "HOOK_SECRET", ec.SecretEnv)
	d := h.deliverer("r1", Options{})

	h.publish(event(1, "a"))
	require.Equal(t, 2, h.step(d))
	got := h.only(ec.ID)
	require.Equal(t, DeliveryPending, got.Status, "HOOK_SECRET is not set yet")
	require.Contains(t, got.LastError, "environment variable HOOK_SECRET is not set")
	require.Nil(t, got.LastStatusCode, "nothing was sent")
	require.Equal(t, DeliveryDelivered, h.only(fc.ID).Status)
	require.EqualValues(t, 1, fileOK.Load())

	h.env["HOOK_SECRET"] = "env-secret"
	h.clock.Advance(time.Minute)
	require.Equal(t, 1, h.step(d))
	require.Equal(t, DeliveryDelivered, h.only(ec.ID).Status)
	require.EqualValues(t, 1, envOK.Load())

	h.env["HOOK_SECRET"] = "rotated-on-one-side-only"
	h.publish(event(2, "b"))
	require.Equal(t, 2, h.step(d))
	require.Equal(t, 401, *h.deliveries(ec.ID)[0].LastStatusCode)
	require.EqualValues(t, 1, envOK.Load())
	require.EqualValues(t, 2, fileOK.Load())
}

func TestSign(t *testing.T) {
	// RFC 4231 test case 2.
	require.Equal(t, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		Sign([]byte("Jefe"), []byte("what do ya want for nothing?")))
}

func TestChatTextIsBounded(t *testing.T) {
	e := event(1, "x")
	e.Summary = strings.Repeat("é", 3000)
	e.Details = map[string]any{}
	for i := range 20 {
		e.Details[string(rune('a'+i))] = strings.Repeat("x", 500)
	}
	for _, kind := range Kinds {
		b, err := payload(kind, e, "bcdr-key")
		require.NoError(t, err)
		require.True(t, json.Valid(b))
	}
	msg := slackMessage(e, "k")
	fields := msg["blocks"].([]map[string]any)[2]["fields"].([]map[string]any)
	require.LessOrEqual(t, len(fields), 10, "Slack allows ten fields")
	require.LessOrEqual(t, len(title(e)), 150)
}
