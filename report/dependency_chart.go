package report

import (
	"context"
	"fmt"
	"html/template"
	"strings"

	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// MaxChartNodes is how many CIs a dependency chart draws; the rest of a
// larger closure is counted under the chart ("and N more"), and the JSON
// and the page's list keep every one.
const MaxChartNodes = 60

// DependencyView is a business service's dependency closure as a chart
// draws it: the service first, then every CI it needs in breadth-first
// order, the propagating relations among them, and the dependency cycles
// they form.
type DependencyView struct {
	Service string           `json:"service"`
	Nodes   []DependencyNode `json:"nodes"`
	Edges   []DependencyEdge `json:"edges"`
	Cycles  [][]string       `json:"cycles"`
}

// DependencyNode is one CI of a closure. Depth counts relations from the
// service (0 for the service), Parent is the CI it was first reached
// through, Cycle marks a CI in a dependency cycle.
type DependencyNode struct {
	Key    string `json:"key"`
	Name   string `json:"name"`
	Class  string `json:"class"`
	Depth  int    `json:"depth"`
	Parent string `json:"parent"`
	Cycle  bool   `json:"cycle"`
}

// DependencyEdge is a relation "From Type To": From needs To. Cycle marks
// a relation inside a dependency cycle.
type DependencyEdge struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Type  string `json:"type"`
	Cycle bool   `json:"cycle"`
}

// Dependencies is the dependency closure of the business service key,
// asked of the impact service as the API asks it, with the CIs' names and
// the relations and cycles among them read from the same graph.
func (s *Service) Dependencies(ctx context.Context, key string) (DependencyView, error) {
	closure, err := s.opts.Impact.Dependencies(ctx, key)
	if err != nil {
		return DependencyView{}, err
	}
	snap, err := s.opts.Impact.Graphs().Current(ctx)
	if err != nil {
		return DependencyView{}, err
	}
	keys := []string{closure.Root}
	for _, it := range closure.Items {
		keys = append(keys, it.Key)
	}
	// A CI deleted since the closure was read keeps its key for a name.
	refs, err := cmdb.Resolve(ctx, s.pool, keys, cmdb.ResolveOptions{})
	if err != nil && !cmdb.IsUnknown(err) {
		return DependencyView{}, fmt.Errorf("dependencies of %s: %w", key, err)
	}
	names := make(map[string]string, len(refs))
	for k, r := range refs {
		names[k] = r.Name
	}
	return dependencyView(snap.Graph, closure, names), nil
}

// propagating are the relation types a dependency chart draws.
var propagating = []string{impact.DependsOn, impact.RunsOn, impact.HostedIn, impact.ProvidedBy}

// dependencyView joins a closure with the relations among its CIs in g.
func dependencyView(g *impact.Graph, c impact.ClosureView, names map[string]string) DependencyView {
	v := DependencyView{Service: c.Root, Edges: []DependencyEdge{}, Cycles: [][]string{}}
	in := map[string]bool{c.Root: true}
	root := DependencyNode{Key: c.Root, Name: names[c.Root], Class: impact.ClassBusinessService}
	if n, ok := g.Index(c.Root); ok {
		root.Class = g.Class(n)
	}
	v.Nodes = append(v.Nodes, root)
	for _, it := range c.Items {
		in[it.Key] = true
		v.Nodes = append(v.Nodes, DependencyNode{Key: it.Key, Name: names[it.Key], Class: it.Class, Depth: it.Depth, Parent: it.Parent})
	}
	// A cycle reachable from the service lies wholly inside its closure.
	cycleOf := map[string]int{}
	for _, cy := range g.Cycles() {
		if !in[g.Key(cy[0])] {
			continue
		}
		keys := make([]string, len(cy))
		for i, n := range cy {
			keys[i] = g.Key(n)
			cycleOf[keys[i]] = len(v.Cycles) + 1
		}
		v.Cycles = append(v.Cycles, keys)
	}
	for i, node := range v.Nodes {
		v.Nodes[i].Cycle = cycleOf[node.Key] > 0
		n, ok := g.Index(node.Key)
		if !ok {
			continue
		}
		for _, typ := range propagating {
			for _, t := range g.Targets(n, typ) {
				to := g.Key(t)
				if in[to] {
					v.Edges = append(v.Edges, DependencyEdge{From: node.Key, To: to, Type: typ,
						Cycle: cycleOf[node.Key] > 0 && cycleOf[node.Key] == cycleOf[to]})
				}
			}
		}
	}
	return v
}

