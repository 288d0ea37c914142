package secretref_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

func TestCheckEnvName(t *testing.T) {
	t.Parallel()
	for _, name := range []string{
		"SLACK_SIGNING_SECRET", "RESTIC_PASSWORD_DB1", "AWS_SECRET_ACCESS_KEY", "A", "_", "_X9", "X" + strings.Repeat("9", 63),
		"DATABASE_URL_BACKUP", "MY_BCDR_TOKEN", "BCDR_SECRET_X", "BCDR_SECRET_DATABASE_URL", "PATHS", "HOMEDIR", "TZDATA", "LANGUAGE",
	} {
		require.NoError(t, secretref.CheckEnvName(name), name)
	}
	for name, want := range map[string]string{
		"":                               "name of an environment variable",
		"hunter2!":                       "not the secret itself",
		"p@ssw0rd value":                 "not a value",
		"lower_case":                     "A-Z, 0-9, _",
		"Mixed":                          "A-Z, 0-9, _",
		"9LIVES":                         "A-Z, 0-9, _",
		"A-B":                            "A-Z, 0-9, _",
		"A B":                            "A-Z, 0-9, _",
		"A\nB":                           "A-Z, 0-9, _",
		"A\x00":                          "A-Z, 0-9, _",
		"ÄPFEL":                          "A-Z, 0-9, _",
		"A\xff":                          "A-Z, 0-9, _",
		"$HOME":                          "A-Z, 0-9, _",
		"${DATABASE_URL}":                "A-Z, 0-9, _",
		"'; DROP TABLE x; --":            "A-Z, 0-9, _",
		"../../etc/passwd":               "A-Z, 0-9, _",
		"X" + strings.Repeat("9", 64):    "at most 64",
		"BCDR_DATABASE_URL":              "bcdr's own configuration",
		"BCDR_TOKEN":                     "bcdr's own configuration",
		"BCDR_":                          "bcdr's own configuration",
		"BCDR_SECRET_ENV":                "bcdr's own configuration",
		"BCDR_LISTEN":                    "bcdr's own configuration",
		"DATABASE_URL":                   "bcdr's own configuration",
		"TEST_DATABASE_URL":              "bcdr's own configuration",
		"PATH":                           "set by bcdr itself",
		"HOME":                           "set by bcdr itself",
		"LANG":                           "set by bcdr itself",
		"TZ":                             "set by bcdr itself",
		"eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA": "A-Z, 0-9, _",
	} {
		err := secretref.CheckEnvName(name)
		require.Error(t, err, "%q", name)
		require.Contains(t, err.Error(), want, "%q", name)
	}
}

func TestCheckFile(t *testing.T) {
	t.Parallel()
	for _, p := range []string{
		"/run/secrets/slack", "/etc/bcdr/restic-db1", "/a", "/run/secrets/with space", "/run/秘密/key", "/run/.hidden",
		"/" + strings.Repeat("a", 1023),
	} {
		require.NoError(t, secretref.CheckFile(p), p)
	}
	for p, want := range map[string]string{
		"":                                "is required",
		"hunter2":                         "absolute path",
		"secrets/slack":                   "absolute path",
		"./slack":                         "absolute path",
		"~/slack":                         "absolute path",
		"/run/../etc/shadow":              "clean path",
		"/run/secrets/../../etc/shadow":   "clean path",
		"/run//secrets":                   "clean path",
		"/run/secrets/":                   "clean path",
		"/run/./secrets":                  "clean path",
		"/run/secrets/*":                  "single file",
		"/run/secrets/key?":               "single file",
		"/run/secrets/[ab]":               "single file",
		"/run/secrets/\x1b[31mred":        "printable",
		"/run/secrets/a\nb":               "printable",
		"/run/secrets/a\x00":              "printable",
		"/run/secrets/\x7f":               "printable",
		"/run/secrets/\xff\xfe":           "printable",
		"/run/secrets/\ufffd":             "printable",
		"/" + strings.Repeat("a", 1024):   "at most 1024 bytes",
		"'; DROP TABLE channels; --":      "absolute path",
		"C:\\secrets\\slack":              "absolute path",
		"file:///run/secrets/slack":       "absolute path",
		"/run/secrets/slack; rm -rf x":    "",
		"/run/secrets/$(cat /etc/shadow)": "",
	} {
		err := secretref.CheckFile(p)
		if want == "" {
			require.NoError(t, err, "%q is an odd but harmless file name: it is opened, never run", p)
			continue
		}
		require.Error(t, err, "%q", p)
		require.Contains(t, err.Error(), want, "%q", p)
	}
}

