package backup

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// ResticConfig checks a restic repository: snapshots and stats for the
// latest backup, `restic check` for integrity.
type ResticConfig struct {
	Repository   string `json:"repository"`
	PasswordEnv  string `json:"password_env,omitempty"`
	PasswordFile string `json:"password_file,omitempty"`
	// ReadDataSubset is passed to `restic check --read-data-subset`
	// ("5%", "1/10", "500M"); empty checks structure only.
	ReadDataSubset string `json:"read_data_subset,omitempty"`
	// PassEnv names further variables the tool needs, such as
	// AWS_ACCESS_KEY_ID for an S3 repository.
	PassEnv []string `json:"pass_env,omitempty"`
}

// BorgConfig checks a borg repository with `borg list` and `borg check`.
type BorgConfig struct {
	Repository     string `json:"repository"`
	PassphraseEnv  string `json:"passphrase_env,omitempty"`
	PassphraseFile string `json:"passphrase_file,omitempty"`
	// VerifyData adds --verify-data: every chunk is read and authenticated.
	VerifyData bool     `json:"verify_data,omitempty"`
	PassEnv    []string `json:"pass_env,omitempty"`
}

// PgBackRestConfig checks a pgBackRest stanza with `pgbackrest info` and,
// unless Verify is false, `pgbackrest verify`.
type PgBackRestConfig struct {
	Stanza string `json:"stanza"`
	// Config is the pgbackrest.conf path [pgBackRest's default].
	Config string `json:"config,omitempty"`
	// Verify runs `pgbackrest verify` [true]; without it a check proves
	// the backup exists but not that it is intact.
	Verify  *bool    `json:"verify,omitempty"`
	PassEnv []string `json:"pass_env,omitempty"`
}

// PgBaseBackupConfig checks a plain-format pg_basebackup directory with
// pg_verifybackup.
type PgBaseBackupConfig struct {
	// Directory is the backup directory, or a glob of them of which the
	// newest is checked.
	Directory string `json:"directory"`
	// NoParseWAL passes --no-parse-wal, for backups taken without WAL.
	NoParseWAL bool `json:"no_parse_wal,omitempty"`
}

// FileConfig checks plain backup files: the newest match of a path or
// glob, its size, and optionally a SHA-256 manifest.
type FileConfig struct {
	Path    string `json:"path"`
	MinSize *int64 `json:"min_size,omitempty"`
	MaxSize *int64 `json:"max_size,omitempty"`
	// Manifest is a sha256sum file ("HASH  name" lines, names relative to
	// the manifest); a glob picks the newest.
	Manifest string `json:"manifest,omitempty"`
}

// HTTPConfig reads a JSON endpoint that reports on a backup system.
type HTTPConfig struct {
	URL string `json:"url"`
	// TimeField is the field path of the last backup's time, such as
	// "last_success.finished_at" or "items[0].time".
	TimeField string `json:"time_field"`
	// StatusField, when set, must hold one of OKValues.
	StatusField string   `json:"status_field,omitempty"`
	OKValues    []string `json:"ok_values,omitempty"`
	// VerifiedField, when set, must be true for the backup to count as
	// verified; without it a matching status counts as verified.
	VerifiedField  string `json:"verified_field,omitempty"`
	SizeField      string `json:"size_field,omitempty"`
	Timeout        string `json:"timeout,omitempty"`
	Retries        *int   `json:"retries,omitempty"`
	BearerTokenEnv string `json:"bearer_token_env,omitempty"`
}

// Defaults and bounds of kind settings.
const (
	defaultHTTPTimeout = 10 * time.Second
	maxHTTPTimeout     = 5 * time.Minute
	defaultHTTPRetries = 3
	maxHTTPRetries     = 10
	maxPathBytes       = 4096
	maxPassEnv         = 16
)

// defaultOKValues are the statuses an http target accepts when it names
// none.
var defaultOKValues = []string{"ok", "success", "succeeded", "successful", "completed", "complete", "done", "passed"}

var (
	stanzaPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	subsetPattern = regexp.MustCompile(`^([0-9]+/[0-9]+|[0-9]+(\.[0-9]+)?%|[0-9]+[KMGT]?)$`)
	secretName    = regexp.MustCompile(`(?i)pass|secret|token|key|credential|auth|cipher`)
)

// kindConfig is the settings of one kind.
type kindConfig interface {
	validate(v *orchestrator.Validation, l limits)
}

// parseConfig decodes and validates the config of kind, returning the typed
// settings, judging secret references and local paths by l. Field errors
// are named "config.<field>".
func parseConfig(kind Kind, raw json.RawMessage, l limits, v *orchestrator.Validation) any {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		raw = json.RawMessage("{}")
	}
	var cfg kindConfig
	switch kind {
	case KindRestic:
		cfg = &ResticConfig{}
	case KindBorg:
		cfg = &BorgConfig{}
	case KindPgBackRest:
		cfg = &PgBackRestConfig{}
	case KindPgBaseBackup:
		cfg = &PgBaseBackupConfig{}
	case KindFile:
		cfg = &FileConfig{}
	case KindHTTP:
		cfg = &HTTPConfig{}
	default:
		return nil
	}
	if !decodeStrict(raw, cfg, kind, v) {
		return nil
	}
	cfg.validate(v, l)
	return cfg
}

