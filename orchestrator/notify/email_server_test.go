package notify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"
)

// smtpUser and smtpPassword are the test server's account.
const (
	smtpUser     = "bcdr-mailer"
	smtpPassword = "s3cret-SMTP-pw"
)

// mailServer is a real SMTP server on loopback (go-smtp): it offers
// STARTTLS with a certificate of its own CA and AUTH PLAIN over TLS only,
// requires the test account to log in unless it has no TLS, and keeps
// what it receives.
type mailServer struct {
	Addr string
	// CAFile holds the certificate clients must trust.
	CAFile string
	// tempFail is how many RCPT commands still get 451.
	tempFail atomic.Int32
	// refuse gets 550 to RCPT.
	refuse []string
	// mails counts MAIL commands, accepted or not.
	mails atomic.Int32
	// open takes mail without a login.
	open bool

	mu   sync.Mutex
	got  []receivedMail
	cert tls.Certificate
}

// receivedMail is one message the server accepted.
type receivedMail struct {
	From string
	To   []string
	Data []byte
}

// serverMode is how the test server listens.
type serverMode int

const (
	offerStartTLS serverMode = iota
	plainOnly                // no STARTTLS and no AUTH: anyone may send
	implicitTLS              // TLS from the first byte
)

// newMailServer starts a server in mode; refuse lists recipients it
// refuses permanently. It is closed when the test ends.
func newMailServer(t *testing.T, logs io.Writer, mode serverMode, refuse ...string) *mailServer {
	t.Helper()
	m := &mailServer{refuse: refuse, open: mode == plainOnly}
	m.cert, m.CAFile = testCertificate(t)
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{server: m}, nil }))
	s.Domain = "localhost"
	s.AllowInsecureAuth = false
	s.ReadTimeout, s.WriteTimeout = time.Minute, time.Minute
	s.ErrorLog = log.New(logs, "smtp server: ", 0)
	tlsConf := &tls.Config{Certificates: []tls.Certificate{m.cert}, MinVersion: tls.VersionTLS12}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	switch mode {
	case offerStartTLS:
		s.TLSConfig = tlsConf
	case implicitTLS:
		l = tls.NewListener(l, tlsConf)
	}
	m.Addr = l.Addr().String()
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close(); <-done })
	return m
}

// received returns the messages accepted so far.
func (m *mailServer) received() []receivedMail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.got)
}

// mailSession is one client's conversation.
type mailSession struct {
	server *mailServer
	authed bool
	from   string
	to     []string
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if username != smtpUser || password != smtpPassword {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.server.mails.Add(1)
	if !s.authed && !s.server.open {
		return smtp.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.server.tempFail.Load() > 0 {
		s.server.tempFail.Add(-1)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: to + " greylisted, try again later"}
	}
	if slices.Contains(s.server.refuse, to) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + to + ">: Recipient address rejected"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(s.to) == 0 {
		return errors.New("no recipients")
	}
	s.server.mu.Lock()
	defer s.server.mu.Unlock()
	s.server.got = append(s.server.got, receivedMail{From: s.from, To: slices.Clone(s.to), Data: b})
	return nil
}

func (s *mailSession) Reset() { s.from, s.to = "", nil }

func (s *mailSession) Logout() error { return nil }

// testCertificate is a self-signed certificate for 127.0.0.1 and
// localhost, and the PEM file a client trusts it through.
func testCertificate(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bcdr test mail server"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "smtp-ca.pem")
	require.NoError(t, os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, file
}
