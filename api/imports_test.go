package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/migrations"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/auth"
	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

type importReport struct {
	Rows           int      `json:"rows"`
	Inserted       int      `json:"inserted"`
	Updated        int      `json:"updated"`
	Unchanged      int      `json:"unchanged"`
	Rejected       int      `json:"rejected"`
	Written        bool     `json:"written"`
	IgnoredColumns []string `json:"ignored_columns"`
	Problems       []struct {
		Row     int    `json:"row"`
		Column  string `json:"column"`
		Message string `json:"message"`
	} `json:"problems"`
	Warnings []struct {
		Row     int    `json:"row"`
		Column  string `json:"column"`
		Message string `json:"message"`
	} `json:"warnings"`
}

func (e *testEnv) importFile(typ, query, body string) (int, importReport) {
	e.t.Helper()
	resp := e.send("POST", "/api/v1/imports?type="+typ+query, cm, "text/csv", []byte(body))
	return resp.Status, importReportOf(e.t, resp)
}

// importReportOf decodes the report of an import answer: the body itself,
// or its "report" when the file was rejected. The API always sends a list
// of problems; an empty one decodes as nil, so that whole-report
// comparisons need not copy the actual value.
func importReportOf(t *testing.T, resp *response) importReport {
	t.Helper()
	var rep importReport
	if resp.Status == http.StatusUnprocessableEntity {
		var wrapped struct {
			Report *importReport `json:"report"`
		}
		resp.JSON(t, &wrapped)
		if wrapped.Report == nil {
			return rep
		}
		rep = *wrapped.Report
	} else {
		resp.JSON(t, &rep)
	}
	if resp.Status < 300 || resp.Status == http.StatusUnprocessableEntity {
		require.NotNil(t, rep.Problems, "problems is always a list: %s", resp.Body)
		if len(rep.Problems) == 0 {
			rep.Problems = nil
		}
	}
	return rep
}

// snapshot renders the CMDB tables and their change counter as text, so two
// states can be compared exactly.
func (e *testEnv) snapshot() string {
	e.t.Helper()
	var s string
	err := e.pool.QueryRow(e.t.Context(), `SELECT
		coalesce((SELECT string_agg(row_to_json(c)::text, E'\n' ORDER BY c.id) FROM cis c), '') ||
		coalesce((SELECT string_agg(row_to_json(r)::text, E'\n' ORDER BY r.id) FROM relations r), '') ||
		coalesce((SELECT string_agg(row_to_json(b)::text, E'\n' ORDER BY b.ci_id) FROM business_services b), '') ||
		(SELECT version::text FROM cmdb_version)`).Scan(&s)
	require.NoError(e.t, err)
	return s
}

// A ServiceNow-style export: BOM, CRLF, aliased columns, an unknown column
// kept as an attribute, Chinese text.
const serviceNowCIs = "\ufeffsys_id,Name,sys_class_name,Location,install_status,key,u_rack\r\n" +
	"a1,核心数据库 Core DB,cmdb_ci_db_pgsql_instance,dc1,Installed,coredb,R12\r\n" +
	"a2,Web farm,cmdb_ci_linux_server,dc1,Retired,web1,R13\r\n" +
	"a3,纳税服务 Tax filing,cmdb_ci_service_business,,1,taxfiling,\r\n"

func TestImportCIsIsIdempotent(t *testing.T) {
	t.Parallel()
	env := setup(t)
	status, rep := env.importFile("cis", "&source=servicenow", serviceNowCIs)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, importReport{Rows: 3, Inserted: 3, Written: true}, rep)

	var ci map[string]any
	env.do("GET", "/api/v1/cis/coredb", cm, nil).JSON(t, &ci)
	require.Equal(t, "核心数据库 Core DB", ci["name"])
	require.Equal(t, "database", ci["class"])
	require.Equal(t, "servicenow", ci["source"])
	require.Equal(t, "a1", ci["external_id"])
	require.Equal(t, map[string]any{"u_rack": "R12"}, ci["attributes"])
	env.do("GET", "/api/v1/cis/web1", cm, nil).JSON(t, &ci)
	require.Equal(t, "retired", ci["status"])
	env.do("GET", "/api/v1/cis/taxfiling", cm, nil).JSON(t, &ci)
	require.Equal(t, "business_service", ci["class"])

	before := env.snapshot()
	status, rep = env.importFile("cis", "&source=servicenow", serviceNowCIs)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 3, rep.Unchanged)
	require.Equal(t, before, env.snapshot(), "the second import changes nothing")

	status, rep = env.importFile("cis", "&source=servicenow", strings.Replace(serviceNowCIs, "Web farm", "Web farm 2", 1))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 1, rep.Updated)
	require.Equal(t, 2, rep.Unchanged)
}

