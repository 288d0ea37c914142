package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/netip"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// Bounds of email channels and of what sending one reads.
const (
	maxRecipients  = 20
	maxCAFileBytes = 1 << 20
	maxReplyBytes  = 300
)

// errEmailNotConfigured is why an email channel is neither created nor
// sent on a server without SMTP settings.
var errEmailNotConfigured = errors.New("email is not configured on this server: set BCDR_SMTP_ADDR and BCDR_SMTP_FROM")

// parseMailto returns the recipients a mailto: URL lists: 1 to
// maxRecipients plain ASCII addresses (name@domain, no display name),
// separated by commas, percent-encoding allowed, no query. The error's
// text is a message for the field holding raw.
func parseMailto(raw string) ([]string, error) {
	switch {
	case raw == "":
		return nil, errors.New("is required")
	case len(raw) > 2000 || strings.ContainsFunc(raw, func(r rune) bool { return r < 0x21 || r == 0x7f }):
		return nil, errors.New("must be a mailto: URL of at most 2000 bytes without spaces or control characters")
	case strings.Contains(raw, redactedMark):
		return nil, errors.New("is the redacted form this API returns; send the full URL")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Scheme != "mailto" || u.Opaque == "":
		return nil, fmt.Errorf("must be a mailto: URL listing 1 to %d recipients, as mailto:ops@example.org,cfo@example.org", maxRecipients)
	case u.RawQuery != "" || u.ForceQuery:
		return nil, errors.New("must not have a query such as ?subject=: the subject and body are the event's")
	case u.Fragment != "":
		return nil, errors.New("must not have a #fragment")
	}
	list := strings.Split(u.Opaque, ",")
	if len(list) > maxRecipients {
		return nil, fmt.Errorf("lists %d recipients; at most %d", len(list), maxRecipients)
	}
	out := make([]string, 0, len(list))
	for _, a := range list {
		a, err := url.PathUnescape(a)
		switch {
		case err != nil:
			return nil, errors.New("has a malformed percent-escape")
		case a == "":
			return nil, errors.New("lists an empty recipient; separate addresses with single commas")
		case !isMailbox(a):
			return nil, fmt.Errorf("lists %q, which is not an email address (name@example.org, without a display name)", truncate(a, 60))
		case slices.ContainsFunc(out, func(b string) bool { return strings.EqualFold(a, b) }):
			return nil, fmt.Errorf("lists %q twice", truncate(a, 60))
		}
		out = append(out, a)
	}
	return out, nil
}

// isMailbox reports whether a is an ASCII address that net/mail accepts
// exactly as given: no display name, angle brackets, comments or quotes
// that would change it.
func isMailbox(a string) bool {
	if strings.ContainsFunc(a, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return false
	}
	addr, err := mail.ParseAddress(a)
	return err == nil && addr.Name == "" && addr.Address == a
}

// checkMailto records on v, under field, why raw is not an email
// channel's URL.
func checkMailto(v *orchestrator.Validation, field, raw string) {
	if _, err := parseMailto(raw); err != nil {
		v.Add(field, "%s", err)
	}
}

// domainText is what a redacted address may show of its domain.
var domainText = regexp.MustCompile(`^[A-Za-z0-9.-]{1,253}$`)

// redactMailto shows a mailto: URL as its first recipient's domain and
// the number of recipients: addresses are personal data.
func redactMailto(u *url.URL) string {
	list := strings.Split(u.Opaque, ",")
	out := "mailto:" + redactedMark
	first, _ := url.PathUnescape(list[0])
	if i := strings.LastIndexByte(first, '@'); i >= 0 && domainText.MatchString(first[i+1:]) {
		out += "@" + first[i+1:]
	}
	if len(list) > 1 {
		out += fmt.Sprintf(" (%d recipients)", len(list))
	}
	if u.RawQuery != "" {
		out += "?" + redactedMark
	}
	return out
}

// SMTPTLS is how the connection to the mail server is protected.
type SMTPTLS string

// TLS modes.
const (
	// SMTPStartTLS upgrades the connection with STARTTLS, and sends nothing
	// to a server that does not offer it.
	SMTPStartTLS SMTPTLS = "starttls"
	// SMTPImplicitTLS speaks TLS from the first byte (port 465).
	SMTPImplicitTLS SMTPTLS = "tls"
	// SMTPNoTLS sends in the clear: only to a relay on loopback.
	SMTPNoTLS SMTPTLS = "none"
)

