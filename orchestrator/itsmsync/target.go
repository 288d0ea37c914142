// Package itsmsync keeps the CMDB and the ITSM records current by pulling
// them from the tool that owns them, as the scheduler's itsm_sync job: each
// table named by the schedule's target is read from ServiceNow's Table API
// since its high-water mark, written to a temporary file shaped as
// ServiceNow's own list export, and imported by the importer in one call, so
// a table's delta is all-or-nothing and a run repeated changes nothing.
// Every request goes through the outbound client and its address policy;
// credentials are secret references resolved when a run starts and never
// logged, stored or returned.
package itsmsync

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// An itsm_sync schedule's target names the system and its settings as a
// query:
//
//	servicenow?instance=https://acme.service-now.com&tables=cmdb_ci,cmdb_rel_ci,incident
//	  &auth=basic&user=svc_bcdr&password=env:BCDR_SECRET_SN
//	servicenow?instance=...&tables=...&auth=oauth&client_id=abc&client_secret=env:BCDR_SECRET_SN_OAUTH
//
// Secrets are references (env:NAME or file:/path), never values. Optional:
// page_size (records per request, default DefaultPageSize) and source (the
// records' source, default "servicenow", as a file import with
// source=servicenow writes, so a sync carries on from such an import).

// Auth methods.
const (
	AuthBasic = "basic"
	AuthOAuth = "oauth"
)

// Defaults and bounds of a target.
const (
	DefaultPageSize = 1000
	MaxPageSize     = 10000
	DefaultSource   = "servicenow"
	maxTables       = 20
)

// Target is a parsed itsm_sync target.
type Target struct {
	// Instance is the instance's base URL, scheme and host only:
	// https://acme.service-now.com.
	Instance string
	// Tables are the ServiceNow tables to read, in dependency order (CIs,
	// relations, companies, problems, incidents, changes).
	Tables   []string
	Auth     string
	User     string
	Password secretref.Ref
	// ClientID and ClientSecret are the OAuth application's; with User and
	// Password also set the token is asked for with the password grant,
	// else with client credentials.
	ClientID     string
	ClientSecret secretref.Ref
	PageSize     int
	Source       string
}

var (
	tablePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,79}$`)
	userPattern  = regexp.MustCompile(`^[\p{L}\p{N}._@+\-]{1,128}$`)
	idPattern    = regexp.MustCompile(`^[A-Za-z0-9._\-]{1,128}$`)
	// sourcePattern is what a record's source may be.
	sourcePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._:\-]{0,63}$`)
)

// ParseTarget reads an itsm_sync target; the error names the setting at
// fault. Secret references are checked for shape here and against the
// operator's secret policy by Syncer.CheckTarget.
func ParseTarget(target string) (Target, error) {
	system, query, _ := strings.Cut(target, "?")
	switch system {
	case "servicenow":
	case "itop":
		return Target{}, errors.New("names itop, which bcdr cannot sync from yet; export iTop's lists and import the files")
	default:
		return Target{}, errors.New("must name the system to sync from (servicenow), followed by ?instance=&tables=&auth= and the credentials")
	}
	values, err := url.ParseQuery(query)
	if err != nil {
		return Target{}, fmt.Errorf("has a query that cannot be read: %v", err)
	}
	t := Target{PageSize: DefaultPageSize, Source: DefaultSource}
	var tables string
	for name, vs := range values {
		if len(vs) != 1 {
			return Target{}, fmt.Errorf("names %s more than once", name)
		}
		v := strings.TrimSpace(vs[0])
		switch name {
		case "instance":
			t.Instance = v
		case "tables":
			tables = v
		case "auth":
			t.Auth = v
		case "user":
			t.User = v
		case "password":
			t.Password, err = parseRef("password", v)
		case "client_id":
			t.ClientID = v
		case "client_secret":
			t.ClientSecret, err = parseRef("client_secret", v)
		case "page_size":
			n, convErr := strconv.Atoi(v)
			if convErr != nil || n < 1 || n > MaxPageSize {
				return Target{}, fmt.Errorf("page_size must be a whole number from 1 to %d", MaxPageSize)
			}
			t.PageSize = n
		case "source":
			if !sourcePattern.MatchString(v) {
				return Target{}, errors.New("source must be lower-case letters, digits and . _ : - (at most 64)")
			}
			t.Source = v
		default:
			return Target{}, fmt.Errorf("has %s, which a servicenow sync does not take (instance, tables, auth, user, password, client_id, client_secret, page_size, source)", name)
		}
		if err != nil {
			return Target{}, err
		}
	}
	if t.Instance, err = checkInstance(t.Instance); err != nil {
		return Target{}, err
	}
	if t.Tables, err = parseTables(tables); err != nil {
		return Target{}, err
	}
	return t, t.checkAuth()
}

