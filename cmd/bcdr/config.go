package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/bcdr/bcdr/api"
	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/outbound"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// config is every setting, read from the environment and overridden by
// flags. The README's configuration table lists the same names and defaults.
type config struct {
	Listen             string        `env:"BCDR_LISTEN" envDefault:"127.0.0.1:8080"`
	DatabaseURL        string        `env:"DATABASE_URL"`
	DataDir            string        `env:"BCDR_DATA_DIR" envDefault:"./var"`
	LogLevel           string        `env:"BCDR_LOG_LEVEL" envDefault:"info"`
	LogFormat          string        `env:"BCDR_LOG_FORMAT" envDefault:"auto"`
	BaseURL            string        `env:"BCDR_BASE_URL"`
	ShutdownTimeout    time.Duration `env:"BCDR_SHUTDOWN_TIMEOUT" envDefault:"30s"`
	DBMaxConns         int32         `env:"BCDR_DB_MAX_CONNS" envDefault:"20"`
	DBStatementTimeout time.Duration `env:"BCDR_DB_STATEMENT_TIMEOUT" envDefault:"60s"`
	Replica            string        `env:"BCDR_REPLICA"`
	SchedulerWorkers   int           `env:"BCDR_SCHEDULER_WORKERS" envDefault:"8"`
	SchedulerPoll      time.Duration `env:"BCDR_SCHEDULER_POLL" envDefault:"1s"`
	SchedulerLease     time.Duration `env:"BCDR_SCHEDULER_LEASE" envDefault:"30s"`
	KitDir             string        `env:"BCDR_KIT_DIR"`
	KitKeep            int           `env:"BCDR_KIT_KEEP" envDefault:"7"`
	// AuditKeyFile holds the key of the audit log's row hashes and
	// anchors; AuditAnchorEvery is how often serve anchors the chain head
	// into the kit directory.
	AuditKeyFile     string        `env:"BCDR_AUDIT_KEY_FILE"`
	AuditAnchorEvery time.Duration `env:"BCDR_AUDIT_ANCHOR_EVERY" envDefault:"1h"`
	// TLSCert and TLSKey are PEM files; set both to serve HTTPS.
	TLSCert string `env:"BCDR_TLS_CERT"`
	TLSKey  string `env:"BCDR_TLS_KEY"`
	// SecretEnv lists variables besides BCDR_SECRET_* that secret
	// references may name; SecretsDir holds the files they may name.
	SecretEnv  []string `env:"BCDR_SECRET_ENV" envSeparator:","`
	SecretsDir string   `env:"BCDR_SECRETS_DIR"`
	// BackupRoots are the directories local backup paths must lie under.
	BackupRoots []string `env:"BCDR_BACKUP_ROOTS" envSeparator:":"`
	// OutboundAllow lists the hosts and CIDRs that backup checks and
	// notifications may reach although they are loopback, private or
	// link-local.
	OutboundAllow string `env:"BCDR_OUTBOUND_ALLOW"`
	// TrustedProxies lists the load balancers whose X-Forwarded-For names
	// the client (addresses and CIDRs).
	TrustedProxies string `env:"BCDR_TRUSTED_PROXIES"`
	// Retention is how long finished schedule runs, backup checks and
	// delivered notifications are kept: 400 days keeps a year of evidence.
	Retention time.Duration `env:"BCDR_RETENTION" envDefault:"9600h"`
	// The SMTP settings are the mail server email notification channels
	// are sent through; without BCDR_SMTP_ADDR and BCDR_SMTP_FROM no email
	// channel can be made. The password is a reference to a variable or a
	// file that no other secret reference may name (outside BCDR_SECRET_*,
	// BCDR_SECRET_ENV and BCDR_SECRETS_DIR: secretref.ValidatePrivate).
	SMTPAddr         string `env:"BCDR_SMTP_ADDR"`
	SMTPFrom         string `env:"BCDR_SMTP_FROM"`
	SMTPHello        string `env:"BCDR_SMTP_HELLO"`
	SMTPUsername     string `env:"BCDR_SMTP_USERNAME"`
	SMTPPasswordEnv  string `env:"BCDR_SMTP_PASSWORD_ENV"`
	SMTPPasswordFile string `env:"BCDR_SMTP_PASSWORD_FILE"`
	SMTPTLS          string `env:"BCDR_SMTP_TLS" envDefault:"starttls"`
	SMTPCAFile       string `env:"BCDR_SMTP_CA_FILE"`
}

