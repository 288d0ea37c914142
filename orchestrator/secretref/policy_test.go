package secretref_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/secretref"
)

func TestPolicyCheckEnv(t *testing.T) {
	t.Parallel()
	policy := secretref.Policy{ExtraEnv: []string{"AWS_SECRET_ACCESS_KEY"}}
	for _, name := range []string{"BCDR_SECRET_X", "BCDR_SECRET_RESTIC_DB1", "BCDR_SECRET_DATABASE_URL", "AWS_SECRET_ACCESS_KEY"} {
		require.NoError(t, policy.CheckEnv(name), name)
	}
	for name, want := range map[string]string{
		"HOME":              `"HOME" is not a secret bcdr may read: it is set by bcdr itself`,
		"PATH":              `"PATH" is not a secret bcdr may read: it is set by bcdr itself`,
		"DATABASE_URL":      `"DATABASE_URL" is not a secret bcdr may read: it names bcdr's own configuration`,
		"BCDR_LISTEN":       `"BCDR_LISTEN" is not a secret bcdr may read: it names bcdr's own configuration`,
		"BCDR_SECRET_ENV":   `"BCDR_SECRET_ENV" is not a secret bcdr may read: it names bcdr's own configuration`,
		"BCDR_SECRETS_DIR":  `"BCDR_SECRETS_DIR" is not a secret bcdr may read: it names bcdr's own configuration`,
		"BCDR_SECRET":       `"BCDR_SECRET" is not a secret bcdr may read: it names bcdr's own configuration`,
		"AWS_ACCESS_KEY_ID": `"AWS_ACCESS_KEY_ID" is not a secret bcdr may read: name variables BCDR_SECRET_… or list them in BCDR_SECRET_ENV`,
		"hunter2!":          "not the secret itself",
	} {
		err := policy.CheckEnv(name)
		require.Error(t, err, name)
		require.Contains(t, err.Error(), want, name)
	}
	env := map[string]string{"HOME": "/root", "BCDR_SECRET_X": "x"}
	lookup := policy.Lookup(func(n string) (string, bool) { v, ok := env[n]; return v, ok })
	_, ok := lookup("HOME")
	require.False(t, ok, "a filtered lookup finds no unexposed variable")
	v, ok := lookup("BCDR_SECRET_X")
	require.True(t, ok)
	require.Equal(t, "x", v)
	_, err := policy.Env(func(string) (string, bool) { return "/root", true }, "HOME")
	require.ErrorContains(t, err, "is not a secret bcdr may read")
}

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	require.NoError(t, secretref.Policy{ExtraEnv: []string{"RESTIC_PASSWORD"}, Dir: "/var/lib/bcdr/secrets"}.Check())
	for _, p := range []secretref.Policy{
		{ExtraEnv: []string{"DATABASE_URL"}},
		{ExtraEnv: []string{"HOME"}},
		{ExtraEnv: []string{"BCDR_LISTEN"}},
		{ExtraEnv: []string{"lower"}},
		{Dir: "secrets"},
		{Dir: "/var/lib/../secrets"},
	} {
		require.Error(t, p.Check(), "%+v", p)
	}
}

func TestPolicyFiles(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	dir := filepath.Join(root, "secrets")
	require.NoError(t, os.Mkdir(dir, 0o700))
	inside := filepath.Join(dir, "restic")
	require.NoError(t, os.WriteFile(inside, []byte("pw\n"), 0o600))
	outside := filepath.Join(root, "elsewhere")
	require.NoError(t, os.WriteFile(outside, []byte("not yours"), 0o600))
	link := filepath.Join(dir, "planted")
	require.NoError(t, os.Symlink(outside, link))
	require.NoError(t, os.Symlink("/etc", filepath.Join(dir, "etc")))
	policy := secretref.Policy{Dir: dir}

	b, err := policy.Resolve(secretref.Ref{File: inside}, nil)
	require.NoError(t, err)
	require.Equal(t, "pw", string(b))

	for path, want := range map[string]string{
		outside:                          "must be a file under the secrets directory",
		"/etc/shadow":                    "must be a file under the secrets directory",
		dir + "/../elsewhere":            "clean path",
		dir + "x/restic":                 "must be a file under the secrets directory",
		filepath.Dir(dir):                "must be a file under the secrets directory",
		link:                             "leads to " + outside + ", which is outside " + dir,
		filepath.Join(dir, "etc/shadow"): "which is outside " + dir,
	} {
		_, err := policy.ReadFile(path)
		require.Error(t, err, path)
		require.Contains(t, err.Error(), want, path)
	}
	require.NoError(t, policy.CheckFile(link), "by its text a planted link is inside: it is refused when read")
	_, err = secretref.Policy{}.ReadFile(inside)
	require.ErrorContains(t, err, "no secrets directory is configured")
}

func TestInside(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dir, path string
		want      bool
	}{
		{"/var/lib/bcdr", "/var/lib/bcdr", true},
		{"/var/lib/bcdr", "/var/lib/bcdr/backups/*.tar", true},
		{"/var/lib/bcdr/", "/var/lib/bcdr/x", true},
		{"/", "/etc/shadow", true},
		{"/var/lib/bcdr", "/var/lib/bcdr2/x", false},
		{"/var/lib/bcdr", "/var/lib/bcdr/../../../etc/shadow", false},
		{"/var/lib/bcdr", "/var/lib/*/x", false},
		{"/var/lib/bcdr", "/etc/shadow", false},
		{"/var/lib/bcdr", "/root/*", false},
		{"/var/lib/bcdr", "relative/x", false},
		{"relative", "relative/x", false},
	} {
		require.Equal(t, tc.want, secretref.Inside(tc.dir, tc.path), "%s in %s", tc.path, tc.dir)
	}
}

// A private secret is one no other reference may name: what the policy
// exposes is refused for it, and what it refuses elsewhere is read.
func TestPolicyPrivate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	policy := secretref.Policy{ExtraEnv: []string{"RESTIC_PASSWORD"}, Dir: filepath.Join(dir, "secrets")}
	private := filepath.Join(dir, "smtp-password")
	require.NoError(t, os.WriteFile(private, []byte("s3cret\n"), 0o600))
	env := map[string]string{"SMTP_PASSWORD": "pw", "BCDR_SECRET_SMTP": "pw"}
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }

	got, err := policy.ResolvePrivate(secretref.Ref{Env: "SMTP_PASSWORD"}, lookup)
	require.NoError(t, err)
	require.Equal(t, "pw", string(got))
	got, err = policy.ResolvePrivate(secretref.Ref{File: private}, lookup)
	require.NoError(t, err)
	require.Equal(t, "s3cret", string(got))
	_, err = policy.Resolve(secretref.Ref{Env: "SMTP_PASSWORD"}, lookup)
	require.Error(t, err, "a private secret is not exposed to references")

	for ref, want := range map[secretref.Ref]string{
		{Env: "BCDR_SECRET_SMTP"}:                 "is exposed to secret references",
		{Env: "RESTIC_PASSWORD"}:                  "is exposed to secret references",
		{Env: "HOME"}:                             "set by bcdr itself",
		{File: filepath.Join(policy.Dir, "smtp")}: "is under the secrets directory",
		{File: "relative/path"}:                   "must be an absolute path",
		{Env: "SMTP_PASSWORD", File: private}:     "not both",
		{Env: "MISSING_PASSWORD"}:                 "is not set",
	} {
		_, err := policy.ResolvePrivate(ref, lookup)
		require.ErrorContains(t, err, want, "%+v", ref)
	}
}