func TestImportRejectsWholeFileOnOneBadRow(t *testing.T) {
	t.Parallel()
	env := setup(t)
	var b strings.Builder
	b.WriteString("key,name,class,recovery_estimate\n")
	for i := 1; i <= 2000; i++ {
		est := "1h"
		if i == 1234 {
			est = "eventually"
		}
		fmt.Fprintf(&b, "ci%d,CI %d,server,%s\n", i, i, est)
	}
	before := env.snapshot()
	status, rep := env.importFile("cis", "", b.String())
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Equal(t, 1, rep.Rejected)
	require.False(t, rep.Written)
	require.Equal(t, 1234, rep.Problems[0].Row)
	require.Equal(t, "recovery_estimate", rep.Problems[0].Column)
	require.Equal(t, before, env.snapshot(), "a rejected file leaves the CMDB and its version as they were")
	var n int
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT count(*) FROM cis`).Scan(&n))
	require.Zero(t, n, "nothing written")

	status, rep = env.importFile("cis", "&partial=true", b.String())
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 1999, rep.Inserted)
	require.Equal(t, 1, rep.Rejected)
	require.Equal(t, 1234, rep.Problems[0].Row)
}

func TestImportHostileCells(t *testing.T) {
	t.Parallel()
	env := setup(t)
	rows := []struct {
		line, column, message string
	}{
		{"f1,=cmd|' /C calc'!A0,server", "name", "formula"},
		{"f2,\"+HYPERLINK(\"\"http://x\"\")\",server", "name", "formula"},
		{"f3,\"bell\x07\",server", "name", "control characters"},
		{"f4,\xff\xfe latin1,server", "name", "UTF-8"},
		{"f5," + strings.Repeat("x", 1<<20) + ",server", "name", "limit"},
		{"f6,\"quoted, \"\"fine\"\"\",server", "", ""},
		{"f7,-42,server", "", ""},
		{"f8,two,server,extra", "", "columns"},
		{"f9;DROP TABLE cis,x,server", "key", "letters"},
	}
	var b strings.Builder
	b.WriteString("key,name,class\n")
	for _, r := range rows {
		b.WriteString(r.line + "\n")
	}
	// Declared UTF-8, a bad byte is its cell's error (undeclared, the file
	// would read as Windows-1252).
	status, rep := env.importFile("cis", "&partial=true&charset=utf-8", b.String())
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 2, rep.Inserted, "%+v", rep.Problems)
	byRow := map[int]int{}
	for i, p := range rep.Problems {
		byRow[p.Row] = i
	}
	for i, r := range rows {
		if r.message == "" {
			require.NotContains(t, byRow, i+1)
			continue
		}
		require.Contains(t, byRow, i+1, "row %d (%s) rejected", i+1, r.message)
		p := rep.Problems[byRow[i+1]]
		require.Contains(t, p.Message, r.message)
		require.Equal(t, r.column, p.Column)
	}
	var name string
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT name FROM cis WHERE key = 'f6'`).Scan(&name))
	require.Equal(t, `quoted, "fine"`, name)
}

