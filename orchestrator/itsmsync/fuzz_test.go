package itsmsync

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// FuzzParseTarget: any target either is refused or reads as one whose
// instance is an https URL (or http on loopback) with nothing but a host,
// whose tables all sync, and whose secrets are references.
func FuzzParseTarget(f *testing.F) {
	for _, s := range []string{
		"servicenow?instance=https://acme.service-now.com&tables=cmdb_ci,cmdb_rel_ci,incident&auth=basic&user=svc_bcdr&password=env:BCDR_SECRET_SN",
		"servicenow?instance=https://acme.service-now.com&tables=incident&auth=oauth&client_id=a&client_secret=file:/run/secrets/sn&page_size=10",
		"servicenow?instance=http://127.0.0.1:8080&tables=cmdb_ci_server&auth=oauth&client_id=a&client_secret=env:X&user=u&password=env:Y",
		"servicenow?instance=https://a.b/../c&tables=..%2Fetc&auth=basic",
		"itop?instance=https://x",
		"servicenow?%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tgt, err := ParseTarget(s)
		if err != nil {
			return
		}
		u, perr := url.Parse(tgt.Instance)
		if perr != nil || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			t.Fatalf("instance %q accepted", tgt.Instance)
		}
		if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
			t.Fatalf("instance %q accepted without https", tgt.Instance)
		}
		if len(tgt.Tables) == 0 {
			t.Fatal("no tables accepted")
		}
		for _, table := range tgt.Tables {
			if specOf(table) == nil {
				t.Fatalf("table %q accepted", table)
			}
		}
		for _, ref := range [][2]string{{tgt.Password.Env, tgt.Password.File}, {tgt.ClientSecret.Env, tgt.ClientSecret.File}} {
			if ref[1] != "" && !strings.HasPrefix(ref[1], "/") {
				t.Fatalf("secret file %q accepted", ref[1])
			}
		}
		if tgt.PageSize < 1 || tgt.PageSize > MaxPageSize {
			t.Fatalf("page size %d accepted", tgt.PageSize)
		}
	})
}

// FuzzValue: a field of a Table API answer, whatever its JSON, decodes
// without panicking, and a plain string is both its values.
func FuzzValue(f *testing.F) {
	for _, s := range []string{`"x"`, `{"display_value":"Operational","value":"1"}`, `null`, `12`, `{"value":{"a":1}}`, `[]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v value
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return
		}
		var str string
		if json.Unmarshal([]byte(s), &str) == nil && (v.Display != str || v.Value != str) {
			t.Fatalf("%s decoded as %+v", s, v)
		}
	})
}

// FuzzLinks: any Link header is read without panicking.
func FuzzLinks(f *testing.F) {
	f.Add(`<https://x/api/now/table/incident?sysparm_offset=0>;rel="first",<https://x/api/now/table/incident?sysparm_offset=2>;rel="next"`)
	f.Add(`<a>; rel=next`)
	f.Fuzz(func(t *testing.T, s string) { _ = hasNextLink([]string{s}) })
}