// parseConfig reads env into a config and registers the flags that
// override it on fs; call fs.Parse afterwards, then cfg.check.
func parseConfig(vars map[string]string, fs *flag.FlagSet) (*config, error) {
	cfg := &config{}
	if err := env.ParseWithOptions(cfg, env.Options{Environment: vars}); err != nil {
		return nil, fmt.Errorf("read configuration: %w", nameVariables(err, vars))
	}
	fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "address to serve HTTP on (BCDR_LISTEN)")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "data directory for the embedded database and the admin token (BCDR_DATA_DIR)")
	fs.StringVar(&cfg.DatabaseURL, "database-url", cfg.DatabaseURL, "PostgreSQL URL; empty starts the embedded database (DATABASE_URL)")
	// The usage must not print the URL from the environment: it may hold
	// a password.
	fs.Lookup("database-url").DefValue = ""
	fs.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error (BCDR_LOG_LEVEL)")
	fs.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "auto, json or text (BCDR_LOG_FORMAT)")
	fs.StringVar(&cfg.BaseURL, "base-url", cfg.BaseURL, "externally visible URL of this server (BCDR_BASE_URL)")
	return cfg, nil
}

// nameVariables rewrites the env library's parse errors, which name Go
// struct fields, to name the variable the user set and its value.
func nameVariables(err error, vars map[string]string) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return err
	}
	problems := make([]string, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			if f, ok := reflect.TypeFor[config]().FieldByName(pe.Name); ok {
				name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
				problems = append(problems, fmt.Sprintf("%s %q: %v", name, vars[name], pe.Err))
				continue
			}
		}
		problems = append(problems, e.Error())
	}
	return errors.New(strings.Join(problems, "; "))
}

func (c *config) check() error {
	var problems []string
	if _, err := parseLevel(c.LogLevel); err != nil {
		problems = append(problems, err.Error())
	}
	switch c.LogFormat {
	case "auto", "json", "text":
	default:
		problems = append(problems, fmt.Sprintf("BCDR_LOG_FORMAT %q: must be auto, json or text", c.LogFormat))
	}
	if c.DataDir == "" {
		problems = append(problems, "BCDR_DATA_DIR must not be empty")
	}
	if c.DBMaxConns < 1 {
		problems = append(problems, "BCDR_DB_MAX_CONNS must be at least 1")
	}
	if c.SchedulerWorkers < 0 {
		problems = append(problems, "BCDR_SCHEDULER_WORKERS must not be negative (0 turns the scheduler off)")
	}
	if c.SchedulerPoll <= 0 || c.SchedulerLease < 3*c.SchedulerPoll {
		problems = append(problems, "BCDR_SCHEDULER_POLL must be positive and BCDR_SCHEDULER_LEASE at least three polls")
	}
	if c.TLSCert != "" && c.TLSKey == "" {
		problems = append(problems, "BCDR_TLS_KEY is required when BCDR_TLS_CERT is set")
	}
	if c.TLSKey != "" && c.TLSCert == "" {
		problems = append(problems, "BCDR_TLS_CERT is required when BCDR_TLS_KEY is set")
	}
	if c.Retention < 24*time.Hour {
		problems = append(problems, "BCDR_RETENTION must be at least 24h")
	}
	if _, err := outbound.ParsePolicy(c.OutboundAllow); err != nil {
		problems = append(problems, err.Error())
	}
	if _, err := api.ParseTrustedProxies(c.TrustedProxies); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid configuration: %s", strings.Join(problems, "; "))
	}
	if c.KitKeep < 1 {
		return fmt.Errorf("invalid configuration: BCDR_KIT_KEEP must be at least 1")
	}
	if c.AuditAnchorEvery < time.Second {
		return fmt.Errorf("invalid configuration: BCDR_AUDIT_ANCHOR_EVERY must be at least 1s")
	}
	if c.AuditKeyFile == "" {
		c.AuditKeyFile = filepath.Join(c.DataDir, "audit-key")
	}
	if c.BaseURL == "" {
		c.BaseURL = c.scheme() + "://" + c.Listen
	}
	if c.KitDir == "" {
		c.KitDir = filepath.Join(c.DataDir, "kits")
	}
	if err := c.checkConfinement(); err != nil {
		return err
	}
	return c.checkSMTP()
}

