package itsmsync

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

func (b *bundle) oauthTarget(tables, extra string) string {
	return fmt.Sprintf("servicenow?instance=%s&tables=%s&auth=oauth&client_id=%s&client_secret=env:BCDR_SECRET_SN_OAUTH%s",
		b.fake.URL, tables, testClientID, extra)
}

// OAuth: the client-credentials grant, or the password grant when the
// target names a user, gets a token once from /oauth_token.do, and every
// table request carries it; a token the instance stops accepting is
// replaced once.
func TestSyncOAuth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, extra, grant string
	}{
		{"client credentials", "", "client_credentials"},
		{"password grant", "&user=" + testUser + "&password=env:BCDR_SECRET_SN", "password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, b := setup(t, "cmdb_ci", "cmdb_rel_ci")
			sc := b.schedule(t, "oauth", b.oauthTarget("cmdb_ci,cmdb_rel_ci", tc.extra+"&page_size=4"))
			// The instance revokes the token when the relations are first
			// asked for: that request is refused, a new token is fetched and
			// the request asked again.
			revoked := false
			b.fake.fault = func(w http.ResponseWriter, r *http.Request, n int) bool {
				if r.URL.Path == "/api/now/table/cmdb_rel_ci" && !revoked {
					revoked = true
					b.fake.mu.Lock()
					b.fake.token = "revoked"
					b.fake.mu.Unlock()
				}
				return false
			}
			res, err := b.sync(t, s, sc)
			require.NoError(t, err)
			require.Equal(t, 6, byTable(res)["cmdb_ci"].Import.Inserted)
			require.Equal(t, 5, byTable(res)["cmdb_rel_ci"].Import.Inserted)
			require.Equal(t, 2, b.fake.tokens, "one token, and one more once it was revoked")
			var tokenReqs []*http.Request
			for _, r := range b.fake.requests {
				if r.URL.Path == "/oauth_token.do" {
					tokenReqs = append(tokenReqs, r)
				}
			}
			require.Len(t, tokenReqs, 2)
			require.Equal(t, "application/x-www-form-urlencoded", tokenReqs[0].Header.Get("Content-Type"))
			rels := b.fake.tableRequests("cmdb_rel_ci")
			require.Len(t, rels, 3, "the refused request, asked again, and the second page")
			for _, r := range append(b.fake.tableRequests("cmdb_ci"), rels...) {
				require.True(t, strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "), "every table request carries the token")
			}
			require.Equal(t, []string{tc.grant, tc.grant}, b.fake.grants)
		})
	}
}