// SMTP is the mail server email channels are sent through and how to
// talk to it. The password is a private reference (secretref's
// ValidatePrivate: a secret nobody else may reference), resolved at every
// send; it is never stored, logged or returned.
type SMTP struct {
	// Addr is the server's host:port.
	Addr string
	// From is the sender, an address with or without a display name.
	From string
	// HelloName is the name given in EHLO [this host's name].
	HelloName string
	// Username, when set, logs in with AUTH PLAIN, only over TLS.
	Username string
	// Password references the password: an environment variable or a file
	// that secret references may not name; required with Username.
	Password secretref.Ref
	// TLS is how the connection is protected [SMTPStartTLS].
	TLS SMTPTLS
	// CAFile is a PEM file of the certificates the server's must chain to,
	// for a server with a private CA [the system's roots].
	CAFile string
}

// mode is the TLS mode, defaulted.
func (s SMTP) mode() SMTPTLS {
	if s.TLS == "" {
		return SMTPStartTLS
	}
	return s.TLS
}

// Check returns every reason s cannot be used, each naming the variable
// that sets it (BCDR_SMTP_*), or nil; the password's reference must name
// what secrets does not expose.
func (s SMTP) Check(secrets secretref.Policy) error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	host, port, err := net.SplitHostPort(s.Addr)
	switch {
	case s.Addr == "":
		bad("BCDR_SMTP_ADDR is required to send email (host:port, as smtp.example.org:587)")
	case err != nil || host == "" || !validPort(port) || strings.ContainsFunc(s.Addr, unicode.IsSpace):
		bad("BCDR_SMTP_ADDR %q: must be host:port, as smtp.example.org:587", s.Addr)
	}
	if s.From == "" {
		bad("BCDR_SMTP_FROM is required to send email (an address, as bcdr@example.org)")
	} else if _, err := s.from(); err != nil {
		bad("BCDR_SMTP_FROM %q: %v", s.From, err)
	}
	if s.HelloName != "" && !domainText.MatchString(s.HelloName) {
		bad("BCDR_SMTP_HELLO %q: must be this host's name, as bcdr.example.org", s.HelloName)
	}
	switch {
	case s.Username == "" && (s.Password.Env != "" || s.Password.File != ""):
		bad("BCDR_SMTP_USERNAME is required when BCDR_SMTP_PASSWORD_ENV or BCDR_SMTP_PASSWORD_FILE is set")
	case s.Username != "":
		if len(s.Username) > 256 || strings.ContainsFunc(s.Username, unicode.IsControl) {
			bad("BCDR_SMTP_USERNAME must be text of at most 256 bytes without control characters")
		}
		var v orchestrator.Validation
		secrets.ValidatePrivate(s.Password, &v, "BCDR_SMTP_PASSWORD_ENV", "BCDR_SMTP_PASSWORD_FILE", true)
		for _, f := range orchestrator.ErrorFields(v.Err()) {
			bad("%s %s", f.Field, f.Message)
		}
	}
	switch s.mode() {
	case SMTPStartTLS, SMTPImplicitTLS:
	case SMTPNoTLS:
		if host != "" && !isLoopbackHost(host) {
			bad("BCDR_SMTP_TLS \"none\" sends mail and password in the clear: it is allowed only when BCDR_SMTP_ADDR "+
				"is a loopback address (127.0.0.1, ::1 or localhost), not %q", host)
		}
		if s.CAFile != "" {
			bad("BCDR_SMTP_CA_FILE is of no use with BCDR_SMTP_TLS \"none\"")
		}
	default:
		bad("BCDR_SMTP_TLS %q: must be starttls, tls or none", s.TLS)
	}
	if s.CAFile != "" && (len(s.CAFile) > secretref.MaxPathBytes || strings.ContainsFunc(s.CAFile, unicode.IsControl)) {
		bad("BCDR_SMTP_CA_FILE %q: must be the path of a PEM file", truncate(s.CAFile, 60))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// from is the sender's address.
func (s SMTP) from() (*mail.Address, error) {
	a, err := mail.ParseAddress(s.From)
	if err != nil || !isMailbox(a.Address) {
		return nil, errors.New(`must be an email address, optionally with a name: "bcdr <bcdr@example.org>"`)
	}
	return a, nil
}

// validPort reports whether p is a TCP port number.
func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}

