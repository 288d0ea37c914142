package notify

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/outbound/outboundtest"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// emailSetup is the harness with a mail server in mode: the service may
// create email channels, and the SMTP password is in an exposed variable.
func emailSetup(t *testing.T, mode serverMode, refuse ...string) (*harness, *mailServer) {
	t.Helper()
	h := setup(t)
	srv := newMailServer(t, h.log, mode, refuse...)
	h.svc = NewService(h.pool, orchestrator.Runtime{}, h.secrets, WithSMTP(smtpSettings(srv)))
	h.env["SMTP_PASSWORD"] = smtpPassword
	return h, srv
}

// smtpSettings send through srv as the test account, over STARTTLS.
func smtpSettings(srv *mailServer) *SMTP {
	return &SMTP{Addr: srv.Addr, From: "bcdr <bcdr@example.org>", HelloName: "bcdr.test", Username: smtpUser,
		Password: secretref.Ref{Env: "SMTP_PASSWORD"}, CAFile: srv.CAFile}
}

// fakeAttachments gives every event the same files, or fails.
type fakeAttachments struct {
	files []Attachment
	err   error
	asked atomic.Int32
}

func (f *fakeAttachments) Attachments(_ context.Context, _ Event) ([]Attachment, error) {
	f.asked.Add(1)
	return f.files, f.err
}

// parsedMail is a received message, decoded.
type parsedMail struct {
	header  mail.Header
	subject string
	text    string
	files   map[string][]byte
}

// parseMail decodes a message as a mail client would, checking that its
// base64 lines are at most 76 characters.
func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	require.NoError(t, err)
	m := parsedMail{header: msg.Header, files: map[string][]byte{}}
	m.subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	require.Equal(t, "multipart/mixed", mt)
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		body, err := io.ReadAll(p)
		require.NoError(t, err)
		if p.FileName() == "" {
			require.Equal(t, "text/plain; charset=UTF-8", p.Header.Get("Content-Type"))
			m.text = string(body)
			continue
		}
		require.Equal(t, "base64", p.Header.Get("Content-Transfer-Encoding"))
		lines := strings.Fields(string(body))
		for _, l := range lines {
			require.LessOrEqual(t, len(l), 76)
		}
		m.files[p.FileName()], err = base64.StdEncoding.DecodeString(strings.Join(lines, ""))
		require.NoError(t, err)
	}
	return m
}

