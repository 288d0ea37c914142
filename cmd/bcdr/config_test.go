package main

import (
	"flag"
	"io"
	"maps"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// checked parses and checks a configuration from env.
func checked(t *testing.T, env map[string]string) (*config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg, err := parseConfig(env, fs)
	require.NoError(t, err)
	return cfg, cfg.check()
}

// Secret references and backup paths default to the data directory, made
// absolute; the operator's lists are read as given.
func TestConfigConfinement(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	cfg, err := checked(t, map[string]string{"BCDR_DATA_DIR": data})
	require.NoError(t, err)
	require.Equal(t, secretref.Policy{Dir: filepath.Join(data, "secrets")}, cfg.secrets())
	require.Equal(t, []string{data}, cfg.BackupRoots)

	cfg, err = checked(t, map[string]string{"BCDR_DATA_DIR": data, "BCDR_SECRET_ENV": "RESTIC_PASSWORD, AWS_SECRET_ACCESS_KEY",
		"BCDR_SECRETS_DIR": "/run/secrets", "BCDR_BACKUP_ROOTS": "/srv/backups:/mnt/nas"})
	require.NoError(t, err)
	require.Equal(t, secretref.Policy{ExtraEnv: []string{"RESTIC_PASSWORD", "AWS_SECRET_ACCESS_KEY"}, Dir: "/run/secrets"}, cfg.secrets())
	require.Equal(t, []string{"/srv/backups", "/mnt/nas"}, cfg.BackupRoots)
	require.NoError(t, cfg.secrets().CheckEnv("BCDR_SECRET_X"))
	require.ErrorContains(t, cfg.secrets().CheckEnv("HOME"), "is not a secret bcdr may read")

	for _, name := range []string{"DATABASE_URL", "BCDR_LISTEN", "HOME"} {
		_, err = checked(t, map[string]string{"BCDR_DATA_DIR": data, "BCDR_SECRET_ENV": name})
		require.ErrorContains(t, err, "BCDR_SECRET_ENV", "%s is never exposed", name)
	}
}

// The mail settings are read together: none of them leaves email off,
// and settings that cannot send are refused, naming the variable.
func TestConfigSMTP(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	cfg, err := checked(t, map[string]string{"BCDR_DATA_DIR": data})
	require.NoError(t, err)
	require.Equal(t, "starttls", cfg.SMTPTLS)
	require.Nil(t, cfg.smtp(), "no settings, no email")

	mail := func(more map[string]string) map[string]string {
		env := map[string]string{"BCDR_DATA_DIR": data, "BCDR_SMTP_ADDR": "smtp.example.org:587", "BCDR_SMTP_FROM": "bcdr <bcdr@example.org>"}
		maps.Copy(env, more)
		return env
	}
	cfg, err = checked(t, mail(map[string]string{"BCDR_SMTP_HELLO": "bcdr1.example.org", "BCDR_SMTP_USERNAME": "bcdr",
		"BCDR_SMTP_PASSWORD_ENV": "SMTP_PASSWORD", "BCDR_SMTP_CA_FILE": "/etc/bcdr/smtp-ca.pem"}))
	require.NoError(t, err)
	require.Equal(t, &notify.SMTP{Addr: "smtp.example.org:587", From: "bcdr <bcdr@example.org>", HelloName: "bcdr1.example.org",
		Username: "bcdr", Password: secretref.Ref{Env: "SMTP_PASSWORD"}, TLS: notify.SMTPStartTLS, CAFile: "/etc/bcdr/smtp-ca.pem"}, cfg.smtp())

	for _, ok := range []map[string]string{
		{"BCDR_SMTP_TLS": "tls", "BCDR_SMTP_ADDR": "smtp.example.org:465"},
		{"BCDR_SMTP_TLS": "none", "BCDR_SMTP_ADDR": "127.0.0.1:25"},
		{"BCDR_SMTP_TLS": "none", "BCDR_SMTP_ADDR": "localhost:25"},
		{"BCDR_SMTP_USERNAME": "bcdr", "BCDR_SMTP_PASSWORD_FILE": "/etc/bcdr/smtp-password"},
		{"BCDR_SMTP_USERNAME": "bcdr", "BCDR_SMTP_PASSWORD_ENV": "SMTP_PASSWORD"},
	} {
		_, err := checked(t, mail(ok))
		require.NoError(t, err, "%v", ok)
	}

	for _, c := range []struct {
		env     map[string]string
		message string
	}{
		{map[string]string{"BCDR_DATA_DIR": data, "BCDR_SMTP_TLS": "ssl"}, `BCDR_SMTP_TLS "ssl": must be starttls, tls or none`},
		{mail(map[string]string{"BCDR_SMTP_TLS": "STARTTLS"}), `BCDR_SMTP_TLS "STARTTLS": must be starttls, tls or none`},
		{mail(map[string]string{"BCDR_SMTP_TLS": "none", "BCDR_SMTP_ADDR": "smtp.example.org:25"}),
			`BCDR_SMTP_TLS "none" sends mail and password in the clear: it is allowed only when BCDR_SMTP_ADDR is a loopback address`},
		{map[string]string{"BCDR_DATA_DIR": data, "BCDR_SMTP_ADDR": "smtp.example.org:587"}, "BCDR_SMTP_FROM is required to send email"},
		{map[string]string{"BCDR_DATA_DIR": data, "BCDR_SMTP_FROM": "bcdr@example.org"}, "BCDR_SMTP_ADDR is required to send email"},
		{mail(map[string]string{"BCDR_SMTP_ADDR": "smtp.example.org"}), `BCDR_SMTP_ADDR "smtp.example.org": must be host:port`},
		{mail(map[string]string{"BCDR_SMTP_FROM": "bcdr"}), `BCDR_SMTP_FROM "bcdr": must be an email address`},
		{mail(map[string]string{"BCDR_SMTP_HELLO": "two words"}), `BCDR_SMTP_HELLO "two words": must be this host's name`},
		{mail(map[string]string{"BCDR_SMTP_USERNAME": "bcdr"}), "BCDR_SMTP_PASSWORD_ENV is required (or BCDR_SMTP_PASSWORD_FILE)"},
		{mail(map[string]string{"BCDR_SMTP_PASSWORD_ENV": "SMTP_PASSWORD"}), "BCDR_SMTP_USERNAME is required when BCDR_SMTP_PASSWORD_ENV"},
		{mail(map[string]string{"BCDR_SMTP_USERNAME": "bcdr", "BCDR_SMTP_PASSWORD_ENV": "HOME"}), "BCDR_SMTP_PASSWORD_ENV is set by bcdr itself"},
		{mail(map[string]string{"BCDR_SMTP_USERNAME": "bcdr", "BCDR_SMTP_PASSWORD_ENV": "BCDR_SMTP_PASSWORD"}), "BCDR_SMTP_PASSWORD_ENV must not name bcdr's own configuration"},
		{mail(map[string]string{"BCDR_SMTP_USERNAME": "bcdr", "BCDR_SMTP_PASSWORD_ENV": "BCDR_SECRET_SMTP"}), `"BCDR_SECRET_SMTP" is exposed to secret references`},
		{mail(map[string]string{"BCDR_SMTP_USERNAME": "bcdr", "BCDR_SMTP_PASSWORD_ENV": "SMTP_PASSWORD", "BCDR_SECRET_ENV": "SMTP_PASSWORD"}), `"SMTP_PASSWORD" is exposed to secret references`},
		{mail(map[string]string{"BCDR_SMTP_USERNAME": "bcdr", "BCDR_SMTP_PASSWORD_FILE": filepath.Join(data, "secrets", "smtp")}), "BCDR_SMTP_PASSWORD_FILE is under the secrets directory"},
		{mail(map[string]string{"BCDR_SMTP_USERNAME": "bcdr", "BCDR_SMTP_PASSWORD_ENV": "SMTP_PASSWORD", "BCDR_SMTP_PASSWORD_FILE": "/run/s"}),
			"BCDR_SMTP_PASSWORD_ENV give BCDR_SMTP_PASSWORD_ENV or BCDR_SMTP_PASSWORD_FILE, not both"},
	} {
		_, err := checked(t, c.env)
		require.ErrorContains(t, err, "invalid configuration: ", "%v", c.env)
		require.ErrorContains(t, err, c.message, "%v", c.env)
	}
}
