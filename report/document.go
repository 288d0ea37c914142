package report

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"
)

// Document is a report laid out for reading: a title, facts under it and
// sections of text, facts, charts and tables. Every report but the
// executive one (which has its own page one) is built as a Document and
// drawn by one template, so they look alike and print alike.
type Document struct {
	Lang     string
	Title    string
	Subtitle string
	// Facts are shown under the title: the period, the subject, when the
	// report was generated.
	Facts    []Fact
	Sections []Section
	// FooterText is what a printed copy's footer says before the page number.
	FooterText string
}

// Section is one part of a Document. Level 2 is a chapter, 3 a part of
// one; what a section holds is drawn in field order.
type Section struct {
	Level   int
	Heading string
	// Text is paragraphs.
	Text  []string
	Facts []Fact
	Chart template.HTML
	Table *Table
	// Empty is said when the section has no facts, chart or table rows.
	Empty string
	Note  string
	// NewPage starts the section on a new printed page.
	NewPage bool
}

// Fact is a labelled value; Class colours the value (see Cell).
type Fact struct {
	Label string
	Value string
	Class string
}

// Table is a table with a header row. Numeric columns are aligned right.
type Table struct {
	Head    []string
	Numeric []bool
	Rows    [][]Cell
	// Hidden counts rows left out of a long table; a note under it says so.
	Hidden int
}

// Cell is a table cell; Class is "breached" (red), "warn" (amber), "ok"
// (green) or empty.
type Cell struct {
	Text  string
	Class string
}

// Cell classes.
const (
	classBad  = "breached"
	classWarn = "st-at_risk"
	classOK   = "ok"
)

// IsNumeric reports whether column i is numeric.
func (t *Table) IsNumeric(i int) bool { return i < len(t.Numeric) && t.Numeric[i] }

// AddRow appends a row of plain cells.
func (t *Table) AddRow(texts ...string) {
	row := make([]Cell, len(texts))
	for i, s := range texts {
		row[i] = Cell{Text: s}
	}
	t.Rows = append(t.Rows, row)
}

// Add appends a row of cells.
func (t *Table) Add(cells ...Cell) { t.Rows = append(t.Rows, cells) }

// Limit keeps the first n rows and counts the rest as hidden.
func (t *Table) Limit(n int) {
	if len(t.Rows) > n {
		t.Hidden += len(t.Rows) - n
		t.Rows = t.Rows[:n]
	}
}

// NothingShown reports whether the section has nothing but text to show.
func (s Section) NothingShown() bool {
	return len(s.Facts) == 0 && s.Chart == "" && (s.Table == nil || len(s.Table.Rows) == 0)
}

// Footer is what a printed copy's footer says before the page number.
func (d *Document) Footer() string { return d.FooterText }

// documentTemplate draws every Document.
var documentTemplate = template.Must(template.New("document.html").Funcs(template.FuncMap{
	"css":  reportCSS,
	"more": func(lang string, n int) string { return fmt.Sprintf("%d %s", n, commonWords[lang]["more"]) },
}).ParseFS(templateFS, "templates/document.html"))

// HTML writes the document as one self-contained HTML file.
func (d *Document) HTML() ([]byte, error) {
	var buf bytes.Buffer
	if err := documentTemplate.Execute(&buf, d); err != nil {
		return nil, fmt.Errorf("render %s: %w", d.Title, err)
	}
	return buf.Bytes(), nil
}

// reportCSS is the style every report shares, inlined into each page.
func reportCSS() template.CSS {
	b, err := templateFS.ReadFile("templates/report.css")
	if err != nil {
		panic(err) // embedded: present or the binary would not build
	}
	return template.CSS(b)
}

// Helpers the builders format values with.

// day writes a time as its UTC date, or "—" for none.
func day(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02")
}

// orDash is s, or "—" when s is empty.
func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}
