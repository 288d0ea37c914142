package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
)

// ciLinks are the CIs a CMDB list page shows.
var ciLinks = regexp.MustCompile(`<td><a href="/cmdb/([^"]+)">`)

// The CMDB list pages through every CI in key order; the filters narrow
// it to a class, a status, a site or a search, and bad filters are refused
// naming the field, hostile text shown escaped.
func TestCMDBList(t *testing.T) {
	t.Parallel()
	e := setup(t)
	op := e.signIn("li.wei", orchestrator.RoleOperator)

	status, body := op.get("/cmdb")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `<a href="/cmdb" aria-current="page">CMDB</a>`, "in the menu")
	first := ciLinks.FindAllStringSubmatch(body, -1)
	require.Len(t, first, cmdbPageSize)
	next := regexp.MustCompile(`<a href="(/cmdb\?after=[^"]+)">More CIs</a>`).FindStringSubmatch(body)
	require.NotNil(t, next, "a next page")
	status, body = op.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	require.Equal(t, http.StatusOK, status)
	second := ciLinks.FindAllStringSubmatch(body, -1)
	require.NotEmpty(t, second)
	require.Less(t, first[len(first)-1][1], second[0][1], "the next page goes on in key order")

	_, body = op.get("/cmdb?class=database&q=taxpayer-reg")
	keys := ciLinks.FindAllStringSubmatch(body, -1)
	require.NotEmpty(t, keys)
	for _, k := range keys {
		require.Contains(t, k[1], "taxpayer-reg")
	}
	require.Contains(t, body, `<a href="/cmdb/taxpayer-reg-db">taxpayer-reg-db</a>`)
	require.NotContains(t, body, `<a href="/cmdb/taxpayer-reg-app">`, "not a database")

	_, body = op.get("/cmdb?class=site")
	require.Equal(t, []string{"dc-dr", "dc-main"}, keysOf(ciLinks.FindAllStringSubmatch(body, -1)))
	_, body = op.get("/cmdb?status=retired")
	require.Contains(t, body, "No CI matches.")

	status, body = op.get("/cmdb?q=" + "%3Cscript%3Ealert(1)%3C%2Fscript%3E")
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, body, "<script>alert(1)</script>")
	require.Contains(t, body, `value="&lt;script&gt;alert(1)&lt;/script&gt;"`)
	require.Contains(t, body, "No CI matches.")

	for bad, field := range map[string]string{"?status=%27%3B+DROP+TABLE+cis": "status", "?q=a%00b": "q", "?after=not-a-cursor": "after",
		"?class=" + strings.Repeat("x", 300): "class", "?site=%ff": "site"} {
		status, body = op.get("/cmdb" + bad)
		require.Equal(t, http.StatusUnprocessableEntity, status, bad)
		require.Contains(t, body, field+": ", bad)
	}
	ex := e.signIn("wang.fang", orchestrator.RoleExecutive)
	status, _ = ex.get("/cmdb")
	require.Equal(t, http.StatusForbidden, status, "executives read reports, not records")
}

func keysOf(m [][]string) []string {
	out := make([]string, len(m))
	for i, s := range m {
		out[i] = s[1]
	}
	return out
}

// A CI's page shows its fields, its relations both ways with links and
// the business services that need it; a service links to its
// dependency view.
func TestCMDBCIPage(t *testing.T) {
	t.Parallel()
	e := setup(t)
	au := e.signIn("chen.jie", orchestrator.RoleAuditor)

	status, body := au.get("/cmdb/taxpayer-reg-db")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "<h1>taxpayer-reg-db</h1>")
	require.Contains(t, body, "<dt>Class</dt><dd>database</dd>")
	require.Contains(t, body, "<dt>Holds data</dt><dd>yes</dd>")
	require.Regexp(t, `<td><a href="/cmdb/taxpayer-reg-app">taxpayer-reg-app</a></td><td>depends on taxpayer-reg-db</td>`, body)
	deps, err := e.wired.Impact.Dependents(asManager(), "taxpayer-reg-db")
	require.NoError(t, err)
	require.Contains(t, deps.Services, "taxpayer-reg")
	for _, s := range deps.Services {
		require.Contains(t, body, fmt.Sprintf(`<li><a href="/services/%s/dependencies">%s</a></li>`, s, s))
	}
	require.NotContains(t, body, "Dependency view", "a database has no dependency view")

	_, body = au.get("/cmdb/taxpayer-reg")
	require.Contains(t, body, `<a href="/services/taxpayer-reg/dependencies">Dependency view</a>`)
	require.Regexp(t, `<td>depends on</td><td><a href="/cmdb/taxpayer-reg-app">taxpayer-reg-app</a></td>`, body)

	for _, bad := range []string{"/cmdb/no-such-ci", "/cmdb/%3Cscript%3E", "/cmdb/..%2F..%2Fetc%2Fpasswd"} {
		status, body = au.get(bad)
		require.Equal(t, http.StatusNotFound, status, bad)
		require.NotContains(t, body, "<script>", bad)
	}
}

