package itsmsync

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeInstance is a ServiceNow instance on loopback: the Table API's GET
// of a table (sysparm_query with sys_updated_on>=, ORDERBY, the vendor
// filter; sysparm_fields, sysparm_limit, sysparm_offset; X-Total-Count and
// Link headers as the instance sends them) over records loaded from the
// recorded answers in testdata, and /oauth_token.do. fault, when set,
// answers a request instead (return 0 to let it through).
type fakeInstance struct {
	*httptest.Server
	t testing.TB

	mu       sync.Mutex
	tables   map[string][]record
	user     string
	password string
	clientID string
	secret   string
	token    string
	fault    func(w http.ResponseWriter, r *http.Request, n int) bool
	requests []*http.Request
	pages    int      // table GETs answered with records
	tokens   int      // tokens handed out
	grants   []string // the grant_type of every token request
}

const (
	testUser     = "svc_bcdr"
	testPassword = "pa55-w0rd-S3CRET"
	testClientID = "bcdr-sync-client"
	testSecret   = "0auth-Cl1ent-S3CRET"
)

func newFakeInstance(t testing.TB, tables ...string) *fakeInstance {
	f := &fakeInstance{t: t, tables: map[string][]record{}, user: testUser, password: testPassword,
		clientID: testClientID, secret: testSecret}
	for _, name := range tables {
		b, err := os.ReadFile(filepath.Join("testdata", name+".json"))
		require.NoError(t, err)
		var p page
		require.NoError(t, json.Unmarshal(b, &p))
		f.tables[name] = p.Result
	}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeInstance) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Clone(r.Context()))
	n, fault := len(f.requests), f.fault
	f.mu.Unlock()
	if fault != nil && fault(w, r, n) {
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/oauth_token.do":
		f.serveToken(w, r)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/now/table/"):
		if !f.authorized(r) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}`)
			return
		}
		f.serveTable(w, r, strings.TrimPrefix(r.URL.Path, "/api/now/table/"))
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeInstance) authorized(r *http.Request) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if user, pass, ok := r.BasicAuth(); ok {
		return user == f.user && pass == f.password
	}
	return f.token != "" && r.Header.Get("Authorization") == "Bearer "+f.token
}

// serveToken answers as ServiceNow's OAuth endpoint does.
func (f *fakeInstance) serveToken(w http.ResponseWriter, r *http.Request) {
	require.NoError(f.t, r.ParseForm())
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	f.mu.Lock()
	f.grants = append(f.grants, r.PostForm.Get("grant_type"))
	f.mu.Unlock()
	ok := r.PostForm.Get("client_id") == f.clientID && r.PostForm.Get("client_secret") == f.secret
	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
	case "password":
		ok = ok && r.PostForm.Get("username") == f.user && r.PostForm.Get("password") == f.password
	default:
		ok = false
	}
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error_description":"access_denied","error":"server_error"}`)
		return
	}
	b, err := os.ReadFile(filepath.Join("testdata", "oauth_token.json"))
	require.NoError(f.t, err)
	var tok map[string]any
	require.NoError(f.t, json.Unmarshal(b, &tok))
	f.mu.Lock()
	f.tokens++
	f.token = fmt.Sprintf("%s-%d", tok["access_token"], f.tokens)
	tok["access_token"] = f.token
	f.mu.Unlock()
	require.NoError(f.t, json.NewEncoder(w).Encode(tok))
}

// serveTable answers a Table API GET.
func (f *fakeInstance) serveTable(w http.ResponseWriter, r *http.Request, table string) {
	q := r.URL.Query()
	require.Equal(f.t, "all", q.Get("sysparm_display_value"))
	require.Equal(f.t, "true", q.Get("sysparm_exclude_reference_link"))
	f.mu.Lock()
	rows, ok := f.tables[table]
	rows = slices.Clone(rows)
	f.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":{"message":"Invalid table `+table+`","detail":null},"status":"failure"}`)
		return
	}
	var since string
	for cond := range strings.SplitSeq(q.Get("sysparm_query"), "^") {
		switch {
		case strings.HasPrefix(cond, "sys_updated_on>="):
			since = strings.TrimPrefix(cond, "sys_updated_on>=")
			_, err := time.Parse(snTime, since)
			require.NoError(f.t, err, "the query's date is a stored date and time")
		case strings.HasPrefix(cond, "ORDERBY"), cond == "vendor=true":
		default:
			f.t.Errorf("unexpected query condition %q", cond)
		}
	}
	rows = slices.DeleteFunc(rows, func(rec record) bool { return rec["sys_updated_on"].Value < since })
	slices.SortFunc(rows, func(a, b record) int {
		return strings.Compare(a["sys_updated_on"].Value+a["sys_id"].Value, b["sys_updated_on"].Value+b["sys_id"].Value)
	})
	limit, err := strconv.Atoi(q.Get("sysparm_limit"))
	require.NoError(f.t, err)
	offset, err := strconv.Atoi(q.Get("sysparm_offset"))
	require.NoError(f.t, err)
	total := len(rows)
	out := rows[min(offset, total):min(offset+limit, total)]
	fields := strings.Split(q.Get("sysparm_fields"), ",")
	result := make([]map[string]any, 0, len(out))
	for _, rec := range out {
		m := map[string]any{}
		for _, name := range fields {
			v, ok := rec[name]
			if !ok {
				continue // ServiceNow leaves out fields the table lacks
			}
			m[name] = map[string]string{"display_value": v.Display, "value": v.Value}
		}
		result = append(result, m)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	if total > limit {
		w.Header().Set("Link", links(r.URL, offset, limit, total))
	}
	if len(result) > 0 {
		f.mu.Lock()
		f.pages++
		f.mu.Unlock()
	}
	require.NoError(f.t, json.NewEncoder(w).Encode(map[string]any{"result": result}))
}

// links is the Link header ServiceNow sends when a query has more than one
// page: first, prev, next and last, prev and next only where they apply.
func links(u *url.URL, offset, limit, total int) string {
	at := func(o int) string {
		v := u.Query()
		v.Set("sysparm_offset", strconv.Itoa(o))
		c := *u
		c.RawQuery = v.Encode()
		return "<http://instance" + c.RequestURI() + ">"
	}
	parts := []string{at(0) + `;rel="first"`}
	if offset > 0 {
		parts = append(parts, at(max(offset-limit, 0))+`;rel="prev"`)
	}
	if offset+limit < total {
		parts = append(parts, at(offset+limit)+`;rel="next"`)
	}
	parts = append(parts, at((total-1)/limit*limit)+`;rel="last"`)
	return strings.Join(parts, ",")
}

// set changes (or adds) a record of table, as an update in ServiceNow does:
// its fields and its sys_updated_on.
func (f *fakeInstance) set(table, sysID, updatedOn string, fields map[string]value) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.IndexFunc(f.tables[table], func(rec record) bool { return rec["sys_id"].Value == sysID })
	if i < 0 {
		f.tables[table] = append(f.tables[table], record{"sys_id": {sysID, sysID}})
		i = len(f.tables[table]) - 1
	}
	rec := f.tables[table][i]
	for k, v := range fields {
		rec[k] = v
	}
	rec["sys_updated_on"] = value{Display: updatedOn, Value: updatedOn}
}

// tableRequests are the Table API GETs of table made so far.
func (f *fakeInstance) tableRequests(table string) []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*http.Request
	for _, r := range f.requests {
		if r.URL.Path == "/api/now/table/"+table {
			out = append(out, r)
		}
	}
	return out
}