// decodeStrict reads raw into cfg, reporting unknown fields (with a word
// on inline secrets) and wrong types under config.<field>.
func decodeStrict(raw json.RawMessage, cfg any, kind Kind, v *orchestrator.Validation) bool {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(cfg)
	if err == nil {
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			v.Add("config", "must be a single JSON object")
			return false
		}
		return true
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field != "":
		v.Add("config."+typeErr.Field, "must be %s", typeErr.Type.String())
	case errors.As(err, &typeErr):
		v.Add("config", "must be a JSON object")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		if secretName.MatchString(name) {
			v.Add("config."+name, "inline secrets are not accepted; reference one by environment variable or file (%s)", secretFields(kind))
		} else {
			v.Add("config."+name, "is not a setting of kind %s", kind)
		}
	default:
		v.Add("config", "is not valid JSON for kind %s", kind)
	}
	return false
}

func secretFields(kind Kind) string {
	switch kind {
	case KindRestic:
		return "password_env or password_file"
	case KindBorg:
		return "passphrase_env or passphrase_file"
	case KindHTTP:
		return "bearer_token_env"
	default:
		return "pass_env or the tool's own configuration file"
	}
}

func (c *ResticConfig) validate(v *orchestrator.Validation, l limits) {
	checkRepository(v, "config.repository", c.Repository, l)
	l.secrets.Validate(secretref.Ref{Env: c.PasswordEnv, File: c.PasswordFile}, v, "config.password_env", "config.password_file", true)
	if c.ReadDataSubset != "" && !subsetPattern.MatchString(c.ReadDataSubset) {
		v.Add("config.read_data_subset", "must be a percentage (5%%), a fraction (1/10) or a size (500M)")
	}
	checkPassEnv(v, c.PassEnv, l)
}

func (c *BorgConfig) validate(v *orchestrator.Validation, l limits) {
	checkRepository(v, "config.repository", c.Repository, l)
	l.secrets.Validate(secretref.Ref{Env: c.PassphraseEnv, File: c.PassphraseFile}, v, "config.passphrase_env", "config.passphrase_file", true)
	checkPassEnv(v, c.PassEnv, l)
}

func (c *PgBackRestConfig) validate(v *orchestrator.Validation, l limits) {
	if !stanzaPattern.MatchString(c.Stanza) {
		v.Add("config.stanza", "is required: letters, digits, '.', '_' or '-', at most 64")
	}
	if c.Config != "" {
		checkPath(v, "config.config", c.Config, false, l)
	}
	checkPassEnv(v, c.PassEnv, l)
}

// verify reports whether `pgbackrest verify` runs.
func (c *PgBackRestConfig) verify() bool { return c.Verify == nil || *c.Verify }

func (c *PgBaseBackupConfig) validate(v *orchestrator.Validation, l limits) {
	checkPath(v, "config.directory", c.Directory, true, l)
}

func (c *FileConfig) validate(v *orchestrator.Validation, l limits) {
	checkPath(v, "config.path", c.Path, true, l)
	if c.MinSize != nil && *c.MinSize < 0 {
		v.Add("config.min_size", "must not be negative")
	}
	if c.MaxSize != nil && *c.MaxSize < 1 {
		v.Add("config.max_size", "must be at least 1 byte")
	}
	if c.MinSize != nil && c.MaxSize != nil && *c.MinSize > *c.MaxSize {
		v.Add("config.max_size", "must not be below min_size (%d)", *c.MinSize)
	}
	if c.Manifest != "" {
		checkPath(v, "config.manifest", c.Manifest, true, l)
	}
}

func (c *HTTPConfig) validate(v *orchestrator.Validation, l limits) {
	checkURL(v, "config.url", c.URL)
	if c.TimeField == "" {
		v.Add("config.time_field", "is required: the field path of the last backup time, e.g. last_success.finished_at")
	}
	for field, path := range map[string]string{"time_field": c.TimeField, "status_field": c.StatusField,
		"verified_field": c.VerifiedField, "size_field": c.SizeField} {
		if path == "" {
			continue
		}
		if _, err := ParseFieldPath(path); err != nil {
			v.Add("config."+field, "%s", err)
		}
	}
	if len(c.OKValues) > 0 && c.StatusField == "" {
		v.Add("config.ok_values", "needs status_field")
	}
	for _, s := range c.OKValues {
		if strings.TrimSpace(s) == "" || len(s) > 100 {
			v.Add("config.ok_values", "must be non-empty strings of at most 100 bytes")
			break
		}
	}
	if c.Timeout != "" {
		d, err := orchestrator.ParseDuration(c.Timeout)
		if err != nil || d < orchestrator.Duration(time.Second) || time.Duration(d) > maxHTTPTimeout {
			v.Add("config.timeout", "must be a duration from 1s to %s", orchestrator.Duration(maxHTTPTimeout))
		}
	}
	if c.Retries != nil && (*c.Retries < 0 || *c.Retries > maxHTTPRetries) {
		v.Add("config.retries", "must be from 0 to %d", maxHTTPRetries)
	}
	if c.BearerTokenEnv != "" {
		l.secrets.ValidateEnv(v, "config.bearer_token_env", c.BearerTokenEnv)
	}
}

// timeout is the per-request timeout.
func (c *HTTPConfig) timeout() time.Duration {
	d, err := orchestrator.ParseDuration(c.Timeout)
	if c.Timeout == "" || err != nil {
		return defaultHTTPTimeout
	}
	return time.Duration(d)
}

// retries is how many times a failed request is repeated.
func (c *HTTPConfig) retries() int {
	if c.Retries == nil {
		return defaultHTTPRetries
	}
	return *c.Retries
}
