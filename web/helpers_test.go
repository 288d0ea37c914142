package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/demo"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// demoNow anchors the demo the UI's tests read.
var demoNow = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// env is the UI over the demo organisation (seeded once per test binary,
// cloned per test) on a loopback server.
type env struct {
	t     testing.TB
	pool  *pgxpool.Pool
	wired demo.Wired
	srv   *httptest.Server
	ui    *UI
}

func setup(t testing.TB) *env {
	t.Helper()
	pool := pgtest.Seeded(t, "demo", demo.SeedAt(demoNow))
	w := demo.Wire(pool, demoNow)
	ui := New(Options{Runtime: orchestrator.Runtime{Clock: orchestrator.NewManualClock(demoNow)},
		Services: Services{Tokens: w.Tokens, CMDB: cmdb.NewService(pool), ITSM: itsm.NewStore(pool), Imports: demo.Registry(), Schedules: w.Schedules, Impact: w.Impact, Runbooks: w.Runbooks, Executions: w.Executions,
			Drills: w.Drills, Report: w.Report, Reports: w.Reports, Backups: w.Backups, Notify: notify.NewService(pool, orchestrator.Runtime{}, secretref.Policy{}), Pool: pool}})
	srv := httptest.NewServer(ui)
	t.Cleanup(srv.Close)
	t.Cleanup(w.Reports.Close)
	return &env{t: t, pool: pool, wired: w, srv: srv, ui: ui}
}

// person is a browser signed in with a token of its own.
type person struct {
	e      *env
	client *http.Client
	actor  orchestrator.Actor
}

// signIn makes a token of role named name and signs a new browser in.
func (e *env) signIn(name string, role orchestrator.Role) *person {
	e.t.Helper()
	ctx := orchestrator.WithActor(context.Background(), orchestrator.Actor{Name: "test", Role: orchestrator.RoleAdmin})
	tok, secret, err := e.wired.Tokens.Create(ctx, name, role)
	require.NoError(e.t, err)
	jar, err := cookiejar.New(nil)
	require.NoError(e.t, err)
	p := &person{e: e, client: &http.Client{Jar: jar, Timeout: 60 * time.Second},
		actor: orchestrator.Actor{TokenID: tok.ID, Name: name, Role: role}}
	status, body := p.post("/login", url.Values{"token": {secret}, "next": {"/"}})
	require.Equal(e.t, http.StatusOK, status, body)
	return p
}

// get fetches path and returns the status and body, following redirects.
func (p *person) get(path string) (int, string) {
	p.e.t.Helper()
	resp, err := p.client.Get(p.e.srv.URL + path)
	require.NoError(p.e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(p.e.t, err)
	return resp.StatusCode, string(b)
}

// post submits a form to path as a same-origin browser would, following
// redirects.
func (p *person) post(path string, form url.Values) (int, string) {
	p.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.e.srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(p.e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", p.e.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := p.client.Do(req)
	require.NoError(p.e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(p.e.t, err)
	return resp.StatusCode, string(b)
}