// A published event reaches an email channel: one message to every
// recipient, over STARTTLS after logging in, its Chinese subject and
// attachment names decoded back, its attachment byte for byte, and a file
// too large to attach named with where it is.
func TestEmailDelivered(t *testing.T) {
	h, srv := emailSetup(t, offerStartTLS)
	ch := h.channel("executives", KindEmail, "mailto:cfo@example.org,ops%40example.org", []string{"report_ready"}, nil)
	require.Equal(t, "mailto:***@example.org (2 recipients)", ch.URL)
	rcv := outboundtest.NewReceiver(t)
	h.channel("hook", KindWebhook, rcv.URL, []string{"*"}, nil)
	pdf := make([]byte, 100_000)
	for i := range pdf {
		pdf[i] = byte(i * 7)
	}
	files := &fakeAttachments{files: []Attachment{
		{Filename: "reports/季度恢复报告 2026-Q1.pdf", ContentType: "application/pdf", Body: pdf},
		{Filename: "evidence.zip", ContentType: "application/zip", Body: make([]byte, maxAttachmentBytes)},
	}}
	e := Event{Type: EventReportReady, Subject: "report/税务申报系统", Summary: "季度恢复就绪报告已生成",
		Severity: SeverityInfo, OccurredAt: time.Date(2026, 4, 1, 8, 0, 0, 0, time.UTC), Occurrence: "run/9",
		Details: map[string]any{"url": "https://bcdr.example.org/reports/9", "pages": 12}}
	h.publish(e)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	d := h.delivererOn(orchestrator.SystemClock{}, "r1", Options{SMTP: smtpSettings(srv), Attachments: files})
	go func() { defer close(done); _ = d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	eventually.True(t, func() bool { return h.only(ch.ID).Status == DeliveryDelivered && len(rcv.Requests()) == 1 },
		"the email and the webhook are delivered")
	require.Equal(t, int32(1), files.asked.Load(), "only email channels ask for attachments")

	got := h.only(ch.ID)
	require.Equal(t, 250, *got.LastStatusCode)
	require.Empty(t, got.LastError)
	mails := srv.received()
	require.Len(t, mails, 1)
	require.Equal(t, "bcdr@example.org", mails[0].From)
	require.Equal(t, []string{"cfo@example.org", "ops@example.org"}, mails[0].To)
	require.NotContains(t, string(mails[0].Data), smtpPassword)

	m := parseMail(t, mails[0].Data)
	require.Equal(t, "INFO: report ready — report/税务申报系统", m.subject)
	require.Equal(t, "<"+got.IdempotencyKey+"@example.org>", m.header.Get("Message-ID"))
	require.Equal(t, `"bcdr" <bcdr@example.org>`, m.header.Get("From"))
	require.Equal(t, "cfo@example.org, ops@example.org", m.header.Get("To"))
	require.Equal(t, "1.0", m.header.Get("MIME-Version"))
	require.Equal(t, "report_ready", m.header.Get("X-Bcdr-Event"))
	date, err := m.header.Date()
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), date, time.Hour)

	require.Contains(t, m.text, "季度恢复就绪报告已生成\r\n")
	require.Contains(t, m.text, "Subject: report/税务申报系统\r\n")
	require.Contains(t, m.text, "Occurred: 2026-04-01 08:00:00 UTC\r\n")
	require.Contains(t, m.text, "pages: 12\r\n")
	require.Contains(t, m.text, "- 季度恢复报告 2026-Q1.pdf (97.7 KiB)")
	require.Contains(t, m.text, "Too large to attach (at most 20.0 MiB in all). They are at https://bcdr.example.org/reports/9")
	require.Contains(t, m.text, "- evidence.zip (20.0 MiB)")
	require.Equal(t, map[string][]byte{"季度恢复报告 2026-Q1.pdf": pdf}, m.files)
	require.Equal(t, 1.0, h.counter("delivered", "email"))
}

// A delivery sent again after its replica died before recording it (the
// lease expired) carries the same Message-ID, so that mail clients show
// it once.
func TestEmailMessageIDStableAcrossResend(t *testing.T) {
	h, srv := emailSetup(t, offerStartTLS)
	ch := h.channel("ops", KindEmail, "mailto:ops@example.org", []string{"check_failed"}, nil)
	files := &fakeAttachments{}
	h.publish(event(7, "check/9"))
	ctx := context.Background()

	crashed := h.deliverer("crashed", Options{SMTP: smtpSettings(srv), Attachments: files})
	items, err := crashed.claim(ctx, 10)
	require.NoError(t, err)
	require.Len(t, items, 1)
	require.NoError(t, crashed.send(ctx, items[0]).err, "the server got it")
	// ... and the replica dies before recording anything.

	h.clock.Advance(31 * time.Second)
	require.Equal(t, 1, h.step(h.deliverer("survivor", Options{SMTP: smtpSettings(srv), Attachments: files})))
	got := h.only(ch.ID)
	require.Equal(t, DeliveryDelivered, got.Status)
	require.Equal(t, 2, got.Attempts)

	mails := srv.received()
	require.Len(t, mails, 2)
	first, second := parseMail(t, mails[0].Data), parseMail(t, mails[1].Data)
	require.Equal(t, "<"+got.IdempotencyKey+"@example.org>", first.header.Get("Message-ID"))
	require.Equal(t, first.header.Get("Message-ID"), second.header.Get("Message-ID"))
	require.Equal(t, "CRITICAL: check failed — backup-target/7", first.subject)
	require.Equal(t, first.text, second.text, "every attempt sends the same text")
	require.Empty(t, first.files)
	require.Equal(t, int32(2), files.asked.Load())
}

