package main

import (
	"flag"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// parsed reads env and then the command-line args, as every command does.
func parsed(t *testing.T, env map[string]string, args ...string) (*config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cfg, err := parseConfig(env, fs)
	if err != nil {
		return nil, err
	}
	require.NoError(t, fs.Parse(args))
	return cfg, cfg.check()
}

// With nothing set every setting has the default the README documents,
// and the derived paths sit under the data directory.
func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := parsed(t, map[string]string{})
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:8080", cfg.Listen)
	require.Equal(t, "./var", cfg.DataDir)
	require.Empty(t, cfg.DatabaseURL, "no URL starts the embedded database")
	require.Equal(t, "info", cfg.LogLevel)
	require.Equal(t, "auto", cfg.LogFormat)
	require.Equal(t, 30*time.Second, cfg.ShutdownTimeout)
	require.Equal(t, int32(20), cfg.DBMaxConns)
	require.Equal(t, 60*time.Second, cfg.DBStatementTimeout)
	require.Equal(t, 8, cfg.SchedulerWorkers)
	require.Equal(t, time.Second, cfg.SchedulerPoll)
	require.Equal(t, 30*time.Second, cfg.SchedulerLease)
	require.Equal(t, 7, cfg.KitKeep)
	require.Equal(t, time.Hour, cfg.AuditAnchorEvery)
	require.Equal(t, 400*24*time.Hour, cfg.Retention)
	require.Equal(t, filepath.Join("var", "audit-key"), cfg.AuditKeyFile)
	require.Equal(t, filepath.Join("var", "kits"), cfg.KitDir)
	require.Equal(t, "http://127.0.0.1:8080", cfg.BaseURL)
	abs, err := filepath.Abs("var")
	require.NoError(t, err)
	require.Equal(t, []string{abs}, cfg.BackupRoots)
}

// Environment variables set the configuration and flags override them.
func TestConfigEnvAndFlags(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"BCDR_LISTEN": "127.0.0.1:9000", "DATABASE_URL": "postgres://env/db", "BCDR_DATA_DIR": "/srv/bcdr",
		"BCDR_LOG_LEVEL": "debug", "BCDR_LOG_FORMAT": "json", "BCDR_SHUTDOWN_TIMEOUT": "5s",
		"BCDR_DB_MAX_CONNS": "3", "BCDR_SCHEDULER_WORKERS": "0", "BCDR_SCHEDULER_POLL": "2s",
		"BCDR_SCHEDULER_LEASE": "6s", "BCDR_KIT_DIR": "/srv/kits", "BCDR_KIT_KEEP": "2",
		"BCDR_AUDIT_KEY_FILE": "/etc/bcdr/audit-key", "BCDR_AUDIT_ANCHOR_EVERY": "10m",
		"BCDR_RETENTION": "48h", "BCDR_REPLICA": "r1",
	}
	cfg, err := parsed(t, env)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9000", cfg.Listen)
	require.Equal(t, "postgres://env/db", cfg.DatabaseURL)
	require.Equal(t, "debug", cfg.LogLevel)
	require.Equal(t, "json", cfg.LogFormat)
	require.Equal(t, 5*time.Second, cfg.ShutdownTimeout)
	require.Equal(t, int32(3), cfg.DBMaxConns)
	require.Zero(t, cfg.SchedulerWorkers, "0 turns the scheduler off")
	require.Equal(t, 2*time.Second, cfg.SchedulerPoll)
	require.Equal(t, 6*time.Second, cfg.SchedulerLease)
	require.Equal(t, "/srv/kits", cfg.KitDir)
	require.Equal(t, 2, cfg.KitKeep)
	require.Equal(t, "/etc/bcdr/audit-key", cfg.AuditKeyFile)
	require.Equal(t, 10*time.Minute, cfg.AuditAnchorEvery)
	require.Equal(t, 48*time.Hour, cfg.Retention)
	require.Equal(t, "r1", cfg.Replica)
	require.Equal(t, "http://127.0.0.1:9000", cfg.BaseURL)
	require.Equal(t, []string{"/srv/bcdr"}, cfg.BackupRoots)

	cfg, err = parsed(t, env, "--listen", "127.0.0.1:9100", "--database-url", "postgres://flag/db", "--data-dir", "/data",
		"--log-level", "warn", "--log-format", "text", "--base-url", "https://bcdr.example")
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9100", cfg.Listen)
	require.Equal(t, "postgres://flag/db", cfg.DatabaseURL)
	require.Equal(t, "/data", cfg.DataDir)
	require.Equal(t, "warn", cfg.LogLevel)
	require.Equal(t, "text", cfg.LogFormat)
	require.Equal(t, "https://bcdr.example", cfg.BaseURL)
	require.Equal(t, "/srv/kits", cfg.KitDir, "what no flag overrides stays from the environment")

	// TLS makes the default base URL https.
	cfg, err = parsed(t, map[string]string{"BCDR_TLS_CERT": "/c.pem", "BCDR_TLS_KEY": "/k.pem", "BCDR_LISTEN": "0.0.0.0:8443"})
	require.NoError(t, err)
	require.Equal(t, "https://0.0.0.0:8443", cfg.BaseURL)
}

