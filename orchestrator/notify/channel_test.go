package notify

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// testSecrets exposes BCDR_SECRET_ variables and files in /run/secrets.
var testSecrets = secretref.Policy{Dir: "/run/secrets"}

func TestChannelValidation(t *testing.T) {
	valid := func() channelRow {
		return channelRow{Channel: Channel{Name: "ops", Kind: KindWebhook, Events: []string{"check_failed"}},
			rawURL: "https://hooks.example.com/bcdr"}
	}
	cases := map[string]struct {
		edit  func(*channelRow)
		field string
	}{
		"ftp URL":             {func(c *channelRow) { c.rawURL = "ftp://example.com/x" }, "url"},
		"file URL":            {func(c *channelRow) { c.rawURL = "file:///etc/passwd" }, "url"},
		"relative URL":        {func(c *channelRow) { c.rawURL = "/hooks/x" }, "url"},
		"javascript URL":      {func(c *channelRow) { c.rawURL = "javascript:alert(1)" }, "url"},
		"credentials in URL":  {func(c *channelRow) { c.rawURL = "https://user:pw@example.com/" }, "url"},
		"space in URL":        {func(c *channelRow) { c.rawURL = "https://example.com/a b" }, "url"},
		"redacted URL":        {func(c *channelRow) { c.rawURL = "https://hooks.slack.com/services/***" }, "url"},
		"huge URL":            {func(c *channelRow) { c.rawURL = "https://example.com/" + strings.Repeat("a", 2000) }, "url"},
		"unknown kind":        {func(c *channelRow) { c.Kind = "pager" }, "kind"},
		"no events":           {func(c *channelRow) { c.Events = nil }, "events"},
		"unknown event":       {func(c *channelRow) { c.Events = []string{"check_failed", "disk_full"} }, "events"},
		"SQL-looking event":   {func(c *channelRow) { c.Events = []string{"'; DROP TABLE x; --"} }, "events"},
		"process variable":    {func(c *channelRow) { c.SecretEnv = "HOME" }, "secret_env"},
		"lower-case variable": {func(c *channelRow) { c.SecretEnv = "slack_secret" }, "secret_env"},
		"glob file":           {func(c *channelRow) { c.SecretFile = "/run/secrets/*" }, "secret_file"},
		"non-UTF-8 file":      {func(c *channelRow) { c.SecretFile = "/run/\xff" }, "secret_file"},
		"secret as env name":  {func(c *channelRow) { c.SecretEnv = "s3cr3t-value!" }, "secret_env"},
		"bcdr's own variable": {func(c *channelRow) { c.SecretEnv = "BCDR_DATABASE_URL" }, "secret_env"},
		"database URL":        {func(c *channelRow) { c.SecretEnv = "DATABASE_URL" }, "secret_env"},
		"both references":     {func(c *channelRow) { c.SecretEnv, c.SecretFile = "A", "/run/a" }, "secret_env"},
		"unexposed variable":  {func(c *channelRow) { c.SecretEnv = "AWS_SECRET_ACCESS_KEY" }, "secret_env"},
		"file elsewhere":      {func(c *channelRow) { c.SecretFile = "/etc/shadow" }, "secret_file"},
		"secret as file":      {func(c *channelRow) { c.SecretFile = "hunter2" }, "secret_file"},
		"traversal file":      {func(c *channelRow) { c.SecretFile = "/run/../etc/shadow" }, "secret_file"},
		"no name":             {func(c *channelRow) { c.Name = "" }, "name"},
		"control in name":     {func(c *channelRow) { c.Name = "ops\x1b[2J" }, "name"},
		"non-UTF-8 name":      {func(c *channelRow) { c.Name = "ops\xff" }, "name"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := valid()
			tc.edit(&c)
			err := c.validate(testSecrets)
			require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
			require.Equal(t, tc.field, orchestrator.ErrorFields(err)[0].Field, "%v", err)
		})
	}
	c := valid()
	require.NoError(t, c.validate(testSecrets))
	c.rawURL, c.SecretFile = "http://10.0.0.5:8080/hook?team=dr", "/run/secrets/hook"
	require.NoError(t, c.validate(testSecrets))
}

