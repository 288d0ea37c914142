package notify

import (
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// Kind is the payload shape a channel's receiver understands.
type Kind string

// Channel kinds.
const (
	// KindWebhook sends the event as generic JSON.
	KindWebhook Kind = "webhook"
	// KindSlack sends a Slack incoming-webhook message: text plus blocks.
	KindSlack Kind = "slack"
	// KindTeams sends a Microsoft Teams message carrying an Adaptive Card,
	// the shape Teams workflow webhooks accept.
	KindTeams Kind = "teams"
	// KindEmail mails the event over SMTP to the recipients of a mailto:
	// URL, with the event's attachments; see SMTP.
	KindEmail Kind = "email"
)

// Kinds lists every channel kind.
var Kinds = []Kind{KindWebhook, KindSlack, KindTeams, KindEmail}

// Channel is where notifications go. URL is shown redacted: chat webhook
// URLs are credentials, so only the scheme, host and first path segment
// are returned, and email addresses are personal data, so only the first
// recipient's domain and how many there are. The signing secret is
// referenced by SecretEnv or SecretFile and never stored or returned.
type Channel struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Kind       Kind      `json:"kind"`
	URL        string    `json:"url"`
	Events     []string  `json:"events"`
	SecretEnv  string    `json:"secret_env"`
	SecretFile string    `json:"secret_file"`
	Signed     bool      `json:"signed"`
	Enabled    bool      `json:"enabled"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	CreatedBy  string    `json:"created_by"`
}

// ChannelInput creates a channel or, for Update, changes the fields that
// are set (nil Events leaves the subscriptions as they are).
type ChannelInput struct {
	Name       *string
	Kind       *Kind
	URL        *string
	Events     []string
	SecretEnv  *string
	SecretFile *string
	Enabled    *bool
}

// channelRow is a channel as stored, with its full URL.
type channelRow struct {
	Channel
	rawURL string
}

// apply copies the set fields of in. Naming one secret reference clears
// the other, so switching from a variable to a file takes one field.
func (c *channelRow) apply(in ChannelInput) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&c.Name, in.Name)
	set(&c.rawURL, in.URL)
	if in.Kind != nil {
		c.Kind = *in.Kind
	}
	if in.Events != nil {
		c.Events = normalizeEvents(in.Events)
	}
	if in.SecretEnv != nil && in.SecretFile == nil && *in.SecretEnv != "" {
		c.SecretFile = ""
	}
	if in.SecretFile != nil && in.SecretEnv == nil && *in.SecretFile != "" {
		c.SecretEnv = ""
	}
	set(&c.SecretEnv, in.SecretEnv)
	set(&c.SecretFile, in.SecretFile)
	if in.Enabled != nil {
		c.Enabled = *in.Enabled
	}
}

// normalizeEvents sorts and de-duplicates; "*" subsumes everything else.
func normalizeEvents(events []string) []string {
	out := make([]string, 0, len(events))
	for _, e := range events {
		e = strings.TrimSpace(e)
		if e == AllEvents {
			return []string{AllEvents}
		}
		out = append(out, e)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// validate checks a channel before it is saved; its secret reference must
// name what secrets exposes.
func (c *channelRow) validate(secrets secretref.Policy) error {
	var v orchestrator.Validation
	switch {
	case c.Name == "":
		v.Add("name", "is required")
	case len(c.Name) > 200:
		v.Add("name", "must be at most 200 bytes")
	case !utf8.ValidString(c.Name) || strings.ContainsFunc(c.Name, unicode.IsControl):
		v.Add("name", "must be UTF-8 text without control characters")
	}
	if !slices.Contains(Kinds, c.Kind) {
		v.Add("kind", "must be one of %s", strings.Join(enumStrings(Kinds), ", "))
	}
	if c.Kind == KindEmail {
		checkMailto(&v, "url", c.rawURL)
	} else {
		checkURL(&v, "url", c.rawURL)
	}
	if len(c.Events) == 0 {
		v.Add("events", "must name at least one event type, or \"*\" for all")
	}
	for _, e := range c.Events {
		switch {
		case e == AllEvents || slices.Contains(EventTypes, EventType(e)):
		default:
			v.Add("events", "%q is not an event type; use \"*\" or any of %s", truncate(e, 60), strings.Join(enumStrings(EventTypes), ", "))
		}
	}
	c.validateSecret(&v, secrets)
	return v.Err()
}

// validateSecret checks the signing secret's reference. An email channel
// has none: a mail server cannot check a signature, and the message's
// recipients never see one.
func (c *channelRow) validateSecret(v *orchestrator.Validation, secrets secretref.Policy) {
	if c.Kind != KindEmail {
		secrets.Validate(secretref.Ref{Env: c.SecretEnv, File: c.SecretFile}, v, "secret_env", "secret_file", false)
		return
	}
	if c.SecretEnv != "" {
		v.Add("secret_env", "must be empty: email channels are not signed")
	}
	if c.SecretFile != "" {
		v.Add("secret_file", "must be empty: email channels are not signed")
	}
}

// checkURL accepts an absolute http(s) URL without embedded credentials.
func checkURL(v *orchestrator.Validation, field, raw string) {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		v.Add(field, "is required")
	case len(raw) > 2000 || strings.ContainsFunc(raw, func(r rune) bool { return r < 0x21 || r == 0x7f }):
		v.Add(field, "must be a URL of at most 2000 bytes without spaces or control characters")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		v.Add(field, "must be an absolute http or https URL")
	case u.User != nil:
		v.Add(field, "must not embed credentials; sign requests with secret_env or secret_file instead")
	case u.Fragment != "":
		v.Add(field, "must not have a #fragment")
	case strings.Contains(raw, redactedMark):
		v.Add(field, "is the redacted form this API returns; send the full URL")
	}
}

// redactedMark replaces the credential-bearing part of a URL in answers.
const redactedMark = "***"

// redactURL keeps a URL's scheme, host and first path segment: enough to
// recognise the receiver, not enough to post to a chat webhook. A mailto:
// URL keeps its first recipient's domain and the number of recipients.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redactedMark
	}
	if u.Scheme == "mailto" {
		return redactMailto(u)
	}
	out := u.Scheme + "://" + u.Host
	segs := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	if segs[0] != "" {
		out += "/" + segs[0]
		if len(segs) > 1 {
			out += "/" + redactedMark
		}
	}
	if u.RawQuery != "" {
		out += "?" + redactedMark
	}
	return out
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