// A scheduled firing syncs once and is recorded once; credentials the
// instance refuses fail the run with a message that says so, and no
// secret, nor the token, appears in the run record, its error or the log,
// even when the instance echoes the secret back.
func TestScheduledSyncKeepsSecrets(t *testing.T) {
	t.Parallel()
	s, b := setup(t, "cmdb_ci")
	sc := b.schedule(t, "scheduled oauth", b.oauthTarget("cmdb_ci", "&user="+testUser+"&password=env:BCDR_SECRET_SN"))
	sched := scheduler.New(b.pool, orchestrator.Runtime{}, scheduler.Options{Replica: "r1", PollInterval: 20 * time.Millisecond})
	sched.Register(scheduler.KindITSMSync, s.HandleRun)
	runCtx, stop := context.WithCancel(b.ctx)
	done := make(chan error, 1)
	go func() { done <- sched.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })

	finished := func(n int) []scheduler.Run {
		var runs []scheduler.Run
		eventually.TrueWithin(t, 60*time.Second, func() bool {
			l, err := b.schedules.Runs(b.ctx, sc.ID, scheduler.RunFilter{}, orchestrator.Page{Limit: 10})
			require.NoError(t, err)
			runs = l.Items
			return len(runs) == n && (runs[0].Status == scheduler.StatusSucceeded || runs[0].Status == scheduler.StatusFailed)
		}, "the run finishes")
		return runs
	}
	_, err := b.schedules.FireNow(b.ctx, sc.ID)
	require.NoError(t, err)
	runs := finished(1)
	require.Equal(t, scheduler.StatusSucceeded, runs[0].Status, runs[0].Error)
	require.Contains(t, runs[0].Output, "cmdb_ci → cis: 6 read, 6 inserted, 0 updated, 0 unchanged (mark 2025-03-07 18:45:31)")
	require.Equal(t, 6, b.count(t, "cis"))
	require.Equal(t, 1, b.count(t, "schedule_runs"))

	// The instance now refuses the client secret, quoting it back.
	b.fake.mu.Lock()
	b.fake.token = ""
	b.fake.fault = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.URL.Path != "/oauth_token.do" {
			return false
		}
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":"invalid_client","error_description":"client_secret %s and password %s are not valid"}`,
			r.PostForm.Get("client_secret"), r.PostForm.Get("password"))
		return true
	}
	b.fake.mu.Unlock()
	_, err = b.schedules.FireNow(b.ctx, sc.ID)
	require.NoError(t, err)
	runs = finished(2)
	failed := runs[0]
	require.Equal(t, scheduler.StatusFailed, failed.Status)
	require.Contains(t, failed.Error, "get an OAuth token")
	require.Contains(t, failed.Error, "401")
	require.Contains(t, failed.Error, "check the credentials")
	require.Equal(t, 2, b.count(t, "schedule_runs"))

	var record strings.Builder
	for _, r := range runs {
		record.WriteString(r.Output + r.Error)
	}
	var stored string
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT string_agg(target || output || error, ' ') FROM schedules JOIN schedule_runs ON schedule_id = schedules.id`).Scan(&stored))
	for _, secret := range []string{testPassword, testSecret, "test-access-token"} {
		require.NotContains(t, record.String(), secret)
		require.NotContains(t, stored, secret)
		require.NotContains(t, b.log.String(), secret)
	}
	require.Contains(t, failed.Error, "[redacted]", "the echoed secret is scrubbed")
}

// A schedule's target is checked when the schedule is created: the error
// is on field target and names the setting at fault.
func TestCheckTarget(t *testing.T) {
	t.Parallel()
	s, b := setup(t)
	base := "servicenow?instance=https://acme.service-now.com&tables=cmdb_ci&auth=basic&user=svc_bcdr"
	for target, want := range map[string]string{
		"":                              "must name the system to sync from (servicenow)",
		"itop?instance=https://x":       "cannot sync from yet",
		base:                            "password is required with auth=basic",
		base + "&password=hunter2":      "password must be a secret reference, env:NAME or file:/path, never the secret itself",
		base + "&password=env:SN_PASS":  `password "SN_PASS" is not a secret bcdr may read: name variables BCDR_SECRET_…`,
		base + "&password=file:/etc/sn": "password cannot be read: no secrets directory is configured",
		base + "&password=env:BCDR_SECRET_SN&client_id=x":                                                                         "client_id and client_secret are for auth=oauth",
		"servicenow?instance=http://acme.service-now.com&tables=cmdb_ci&auth=basic&user=u&password=env:BCDR_SECRET_SN":            "instance must use https",
		"servicenow?instance=https://u:p@acme.service-now.com&tables=cmdb_ci&auth=basic&user=u&password=env:BCDR_SECRET_SN":       "instance must not carry credentials",
		"servicenow?instance=https://acme.service-now.com/now/nav&tables=cmdb_ci&auth=basic&user=u&password=env:BCDR_SECRET_SN":   "base URL only",
		"servicenow?tables=cmdb_ci&auth=basic&user=u&password=env:BCDR_SECRET_SN":                                                 "instance is required",
		"servicenow?instance=https://acme.service-now.com&auth=basic&user=u&password=env:BCDR_SECRET_SN":                          "tables is required",
		"servicenow?instance=https://acme.service-now.com&tables=sys_user&auth=basic&user=u&password=env:BCDR_SECRET_SN":          `tables names "sys_user", which bcdr cannot sync`,
		"servicenow?instance=https://acme.service-now.com&tables=incident,incident&auth=basic&user=u&password=env:BCDR_SECRET_SN": "tables names incident more than once",
		"servicenow?instance=https://acme.service-now.com&tables=cmdb_ci&auth=oauth&client_secret=env:BCDR_SECRET_SN":             "client_id is required with auth=oauth",
		"servicenow?instance=https://acme.service-now.com&tables=cmdb_ci&auth=token":                                              "auth must be basic or oauth",
		base + "&password=env:BCDR_SECRET_SN&page_size=0":                                                                         "page_size must be a whole number from 1 to 10000",
		base + "&password=env:BCDR_SECRET_SN&sysparm_query=x":                                                                     "has sysparm_query, which a servicenow sync does not take",
		base + "&password=env:BCDR_SECRET_SN&user=x":                                                                              "names user more than once",
		base + "&password=env:BCDR_SECRET_SN&source=Robert' OR 1=1--":                                                             "source must be lower-case letters",
	} {
		name, kind, spec := "check "+target, scheduler.KindITSMSync, "@daily"
		_, err := b.schedules.Create(b.ctx, scheduler.Input{Name: &name, Kind: &kind, Target: &target, Cron: &spec})
		require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err), target)
		fields := orchestrator.ErrorFields(err)
		require.Len(t, fields, 1, target)
		require.Equal(t, "target", fields[0].Field, target)
		require.Contains(t, fields[0].Message, want, target)
		require.Error(t, s.CheckTarget(target))
	}

	tgt, err := ParseTarget("servicenow?instance=https://ACME.service-now.com/&tables=incident, cmdb_rel_ci,problem,cmdb_ci_server,core_company,change_request,cmdb_ci" +
		"&auth=oauth&client_id=abc&client_secret=file:/run/secrets/sn&page_size=500&source=snow-prod")
	require.NoError(t, err)
	require.Equal(t, Target{Instance: "https://acme.service-now.com",
		Tables: []string{"cmdb_ci_server", "cmdb_ci", "cmdb_rel_ci", "core_company", "problem", "incident", "change_request"},
		Auth:   AuthOAuth, ClientID: "abc", ClientSecret: secretRef("", "/run/secrets/sn"), PageSize: 500, Source: "snow-prod"}, tgt)
	require.NoError(t, s.CheckTarget(b.basicTarget("cmdb_ci", "")))
}

func secretRef(env, file string) secretref.Ref { return secretref.Ref{Env: env, File: file} }
