package runbooks

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"html/template"
	"path"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/directory"
)

type kitFile struct {
	name    string
	content []byte
}

func durationOf(seconds int64) string { return orchestrator.DurationFromSeconds(seconds).String() }

// eachPage calls list for successive pages until the last.
func eachPage[T any](ctx context.Context, list func(context.Context, orchestrator.Page) (orchestrator.List[T], error), key func(T) string) ([]T, error) {
	var out []T
	page := orchestrator.Page{Limit: orchestrator.MaxPageLimit}
	for {
		l, err := list(ctx, page)
		if err != nil {
			return nil, err
		}
		out = append(out, l.Items...)
		if l.Next == "" || len(l.Items) == 0 {
			return out, nil
		}
		page.After = key(l.Items[len(l.Items)-1])
	}
}

// directoryFiles writes the contact list and every call tree, as data and
// as a printable page.
func (s *Service) directoryFiles(ctx context.Context) ([]kitFile, error) {
	contacts, err := eachPage(ctx, func(ctx context.Context, p orchestrator.Page) (orchestrator.List[directory.Contact], error) {
		return s.directory.ListContacts(ctx, directory.ContactFilter{}, p)
	}, func(c directory.Contact) string { return c.Key })
	if err != nil {
		return nil, err
	}
	trees, err := eachPage(ctx, func(ctx context.Context, p orchestrator.Page) (orchestrator.List[directory.CallTree], error) {
		return s.directory.ListCallTrees(ctx, directory.CallTreeFilter{}, p)
	}, func(t directory.CallTree) string { return t.Key })
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"key", "name", "role", "organisation", "phone", "email", "chat", "deputies", "notes"})
	for _, c := range contacts {
		_ = w.Write(orchestrator.SpreadsheetSafe(c.Key, c.Name, c.Role, c.Organisation, c.Phone, c.Email, c.Chat, strings.Join(c.Deputies, ";"), c.Notes))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	if trees == nil {
		trees = []directory.CallTree{}
	}
	treeJSON, err := json.MarshalIndent(trees, "", "  ")
	if err != nil {
		return nil, err
	}
	var page bytes.Buffer
	if err := contactsTemplate.Execute(&page, struct {
		Contacts []directory.Contact
		Trees    []directory.CallTree
	}{contacts, trees}); err != nil {
		return nil, err
	}
	return []kitFile{{"contacts.csv", buf.Bytes()}, {"call-trees.json", treeJSON}, {"contacts.html", page.Bytes()}}, nil
}

const kitStyle = `body { font-family: "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", Arial, sans-serif; font-size: 10.5pt; max-width: 190mm; margin: 0 auto; padding: 8mm 0; }
@page { size: A4; margin: 14mm 12mm; }
table { border-collapse: collapse; width: 100%; } th, td { border: 0.5pt solid #888; padding: 1.2mm 1.8mm; text-align: left; vertical-align: top; }
th { background: #eee; } tr { break-inside: avoid; } .bad { color: #900; }`

var contactsTemplate = template.Must(template.New("contacts").Funcs(template.FuncMap{"t": inert}).Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>联系人 Contacts and call trees</title><style>` + kitStyle + `</style></head><body>
<h1>联系人与呼叫树 Contacts and call trees</h1>
<h2>呼叫树 Call trees</h2>
{{range .Trees}}<h3>{{t .Name}} ({{t .Key}}){{with .Service}} — {{t .}}{{end}}</h3><ol>{{range .Levels}}<li>{{range $i, $c := .Contacts}}{{if $i}}, {{end}}{{t $c}}{{end}}{{if .Wait}} — escalate after {{.Wait}}{{end}}</li>{{end}}</ol>{{else}}<p>No call trees.</p>{{end}}
<h2>联系人 Contacts</h2>
<table><tr><th>Key</th><th>Name</th><th>Role</th><th>Organisation</th><th>Phone</th><th>Email</th><th>Chat</th><th>Deputies</th></tr>
{{range .Contacts}}<tr><td>{{t .Key}}</td><td>{{t .Name}}</td><td>{{t .Role}}</td><td>{{t .Organisation}}</td><td>{{t .Phone}}</td><td>{{t .Email}}</td><td>{{t .Chat}}</td><td>{{range $i, $d := .Deputies}}{{if $i}}, {{end}}{{t $d}}{{end}}</td></tr>{{end}}
</table></body></html>
`))

var indexTemplate = template.Must(template.New("index").Funcs(template.FuncMap{"t": inert}).Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>业务持续性离线资料包 Offline continuity kit</title><style>` + kitStyle + `</style></head><body>
<h1>业务持续性离线资料包 Offline continuity kit</h1>
<p>Made {{.Made}}. Check it with <code>bcdr export verify DIR</code> against manifest.json before relying on it.</p>
<h2>恢复预案 Runbooks ({{len .Rows}})</h2>
<table><tr><th>Runbook</th><th>Version</th><th>Feasibility</th><th>Stale</th><th>Files</th></tr>
{{range .Rows}}<tr><td><a href="{{.Stem}}.html">{{t .Title}}</a></td><td>{{.Version}}</td><td{{if eq .Verdict "infeasible"}} class="bad"{{end}}>{{.Verdict}} ({{.Estimate}})</td><td{{if .Flags}} class="bad"{{end}}>{{.Flags}}</td>
<td><a href="{{.Stem}}.html">HTML</a> · <a href="{{.Stem}}.md">Markdown</a> · <a href="{{.Stem}}.json">JSON</a></td></tr>{{end}}
</table>
<h2>其他资料 Other records</h2>
<ul><li><a href="contacts.html">联系人与呼叫树 Contacts and call trees</a> (<a href="contacts.csv">CSV</a>, <a href="call-trees.json">JSON</a>)</li>
<li><a href="cmdb.csv">配置管理数据库快照 CMDB snapshot</a> of every CI in a runbook's scope</li>
<li><a href="manifest.json">Manifest</a> with the SHA-256 of every file</li></ul>
</body></html>
`))

// renderIndex writes the kit's index page, linking every file by its
// relative path.
func renderIndex(m Manifest, docs []Document) []byte {
	type row struct {
		Title, Stem, Verdict, Flags string
		Version                     int
		Estimate                    orchestrator.Duration
	}
	var rows []row
	for _, d := range docs {
		rows = append(rows, row{Title: d.Title, Stem: path.Join("runbooks", fileStem(d)), Verdict: d.Feasibility.Verdict,
			Flags: strings.Join(d.Staleness.Flags, ", "), Version: d.Version.Number, Estimate: d.Feasibility.EstimatedRecovery})
	}
	var buf bytes.Buffer
	_ = indexTemplate.Execute(&buf, struct {
		Made string
		Rows []row
	}{m.CreatedAt.Format("2006-01-02 15:04 UTC"), rows})
	return buf.Bytes()
}
