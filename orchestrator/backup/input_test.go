package backup

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

func TestTargetInput_Validation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		kind   Kind
		config string
		mod    func(*TargetInput)
		field  string
		msg    string
	}{
		{"unknown kind", "tape", `{}`, nil, "kind", "must be one of"},
		{"shadow file", KindFile, `{"path":"/etc/shadow"}`, nil, "config.path", "/etc/shadow is outside the backup roots /r:/b:/backups (BCDR_BACKUP_ROOTS)"},
		{"root's home", KindFile, `{"path":"/root/*"}`, nil, "config.path", "outside the backup roots"},
		{"glob in a root's place", KindFile, `{"path":"/*/x"}`, nil, "config.path", "outside the backup roots"},
		{"prefix of a root", KindFile, `{"path":"/backups2/x"}`, nil, "config.path", "outside the backup roots"},
		{"manifest elsewhere", KindFile, `{"path":"/b/x","manifest":"/etc/SHA256SUMS"}`, nil, "config.manifest", "outside the backup roots"},
		{"repository elsewhere", KindRestic, `{"repository":"/root/repo","password_env":"PW"}`, nil, "config.repository", "outside the backup roots"},
		{"local: repository elsewhere", KindRestic, `{"repository":"local:/etc","password_env":"PW"}`, nil, "config.repository", "outside the backup roots"},
		{"relative repository", KindBorg, `{"repository":"repo","passphrase_env":"PW"}`, nil, "config.repository", "absolute path or a remote repository URL"},
		{"base backups elsewhere", KindPgBaseBackup, `{"directory":"/var/lib/postgresql/*"}`, nil, "config.directory", "outside the backup roots"},
		{"pgbackrest config elsewhere", KindPgBackRest, `{"stanza":"main","config":"/etc/shadow"}`, nil, "config.config", "outside the backup roots"},
		{"unexposed password variable", KindRestic, `{"repository":"/r","password_env":"HOME"}`, nil, "config.password_env", `"HOME" is not a secret bcdr may read`},
		{"unexposed token variable", KindHTTP, `{"url":"https://h/x","time_field":"t","bearer_token_env":"GITHUB_TOKEN"}`, nil, "config.bearer_token_env", `"GITHUB_TOKEN" is not a secret bcdr may read: name variables BCDR_SECRET_… or list them in BCDR_SECRET_ENV`},
		{"unexposed variable passed", KindBorg, `{"repository":"/r","passphrase_env":"PW","pass_env":["PATH"]}`, nil, "config.pass_env[0]", "is not a secret bcdr may read"},
		{"password file elsewhere", KindRestic, `{"repository":"/r","password_file":"/etc/shadow"}`, nil, "config.password_file", "under the secrets directory /etc/bcdr"},
		{"missing repository", KindRestic, `{"password_env":"PW"}`, nil, "config.repository", "is required"},
		{"inline password", KindRestic, `{"repository":"/r","password":"hunter2"}`, nil, "config.password", "inline secrets are not accepted"},
		{"inline passphrase", KindBorg, `{"repository":"/r","passphrase":"x"}`, nil, "config.passphrase", "passphrase_env or passphrase_file"},
		{"no secret reference", KindRestic, `{"repository":"/r"}`, nil, "config.password_env", "referenced, never stored"},
		{"both references", KindRestic, `{"repository":"/r","password_env":"PW","password_file":"/pw"}`, nil, "config.password_env", "not both"},
		{"secret as env name", KindRestic, `{"repository":"/r","password_env":"hunter2!"}`, nil, "config.password_env", "not a value"},
		{"own configuration", KindRestic, `{"repository":"/r","password_env":"DATABASE_URL"}`, nil, "config.password_env", "bcdr's own"},
		{"password in repository URL", KindRestic, `{"repository":"rest:https://u:hunter2@host/repo","password_env":"PW"}`, nil, "config.repository", "must not embed a password"},
		{"option injection", KindBorg, `{"repository":"--remote-path=evil","passphrase_env":"PW"}`, nil, "config.repository", "must not start with '-'"},
		{"relative password file", KindRestic, `{"repository":"/r","password_file":"pw.txt"}`, nil, "config.password_file", "absolute"},
		{"glob passphrase file", KindBorg, `{"repository":"/r","passphrase_file":"/etc/borg/*"}`, nil, "config.passphrase_file", "single file"},
		{"process variable passed", KindRestic, `{"repository":"/r","password_env":"PW","pass_env":["AWS_REGION","HOME"]}`, nil, "config.pass_env[1]", "set by bcdr itself"},
		{"bcdr's token passed", KindPgBackRest, `{"stanza":"main","pass_env":["BCDR_API_TOKEN"]}`, nil, "config.pass_env[0]", "bcdr's own"},
		{"bearer token in own config", KindHTTP, `{"url":"https://h/x","time_field":"t","bearer_token_env":"BCDR_DATABASE_URL"}`, nil, "config.bearer_token_env", "bcdr's own"},
		{"bad subset", KindRestic, `{"repository":"/r","password_env":"PW","read_data_subset":"lots"}`, nil, "config.read_data_subset", "percentage"},
		{"wrong type", KindFile, `{"path":"/b/*.dump","min_size":"1k"}`, nil, "config.min_size", "must be int64"},
		{"traversal", KindFile, `{"path":"/backups/../etc/*"}`, nil, "config.path", "clean path"},
		{"relative path", KindFile, `{"path":"backups/*.dump"}`, nil, "config.path", "absolute"},
		{"bad glob", KindFile, `{"path":"/b/[.dump"}`, nil, "config.path", "glob"},
		{"control characters", KindFile, `{"path":"/b/\u0007.dump"}`, nil, "config.path", "printable"},
		{"bounds reversed", KindFile, `{"path":"/b/x","min_size":10,"max_size":5}`, nil, "config.max_size", "below min_size"},
		{"unknown setting", KindFile, `{"path":"/b/x","colour":"red"}`, nil, "config.colour", "not a setting of kind file"},
		{"config not object", KindFile, `["/b/x"]`, nil, "config", "JSON object"},
		{"stanza", KindPgBackRest, `{"stanza":"a b; rm -rf /"}`, nil, "config.stanza", "letters, digits"},
		{"url scheme", KindHTTP, `{"url":"file:///etc/passwd","time_field":"t"}`, nil, "config.url", "http or https"},
		{"url credentials", KindHTTP, `{"url":"https://u:p@h/x","time_field":"t"}`, nil, "config.url", "credentials"},
		{"url token", KindHTTP, `{"url":"https://h/x?api_key=abc","time_field":"t"}`, nil, "config.url", "api_key"},
		{"field path", KindHTTP, `{"url":"https://h/x","time_field":"items[x]"}`, nil, "config.time_field", "not a whole number"},
		{"retries", KindHTTP, `{"url":"https://h/x","time_field":"t","retries":99}`, nil, "config.retries", "from 0 to 10"},
		{"restore test for files", KindFile, `{"path":"/b/x"}`, func(in *TargetInput) { in.RestoreTest = true }, "restore_test", "restic and pg_basebackup"},
		{"bad cron", KindFile, `{"path":"/b/x"}`, func(in *TargetInput) { in.Schedule = "every day" }, "schedule", ""},
		{"bad zone", KindFile, `{"path":"/b/x"}`, func(in *TargetInput) { in.Timezone = "Mars/Base" }, "timezone", "unknown time zone"},
		{"bad timeout", KindFile, `{"path":"/b/x"}`, func(in *TargetInput) { in.Timeout = "100d" }, "timeout", "from 1s to 23h"},
		{"bad max_age", KindFile, `{"path":"/b/x"}`, func(in *TargetInput) { in.MaxAge = "soon" }, "max_age", "at least 1m"},
		{"no ci", KindFile, `{"path":"/b/x"}`, func(in *TargetInput) { in.CI = " " }, "ci", "is required"},
		{"non-UTF-8 name", KindFile, `{"path":"/b/x"}`, func(in *TargetInput) { in.Name = "db\xff" }, "name", "printable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := TargetInput{CI: "db1", Kind: tc.kind, Schedule: "@daily", Config: json.RawMessage(tc.config)}
			if tc.mod != nil {
				tc.mod(&in)
			}
			_, err := in.validate(inputLimits)
			require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err), "%v", err)
			var found bool
			for _, f := range orchestrator.ErrorFields(err) {
				if f.Field == tc.field {
					found = true
					require.Contains(t, f.Message, tc.msg)
				}
			}
			require.True(t, found, "no error on %s in %v", tc.field, err)
		})
	}
}

