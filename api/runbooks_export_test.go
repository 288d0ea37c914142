package api

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/runbooks"
)

var (
	// rbExternalURL finds any absolute URL; rbRefOutside finds src= or href=
	// pointing anywhere but an anchor in the same document.
	rbExternalURL = regexp.MustCompile(`(?i)https?://|//[a-z0-9.-]+\.[a-z]{2,}/`)
	rbRefOutside  = regexp.MustCompile(`(?i)\b(src|href)\s*=\s*["']?([^"'\s>]*)`)
)

// requireSelfContained fails when an HTML document refers to anything
// outside itself.
func requireSelfContained(t *testing.T, doc string) {
	t.Helper()
	require.Empty(t, rbExternalURL.FindAllString(doc, -1), "no external URLs")
	for _, m := range rbRefOutside.FindAllStringSubmatch(doc, -1) {
		require.True(t, strings.HasPrefix(m[2], "#") && len(m[2]) > 1, "%s=%q is not an in-document anchor", m[1], m[2])
	}
	require.NotContains(t, strings.ToLower(doc), "url(")
	require.NotContains(t, strings.ToLower(doc), "@import")
}

func TestRunbookExportFormats(t *testing.T) {
	t.Parallel()
	env := rbFixture(t)
	rb := rbCreate(t, env)
	base := "/api/v1/runbooks/" + fmt.Sprint(rb.ID)
	// Hostile text and an automation with a URL: the export must still
	// neither link nor load anything.
	rbDo(t, env, "POST", base+"/steps", map[string]any{"title": `<script>alert(1)</script><img src="https://evil.test/x.png">`,
		"text":       "See https://wiki.example.test/dr and <a href=\"//evil.test\">this</a>; [x](javascript:alert(1))",
		"automation": map[string]any{"url": "https://dr.example.test/switch", "headers": map[string]string{"Authorization": "Bearer {{secret:DR_TOKEN}}"}}})
	rbDo(t, env, "POST", base+"/approve", nil)

	resp := env.do("GET", base+"/export?format=html", rbAuditor, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	doc := string(resp.Body)
	requireSelfContained(t, doc)
	require.NotContains(t, doc, "<script>")
	require.Contains(t, doc, "@page { size: A4")
	require.Contains(t, doc, "Noto Sans CJK SC", "a CJK-capable font stack")
	require.Contains(t, doc, "恢复步骤 Recovery steps (checklist)")
	require.Contains(t, doc, `class="box"`, "steps are a checklist")
	require.Contains(t, doc, "关键路径 Critical path")
	require.Contains(t, doc, "呼叫树与联系人 Call tree and contacts")
	require.Contains(t, doc, "secrets needed: DR_TOKEN")
	require.Contains(t, doc, "svc-pay 名称")

	resp = env.do("GET", base+"/export?format=md", rbOperator, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	md := string(resp.Body)
	require.Contains(t, md, "- [ ] **s1.")
	require.NotContains(t, md, "<script>")
	require.Empty(t, rbExternalURL.FindAllString(md, -1))

	resp = env.do("GET", base+"/export?format=json&version=1", rbManager, nil)
	require.Equal(t, http.StatusOK, resp.Status)
	var d runbooks.Document
	resp.JSON(t, &d)
	require.Equal(t, 1, d.Version.Number)
	require.Equal(t, runbooks.StatusApproved, d.Status)

	require.Equal(t, http.StatusForbidden, env.do("GET", base+"/export", rbExec, nil).Status)
}

func TestRunbookKit(t *testing.T) {
	t.Parallel()
	env := rbFixture(t)
	contact := map[string]any{"key": "ann", "name": "安 Ann", "role": "service owner", "phone": "+86 10 1234 5678", "notes": "=HYPERLINK(\"x\")"}
	require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/contacts", rbManager, contact).Status)
	tree := map[string]any{"key": "pay-tree", "name": "Payroll call tree", "service": "svc-pay",
		"levels": []any{map[string]any{"contacts": []string{"ann"}, "wait": "15m"}}}
	resp := env.do("POST", "/api/v1/call-trees", rbManager, tree)
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	rb := rbCreate(t, env)
	rbDo(t, env, "POST", fmt.Sprintf("/api/v1/runbooks/%d/approve", rb.ID), nil)
	draft := rbCreate2(t, env) // a draft is not in the kit

	resp = env.do("GET", "/api/v1/exports/kit", rbAuditor, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.Equal(t, "application/zip", resp.Header.Get("Content-Type"))
	dir := t.TempDir()
	rbUnzip(t, resp.Body, dir)

	stem := fmt.Sprintf("runbooks/runbook-%d-svc-pay", rb.ID)
	var m runbooks.Manifest
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &m))
	var names []string
	for _, f := range m.Files {
		names = append(names, f.Path)
		require.Len(t, f.SHA256, 64)
	}
	require.ElementsMatch(t, []string{stem + ".html", stem + ".md", stem + ".json", "contacts.csv", "call-trees.json",
		"contacts.html", "cmdb.csv", "index.html"}, names)
	require.Equal(t, 1, m.Runbooks)
	require.NotContains(t, strings.Join(names, " "), fmt.Sprintf("runbook-%d-", draft))
	require.False(t, m.CreatedAt.IsZero())

	index := rbRead(t, dir, "index.html")
	for _, f := range []string{stem + ".html", stem + ".md", stem + ".json", "contacts.html", "cmdb.csv", "manifest.json"} {
		require.Contains(t, index, `href="`+f+`"`, "index links %s", f)
	}
	requireSelfContained(t, rbRead(t, dir, stem+".html"))
	require.Contains(t, rbRead(t, dir, stem+".html"), "+86 10 1234 5678", "the runbook carries its call tree's numbers")
	cmdb := rbRead(t, dir, "cmdb.csv")
	for _, k := range []string{"svc-pay", "app", "db", "vm1", "vm2", "site-a", "isp"} {
		require.Contains(t, cmdb, "\n"+k+",", "CMDB snapshot has %s", k)
	}
	require.Contains(t, rbRead(t, dir, "contacts.csv"), `'=HYPERLINK`, "formulas are defused")

	v, err := runbooks.VerifyKit(dir)
	require.NoError(t, err)
	require.True(t, v.OK, "%v", v.Problems)
	require.Equal(t, len(m.Files), v.Checked)

	// Tampering, deletion and additions are caught.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "contacts.csv"), []byte("key\nmallory\n"), 0o644))
	require.NoError(t, os.Remove(filepath.Join(dir, stem+".md")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "runbooks", "extra.html"), []byte("x"), 0o644))
	v, err = runbooks.VerifyKit(dir)
	require.NoError(t, err)
	require.False(t, v.OK)
	require.Equal(t, []string{"contacts.csv: content differs from the manifest (modified or corrupted)",
		"runbooks/extra.html: not listed in the manifest", stem + ".md: missing"}, v.Problems)
}

// rbCreate2 generates a scenario runbook and returns its id.
func rbCreate2(t *testing.T, env *testEnv) int64 {
	t.Helper()
	resp := env.do("POST", "/api/v1/runbooks", rbManager, map[string]any{"scenario": map[string]any{"failed": []string{"db"}}})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	var rb runbooks.Runbook
	resp.JSON(t, &rb)
	return rb.ID
}

func rbUnzip(t *testing.T, body []byte, dir string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	require.NoError(t, err)
	for _, f := range zr.File {
		require.True(t, filepath.IsLocal(f.Name), "zip entry %q stays inside the kit", f.Name)
		require.False(t, slices.Contains(strings.Split(f.Name, "/"), ".."))
		rc, err := f.Open()
		require.NoError(t, err)
		content, err := io.ReadAll(rc)
		require.NoError(t, err)
		rc.Close()
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, content, 0o644))
	}
}

func rbRead(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	require.NoError(t, err)
	return string(b)
}