// A server that answers 451 to RCPT gets the delivery again after its
// backoff, and then it is delivered; the reply is in last_error without
// the recipient's address.
func TestEmailRetriesTemporaryRefusal(t *testing.T) {
	h, srv := emailSetup(t, offerStartTLS)
	srv.tempFail.Store(1)
	ch := h.channel("ops", KindEmail, "mailto:ops@example.org", []string{"*"}, nil)
	h.publish(event(1, "check/1"))
	d := h.deliverer("r1", Options{SMTP: smtpSettings(srv)})

	require.Equal(t, 1, h.step(d))
	got := h.only(ch.ID)
	require.Equal(t, DeliveryPending, got.Status)
	require.Equal(t, 451, *got.LastStatusCode)
	require.Equal(t, "SMTP server "+srv.Addr+" answered RCPT TO (recipient 1) with 451 4.7.1 recipient 1 greylisted, try again later", got.LastError)
	require.Empty(t, srv.received())

	h.clock.Advance(time.Minute)
	require.Equal(t, 1, h.step(d))
	got = h.only(ch.ID)
	require.Equal(t, DeliveryDelivered, got.Status)
	require.Equal(t, 2, got.Attempts)
	require.Len(t, srv.received(), 1)
	require.Equal(t, 1.0, h.counter("failed_attempts", "email"))
}

// A recipient refused for good (5xx) is left out and the others get the
// message; when every recipient is refused, the attempt fails.
func TestEmailRefusedRecipients(t *testing.T) {
	h, srv := emailSetup(t, offerStartTLS, "gone@example.org", "left@example.org")
	some := h.channel("some", KindEmail, "mailto:ops@example.org,gone@example.org", []string{"*"}, nil)
	all := h.channel("all", KindEmail, "mailto:left@example.org", []string{"*"}, nil)
	h.publish(event(1, "check/1"))
	require.Equal(t, 2, h.step(h.deliverer("r1", Options{SMTP: smtpSettings(srv)})))

	got := h.only(some.ID)
	require.Equal(t, DeliveryDelivered, got.Status)
	require.Equal(t, "delivered to 1 of 2 recipients; SMTP server "+srv.Addr+" refused recipient 2 with 550 5.1.1 <recipient 2>: Recipient address rejected", got.LastError)
	got = h.only(all.ID)
	require.Equal(t, DeliveryPending, got.Status)
	require.Equal(t, 550, *got.LastStatusCode)
	require.Contains(t, got.LastError, "refused every recipient: recipient 1 with 550")
	require.NotContains(t, got.LastError, "left@")
	mails := srv.received()
	require.Len(t, mails, 1)
	require.Equal(t, []string{"ops@example.org"}, mails[0].To)
}

// In starttls mode a server that does not offer STARTTLS gets nothing:
// no login, no MAIL command, and last_error says why.
func TestEmailRefusesServerWithoutSTARTTLS(t *testing.T) {
	h, srv := emailSetup(t, plainOnly)
	ch := h.channel("ops", KindEmail, "mailto:ops@example.org", []string{"*"}, nil)
	h.publish(event(1, "check/1"))
	require.Equal(t, 1, h.step(h.deliverer("r1", Options{SMTP: smtpSettings(srv)})))
	got := h.only(ch.ID)
	require.Equal(t, DeliveryPending, got.Status)
	require.Equal(t, "SMTP server "+srv.Addr+" does not offer STARTTLS; nothing sent in the clear (BCDR_SMTP_TLS is starttls)", got.LastError)
	require.Zero(t, srv.mails.Load())
	require.Empty(t, srv.received())
}

// A wrong password fails the attempt with the server's 535, and neither
// password appears in last_error.
func TestEmailWrongPassword(t *testing.T) {
	h, srv := emailSetup(t, offerStartTLS)
	h.env["SMTP_PASSWORD"] = "wrong-Pa55word"
	ch := h.channel("ops", KindEmail, "mailto:ops@example.org", []string{"*"}, nil)
	h.publish(event(1, "check/1"))
	require.Equal(t, 1, h.step(h.deliverer("r1", Options{SMTP: smtpSettings(srv)})))
	got := h.only(ch.ID)
	require.Equal(t, DeliveryPending, got.Status)
	require.Equal(t, 535, *got.LastStatusCode)
	require.Equal(t, "SMTP server "+srv.Addr+" answered AUTH with 535 5.7.8 Authentication failed", got.LastError)
	require.NotContains(t, got.LastError, "wrong-Pa55word")
	require.NotContains(t, got.LastError, smtpPassword)
	require.Zero(t, srv.mails.Load())

	// An unset variable is named, with the replica it is missing on.
	delete(h.env, "SMTP_PASSWORD")
	h.clock.Advance(time.Minute)
	require.Equal(t, 1, h.step(h.deliverer("r1", Options{SMTP: smtpSettings(srv)})))
	require.Equal(t, "SMTP password: environment variable SMTP_PASSWORD is not set on replica r1", h.only(ch.ID).LastError)
}