// isLoopbackHost reports whether host names this machine: localhost or a
// loopback address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// tlsConfig is how the server's certificate is checked: against host,
// chained to the CA file's certificates or to the system's.
func (s SMTP) tlsConfig(host string) (*tls.Config, error) {
	conf := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if s.CAFile == "" {
		return conf, nil
	}
	f, err := os.Open(s.CAFile)
	if err != nil {
		return nil, fmt.Errorf("read the SMTP CA file (BCDR_SMTP_CA_FILE): %w", err)
	}
	defer f.Close()
	pem, err := io.ReadAll(io.LimitReader(f, maxCAFileBytes))
	if err != nil {
		return nil, fmt.Errorf("read the SMTP CA file (BCDR_SMTP_CA_FILE): %w", err)
	}
	conf.RootCAs = x509.NewCertPool()
	if !conf.RootCAs.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("the SMTP CA file %s (BCDR_SMTP_CA_FILE) holds no PEM certificate", s.CAFile)
	}
	return conf, nil
}

// Attachment is a file an email carries.
type Attachment struct {
	// Filename is the name the recipient sees; path components are dropped.
	Filename string
	// ContentType is the file's media type [application/octet-stream].
	ContentType string
	// Body is the file's content.
	Body []byte
}

// AttachmentSource gives the files an event's emails carry, such as the
// report a report_ready event announces. It is asked at every attempt
// (the event's Details numbers are json.Number); an error fails the
// attempt, which is retried.
type AttachmentSource interface {
	Attachments(ctx context.Context, e Event) ([]Attachment, error)
}

// sendEmail makes one attempt of an email channel's row: mail the event,
// with its attachments, to the channel's recipients.
func (d *Deliverer) sendEmail(ctx context.Context, it claimed, ev Event) outcome {
	settings := d.opts.SMTP
	if settings == nil {
		return outcome{err: errEmailNotConfigured}
	}
	if err := settings.Check(d.opts.Secrets); err != nil {
		return outcome{err: fmt.Errorf("email settings: %w", err)}
	}
	rcpts, err := parseMailto(it.url)
	if err != nil {
		return outcome{err: fmt.Errorf("channel url %s %w", redactURL(it.url), err)}
	}
	x := &smtpExchange{settings: settings, rcpts: rcpts, timeout: d.opts.RequestTimeout}
	x.host, _, _ = net.SplitHostPort(settings.Addr)
	if settings.Username != "" {
		x.password, err = d.opts.Secrets.ResolvePrivate(settings.Password, d.opts.LookupEnv)
		switch {
		case errors.Is(err, secretref.ErrNotSet):
			return outcome{err: fmt.Errorf("SMTP password: %w on replica %s", err, d.opts.Replica)}
		case err != nil:
			return outcome{err: fmt.Errorf("SMTP password: %w", err)}
		}
	}
	var files []Attachment
	if d.opts.Attachments != nil {
		if files, err = d.opts.Attachments.Attachments(ctx, ev); err != nil {
			return outcome{err: fmt.Errorf("attachments of %s %s: %w", ev.Type, ev.Subject, err)}
		}
	}
	from, _ := settings.from()
	msg := composeEmail(emailMessage{from: from, to: rcpts, event: ev, key: it.key, date: d.rt.Now(), files: files})
	return x.send(ctx, from.Address, msg)
}

// smtpExchange is one conversation with the mail server.
type smtpExchange struct {
	settings *SMTP
	host     string
	password []byte
	rcpts    []string
	timeout  time.Duration
}