// The dependency view draws the service's closure as an SVG with its
// title, and lists the same CIs the impact service says it needs.
func TestDependencyView(t *testing.T) {
	t.Parallel()
	e := setup(t)
	op := e.signIn("li.wei", orchestrator.RoleOperator)

	status, body := op.get("/services/taxpayer-reg/dependencies")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `<svg xmlns="http://www.w3.org/2000/svg"`)
	require.Contains(t, body, `role="img" font-size="11" font-family="sans-serif"><title>Dependencies of taxpayer-reg</title>`)
	c, err := e.wired.Impact.Dependencies(asManager(), "taxpayer-reg")
	require.NoError(t, err)
	require.NotEmpty(t, c.Items)
	rows := regexp.MustCompile(`<tr(?: class="cmdb-cycle")?><td><a href="/cmdb/([^"]+)">`).FindAllStringSubmatch(body, -1)
	listed := keysOf(rows)
	require.Len(t, listed, len(c.Items), "the table lists every CI the service needs")
	for i, it := range c.Items {
		require.Equal(t, it.Key, listed[i])
	}
	require.Contains(t, listed, "taxpayer-reg-db")
	require.Contains(t, body, fmt.Sprintf("CIs it needs: <b>%d</b>", len(c.Items)))
	boxes := strings.Count(body, "<g><title>")
	require.Equal(t, min(len(c.Items)+1, 60), boxes, "a box per CI up to the cap")

	zh := e.signIn("zhang.li", orchestrator.RoleAuditor)
	zh.client.Jar.SetCookies(mustURL(e.srv.URL), []*http.Cookie{{Name: langCookie, Value: langZH}})
	_, body = zh.get("/services/taxpayer-reg/dependencies")
	require.Contains(t, body, "<title>服务依赖关系： taxpayer-reg</title>")

	status, _ = op.get("/services/no-such-service/dependencies")
	require.Equal(t, http.StatusNotFound, status)
	status, body = op.get("/services/taxpayer-reg-db/dependencies")
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, body, "not a business_service")
}

// A dependency cycle made in the CMDB shows on the cycles page and in the
// dependency view, marked; the demo's graph loads with no anomaly.
func TestCMDBCyclesAndAnomalies(t *testing.T) {
	t.Parallel()
	e := setup(t)
	op := e.signIn("li.wei", orchestrator.RoleOperator)

	status, body := op.get("/cmdb/cycles")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, "No dependency cycle.")
	require.Contains(t, body, "No anomaly: the graph loaded as recorded.")

	_, err := cmdb.NewService(e.pool).CreateRelation(asManager(), cmdb.RelationInput{From: "taxpayer-reg-db", Type: "depends_on", To: "taxpayer-reg-app"})
	require.NoError(t, err)
	_, body = op.get("/cmdb/cycles")
	require.Contains(t, body, "Cycle (1)")
	require.Regexp(t, `<tr class="cmdb-cycle"><td>1</td><td><a href="/cmdb/taxpayer-reg-app">taxpayer-reg-app</a> → <a href="/cmdb/taxpayer-reg-db">taxpayer-reg-db</a></td></tr>`, body)

	_, body = op.get("/services/taxpayer-reg/dependencies")
	require.Contains(t, body, "Dependency cycles among them")
	require.Contains(t, body, `<tr class="cmdb-cycle"><td><a href="/cmdb/taxpayer-reg-db">taxpayer-reg-db</a> <span class="cmdb-flag">in a cycle</span>`)
	require.Contains(t, body, `stroke-dasharray="5 3"`)
}

// mustURL parses a test server's address.
func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
