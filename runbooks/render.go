package runbooks

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// Export formats.
const (
	FormatHTML     = "html"
	FormatMarkdown = "md"
	FormatJSON     = "json"
)

// Formats lists the export formats.
var Formats = []string{FormatHTML, FormatMarkdown, FormatJSON}

// ContentType returns the media type of an export format.
func ContentType(format string) string {
	switch format {
	case FormatHTML:
		return "text/html; charset=utf-8"
	case FormatMarkdown:
		return "text/markdown; charset=utf-8"
	}
	return "application/json"
}

//go:embed runbook.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("runbook").Funcs(template.FuncMap{
	"t":     inert,
	"day":   func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"stamp": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"short": func(s string) string { return s[:min(12, len(s))] },
	"opt":   optional,
}).Parse(htmlSource))

// inertText writes "://" and "=" as entities in escaped text, so no
// user-written address or attribute-like text reads as a link or a
// reference, even to a tool scanning the file: it stays self-contained
// whatever the steps say.
var inertText = strings.NewReplacer("://", ":&#47;&#47;", "=", "&#61;")

// inert escapes text for HTML, then makes it inert.
func inert(s string) template.HTML {
	return template.HTML(inertText.Replace(html.EscapeString(s)))
}

// optional writes a pointer's value, or a dash for nil.
func optional(v any) string {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || (rv.Kind() == reflect.Pointer && rv.IsNil()) {
		return "—"
	}
	if rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if d, ok := rv.Interface().(orchestrator.Duration); ok {
		return d.String()
	}
	return fmt.Sprint(rv.Interface())
}

// wave is the steps that may run together.
type wave struct {
	Number int
	Steps  []placedStep
}

type placedStep struct {
	Step     Step
	Critical bool
	Start    orchestrator.Duration
}

// waves groups the steps by wave, in list order within each.
func waves(doc Document) []wave {
	timing := make(map[string]Timing, len(doc.Feasibility.Schedule))
	for _, st := range doc.Feasibility.Schedule {
		timing[st.Step] = st.Timing
	}
	var out []wave
	for _, s := range doc.Version.Steps {
		t := timing[s.ID]
		for len(out) <= t.Wave {
			out = append(out, wave{Number: len(out) + 1})
		}
		out[t.Wave].Steps = append(out[t.Wave].Steps, placedStep{Step: s, Critical: t.Critical, Start: t.Start})
	}
	return slices.DeleteFunc(out, func(w wave) bool { return len(w.Steps) == 0 })
}

// Render writes a document in format.
func Render(doc Document, format string) ([]byte, error) {
	switch format {
	case FormatHTML:
		var buf bytes.Buffer
		err := htmlTemplate.Execute(&buf, struct {
			Doc   Document
			Waves []wave
		}{doc, waves(doc)})
		return buf.Bytes(), err
	case FormatMarkdown:
		return renderMarkdown(doc), nil
	case FormatJSON:
		return json.MarshalIndent(doc, "", "  ")
	}
	return nil, orchestrator.Invalid("format", "must be one of %s", strings.Join(Formats, ", "))
}
