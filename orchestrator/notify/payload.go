package notify

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the request
// body under the channel's secret, when the channel has one.
const SignatureHeader = "X-Bcdr-Signature"

// IdempotencyHeader carries the delivery's stable key: the same on every
// attempt of one outbox row, different for every other row.
const IdempotencyHeader = "Idempotency-Key"

// Sign returns the SignatureHeader value for body under secret. Receivers
// compute the same over the raw body and compare with hmac.Equal.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// WebhookPayload is the body a generic webhook channel receives.
type WebhookPayload struct {
	// ID is the delivery's idempotency key, as in the Idempotency-Key header.
	ID         string         `json:"id"`
	Type       EventType      `json:"type"`
	Subject    string         `json:"subject"`
	Summary    string         `json:"summary"`
	Severity   Severity       `json:"severity"`
	OccurredAt time.Time      `json:"occurred_at"`
	Details    map[string]any `json:"details"`
}

// decodeEvent reads an event as stored, keeping numbers exact.
func decodeEvent(doc []byte) (Event, error) {
	var e Event
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&e); err != nil {
		return Event{}, fmt.Errorf("decode stored event: %w", err)
	}
	return e, nil
}

// payload renders e for a channel of kind; key is the delivery's
// idempotency key. The body depends only on its inputs, so every attempt of
// a row sends the same bytes unless the channel's kind changed.
func payload(kind Kind, e Event, key string) ([]byte, error) {
	var v any
	switch kind {
	case KindSlack:
		v = slackMessage(e, key)
	case KindTeams:
		v = teamsMessage(e, key)
	default:
		details := e.Details
		if details == nil {
			details = map[string]any{}
		}
		v = WebhookPayload{ID: key, Type: e.Type, Subject: e.Subject, Summary: e.Summary, Severity: e.Severity,
			OccurredAt: e.OccurredAt, Details: details}
	}
	return json.Marshal(v)
}

// fact is a label and a value shown in chat messages.
type fact struct{ name, value string }

// facts lists the event's fields and then its details in key order, at
// most maxDetailFacts of them, values shortened for a chat message.
func facts(e Event) []fact {
	const maxDetailFacts = 6
	out := []fact{
		{"Subject", e.Subject},
		{"Severity", string(e.Severity)},
		{"Event", string(e.Type)},
		{"Occurred", e.OccurredAt.UTC().Format("2006-01-02 15:04:05 MST")},
	}
	keys := make([]string, 0, len(e.Details))
	for k := range e.Details {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i == maxDetailFacts {
			out = append(out, fact{"More", fmt.Sprintf("%d more detail(s)", len(keys)-i)})
			break
		}
		value, ok := e.Details[k].(string)
		if !ok {
			b, _ := json.Marshal(e.Details[k])
			value = string(b)
		}
		out = append(out, fact{k, clip(value, 200)})
	}
	return out
}

// title is the heading of a chat message.
func title(e Event) string {
	label := strings.ReplaceAll(string(e.Type), "_", " ")
	return clip(fmt.Sprintf("%s: %s — %s", strings.ToUpper(string(e.Severity)), label, e.Subject), 150)
}

// slackMessage is a Slack incoming-webhook body: text is the notification
// fallback, blocks the formatted message.
func slackMessage(e Event, key string) map[string]any {
	fields := []map[string]any{}
	for _, f := range facts(e) {
		fields = append(fields, map[string]any{"type": "mrkdwn", "text": "*" + slackEscape(f.name) + "*\n" + slackEscape(f.value)})
	}
	return map[string]any{
		"text": slackEscape(clip(e.describe(), 3000)),
		"blocks": []map[string]any{
			{"type": "header", "text": map[string]any{"type": "plain_text", "text": title(e)}},
			{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": slackEscape(clip(e.Summary, 3000))}},
			{"type": "section", "fields": fields[:min(len(fields), 10)]},
			{"type": "context", "elements": []map[string]any{{"type": "mrkdwn", "text": "bcdr · " + slackEscape(key)}}},
		},
	}
}

// slackEscape escapes the three characters Slack's mrkdwn treats as markup.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// teamsMessage is a Teams webhook body carrying one Adaptive Card.
func teamsMessage(e Event, key string) map[string]any {
	color := map[Severity]string{SeverityInfo: "Default", SeverityWarning: "Warning", SeverityCritical: "Attention"}[e.Severity]
	var factSet []map[string]any
	for _, f := range facts(e) {
		factSet = append(factSet, map[string]any{"title": f.name, "value": f.value})
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": "1.4",
		"body": []map[string]any{
			{"type": "TextBlock", "text": title(e), "weight": "Bolder", "size": "Medium", "color": color, "wrap": true},
			{"type": "TextBlock", "text": e.Summary, "wrap": true},
			{"type": "FactSet", "facts": factSet},
			{"type": "TextBlock", "text": "bcdr · " + key, "isSubtle": true, "size": "Small", "wrap": true},
		},
	}
	return map[string]any{
		"type":    "message",
		"summary": clip(e.describe(), 250),
		"attachments": []map[string]any{
			{"contentType": "application/vnd.microsoft.card.adaptive", "content": card},
		},
	}
}

// clip shortens s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
