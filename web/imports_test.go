package web

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/bcdr/bcdr/orchestrator"
)

// upload sends the import form with a file as a same-origin browser would,
// following the redirect to the job's page; it returns the status, the
// body and the path answered.
func (p *person) upload(fields map[string]string, filename, content string) (int, string, string) {
	p.e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(p.e.t, mw.WriteField(k, v))
	}
	if filename != "" {
		fw, err := mw.CreateFormFile("file", filename)
		require.NoError(p.e.t, err)
		_, err = io.WriteString(fw, content)
		require.NoError(p.e.t, err)
	}
	require.NoError(p.e.t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, p.e.srv.URL+"/imports", &buf)
	require.NoError(p.e.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", p.e.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := p.client.Do(req)
	require.NoError(p.e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(p.e.t, err)
	return resp.StatusCode, string(b), resp.Request.URL.Path
}

// finished waits for the import job at path to end and returns its page.
func (p *person) finished(path string) string {
	p.e.t.Helper()
	id := strings.TrimPrefix(path, "/imports/jobs/")
	job, ok := p.e.ui.importing.get(id, p.actor.TokenID, p.e.ui.rt.Now())
	require.True(p.e.t, ok, "the job of %s is kept", path)
	select {
	case <-job.done:
	case <-time.After(2 * time.Minute):
		p.e.t.Fatalf("the import at %s did not finish", path)
	}
	status, body := p.get(path)
	require.Equal(p.e.t, http.StatusOK, status)
	require.NotContains(p.e.t, body, `hx-trigger="every 1s"`, "a finished job is not polled")
	return body
}

// countCIs counts the CIs whose key starts with prefix.
func countCIs(e *env, prefix string) int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.pool.QueryRow(adminCtx(), `SELECT count(*) FROM cis WHERE key LIKE $1 || '%'`, prefix).Scan(&n))
	return n
}

// The uploads are saved in TMPDIR, which this test watches; it does not
// run in parallel.
func TestImportCSV(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	e := setup(t)
	manager := e.signIn("bcm", orchestrator.RoleContinuityManager)

	status, body := manager.get("/imports")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `enctype="multipart/form-data"`)
	require.Contains(t, body, `<option value="cis">cis</option>`)
	require.Contains(t, body, `<label for="imp-file">`)

	csv := "key,name,class,environment\nweb-imp-1,Import test server,server,production\nweb-imp-2,Import test database,database,production\n"
	status, body, path := manager.upload(map[string]string{"type": "cis", "format": "auto", "mode": "all"}, "cis.csv", csv)
	require.Equal(t, http.StatusOK, status, body)
	require.True(t, strings.HasPrefix(path, "/imports/jobs/"), path)
	body = manager.finished(path)
	require.Contains(t, body, `data-import-result="done"`)
	require.Contains(t, body, `value="100"`)
	require.Contains(t, body, `<span data-percent>100%</span>`)
	require.Contains(t, body, `data-rows>2<`)
	require.Contains(t, body, `data-inserted>2<`)
	require.Equal(t, 2, countCIs(e, "web-imp-"))
	entries, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Empty(t, entries, "the saved upload is removed")

	// The same file again changes nothing.
	_, _, path = manager.upload(map[string]string{"type": "cis", "mode": "all"}, "cis.csv", csv)
	body = manager.finished(path)
	require.Contains(t, body, `data-unchanged>2<`)

	// Nobody else follows the job.
	other := e.signIn("other", orchestrator.RoleAdmin)
	status, _ = other.get(path)
	require.Equal(t, http.StatusNotFound, status)
}