// send delivers msg from from to the exchange's recipients, within the
// timeout: connect, protect the connection, log in, hand the message
// over. Recipients refused with a permanent (5xx) reply are left out; a
// temporary (4xx) refusal of any fails the attempt, so that a retry reaches
// everyone with one message.
func (x *smtpExchange) send(ctx context.Context, from string, msg []byte) outcome {
	mode := x.settings.mode()
	tlsConf, err := x.settings.tlsConfig(x.host)
	if err != nil {
		return outcome{err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, x.timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", x.settings.Addr)
	if err != nil {
		return x.failure(ctx, "connect", err)
	}
	defer conn.Close()
	// Whatever the server does, the exchange ends with ctx: at the
	// timeout, at shutdown, when the lease is lost.
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	if mode == SMTPNoTLS {
		if a, ok := conn.RemoteAddr().(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
			return outcome{err: fmt.Errorf("SMTP server %s is at %s, not on loopback: BCDR_SMTP_TLS \"none\" sends only to a loopback address", x.settings.Addr, conn.RemoteAddr())}
		}
	}
	if mode == SMTPImplicitTLS {
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return x.failure(ctx, "the TLS handshake", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, x.host)
	if err != nil {
		return x.failure(ctx, "the greeting", err)
	}
	defer func() { _ = c.Quit() }()
	if err := c.Hello(x.helloName()); err != nil {
		return x.failure(ctx, "EHLO", err)
	}
	if mode == SMTPStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return outcome{err: fmt.Errorf("SMTP server %s does not offer STARTTLS; nothing sent in the clear (BCDR_SMTP_TLS is starttls)", x.settings.Addr)}
		}
		if err := c.StartTLS(tlsConf); err != nil {
			return x.failure(ctx, "STARTTLS", err)
		}
	}
	if x.password != nil {
		if ok, _ := c.Extension("AUTH"); !ok {
			return outcome{err: fmt.Errorf("SMTP server %s does not offer AUTH; cannot log in as BCDR_SMTP_USERNAME", x.settings.Addr)}
		}
		if err := c.Auth(smtp.PlainAuth("", x.settings.Username, string(x.password), x.host)); err != nil {
			return x.failure(ctx, "AUTH", err)
		}
	}
	if err := c.Mail(from); err != nil {
		return x.failure(ctx, "MAIL FROM", err)
	}
	var refused []string
	lastCode := 0
	for i, r := range x.rcpts {
		err := c.Rcpt(r)
		var te *textproto.Error
		switch {
		case err == nil:
		case errors.As(err, &te) && te.Code >= 500:
			refused = append(refused, fmt.Sprintf("recipient %d with %d %s", i+1, te.Code, x.scrub(te.Msg)))
			lastCode = te.Code
		default:
			return x.failure(ctx, fmt.Sprintf("RCPT TO (recipient %d)", i+1), err)
		}
	}
	if len(refused) == len(x.rcpts) {
		return outcome{code: lastCode, err: fmt.Errorf("SMTP server %s refused every recipient: %s", x.settings.Addr, strings.Join(refused, "; "))}
	}
	w, err := c.Data()
	if err != nil {
		return x.failure(ctx, "DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return x.failure(ctx, "the message", err)
	}
	if err := w.Close(); err != nil {
		return x.failure(ctx, "the message", err)
	}
	out := outcome{code: 250}
	if len(refused) > 0 {
		out.note = fmt.Sprintf("delivered to %d of %d recipients; SMTP server %s refused %s",
			len(x.rcpts)-len(refused), len(x.rcpts), x.settings.Addr, strings.Join(refused, "; "))
	}
	return out
}

// helloName is the name EHLO gives: the configured one, else this host's.
func (x *smtpExchange) helloName() string {
	if x.settings.HelloName != "" {
		return x.settings.HelloName
	}
	if h, err := os.Hostname(); err == nil && domainText.MatchString(h) {
		return h
	}
	return "localhost"
}

// failure is a step that went wrong, as last_error tells it: the
// server's reply code and text when it answered, else what became of the
// connection. The password and the recipients' addresses are scrubbed
// from whatever the server said.
func (x *smtpExchange) failure(ctx context.Context, step string, err error) outcome {
	var te *textproto.Error
	var ne net.Error
	switch {
	case errors.As(err, &te):
		return outcome{code: te.Code, err: fmt.Errorf("SMTP server %s answered %s with %d %s", x.settings.Addr, step, te.Code, x.scrub(te.Msg))}
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return outcome{err: fmt.Errorf("SMTP server %s: no answer to %s within %s", x.settings.Addr, step, x.timeout)}
	}
	return outcome{err: fmt.Errorf("SMTP server %s, %s: %s", x.settings.Addr, step, x.scrub(err.Error()))}
}

// scrub makes a server's text fit for last_error: one line, clipped,
// without the password or the recipients' addresses.
func (x *smtpExchange) scrub(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(x.password) > 0 {
		s = strings.ReplaceAll(s, string(x.password), redactedMark)
	}
	for i, r := range x.rcpts {
		s = regexp.MustCompile(`(?i)`+regexp.QuoteMeta(r)).ReplaceAllLiteralString(s, "recipient "+strconv.Itoa(i+1))
	}
	return clip(s, maxReplyBytes)
}