func TestImportRelationsAndJSONL(t *testing.T) {
	t.Parallel()
	env := setup(t)
	cis := `{"key":"app","name":"App","class":"application"}
{"key":"db1","name":"DB 1","class":"database","data_bearing":true}
{"key":"db2","name":"DB 2","class":"database"}
`
	resp := env.send("POST", "/api/v1/imports?type=cis&format=jsonl", cm, "application/x-ndjson", []byte(cis))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	rels := "parent,child,type,group,min_up\napp,db1,Depends on::Used by,db,1\napp,db2,depends_on,db,1\napp,ghost,depends_on,,\napp,app,depends_on,,\n"
	status, rep := env.importFile("relations", "", rels)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Len(t, rep.Problems, 2)
	require.Equal(t, 3, rep.Problems[0].Row)
	require.Contains(t, rep.Problems[0].Message, "ghost")
	require.Equal(t, 4, rep.Problems[1].Row)

	status, rep = env.importFile("relations", "", strings.Join(strings.Split(rels, "\n")[:3], "\n"))
	require.Equal(t, http.StatusOK, status, "%+v", rep)
	require.Equal(t, 2, rep.Inserted)

	bad := env.send("POST", "/api/v1/imports?type=cis&format=jsonl", cm, "application/x-ndjson", []byte(`{"key":"x","name":"x","class":"server","colour":"red"}`+"\n"+`{"key":`))
	require.Equal(t, http.StatusUnprocessableEntity, bad.Status)
	require.Contains(t, string(bad.Body), `"column":"colour"`)

	for _, q := range []string{"type=widgets", "type=cis&format=xlsx", "", "type=cis&partial=maybe"} {
		resp := env.send("POST", "/api/v1/imports?"+q, cm, "text/csv", []byte("key,name,class\n"))
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, q)
	}
	resp = env.send("POST", "/api/v1/imports?type=cis", cm, "text/csv", []byte("key,class\nx,server\n"))
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	require.Contains(t, string(resp.Body), "missing name")
	// Without a key column, the key comes from the name (ServiceNow exports have none).
	resp = env.send("POST", "/api/v1/imports?type=cis", cm, "text/csv", []byte("name,class\nX Ray,server\n"))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.Equal(t, http.StatusOK, env.do("GET", "/api/v1/cis/x-ray", cm, nil).Status)
}

// setupImports is setup with a registry admitting imports within limits
// and a pool opened with opts (a small pool, a short statement timeout).
func setupImports(t *testing.T, limits importer.Limits, opts postgres.Options) *testEnv {
	t.Helper()
	pool, err := postgres.Open(t.Context(), pgtest.NewURL(t), opts)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	migrator, err := postgres.NewMigrator(pool, migrations.FS, nil)
	require.NoError(t, err)
	svc := testServices(pool)
	svc.Imports = svc.Imports.WithLimits(limits)
	env := &testEnv{t: t, pool: pool, tokens: map[orchestrator.Role]string{},
		server: NewServer(Options{Pool: pool, Migrator: migrator, Services: svc, BaseURL: "http://bcdr.test"})}
	for _, role := range []orchestrator.Role{cm, orchestrator.RoleAuditor} {
		_, secret, err := auth.NewService(pool).Create(t.Context(), "test-"+string(role), role)
		require.NoError(t, err)
		env.tokens[role] = secret
	}
	return env
}

// upload is an import sent in the background, whose answer arrives on done.
type upload struct {
	done   chan *httptest.ResponseRecorder
	cancel context.CancelFunc
}

// startImport posts a CSV body of typ without waiting for the answer; a
// body fed through an io.Pipe makes a slow upload.
func (e *testEnv) startImport(typ string, body io.Reader) *upload {
	ctx, cancel := context.WithCancel(e.t.Context())
	req := httptest.NewRequestWithContext(ctx, "POST", "/api/v1/imports?type="+typ, body)
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+e.tokens[cm])
	u := &upload{done: make(chan *httptest.ResponseRecorder, 1), cancel: cancel}
	go func() {
		rec := httptest.NewRecorder()
		e.server.ServeHTTP(rec, req)
		u.done <- rec
	}()
	e.t.Cleanup(cancel)
	return u
}

// wait returns the answer, failing the test if it is slow in coming.
func (u *upload) wait(t *testing.T) *httptest.ResponseRecorder {
	t.Helper()
	select {
	case rec := <-u.done:
		return rec
	case <-time.After(20 * time.Second):
		t.Fatal("the import did not answer")
		return nil
	}
}

// slowBody is an upload the test feeds line by line.
func slowBody(t *testing.T) (io.Reader, func(s string)) {
	pr, pw := io.Pipe()
	t.Cleanup(func() { pw.Close() })
	return pr, func(s string) {
		t.Helper()
		if s == "" {
			require.NoError(t, pw.Close())
			return
		}
		_, err := io.WriteString(pw, s)
		require.NoError(t, err)
	}
}

func ciRows(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		fmt.Fprintf(&b, "ci%d,CI %d,server\n", i, i)
	}
	return b.String()
}