// Every bad setting is refused with its name, before anything starts.
func TestConfigRefusesBadSettings(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		env     map[string]string
		args    []string
		message string
	}{
		{map[string]string{"BCDR_LOG_LEVEL": "loud"}, nil, `BCDR_LOG_LEVEL "loud": must be debug, info, warn or error`},
		{nil, []string{"--log-level", "loud"}, `BCDR_LOG_LEVEL "loud"`},
		{map[string]string{"BCDR_LOG_FORMAT": "xml"}, nil, `BCDR_LOG_FORMAT "xml": must be auto, json or text`},
		{nil, []string{"--data-dir", ""}, "BCDR_DATA_DIR must not be empty"},
		{map[string]string{"BCDR_DB_MAX_CONNS": "0"}, nil, "BCDR_DB_MAX_CONNS must be at least 1"},
		{map[string]string{"BCDR_SCHEDULER_WORKERS": "-1"}, nil, "BCDR_SCHEDULER_WORKERS must not be negative"},
		{map[string]string{"BCDR_SCHEDULER_POLL": "0s"}, nil, "BCDR_SCHEDULER_POLL must be positive"},
		{map[string]string{"BCDR_SCHEDULER_POLL": "1s", "BCDR_SCHEDULER_LEASE": "2s"}, nil, "BCDR_SCHEDULER_LEASE at least three polls"},
		{map[string]string{"BCDR_TLS_CERT": "/c.pem"}, nil, "BCDR_TLS_KEY is required when BCDR_TLS_CERT is set"},
		{map[string]string{"BCDR_TLS_KEY": "/k.pem"}, nil, "BCDR_TLS_CERT is required when BCDR_TLS_KEY is set"},
		{map[string]string{"BCDR_RETENTION": "23h"}, nil, "BCDR_RETENTION must be at least 24h"},
		{map[string]string{"BCDR_OUTBOUND_ALLOW": "10.0.0.0/99"}, nil, `BCDR_OUTBOUND_ALLOW entry "10.0.0.0/99": not a CIDR`},
		{map[string]string{"BCDR_KIT_KEEP": "0"}, nil, "BCDR_KIT_KEEP must be at least 1"},
		{map[string]string{"BCDR_AUDIT_ANCHOR_EVERY": "500ms"}, nil, "BCDR_AUDIT_ANCHOR_EVERY must be at least 1s"},
	} {
		_, err := parsed(t, c.env, c.args...)
		require.ErrorContains(t, err, "invalid configuration: ", "%v %v", c.env, c.args)
		require.ErrorContains(t, err, c.message, "%v %v", c.env, c.args)
	}

	// Several problems are reported at once.
	_, err := parsed(t, map[string]string{"BCDR_LOG_LEVEL": "loud", "BCDR_DB_MAX_CONNS": "0", "BCDR_RETENTION": "1h"})
	require.ErrorContains(t, err, `BCDR_LOG_LEVEL "loud": must be debug, info, warn or error; BCDR_DB_MAX_CONNS must be at least 1; BCDR_RETENTION must be at least 24h`)

	// Values that do not parse name their variable.
	for name, value := range map[string]string{"BCDR_DB_MAX_CONNS": "lots", "BCDR_SHUTDOWN_TIMEOUT": "soon", "BCDR_SCHEDULER_WORKERS": "1.5"} {
		_, err := parsed(t, map[string]string{name: value})
		require.ErrorContains(t, err, "read configuration", name)
		require.ErrorContains(t, err, name)
	}
}