func TestImportBadRows(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin := e.signIn("root", orchestrator.RoleAdmin)
	csv := "key,name,class\nweb-bad-1,Good row,server\nweb-bad-2,,server\nweb-bad-3,Formula,=cmd()\n"

	// All or nothing: the bad rows are listed with their line and field,
	// and nothing is written, not even the good row.
	_, _, path := admin.upload(map[string]string{"type": "cis", "format": "csv", "mode": "all"}, "cis.txt", csv)
	body := admin.finished(path)
	require.Contains(t, body, `data-import-result="rejected"`)
	require.Contains(t, body, "Nothing was written")
	require.Contains(t, body, `data-rejected>2<`)
	require.Contains(t, body, `<tr data-problem-row="2"><td class="n">2</td><td class="n">3</td><td><code>name</code></td>`)
	require.Contains(t, body, `<tr data-problem-row="3"><td class="n">3</td><td class="n">4</td>`)
	require.Equal(t, 0, countCIs(e, "web-bad-"))

	// Partial: the good row is written, the bad ones listed.
	_, _, path = admin.upload(map[string]string{"type": "cis", "format": "csv", "mode": "partial"}, "cis.csv", csv)
	body = admin.finished(path)
	require.Contains(t, body, `data-import-result="done"`)
	require.Contains(t, body, `data-inserted>1<`)
	require.Contains(t, body, `data-problem-row="2"`)
	require.Equal(t, 1, countCIs(e, "web-bad-"))

	// A JSONL file's rows are its lines.
	_, _, path = admin.upload(map[string]string{"type": "cis"}, "cis.jsonl", `{"key":"web-j-1","name":"J","class":"server"}`+"\n"+`{"key":"web-j-2","class":"server","colour":"red"}`+"\n")
	body = admin.finished(path)
	require.Contains(t, body, `data-import-result="rejected"`)
	require.Contains(t, body, `<tr data-problem-row="2"><td class="n">2</td><td class="n">2</td>`)
	require.Equal(t, 0, countCIs(e, "web-j-"))

	// A file as Excel saves it in China (GB18030) is read as such.
	gb, err := simplifiedchinese.GB18030.NewEncoder().String("key,name,class\nweb-gb-1,核心数据库,database\n")
	require.NoError(t, err)
	_, _, path = admin.upload(map[string]string{"type": "cis", "charset": "auto"}, "cis.csv", gb)
	body = admin.finished(path)
	require.Contains(t, body, `data-import-result="done"`)
	var name string
	require.NoError(t, e.pool.QueryRow(adminCtx(), `SELECT name FROM cis WHERE key = 'web-gb-1'`).Scan(&name))
	require.Equal(t, "核心数据库", name)

	// An option the importer refuses is named.
	_, _, path = admin.upload(map[string]string{"type": "cis", "timezone": "Mars/Olympus"}, "cis.csv", "key,name,class\nweb-tz-1,T,server\n")
	body = admin.finished(path)
	require.Contains(t, body, `data-stage="failed"`)
	require.Contains(t, body, "timezone")
	require.Equal(t, 0, countCIs(e, "web-tz-"))

	// A file that cannot be imported at all says why.
	_, _, path = admin.upload(map[string]string{"type": "cis"}, "empty.csv", "")
	body = admin.finished(path)
	require.Contains(t, body, `data-stage="failed"`)
	require.Contains(t, body, "header row")
}

func TestImportRefused(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin := e.signIn("root", orchestrator.RoleAdmin)
	for _, tc := range []struct {
		fields   map[string]string
		filename string
		named    string
	}{
		{map[string]string{"type": "../../etc/passwd"}, "x.csv", "type"},
		{map[string]string{"type": "cis", "format": "xlsx"}, "x.csv", "format"},
		{map[string]string{"type": "cis", "mode": "some"}, "x.csv", "mode"},
		{map[string]string{"type": "cis"}, "", "file"},
		{map[string]string{"type": "cis", "charset": "ebcdic"}, "x.csv", "charset"},
	} {
		status, body, path := admin.upload(tc.fields, tc.filename, "key,name,class\n")
		require.Equal(t, http.StatusUnprocessableEntity, status, tc.fields)
		require.Equal(t, "/imports", path)
		require.Contains(t, body, "<code>"+tc.named+"</code>", tc.fields)
	}

	// A file over the limit is refused naming it, and its copy is gone.
	e.ui.importing.setLimit(1 << 10)
	status, body, _ := admin.upload(map[string]string{"type": "cis"}, "big.csv", "key,name,class\n"+strings.Repeat("web-big-1,B,server\n", 100))
	require.Equal(t, http.StatusRequestEntityTooLarge, status)
	require.Contains(t, body, "<code>file</code>: is larger than 1.0 KiB")
	e.ui.importing.setLimit(importMaxBytes)

	// With imports already under way here, an upload is told to come back
	// and nothing is read.
	for range importsAtOnce {
		require.True(t, e.ui.importing.reserve())
	}
	status, body, _ = admin.upload(map[string]string{"type": "cis"}, "cis.csv", "key,name,class\nweb-busy-1,B,server\n")
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Contains(t, body, "busy")
	require.Contains(t, body, "Try again")
	for range importsAtOnce {
		e.ui.importing.release()
	}
	require.Equal(t, 0, countCIs(e, "web-busy-"))
	require.Equal(t, 0, countCIs(e, "web-big-"))
}

