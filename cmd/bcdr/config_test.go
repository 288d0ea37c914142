package main

import (
	"flag"
	"io"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

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