// checkInstance reads the instance's URL: https, a host, nothing else. Plain
// http is accepted only for a loopback address (a local proxy or a test
// double), so credentials never cross a network in clear text.
func checkInstance(s string) (string, error) {
	if s == "" {
		return "", errors.New("instance is required (https://<name>.service-now.com)")
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", errors.New("instance must be the instance's URL, such as https://acme.service-now.com")
	}
	switch {
	case u.User != nil:
		return "", errors.New("instance must not carry credentials; give user and password (as a secret reference)")
	case u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "":
		return "", errors.New("instance must be the instance's base URL only (no path or query), such as https://acme.service-now.com")
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	case u.Scheme == "http":
		return "", errors.New("instance must use https (plain http only for a loopback address)")
	default:
		return "", errors.New("instance must be an https URL")
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && a.IsLoopback()
}

// parseTables reads the comma-separated table list and puts it in
// dependency order: a relation needs its CIs, an incident its CIs and
// problem.
func parseTables(s string) ([]string, error) {
	if s == "" {
		return nil, fmt.Errorf("tables is required: a comma-separated list of %s", tableNames())
	}
	var tables []string
	for name := range strings.SplitSeq(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if !tablePattern.MatchString(name) || specOf(name) == nil {
			return nil, fmt.Errorf("tables names %q, which bcdr cannot sync; it syncs %s", clip(name), tableNames())
		}
		if slices.Contains(tables, name) {
			return nil, fmt.Errorf("tables names %s more than once", name)
		}
		tables = append(tables, name)
	}
	if len(tables) == 0 {
		return nil, fmt.Errorf("tables is required: a comma-separated list of %s", tableNames())
	}
	if len(tables) > maxTables {
		return nil, fmt.Errorf("tables names more than %d tables", maxTables)
	}
	slices.SortStableFunc(tables, func(a, b string) int { return specOf(a).order - specOf(b).order })
	return tables, nil
}

// clip shortens what a user wrote for a message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// checkAuth checks the credentials the auth method needs, and that no
// other method's are given.
func (t Target) checkAuth() error {
	switch t.Auth {
	case AuthBasic:
		if t.User == "" {
			return errors.New("user is required with auth=basic")
		}
		if t.Password == (secretref.Ref{}) {
			return errors.New("password is required with auth=basic: a secret reference, env:NAME or file:/path")
		}
		if t.ClientID != "" || t.ClientSecret != (secretref.Ref{}) {
			return errors.New("client_id and client_secret are for auth=oauth, not auth=basic")
		}
	case AuthOAuth:
		if !idPattern.MatchString(t.ClientID) {
			return errors.New("client_id is required with auth=oauth (letters, digits, . _ -)")
		}
		if t.ClientSecret == (secretref.Ref{}) {
			return errors.New("client_secret is required with auth=oauth: a secret reference, env:NAME or file:/path")
		}
		if (t.User == "") != (t.Password == secretref.Ref{}) {
			return errors.New("user and password go together with auth=oauth (the password grant); give both or neither")
		}
	case "":
		return errors.New("auth is required: basic or oauth")
	default:
		return errors.New("auth must be basic or oauth")
	}
	if t.User != "" && !userPattern.MatchString(t.User) {
		return errors.New("user must be a ServiceNow user name (letters, digits, . _ @ + -; at most 128)")
	}
	return nil
}

// parseRef reads a secret reference: env:NAME or file:/absolute/path.
func parseRef(field, s string) (secretref.Ref, error) {
	switch {
	case strings.HasPrefix(s, "env:"):
		name := strings.TrimPrefix(s, "env:")
		if err := secretref.CheckEnvName(name); err != nil {
			return secretref.Ref{}, fmt.Errorf("%s env: %v", field, err)
		}
		return secretref.Ref{Env: name}, nil
	case strings.HasPrefix(s, "file:"):
		path := strings.TrimPrefix(s, "file:")
		if err := secretref.CheckFile(path); err != nil {
			return secretref.Ref{}, fmt.Errorf("%s file: %v", field, err)
		}
		return secretref.Ref{File: path}, nil
	}
	return secretref.Ref{}, fmt.Errorf("%s must be a secret reference, env:NAME or file:/path, never the secret itself", field)
}

// CheckTarget is the scheduler's check of an itsm_sync target: its shape
// and its secret references under the operator's secret policy.
func (s *Syncer) CheckTarget(target string) error {
	t, err := ParseTarget(target)
	if err != nil {
		return err
	}
	for _, r := range []struct {
		field string
		ref   secretref.Ref
	}{{"password", t.Password}, {"client_secret", t.ClientSecret}} {
		switch {
		case r.ref.Env != "":
			if err := s.opts.Secrets.CheckEnv(r.ref.Env); err != nil {
				return fmt.Errorf("%s %v", r.field, err)
			}
		case r.ref.File != "":
			if err := s.opts.Secrets.CheckFile(r.ref.File); err != nil {
				return fmt.Errorf("%s %v", r.field, err)
			}
		}
	}
	return nil
}