func TestChannelApply(t *testing.T) {
	c := channelRow{Channel: Channel{SecretFile: "/run/old"}}
	env := "HOOK"
	c.apply(ChannelInput{SecretEnv: &env, Events: []string{"rpo_breached", "check_failed", "rpo_breached"}})
	require.Equal(t, "HOOK", c.SecretEnv)
	require.Empty(t, c.SecretFile, "naming a variable replaces the file")
	require.Equal(t, []string{"check_failed", "rpo_breached"}, c.Events)
	c.apply(ChannelInput{Events: []string{"check_failed", "*"}})
	require.Equal(t, []string{"*"}, c.Events)
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/XYZ":      "https://hooks.slack.com/services/***",
		"https://example.com":                             "https://example.com",
		"https://example.com/hook":                        "https://example.com/hook",
		"http://10.0.0.5:8080/hooks/bcdr?token=abc":       "http://10.0.0.5:8080/hooks/***?***",
		"https://x.webhook.office.com/webhookb2/abc@d/IW": "https://x.webhook.office.com/webhookb2/***",
	} {
		require.Equal(t, want, redactURL(in), in)
	}
}

func TestEventNormalize(t *testing.T) {
	e := Event{Type: EventRPOBreached, Subject: "ci/db1\x00", Summary: strings.Repeat("x", 5000) + "\x1b", Details: map[string]any{
		"big": strings.Repeat("y", maxDetailsBytes)}}
	require.NoError(t, e.normalize())
	require.Equal(t, "ci/db1", e.Subject)
	require.LessOrEqual(t, len(e.Summary), maxSummaryBytes)
	require.Equal(t, SeverityInfo, e.Severity)
	require.NotEmpty(t, e.Occurrence)
	require.Contains(t, e.Details["omitted"], "more than")
}

// Whatever URL is stored, validation accepts exactly the absolute http(s)
// URLs a webhook may post to and names the url field otherwise, and the
// redacted form never shows more than the first path segment or any of the
// query.
func FuzzChannelURL(f *testing.F) {
	for _, s := range []string{"https://hooks.slack.com/services/T0/B0/XYZ", "http://h:1/a?b=c", "https://[::1]/x/y", "ftp://x", "%", "https://a/%zz/b",
		"https://user:pw@h/x", "https://h/x#frag", "https://h/***", "https://h/a b", "https:///x", "", "https://h/" + strings.Repeat("a", 2000), "HTTPS://h/x", "http:h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c := channelRow{Channel: Channel{Name: "x", Kind: KindWebhook, Events: []string{"*"}}, rawURL: raw}
		err := c.validate(testSecrets)
		u, perr := url.Parse(raw)
		postable := perr == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Opaque == "" &&
			u.User == nil && u.Fragment == "" && len(raw) <= 2000 && !strings.Contains(raw, redactedMark) &&
			!strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f })
		if postable && err != nil {
			t.Fatalf("a postable URL %q was refused: %v", raw, err)
		}
		if !postable {
			var oe *orchestrator.Error
			if !errors.As(err, &oe) || oe.Code != orchestrator.EINVALID || len(oe.Fields) != 1 || oe.Fields[0].Field != "url" || oe.Fields[0].Message == "" {
				t.Fatalf("URL %q: want one invalid-input problem naming url, got %#v", raw, err)
			}
		}
		red := redactURL(raw)
		if u, err := url.Parse(raw); err == nil && u.RawQuery != "" {
			// The query may look like the path ("A?A"); what follows the
			// "?" must be the mark alone.
			if _, shown, _ := strings.Cut(red, "?"); shown != redactedMark {
				t.Fatalf("query %q shown in %q", u.RawQuery, red)
			}
		}
		if strings.Count(strings.SplitN(red, "?", 2)[0], "/") > 4 {
			t.Fatalf("more than one path segment shown: %q", red)
		}
	})
}