// Implicit TLS (port 465 style) and, toward loopback, no TLS at all
// deliver too.
func TestEmailImplicitTLSAndPlainLoopback(t *testing.T) {
	h, srv := emailSetup(t, implicitTLS)
	ch := h.channel("ops", KindEmail, "mailto:ops@example.org", []string{"*"}, nil)
	h.publish(event(1, "check/1"))
	settings := smtpSettings(srv)
	settings.TLS = SMTPImplicitTLS
	require.Equal(t, 1, h.step(h.deliverer("r1", Options{SMTP: settings})))
	require.Equal(t, DeliveryDelivered, h.only(ch.ID).Status)
	require.Len(t, srv.received(), 1)

	plain := newMailServer(t, h.log, plainOnly)
	settings = &SMTP{Addr: plain.Addr, From: "bcdr@example.org", TLS: SMTPNoTLS}
	h.publish(event(1, "check/2"))
	require.Equal(t, 1, h.step(h.deliverer("r1", Options{SMTP: settings})))
	require.Equal(t, DeliveryDelivered, h.deliveries(ch.ID)[0].Status)
	require.Len(t, plain.received(), 1)
}

// BCDR_SMTP_TLS none toward an address that is not loopback is refused
// before anything is sent, saying why.
func TestEmailNoneModeNeedsLoopback(t *testing.T) {
	h, _ := emailSetup(t, offerStartTLS)
	ch := h.channel("ops", KindEmail, "mailto:ops@example.org", []string{"*"}, nil)
	h.publish(event(1, "check/1"))
	settings := &SMTP{Addr: "192.0.2.10:25", From: "bcdr@example.org", TLS: SMTPNoTLS}
	require.Equal(t, 1, h.step(h.deliverer("r1", Options{SMTP: settings})))
	got := h.only(ch.ID)
	require.Nil(t, got.LastStatusCode)
	require.Contains(t, got.LastError, `email settings: BCDR_SMTP_TLS "none" sends mail and password in the clear: `+
		`it is allowed only when BCDR_SMTP_ADDR is a loopback address (127.0.0.1, ::1 or localhost), not "192.0.2.10"`)
}

// Without SMTP settings a server refuses to make email channels, naming
// kind, and a replica without them fails the deliveries of one that
// exists, saying what to set. An attachment source's error fails the
// attempt too.
func TestEmailNotConfigured(t *testing.T) {
	h, srv := emailSetup(t, offerStartTLS)
	ch := h.channel("ops", KindEmail, "mailto:ops@example.org", []string{"*"}, nil)
	h.publish(event(1, "check/1"))
	require.Equal(t, 1, h.step(h.deliverer("r1", Options{})))
	require.Equal(t, "email is not configured on this server: set BCDR_SMTP_ADDR and BCDR_SMTP_FROM", h.only(ch.ID).LastError)

	h.clock.Advance(time.Minute)
	failing := &fakeAttachments{err: errors.New("archive unavailable")}
	require.Equal(t, 1, h.step(h.deliverer("r1", Options{SMTP: smtpSettings(srv), Attachments: failing})))
	require.Equal(t, "attachments of check_failed backup-target/1: archive unavailable", h.only(ch.ID).LastError)
	require.Empty(t, srv.received())

	ctx := context.Background()
	plain := NewService(h.pool, orchestrator.Runtime{}, h.secrets)
	name, kind, url := "new", KindEmail, "mailto:ops@example.org"
	_, err := plain.Create(ctx, ChannelInput{Name: &name, Kind: &kind, URL: &url, Events: []string{"*"}})
	require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
	require.Equal(t, []orchestrator.FieldError{{Field: "kind", Message: "email is not configured on this server: set BCDR_SMTP_ADDR and BCDR_SMTP_FROM"}},
		orchestrator.ErrorFields(err))
	// A webhook cannot become an email channel there either, but an
	// email channel can still be renamed or disabled.
	hook := h.channel("hook", KindWebhook, "https://hooks.example.org/x", []string{"*"}, nil)
	_, err = plain.Update(ctx, hook.ID, ChannelInput{Kind: &kind, URL: &url})
	require.Equal(t, "kind", orchestrator.ErrorFields(err)[0].Field)
	off := false
	_, err = plain.Update(ctx, ch.ID, ChannelInput{Name: &name, Enabled: &off})
	require.NoError(t, err)
}