func TestImportProgress(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin := e.signIn("root", orchestrator.RoleAdmin)
	job := &importJob{id: newJobID(), owner: admin.actor.TokenID, typ: "cis", format: "csv", file: "big.csv",
		size: 4 << 20, stage: importWaiting, done: make(chan struct{})}
	e.ui.importing.add(job, e.ui.rt.Now())
	job.advance(1<<20, false)

	status, body := admin.get("/imports/jobs/" + job.id)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `hx-get="/imports/jobs/`+job.id+`" hx-trigger="every 1s"`)
	require.Contains(t, body, "reading and checking rows")
	require.Contains(t, body, "1.0 MiB of 4.0 MiB read")
	require.Contains(t, body, `value="25"`)

	job.advance(4<<20, true)
	_, body = admin.get("/imports/jobs/" + job.id)
	require.Contains(t, body, "checking references and writing")
	require.Contains(t, body, `value="100"`)
}

func TestImportRoles(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, role := range []orchestrator.Role{orchestrator.RoleOperator, orchestrator.RoleAuditor, orchestrator.RoleExecutive} {
		p := e.signIn(string(role), role)
		status, _ := p.get("/imports")
		require.Equal(t, http.StatusForbidden, status, role)
		status, _, _ = p.upload(map[string]string{"type": "cis"}, "cis.csv", "key,name,class\nweb-role-1,R,server\n")
		require.Equal(t, http.StatusForbidden, status, role)
		_, body := p.get("/")
		require.NotContains(t, body, `href="/imports"`, role)
	}
	require.Equal(t, 0, countCIs(e, "web-role-"))
}

// Jobs are kept 15 minutes after they finish, and at most importJobsKept
// of them: the oldest finished go first, a running one is never dropped.
func TestImportJobsExpire(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	jobs := newImportJobs()
	newJob := func() *importJob {
		return &importJob{id: newJobID(), owner: 7, stage: importWaiting, done: make(chan struct{})}
	}
	running := newJob()
	jobs.add(running, at)
	first := newJob()
	jobs.add(first, at)
	first.finish(importDone, nil, "", at)

	_, ok := jobs.get(first.id, 8, at)
	require.False(t, ok, "only its owner follows a job")
	_, ok = jobs.get(first.id, 7, at.Add(importJobTTL))
	require.True(t, ok)
	_, ok = jobs.get(first.id, 7, at.Add(importJobTTL+time.Second))
	require.False(t, ok, "a finished job expires")
	_, ok = jobs.get(running.id, 7, at.Add(time.Hour))
	require.True(t, ok, "a running job does not")

	var kept []*importJob
	for i := range importJobsKept + 5 {
		j := newJob()
		jobs.add(j, at.Add(time.Hour))
		j.finish(importDone, nil, "", at.Add(time.Hour+time.Duration(i)*time.Second))
		kept = append(kept, j)
	}
	now := at.Add(time.Hour + time.Minute)
	_, ok = jobs.get(running.id, 7, now)
	require.True(t, ok)
	_, ok = jobs.get(kept[0].id, 7, now)
	require.False(t, ok, "the oldest finished job goes first")
	_, ok = jobs.get(kept[len(kept)-1].id, 7, now)
	require.True(t, ok)
	jobs.mu.Lock()
	require.LessOrEqual(t, len(jobs.jobs), importJobsKept)
	jobs.mu.Unlock()
}