// checkConfinement defaults and checks what secret references and backup
// paths may reach, made absolute: they are judged against absolute paths.
func (c *config) checkConfinement() error {
	if c.SecretsDir == "" {
		c.SecretsDir = filepath.Join(c.DataDir, "secrets")
	}
	roots := slices.DeleteFunc(c.BackupRoots, func(r string) bool { return strings.TrimSpace(r) == "" })
	if len(roots) == 0 {
		roots = []string{c.DataDir}
	}
	c.BackupRoots = nil
	for _, r := range roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			return fmt.Errorf("invalid configuration: BCDR_BACKUP_ROOTS %q: %w", r, err)
		}
		c.BackupRoots = append(c.BackupRoots, abs)
	}
	abs, err := filepath.Abs(c.SecretsDir)
	if err != nil {
		return fmt.Errorf("invalid configuration: BCDR_SECRETS_DIR %q: %w", c.SecretsDir, err)
	}
	c.SecretsDir = abs
	for i, name := range c.SecretEnv {
		c.SecretEnv[i] = strings.TrimSpace(name)
	}
	c.SecretEnv = slices.DeleteFunc(c.SecretEnv, func(n string) bool { return n == "" })
	if err := c.secrets().Check(); err != nil {
		return fmt.Errorf("invalid configuration: BCDR_SECRET_ENV or BCDR_SECRETS_DIR: %w", err)
	}
	return nil
}

// secrets is what secret references may name.
func (c *config) secrets() secretref.Policy {
	return secretref.Policy{ExtraEnv: c.SecretEnv, Dir: c.SecretsDir}
}

// checkSMTP refuses mail settings that cannot send, naming the variables;
// it runs once the secret policy the password must fit is known.
func (c *config) checkSMTP() error {
	s := c.smtp()
	if s == nil {
		return nil
	}
	if err := s.Check(c.secrets()); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	return nil
}

// smtp is the mail server email channels are sent through, nil when no
// BCDR_SMTP_* setting is made; check has refused settings that cannot
// send.
func (c *config) smtp() *notify.SMTP {
	s := notify.SMTP{Addr: c.SMTPAddr, From: c.SMTPFrom, HelloName: c.SMTPHello, Username: c.SMTPUsername,
		Password: secretref.Ref{Env: c.SMTPPasswordEnv, File: c.SMTPPasswordFile}, TLS: notify.SMTPTLS(c.SMTPTLS), CAFile: c.SMTPCAFile}
	if s.TLS == "" {
		s.TLS = notify.SMTPStartTLS
	}
	if s == (notify.SMTP{TLS: notify.SMTPStartTLS}) {
		return nil
	}
	return &s
}

// outbound is the address policy of backup checks and notifications;
// check has refused an allowlist that does not parse.
func (c *config) outbound() outbound.Policy {
	p, _ := outbound.ParsePolicy(c.OutboundAllow)
	return p
}

// trustedProxies are the load balancers in front of the server; check has
// refused a list that does not parse.
func (c *config) trustedProxies() []netip.Prefix {
	p, _ := api.ParseTrustedProxies(c.TrustedProxies)
	return p
}

// scheme is how clients reach this server: https when it serves TLS.
func (c *config) scheme() string {
	if c.TLSCert != "" {
		return "https"
	}
	return "http"
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("BCDR_LOG_LEVEL %q: must be debug, info, warn or error", s)
	}
	return l, nil
}

// newLogger writes JSON unless the format is text, or auto on a terminal.
func (c *config) newLogger(w io.Writer) *slog.Logger {
	level, _ := parseLevel(c.LogLevel)
	opts := &slog.HandlerOptions{Level: level}
	text := c.LogFormat == "text" || (c.LogFormat == "auto" && isTerminal(w))
	if text {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