func TestEmailChannelValidation(t *testing.T) {
	valid := func() channelRow {
		return channelRow{Channel: Channel{Name: "executives", Kind: KindEmail, Events: []string{"report_ready"}},
			rawURL: "mailto:cfo@example.org"}
	}
	many := func(n int) string {
		list := make([]string, n)
		for i := range list {
			list[i] = "user" + itoa(int64(i)) + "@example.org"
		}
		return "mailto:" + strings.Join(list, ",")
	}
	cases := map[string]struct {
		edit  func(*channelRow)
		field string
	}{
		"http URL":             {func(c *channelRow) { c.rawURL = "https://hooks.example.org/x" }, "url"},
		"no recipient":         {func(c *channelRow) { c.rawURL = "mailto:" }, "url"},
		"no URL":               {func(c *channelRow) { c.rawURL = "" }, "url"},
		"subject query":        {func(c *channelRow) { c.rawURL = "mailto:cfo@example.org?subject=hi" }, "url"},
		"fragment":             {func(c *channelRow) { c.rawURL = "mailto:cfo@example.org#top" }, "url"},
		"slashes":              {func(c *channelRow) { c.rawURL = "mailto://cfo@example.org" }, "url"},
		"display name":         {func(c *channelRow) { c.rawURL = "mailto:CFO <cfo@example.org>" }, "url"},
		"encoded display name": {func(c *channelRow) { c.rawURL = "mailto:CFO%20%3Ccfo@example.org%3E" }, "url"},
		"quoted local part":    {func(c *channelRow) { c.rawURL = `mailto:"cfo"@example.org` }, "url"},
		"not an address":       {func(c *channelRow) { c.rawURL = "mailto:cfo" }, "url"},
		"empty recipient":      {func(c *channelRow) { c.rawURL = "mailto:cfo@example.org,,ops@example.org" }, "url"},
		"twice":                {func(c *channelRow) { c.rawURL = "mailto:cfo@example.org,CFO@example.org" }, "url"},
		"21 recipients":        {func(c *channelRow) { c.rawURL = many(21) }, "url"},
		"bad escape":           {func(c *channelRow) { c.rawURL = "mailto:%zz@example.org" }, "url"},
		"non-ASCII":            {func(c *channelRow) { c.rawURL = "mailto:运维@example.org" }, "url"},
		"CRLF injection":       {func(c *channelRow) { c.rawURL = "mailto:cfo@example.org%0D%0ABcc:x@evil.example" }, "url"},
		"SQL-looking":          {func(c *channelRow) { c.rawURL = "mailto:x@example.org';DROP_TABLE_x;--" }, "url"},
		"redacted form":        {func(c *channelRow) { c.rawURL = "mailto:***@example.org" }, "url"},
		"signing variable":     {func(c *channelRow) { c.SecretEnv = "BCDR_SECRET_HOOK" }, "secret_env"},
		"signing file":         {func(c *channelRow) { c.SecretFile = "/run/secrets/hook" }, "secret_file"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := valid()
			tc.edit(&c)
			err := c.validate(testSecrets)
			require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
			require.Len(t, orchestrator.ErrorFields(err), 1, "%v", err)
			require.Equal(t, tc.field, orchestrator.ErrorFields(err)[0].Field, "%v", err)
		})
	}
	for _, ok := range []string{"mailto:cfo@example.org", many(20), "mailto:ops%40example.org,dr-team+bcdr@sub.example.org", "MAILTO:cfo@example.org"} {
		c := valid()
		c.rawURL = ok
		require.NoError(t, c.validate(testSecrets), ok)
	}
	c := valid()
	c.Kind, c.rawURL = KindWebhook, "mailto:cfo@example.org"
	require.Equal(t, "url", orchestrator.ErrorFields(c.validate(testSecrets))[0].Field, "webhooks are http(s)")
}