// inputLimits expose the variables and roots the input tests name.
var inputLimits = limits{
	secrets: secretref.Policy{ExtraEnv: []string{"PW", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}, Dir: "/etc/bcdr"},
	roots:   []string{"/r", "/b", "/backups"},
}

func TestTargetInput_AcceptsWhatIsExposed(t *testing.T) {
	t.Parallel()
	for kind, config := range map[Kind]string{
		KindRestic:       `{"repository":"/r/db1","password_env":"BCDR_SECRET_RESTIC","pass_env":["AWS_REGION","BCDR_SECRET_X"]}`,
		KindBorg:         `{"repository":"ssh://backup@host/./db1","passphrase_file":"/etc/bcdr/borg-db1"}`,
		KindPgBaseBackup: `{"directory":"/backups/base-*"}`,
		KindPgBackRest:   `{"stanza":"main","config":"/b/pgbackrest.conf"}`,
		KindFile:         `{"path":"/b/db1/*.dump","manifest":"/b/db1/SHA256SUMS"}`,
		KindHTTP:         `{"url":"https://h/x","time_field":"t","bearer_token_env":"PW"}`,
	} {
		in := TargetInput{CI: "db1", Kind: kind, Schedule: "@daily", Config: json.RawMessage(config)}
		_, err := in.validate(inputLimits)
		require.NoError(t, err, kind)
	}
	for _, repo := range []string{"s3:s3.amazonaws.com/bucket", "sftp:backup@host:/srv/restic", "rest:https://host/repo",
		"b2:bucket:path", "backup@host:repo", "ssh://host/repo"} {
		in := TargetInput{CI: "db1", Kind: KindRestic, Schedule: "@daily",
			Config: json.RawMessage(`{"repository":"` + repo + `","password_env":"PW"}`)}
		_, err := in.validate(limits{secrets: inputLimits.secrets})
		require.NoError(t, err, "%s is remote: no root applies", repo)
	}
	in := TargetInput{CI: "db1", Kind: KindFile, Schedule: "@daily", Config: json.RawMessage(`{"path":"/b/x"}`)}
	_, err := in.validate(limits{})
	require.ErrorContains(t, err, "none are configured (BCDR_BACKUP_ROOTS)")
}