// A slow upload holds the only running slot and one connection; a second
// import waits its turn holding none, a third is turned away with 429, and
// ordinary reads on a two-connection pool still answer.
func TestImportQueueHoldsNoConnection(t *testing.T) {
	t.Parallel()
	env := setupImports(t, importer.Limits{Running: 1, Waiting: 1, RetryAfter: 7 * time.Second},
		postgres.Options{MaxConns: 2})
	reg := env.server.svc.Imports

	slow, feed := slowBody(t)
	first := env.startImport("cis", slow)
	feed("key,name,class\n" + ciRows(1, 100))
	eventually.True(t, func() bool { return env.pool.Stat().AcquiredConns() == 1 }, "the slow upload copies on its connection")

	second := env.startImport("cis", strings.NewReader("key,name,class\n"+ciRows(101, 110)))
	eventually.True(t, func() bool { r, w := reg.Load(); return r == 1 && w == 1 }, "one import runs and one waits")
	require.EqualValues(t, 1, env.pool.Stat().AcquiredConns(), "the waiting import holds no connection")

	third := env.send("POST", "/api/v1/imports?type=relations", cm, "text/csv", []byte("parent,child,type\n"))
	require.Equal(t, http.StatusTooManyRequests, third.Status, "%s", third.Body)
	require.Equal(t, "rate_limited", third.ErrorCode(t))
	require.Equal(t, "7", third.Header.Get("Retry-After"))

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	req := httptest.NewRequestWithContext(ctx, "GET", "/api/v1/cis", nil)
	req.Header.Set("Authorization", "Bearer "+env.tokens[orchestrator.RoleAuditor])
	rec := httptest.NewRecorder()
	env.server.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, "%s", rec.Body)

	feed(ciRows(200, 300))
	feed("")
	require.Equal(t, http.StatusOK, first.wait(t).Code)
	require.Equal(t, http.StatusOK, second.wait(t).Code)
	require.Equal(t, 211, itsmCount(t, env, "cis"))
	r, w := reg.Load()
	require.Zero(t, r+w)
}

// An import cancelled in the middle of a stalled upload, or while it waits
// its turn, answers at once, writes nothing and gives its connection back.
func TestImportCancelledWritesNothing(t *testing.T) {
	t.Parallel()
	env := setupImports(t, importer.Limits{Running: 1}, postgres.Options{MaxConns: 4})

	slow, feed := slowBody(t)
	running := env.startImport("cis", slow)
	feed("key,name,class\n" + ciRows(1, 500))
	eventually.True(t, func() bool { return env.pool.Stat().AcquiredConns() == 1 }, "the running import holds the only connection")
	waiting := env.startImport("relations", strings.NewReader("parent,child,type\n"))
	eventually.True(t, func() bool { _, w := env.server.svc.Imports.Load(); return w == 1 }, "the second import waits")

	waiting.cancel()
	require.NotEqual(t, http.StatusOK, waiting.wait(t).Code)
	running.cancel() // the upload stalls: nothing more is fed
	require.NotEqual(t, http.StatusOK, running.wait(t).Code)

	eventually.True(t, func() bool { return env.pool.Stat().AcquiredConns() == 0 }, "no connection held")
	require.Zero(t, itsmCount(t, env, "cis"), "nothing written")
	r, w := env.server.svc.Imports.Load()
	require.Zero(t, r+w)
}

// The pool's statement timeout, meant for ordinary requests, does not cut
// an upload that takes longer.
func TestImportOutlastsStatementTimeout(t *testing.T) {
	t.Parallel()
	env := setupImports(t, importer.Limits{}, postgres.Options{MaxConns: 4, StatementTimeout: 200 * time.Millisecond})
	_, err := env.pool.Exec(t.Context(), `SELECT pg_sleep(0.5)`)
	require.ErrorContains(t, err, "statement timeout", "the pool's timeout is in force")

	slow, feed := slowBody(t)
	imp := env.startImport("cis", slow)
	feed("key,name,class\n" + ciRows(1, 100))
	// The server's own clock says when the COPY has run past the timeout.
	eventually.True(t, func() bool {
		var n int
		err := env.pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query ILIKE 'copy%import_stage%'
				AND clock_timestamp() - query_start > interval '400 milliseconds'`).Scan(&n)
		return err == nil && n == 1
	}, "the COPY runs past the statement timeout")
	feed(ciRows(101, 200))
	feed("")
	rec := imp.wait(t)
	require.Equal(t, http.StatusOK, rec.Code, "%s", rec.Body)
	require.Equal(t, 200, itsmCount(t, env, "cis"))
}