// An email channel's URL shows the first recipient's domain and how many
// there are, never an address.
func TestEmailRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"mailto:cfo@example.org":                         "mailto:***@example.org",
		"mailto:cfo@example.org,ops@other.example,x@y.z": "mailto:***@example.org (3 recipients)",
		"mailto:cfo%40example.org":                       "mailto:***@example.org",
		"mailto:cfo@example.org?subject=hi":              "mailto:***@example.org?***",
		"mailto:cfo":                                     "mailto:***",
		"mailto:a@b/c/d/e/f/g":                           "mailto:***",
		"mailto://cfo@example.org/x":                     "mailto:***",
	} {
		require.Equal(t, want, redactURL(in), in)
	}
}

// Whatever an email channel's URL, validation accepts exactly 1 to 20
// plain addresses and names the url field otherwise, and the redacted
// form never shows an address.
func FuzzEmailURL(f *testing.F) {
	for _, s := range []string{"mailto:cfo@example.org", "mailto:a@b.org,c@d.org", "mailto:%61@b.org", "mailto:a@b.org?x", "mailto:",
		"mailto:a@b", "mailto:a@[127.0.0.1]", `mailto:"a b"@c.org`, "mailto:a@b.org#f", "https://a@b.org/", "mailto:a@b.org,A@b.org"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c := channelRow{Channel: Channel{Name: "x", Kind: KindEmail, Events: []string{"*"}}, rawURL: raw}
		err := c.validate(testSecrets)
		rcpts, perr := parseMailto(raw)
		if perr == nil {
			if err != nil || len(rcpts) < 1 || len(rcpts) > maxRecipients {
				t.Fatalf("%q: %d recipients, validation %v", raw, len(rcpts), err)
			}
			for _, r := range rcpts {
				if !isMailbox(r) || strings.ContainsAny(r, "\r\n,<>") {
					t.Fatalf("%q: recipient %q accepted", raw, r)
				}
			}
		} else if fields := orchestrator.ErrorFields(err); len(fields) != 1 || fields[0].Field != "url" {
			t.Fatalf("%q: want one problem naming url, got %v", raw, err)
		}
		if red := redactURL(raw); strings.HasPrefix(red, "mailto:") && !redactedMailto.MatchString(red) {
			t.Fatalf("%q redacted as %q shows more than a domain and a count", raw, red)
		}
	})
}

// redactedMailto is every form a redacted mailto: URL may take.
var redactedMailto = regexp.MustCompile(`^mailto:\*\*\*(@[A-Za-z0-9.-]+)?( \(\d+ recipients\))?(\?\*\*\*)?$`)

