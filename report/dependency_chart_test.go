package report_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/demo"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/report"
)

// svgShape is what a test reads back of a chart: it must parse as XML,
// with its accessible title and one group per CI drawn.
type svgShape struct {
	Role   string `xml:"role,attr"`
	Title  string `xml:"title"`
	Groups []struct {
		Title string `xml:"title"`
	} `xml:"g"`
	Texts []string `xml:"text"`
	Paths []struct {
		Dash string `xml:"stroke-dasharray,attr"`
	} `xml:"path"`
}

// parseSVG decodes a chart, failing on anything not well-formed.
func parseSVG(t *testing.T, svg string) svgShape {
	t.Helper()
	var s svgShape
	d := xml.NewDecoder(strings.NewReader(svg))
	d.Strict = true
	require.NoError(t, d.Decode(&s), svg)
	_, err := d.Token()
	require.ErrorIs(t, err, io.EOF, "one svg element and nothing after it")
	return s
}

// A chart draws each CI once, in the column of its depth, with hostile
// names escaped; a cycle's boxes and arrows are dashed; a closure larger
// than the cap is drawn up to it and the rest is counted.
func TestDependencyChart(t *testing.T) {
	t.Parallel()
	v := report.DependencyView{Service: "svc", Nodes: []report.DependencyNode{
		{Key: "svc", Name: `<script>alert("x")</script> & co`, Class: "business_service"},
		{Key: "app", Name: "应用 application", Class: "application", Depth: 1, Parent: "svc", Cycle: true},
		{Key: "db", Name: "Database", Class: "database", Depth: 2, Parent: "app", Cycle: true},
	}, Edges: []report.DependencyEdge{
		{From: "svc", To: "app", Type: "depends_on"},
		{From: "app", To: "db", Type: "depends_on", Cycle: true},
		{From: "db", To: "app", Type: "depends_on", Cycle: true},
	}, Cycles: [][]string{{"app", "db"}}}
	chart := string(report.DependencyChart(v, "Dependencies of svc", report.LangEN))
	require.NotContains(t, chart, "<script>")
	s := parseSVG(t, chart)
	require.Equal(t, "img", s.Role)
	require.Equal(t, "Dependencies of svc", s.Title)
	require.Len(t, s.Groups, 3, "one box per CI")
	require.Contains(t, s.Groups[0].Title, `<script>alert("x")</script> & co`, "the name, escaped in the markup, reads back whole")
	require.Contains(t, s.Groups[1].Title, "in a dependency cycle")
	dashed := 0
	for _, p := range s.Paths {
		if p.Dash != "" {
			dashed++
		}
	}
	require.Equal(t, 2, dashed, "the two arrows of the cycle")
	require.Len(t, s.Paths, 6, "an arrow and its head per relation")

	big := report.DependencyView{Service: "svc", Nodes: []report.DependencyNode{{Key: "svc", Class: "business_service"}}}
	for i := 1; i <= 100; i++ {
		key := fmt.Sprintf("ci-%03d", i)
		big.Nodes = append(big.Nodes, report.DependencyNode{Key: key, Class: "server", Depth: 1 + i/40, Parent: "svc"})
		big.Edges = append(big.Edges, report.DependencyEdge{From: "svc", To: key, Type: "runs_on"})
	}
	s = parseSVG(t, string(report.DependencyChart(big, "big", report.LangZH)))
	require.Len(t, s.Groups, report.MaxChartNodes)
	require.Contains(t, s.Texts, fmt.Sprintf("… 另有 %d 个配置项未画出", 101-report.MaxChartNodes))
	require.Len(t, s.Paths, 2*(report.MaxChartNodes-1), "no arrow to a CI not drawn")
}

// The demo's taxpayer-reg depends on its application, database and the
// infrastructure under them: the view has them with their names and the
// relations among them, and the service report draws them.
func TestDependencyViewDemo(t *testing.T) {
	t.Parallel()
	e, pool := seedDemo(t)
	rs := demo.Readiness(pool, demoNow)
	v, err := rs.Dependencies(t.Context(), "taxpayer-reg")
	require.NoError(t, err)
	require.Equal(t, "taxpayer-reg", v.Service)
	require.Equal(t, "taxpayer-reg", v.Nodes[0].Key)
	keys := map[string]report.DependencyNode{}
	for _, n := range v.Nodes {
		keys[n.Key] = n
	}
	for _, k := range []string{"taxpayer-reg-app", "taxpayer-reg-db", "dc-main"} {
		require.Contains(t, keys, k)
		require.NotEmpty(t, keys[k].Name, k)
	}
	require.Equal(t, 1, keys["taxpayer-reg-app"].Depth)
	require.Contains(t, v.Edges, report.DependencyEdge{From: "taxpayer-reg", To: "taxpayer-reg-app", Type: "depends_on"})
	require.Empty(t, v.Cycles, "the demo has no cycle")
	t.Logf("taxpayer-reg needs %d CIs through %d relations", len(v.Nodes)-1, len(v.Edges))
	s := parseSVG(t, string(report.DependencyChart(v, "taxpayer-reg", report.LangEN)))
	require.Len(t, s.Groups, min(len(v.Nodes), report.MaxChartNodes))

	for _, key := range []string{"no-such-service", "taxpayer-reg-db"} {
		_, err = rs.Dependencies(t.Context(), key)
		require.Contains(t, []string{orchestrator.ENOTFOUND, orchestrator.EINVALID}, orchestrator.ErrorCode(err), key)
	}

	q := report.Request{Kind: report.KindService, Subject: "taxpayer-reg", Period: "2026-10", Format: report.FormatHTML, Lang: report.LangZH}
	out, err := e.Render(t.Context(), q, nil)
	require.NoError(t, err)
	html := string(out.Body)
	require.Contains(t, html, "服务依赖关系")
	require.Contains(t, html, `<svg xmlns="http://www.w3.org/2000/svg"`)
	require.Contains(t, html, "taxpayer-reg-db · database")
	q.Format = report.FormatJSON
	out, err = e.Render(t.Context(), q, nil)
	require.NoError(t, err)
	var rep report.ServiceReport
	require.NoError(t, json.Unmarshal(out.Body, &rep))
	require.Equal(t, len(v.Nodes), len(rep.Continuity.Dependencies.Nodes))
}
