package web

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// serviceRows are the services a what-if answer lists as down.
var serviceRows = regexp.MustCompile(`<tr>\s*<td><a href="/services/([^"]+)">`)

// The simulator's form offers the demo's sites and risks; a question about
// demo CIs answers with the services the impact service says go down,
// costliest first, with their recovery and the order to recover in, at a
// link that asks it again.
func TestWhatIfAnswersAsTheImpactService(t *testing.T) {
	t.Parallel()
	e := setup(t)
	cm := e.signIn("zhao.min", orchestrator.RoleContinuityManager)

	status, body := cm.get("/what-if")
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `<a href="/what-if" aria-current="page">What-if</a>`, "in the menu")
	require.Contains(t, body, `<option value="dc-main">`)
	require.Contains(t, body, `<option value="taxpayer-reg-db">`, "a CI to pick")
	require.Regexp(t, `<option value="1">#1 `, body, "a risk to pick")
	require.NotContains(t, body, "Total loss", "no answer before a question")

	d := orchestrator.Duration(8 * 3600e9)
	want, err := e.wired.Impact.WhatIf(asManager(), impact.Scenario{Failed: []string{"taxpayer-reg-db"}, Duration: &d})
	require.NoError(t, err)
	require.NotEmpty(t, want.Services)

	q := url.Values{"failed": {"taxpayer-reg-db"}, "site": {""}, "supplier": {""}, "risk": {""}, "duration": {"8h"}}
	status, body = cm.get("/what-if?" + q.Encode())
	require.Equal(t, http.StatusOK, status, body)
	var keys []string
	for _, m := range serviceRows.FindAllStringSubmatch(body, -1) {
		keys = append(keys, m[1])
	}
	var wantKeys []string
	for _, s := range want.Services {
		wantKeys = append(wantKeys, s.Key)
	}
	require.Equal(t, wantKeys, keys, "the services down, costliest first")
	require.Contains(t, keys, "taxpayer-reg")
	require.Contains(t, body, "Total loss: "+money(want.TotalLoss))
	require.Contains(t, body, "<dt>CIs down</dt><dd>"+strconv.Itoa(len(want.Down))+"</dd>")
	order := regexp.MustCompile(`<ol class="wi-order">(.*?)</ol>`).FindStringSubmatch(body)
	require.NotNil(t, order)
	require.Equal(t, len(want.RecoveryOrder), strings.Count(order[1], "<li>"))
	require.True(t, strings.HasPrefix(order[1], `<li><a href="/cmdb/`+want.RecoveryOrder[0]+`">`), "in the recovery order")
	require.Contains(t, body, "Recovery it can perform")
	require.Contains(t, body, `href="/what-if?duration=8h&amp;failed=taxpayer-reg-db&amp;risk=&amp;site=&amp;supplier="`, "a link to the answer")

	// A site lost takes every demo service down.
	_, body = cm.get("/what-if?site=dc-main")
	require.Len(t, serviceRows.FindAllStringSubmatch(body, -1), 30)
	require.Contains(t, body, `<option value="dc-main" selected>`)
	_, body = cm.get("/what-if?site=dc-dr&failed=")
	require.Contains(t, body, "No business service goes down.")
}

// htmx asks for the answer region alone, and gets it, refusals included;
// executives, who read no records, are not offered the simulator.
func TestWhatIfAnswerForHTMX(t *testing.T) {
	t.Parallel()
	e := setup(t)
	op := e.signIn("li.wei", orchestrator.RoleOperator)
	for path, status := range map[string]int{"/what-if?failed=taxpayer-reg-db": http.StatusOK, "/what-if?failed=nope&duration=4h": http.StatusUnprocessableEntity} {
		req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
		require.NoError(t, err)
		req.Header.Set("HX-Request", "true")
		resp, err := op.client.Do(req)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body := string(b)
		require.Equal(t, status, resp.StatusCode, body)
		require.Equal(t, "1", resp.Header.Get("X-Bcdr-Whatif"))
		require.True(t, strings.HasPrefix(strings.TrimSpace(body), `<div id="wi-answer"`), body)
		require.NotContains(t, body, "<html")
	}
	ex := e.signIn("wang.fang", orchestrator.RoleExecutive)
	for _, path := range []string{"/what-if", "/what-if?failed=taxpayer-reg-db", "/services/taxpayer-reg/dependencies", "/cmdb/cycles"} {
		status, _ := ex.get(path)
		require.Equal(t, http.StatusForbidden, status, "executives read reports, not records: %s", path)
	}
	_, body := ex.get("/")
	require.NotContains(t, body, `href="/what-if"`)
	require.NotContains(t, body, `href="/cmdb"`)
}

// A question with a wrong part is refused naming the field, writing
// hostile input back escaped; the form keeps what was typed.
func TestWhatIfBadInput(t *testing.T) {
	t.Parallel()
	e := setup(t)
	op := e.signIn("li.wei", orchestrator.RoleOperator)
	for _, tc := range []struct {
		query   url.Values
		field   string
		message string
	}{
		{url.Values{"failed": {"no-such-ci, taxpayer-reg-db"}}, "failed", "unknown CI keys: no-such-ci"},
		{url.Values{"failed": {"taxpayer-reg-db"}, "duration": {"soon"}}, "duration", "must be a duration such as 90m, 4h or 3d"},
		{url.Values{"failed": {"taxpayer-reg-db"}, "duration": {"-4h"}}, "duration", "must be a duration"},
		{url.Values{"failed": {"taxpayer-reg-db"}, "duration": {"0"}}, "duration", "must be longer than zero"},
		{url.Values{"site": {"atlantis"}}, "site", `no CI is at site &#34;atlantis&#34;`},
		{url.Values{"supplier": {"acme"}}, "supplier", `no supplier has key &#34;acme&#34;`},
		{url.Values{"risk": {"999999"}}, "risk", "no risk has id 999999"},
		{url.Values{"risk": {"1 OR 1=1"}}, "risk", "must be the id of a risk"},
		{url.Values{"failed": {""}, "site": {""}}, "failed", "name what fails"},
		{url.Values{"failed": {"'; DROP TABLE cis;--"}}, "failed", "unknown CI keys: &#39;, --, DROP, TABLE, cis"},
		{url.Values{"failed": {"<script>alert(1)</script>"}}, "failed", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{url.Values{"failed": {"a\x00b"}}, "failed", "without control characters"},
		{url.Values{"supplier": {"\xff\xfe"}}, "supplier", "must be text"},
		{url.Values{"failed": {strings.Repeat("ci ", 1001)}}, "failed", "at most 1000 CIs"},
	} {
		status, body := op.get("/what-if?" + tc.query.Encode())
		require.Equal(t, http.StatusUnprocessableEntity, status, "%v: %s", tc.query, body)
		require.Contains(t, body, "The question could not be answered:", tc.query)
		require.Contains(t, body, "("+tc.field+"): ", tc.query)
		require.Contains(t, body, tc.message, tc.query)
		require.Contains(t, body, `aria-invalid="true"`, tc.query)
		require.NotContains(t, body, "<script>alert(1)</script>")
		require.NotContains(t, body, "Total loss", tc.query)
	}
	_, body := op.get("/what-if?failed=" + url.QueryEscape(`"><script>alert(1)</script>`))
	require.Contains(t, body, `value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`, "the form keeps the text, escaped")
}