func TestSMTPCheck(t *testing.T) {
	secrets := secretref.Policy{Dir: "/run/secrets"}
	ok := func() SMTP { return SMTP{Addr: "smtp.example.org:587", From: "bcdr@example.org"} }
	for name, edit := range map[string]func(*SMTP){
		"minimal":          func(*SMTP) {},
		"login by env":     func(s *SMTP) { s.Username, s.Password.Env = "bcdr", "SMTP_PASSWORD" },
		"login by file":    func(s *SMTP) { s.Username, s.Password.File = "bcdr", "/etc/bcdr/smtp-password" },
		"implicit TLS":     func(s *SMTP) { s.Addr, s.TLS = "smtp.example.org:465", SMTPImplicitTLS },
		"none on loopback": func(s *SMTP) { s.Addr, s.TLS = "127.0.0.1:25", SMTPNoTLS },
		"none on ::1":      func(s *SMTP) { s.Addr, s.TLS = "[::1]:25", SMTPNoTLS },
		"none, localhost":  func(s *SMTP) { s.Addr, s.TLS = "localhost:25", SMTPNoTLS },
		"named sender": func(s *SMTP) {
			s.From, s.HelloName, s.CAFile = "BCDR 灾备 <bcdr@example.org>", "bcdr1.example.org", "/etc/bcdr/ca.pem"
		},
	} {
		s := ok()
		edit(&s)
		require.NoError(t, s.Check(secrets), name)
	}
	for want, edit := range map[string]func(*SMTP){
		"BCDR_SMTP_ADDR is required to send email (host:port, as smtp.example.org:587); BCDR_SMTP_FROM is required": func(s *SMTP) { *s = SMTP{} },
		`BCDR_SMTP_ADDR "smtp.example.org": must be host:port`:                                                      func(s *SMTP) { s.Addr = "smtp.example.org" },
		`BCDR_SMTP_ADDR "smtp.example.org:0": must be host:port`:                                                    func(s *SMTP) { s.Addr = "smtp.example.org:0" },
		`BCDR_SMTP_FROM "bcdr": must be an email address`:                                                           func(s *SMTP) { s.From = "bcdr" },
		`BCDR_SMTP_FROM "bcdr@example.org\r\nBcc: x@evil.example": must be`:                                         func(s *SMTP) { s.From = "bcdr@example.org\r\nBcc: x@evil.example" },
		`BCDR_SMTP_HELLO "bad name": must be this host's name`:                                                      func(s *SMTP) { s.HelloName = "bad name" },
		"BCDR_SMTP_PASSWORD_ENV is required (or BCDR_SMTP_PASSWORD_FILE)":                                           func(s *SMTP) { s.Username = "bcdr" },
		"BCDR_SMTP_PASSWORD_ENV is set by bcdr itself":                                                              func(s *SMTP) { s.Username, s.Password.Env = "bcdr", "HOME" },
		`BCDR_SMTP_PASSWORD_ENV "BCDR_SECRET_SMTP" is exposed to secret references`:                                 func(s *SMTP) { s.Username, s.Password.Env = "bcdr", "BCDR_SECRET_SMTP" },
		"BCDR_SMTP_PASSWORD_FILE is under the secrets directory /run/secrets":                                       func(s *SMTP) { s.Username, s.Password.File = "bcdr", "/run/secrets/smtp" },
		"BCDR_SMTP_USERNAME is required when BCDR_SMTP_PASSWORD_ENV":                                                func(s *SMTP) { s.Password.Env = "SMTP_PASSWORD" },
		"BCDR_SMTP_USERNAME must be text":                                                                           func(s *SMTP) { s.Username, s.Password.Env = "a\nb", "SMTP_PASSWORD" },
		`BCDR_SMTP_TLS "ssl": must be starttls, tls or none`:                                                        func(s *SMTP) { s.TLS = "ssl" },
		`allowed only when BCDR_SMTP_ADDR is a loopback address (127.0.0.1, ::1 or localhost), not "smtp.example.org"`: func(s *SMTP) {
			s.TLS = SMTPNoTLS
		},
		`not "127.0.0.1.example.org"`: func(s *SMTP) { s.Addr, s.TLS = "127.0.0.1.example.org:25", SMTPNoTLS },
		`BCDR_SMTP_CA_FILE is of no use with BCDR_SMTP_TLS "none"`: func(s *SMTP) {
			s.Addr, s.TLS, s.CAFile = "127.0.0.1:25", SMTPNoTLS, "/etc/ca.pem"
		},
	} {
		s := ok()
		edit(&s)
		require.ErrorContains(t, s.Check(secrets), want)
	}
}

// A server that refuses the connection, or accepts it and never answers,
// fails the attempt within the request timeout, and it is retried.
func TestEmailUnreachableServer(t *testing.T) {
	h, srv := emailSetup(t, offerStartTLS)
	ch := h.channel("ops", KindEmail, "mailto:ops@example.org", []string{"*"}, nil)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refusing := closed.Addr().String()
	require.NoError(t, closed.Close())
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	conns := make(chan net.Conn, 4)
	go func() {
		defer close(conns)
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			conns <- conn
		}
	}()
	t.Cleanup(func() {
		_ = silent.Close()
		for c := range conns {
			_ = c.Close()
		}
	})
	h.publish(event(1, "check/1"))

	settings := smtpSettings(srv)
	settings.Addr = refusing
	require.Equal(t, 1, h.step(h.deliverer("r1", Options{SMTP: settings})))
	got := h.only(ch.ID)
	require.Equal(t, DeliveryPending, got.Status)
	require.Contains(t, got.LastError, "SMTP server "+refusing+", connect: ")
	require.Contains(t, got.LastError, "connection refused")

	h.clock.Advance(time.Minute)
	settings.Addr = silent.Addr().String()
	require.Equal(t, 1, h.step(h.deliverer("r1", Options{SMTP: settings, RequestTimeout: 300 * time.Millisecond})))
	got = h.only(ch.ID)
	require.Equal(t, DeliveryPending, got.Status)
	require.Equal(t, 2, got.Attempts)
	require.Equal(t, "SMTP server "+silent.Addr().String()+": no answer to the greeting within 300ms", got.LastError)
	require.Empty(t, srv.received())
}