func TestTargetInput_NormalisesConfig(t *testing.T) {
	t.Parallel()
	in := TargetInput{CI: "db1", Kind: KindRestic, Schedule: "*/5 * * * *",
		Config: json.RawMessage(`{"repository":"s3:s3.amazonaws.com/bucket/db1","password_file":"/etc/bcdr/restic-db1","pass_env":["AWS_ACCESS_KEY_ID","AWS_SECRET_ACCESS_KEY"]}`)}
	vt, err := in.validate(inputLimits)
	require.NoError(t, err)
	require.JSONEq(t, string(in.Config), string(vt.config))
	require.Equal(t, "db1 restic", vt.in.Name)
	require.Equal(t, "UTC", vt.in.Timezone)
	require.Equal(t, defaultTimeout, vt.timeout)
}

func TestClassify(t *testing.T) {
	t.Parallel()
	rpo := orchestrator.Duration(10 * 60 * 1e9) // 10m
	for _, tc := range []struct {
		age  *float64 // minutes
		want orchestrator.RPOState
	}{
		{nil, orchestrator.RPOUnknown},
		{ptr(0.0), orchestrator.RPOCompliant},
		{ptr(8.0), orchestrator.RPOCompliant},
		{ptr(8.1), orchestrator.RPOAtRisk},
		{ptr(10.0), orchestrator.RPOAtRisk},
		{ptr(10.1), orchestrator.RPOBreached},
	} {
		var age *time.Duration
		if tc.age != nil {
			age = ptr(time.Duration(*tc.age * float64(time.Minute)))
		}
		require.Equal(t, tc.want, Classify(age, rpo), "age %v", tc.age)
	}
	require.Equal(t, orchestrator.RPOCompliant, Classify(ptr(time.Duration(0)), 0), "RPO 0 is met only by a backup taken now")
	require.Equal(t, orchestrator.RPOBreached, Classify(ptr(time.Second), 0))
}
