package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

// selfSigned writes a certificate for 127.0.0.1 and its key into dir and
// returns their paths and the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "bcdr test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err = x509.ParseCertificate(der)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile, cert
}

func TestServeTLS(t *testing.T) {
	certFile, keyFile, cert := selfSigned(t, t.TempDir())
	p := startServe(t, "DATABASE_URL="+pgtest.NewURL(t), "BCDR_DATA_DIR="+t.TempDir(),
		"BCDR_TLS_CERT="+certFile, "BCDR_TLS_KEY="+keyFile)
	var addr string
	select {
	case addr = <-p.addr:
	case err := <-p.done:
		t.Fatalf("bcdr exited before serving: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("bcdr did not start listening within 60s")
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}

	resp, err := client.Get("https://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "max-age=31536000", resp.Header.Get("Strict-Transport-Security"))
	require.GreaterOrEqual(t, resp.TLS.Version, uint16(tls.VersionTLS12))

	// An error answer carries the header too.
	resp, err = client.Get("https://" + addr + "/api/v1/whoami")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Equal(t, "max-age=31536000", resp.Header.Get("Strict-Transport-Security"))

	// TLS 1.1 is refused, and so is plain HTTP.
	old := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		RootCAs: roots, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}}
	_, err = old.Get("https://" + addr + "/healthz")
	require.Error(t, err)
	resp, err = http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	p.stop(t)
}

func TestServeTLSMisconfigured(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile, _ := selfSigned(t, dir)
	otherCert, _, _ := selfSigned(t, t.TempDir())
	for name, tc := range map[string]struct {
		env  []string
		want string
	}{
		"cert without key":   {[]string{"BCDR_TLS_CERT=" + certFile}, "BCDR_TLS_KEY is required when BCDR_TLS_CERT is set"},
		"key without cert":   {[]string{"BCDR_TLS_KEY=" + keyFile}, "BCDR_TLS_CERT is required when BCDR_TLS_KEY is set"},
		"missing cert file":  {[]string{"BCDR_TLS_CERT=" + filepath.Join(dir, "nope.pem"), "BCDR_TLS_KEY=" + keyFile}, "read BCDR_TLS_CERT: open " + filepath.Join(dir, "nope.pem")},
		"missing key file":   {[]string{"BCDR_TLS_CERT=" + certFile, "BCDR_TLS_KEY=" + filepath.Join(dir, "nope.pem")}, "read BCDR_TLS_KEY: open " + filepath.Join(dir, "nope.pem")},
		"key of another one": {[]string{"BCDR_TLS_CERT=" + otherCert, "BCDR_TLS_KEY=" + keyFile}, "load BCDR_TLS_CERT " + otherCert + " with BCDR_TLS_KEY " + keyFile},
		"not PEM":            {[]string{"BCDR_TLS_CERT=" + keyFile, "BCDR_TLS_KEY=" + certFile}, "load BCDR_TLS_CERT"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// The database is not there: TLS is checked before it is reached.
			_, stderr, code := runBCDR(t, append(noDatabase(t), tc.env...), "serve", "--listen", "127.0.0.1:0")
			require.Equal(t, 1, code, stderr)
			require.Contains(t, stderr, tc.want)
		})
	}
}

func TestTLSBaseURL(t *testing.T) {
	t.Parallel()
	for env, want := range map[string]string{
		"":                "http://127.0.0.1:8080",
		"BCDR_TLS_CERT=c": "https://127.0.0.1:8080",
	} {
		vars := map[string]string{"BCDR_DATA_DIR": t.TempDir()}
		if env != "" {
			vars["BCDR_TLS_CERT"], vars["BCDR_TLS_KEY"] = "c", "k"
		}
		cfg, err := parseConfig(vars, flag.NewFlagSet("serve", flag.ContinueOnError))
		require.NoError(t, err)
		require.NoError(t, cfg.check())
		require.Equal(t, want, cfg.BaseURL)
	}
}