func TestRefValidate(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		ref      secretref.Ref
		required bool
		field    string
		message  string
	}{
		"variable":             {ref: secretref.Ref{Env: "BCDR_SECRET_PW"}},
		"listed variable":      {ref: secretref.Ref{Env: "RESTIC_PASSWORD"}},
		"file":                 {ref: secretref.Ref{File: "/run/secrets/pw"}},
		"neither, optional":    {},
		"neither, required":    {required: true, field: "config.password_env", message: "is required (or password_file): the secret is referenced, never stored"},
		"both":                 {ref: secretref.Ref{Env: "BCDR_SECRET_PW", File: "/run/secrets/pw"}, field: "config.password_env", message: "give password_env or password_file, not both"},
		"bad variable":         {ref: secretref.Ref{Env: "DATABASE_URL"}, field: "config.password_env", message: `"DATABASE_URL" is not a secret bcdr may read: it names bcdr's own configuration`},
		"unexposed variable":   {ref: secretref.Ref{Env: "PW"}, field: "config.password_env", message: `"PW" is not a secret bcdr may read: name variables BCDR_SECRET_… or list them in BCDR_SECRET_ENV`},
		"file elsewhere":       {ref: secretref.Ref{File: "/etc/shadow"}, field: "config.password_file", message: "must be a file under the secrets directory /run/secrets (BCDR_SECRETS_DIR)"},
		"bad file":             {ref: secretref.Ref{File: "pw.txt"}, field: "config.password_file", message: "must be an absolute path"},
		"bad file, required":   {ref: secretref.Ref{File: "/x/../pw"}, required: true, field: "config.password_file", message: "clean path"},
		"secret as a variable": {ref: secretref.Ref{Env: "s3cr3t"}, required: true, field: "config.password_env", message: "not the secret itself"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var v orchestrator.Validation
			policy := secretref.Policy{ExtraEnv: []string{"RESTIC_PASSWORD"}, Dir: "/run/secrets"}
			policy.Validate(tc.ref, &v, "config.password_env", "config.password_file", tc.required)
			err := v.Err()
			if tc.field == "" {
				require.NoError(t, err)
				return
			}
			require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
			fields := orchestrator.ErrorFields(err)
			require.Len(t, fields, 1)
			require.Equal(t, tc.field, fields[0].Field)
			require.Contains(t, fields[0].Message, tc.message)
		})
	}
}

func TestValidateEnv(t *testing.T) {
	t.Parallel()
	var v orchestrator.Validation
	policy := secretref.Policy{ExtraEnv: []string{"AWS_ACCESS_KEY_ID"}}
	policy.ValidateEnv(&v, "config.pass_env[0]", "AWS_ACCESS_KEY_ID")
	require.NoError(t, v.Err())
	policy.ValidateEnv(&v, "config.pass_env[1]", "BCDR_TOKEN")
	fields := orchestrator.ErrorFields(v.Err())
	require.Len(t, fields, 1)
	require.Equal(t, "config.pass_env[1]", fields[0].Field)
}

func TestEnv(t *testing.T) {
	t.Parallel()
	env := map[string]string{"SET": "s3cret", "EMPTY": ""}
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }

	v, err := secretref.Env(lookup, "SET")
	require.NoError(t, err)
	require.Equal(t, "s3cret", v)
	for _, name := range []string{"EMPTY", "MISSING"} {
		_, err := secretref.Env(lookup, name)
		require.ErrorIs(t, err, secretref.ErrNotSet)
		require.EqualError(t, err, "environment variable "+name+" is not set")
	}

	policy := secretref.Policy{ExtraEnv: []string{"SET", "MISSING"}}
	b, err := policy.Resolve(secretref.Ref{Env: "SET"}, lookup)
	require.NoError(t, err)
	require.Equal(t, []byte("s3cret"), b)
	_, err = policy.Resolve(secretref.Ref{Env: "MISSING"}, lookup)
	require.ErrorIs(t, err, secretref.ErrNotSet)
	b, err = policy.Resolve(secretref.Ref{}, lookup)
	require.NoError(t, err)
	require.Nil(t, b, "no reference, no secret")
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	for content, want := range map[string]string{
		"s3cret":       "s3cret",
		"s3cret\n":     "s3cret",
		"s3cret\r\n\n": "s3cret",
		"two\nlines\n": "two\nlines",
		" spaced ":     " spaced ",
		strings.Repeat("k", secretref.MaxFileBytes): strings.Repeat("k", secretref.MaxFileBytes),
	} {
		b, err := secretref.ReadFile(write("ok", content))
		require.NoError(t, err, "%q", content)
		require.Equal(t, want, string(b))
	}
	b, err := secretref.Policy{Dir: dir}.Resolve(secretref.Ref{File: write("ref", "via ref\n")}, nil)
	require.NoError(t, err)
	require.Equal(t, "via ref", string(b))

	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	unreadable := write("unreadable", "x")
	require.NoError(t, os.Chmod(unreadable, 0))
	for path, want := range map[string]string{
		write("empty", ""):        "is empty",
		write("newlines", "\n\n"): "is empty",
		write("huge", strings.Repeat("k", secretref.MaxFileBytes+1)): "is larger than 4096 bytes",
		filepath.Join(dir, "missing"):                                "missing cannot be read: no such file or directory",
		dir:                                                          "is not a regular file",
		fifo:                                                         "is not a regular file",
		"/dev/zero":                                                  "is not a regular file",
	} {
		_, err := secretref.ReadFile(path)
		require.Error(t, err, path)
		require.Contains(t, err.Error(), want, path)
	}
	if os.Geteuid() != 0 {
		_, err := secretref.ReadFile(unreadable)
		require.ErrorContains(t, err, "permission denied")
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "pw")
	require.NoError(t, os.WriteFile(p, []byte("pw"), 0o600))
	f, err := secretref.Open(p)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	_, err = secretref.Open(filepath.Dir(p))
	require.ErrorContains(t, err, "is not a regular file")
	_, err = secretref.Open(filepath.Join(p, "below-a-file"))
	require.ErrorContains(t, err, "cannot be read: not a directory")
}