// Sizes of a dependency chart, in pixels.
const (
	depBoxW, depBoxH, depGapX, depGapY, depPad = 196, 36, 44, 8, 8
	// depLabel is the columns a box's name shows (CJK count two).
	depLabel = 30
)

// Dependency chart colours.
const (
	colourBox     = "#ffffff"
	colourService = "#e3f0fb"
	colourEdge    = "#8c959f"
	colourMuted   = "#57606a"
)

// dependencyWords are the chart's own words.
var dependencyWords = dict{
	LangEN: {"more": "… and %d more CIs, not drawn", "cycle": "in a dependency cycle"},
	LangZH: {"more": "… 另有 %d 个配置项未画出", "cycle": "处于依赖环中"},
}

// DependencyChart draws a dependency closure left to right: the service
// in the first column, each CI in the column of its depth, an arrow from
// each CI to each CI it needs, CIs and relations in a cycle in red and
// dashed. At most MaxChartNodes CIs are drawn, the shallowest first; the
// rest are counted under the chart. The same chart serves the UI and the
// service report.
func DependencyChart(v DependencyView, title, lang string) template.HTML {
	w := dependencyWords.words(lang)
	shown := v.Nodes[:min(len(v.Nodes), MaxChartNodes)]
	type box struct{ x, y int }
	at := make(map[string]box, len(shown))
	rows := map[int]int{}
	width, height := depPad*2+depBoxW, depPad*2+depBoxH
	for _, n := range shown {
		b := box{depPad + n.Depth*(depBoxW+depGapX), depPad + rows[n.Depth]*(depBoxH+depGapY)}
		rows[n.Depth]++
		at[n.Key] = b
		width, height = max(width, b.x+depBoxW+depPad), max(height, b.y+depBoxH+depPad)
	}
	hidden := len(v.Nodes) - len(shown)
	if hidden > 0 {
		height += 18
	}
	s := newSVG(width, height, title)
	for _, e := range v.Edges {
		from, okF := at[e.From]
		to, okT := at[e.To]
		if !okF || !okT {
			continue
		}
		x1, y1, x2, y2 := from.x+depBoxW, from.y+depBoxH/2, to.x, to.y+depBoxH/2
		bend := max((x2-x1)/2, depGapX)
		stroke, dash := colourEdge, ""
		if e.Cycle {
			stroke, dash = colourNotReady, ` stroke-dasharray="5 3"`
		}
		fmt.Fprintf(&s.b, `<path d="M%d %dC%d %d %d %d %d %d" fill="none" stroke="%s" stroke-width="1.2"%s/>`,
			x1, y1, x1+bend, y1, x2-bend, y2, x2, y2, stroke, dash)
		fmt.Fprintf(&s.b, `<path d="M%d %dl-6 -3.5v7z" fill="%s"/>`, x2, y2, stroke)
	}
	for _, n := range shown {
		b := at[n.Key]
		fill, stroke, sw, dash := colourBox, colourTarget, 1.0, ""
		if n.Class == impact.ClassBusinessService {
			fill = colourService
		}
		if n.Cycle {
			stroke, sw, dash = colourNotReady, 2, ` stroke-dasharray="5 3"`
		}
		name := n.Name
		if name == "" {
			name = n.Key
		}
		tip := n.Key + " · " + n.Class + " · " + name
		if n.Cycle {
			tip += " · " + w("cycle")
		}
		fmt.Fprintf(&s.b, `<g><title>%s</title><rect x="%d" y="%d" width="%d" height="%d" rx="4" fill="%s" stroke="%s" stroke-width="%.1f"%s/>`,
			template.HTMLEscapeString(tip), b.x, b.y, depBoxW, depBoxH, fill, stroke, sw, dash)
		s.text(float64(b.x+6), float64(b.y+15), "start", colourInk, clipColumns(name, depLabel))
		fmt.Fprintf(&s.b, `<text x="%d" y="%d" font-size="9" fill="%s">%s</text></g>`, b.x+6, b.y+29, colourMuted,
			template.HTMLEscapeString(clipColumns(n.Key+" · "+n.Class, depLabel+4)))
	}
	if hidden > 0 {
		s.text(depPad, float64(height-depPad), "start", colourInk, fmt.Sprintf(w("more"), hidden))
	}
	return s.html()
}

// clipColumns shortens s to width columns, a CJK character counting two.
func clipColumns(s string, width int) string {
	cols := 0
	for i, r := range s {
		c := 1
		if r >= 0x2E80 {
			c = 2
		}
		if cols+c > width-1 {
			return strings.TrimSpace(s[:i]) + "…"
		}
		cols += c
	}
	return s
}
