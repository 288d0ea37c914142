package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
)

// progressEvery is how many rows pass between progress callbacks.
const progressEvery = 10000

// rowReader feeds COPY: it decodes and validates each row, records the bad
// ones in the report and hands over the values of the good ones.
type rowReader[In any] struct {
	spec   *Spec[In]
	src    *source
	opts   Options
	rep    *Report
	header []string
	cols   []int // CSV column index → setter index (-1: extra column)
	names  []string
	sets   []fieldSetter
	extra  []int // CSV columns that go to the ExtraInto map
	extraF fieldSetter
	values []any
	fatal  error
}

func (s *Spec[In]) newRowReader(src *source, opts Options, rep *Report) (*rowReader[In], error) {
	r := &rowReader[In]{spec: s, src: src, opts: opts, rep: rep}
	if src.format != "csv" {
		return r, nil
	}
	header, err := src.header()
	if err != nil {
		return nil, orchestrator.Errorf(orchestrator.EINVALID, "%v", err)
	}
	return r, r.mapHeader(header)
}

// mapHeader matches CSV columns to fields by JSON name or alias, ignoring
// case and surrounding spaces.
func (r *rowReader[In]) mapHeader(header []string) error {
	r.header = header
	fields := fieldsOf(reflect.TypeFor[In]())
	if r.spec.ExtraInto != "" {
		r.extraF = fields[r.spec.ExtraInto]
	}
	seen := map[string]int{}
	r.cols = make([]int, len(header))
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		if alias, ok := r.spec.Aliases[name]; ok {
			name = alias
		}
		f, ok := fields[name]
		if !ok || name == r.spec.ExtraInto {
			r.cols[i] = -1
			if r.spec.ExtraInto != "" && name != "" {
				r.extra = append(r.extra, i)
			} else {
				r.rep.IgnoredColumns = append(r.rep.IgnoredColumns, h)
			}
			continue
		}
		if prev, dup := seen[name]; dup {
			return orchestrator.Errorf(orchestrator.EINVALID, "columns %d (%q) and %d (%q) both give %s", prev+1, header[prev], i+1, h, name)
		}
		seen[name] = i
		r.cols[i] = len(r.sets)
		r.names = append(r.names, name)
		r.sets = append(r.sets, f)
	}
	var missing []string
	for _, req := range r.spec.Required {
		if _, ok := seen[req]; !ok {
			missing = append(missing, req)
		}
	}
	if len(missing) > 0 {
		return &orchestrator.Error{Code: orchestrator.EINVALID, Message: "the header row lacks required columns",
			Fields: []orchestrator.FieldError{{Field: "header", Message: "missing " + strings.Join(missing, ", ")}}}
	}
	return nil
}

// Next advances to the next good row, recording bad rows on the way.
func (r *rowReader[In]) Next() bool {
	for {
		in, err := r.read()
		if errors.Is(err, io.EOF) {
			return false
		}
		var rowErr *rowError
		if errors.As(err, &rowErr) {
			r.rep.add(Problem{Row: rowErr.row, Column: rowErr.column, Message: rowErr.msg}, r.opts.MaxProblems)
			continue
		}
		if err != nil {
			r.fatal = orchestrator.Errorf(orchestrator.EINVALID, "%v", err)
			return false
		}
		if fe := orchestrator.ErrorFields(r.spec.Validate(in)); len(fe) > 0 {
			// One problem per row keeps reports readable; the first field is named.
			r.rep.add(Problem{Row: r.src.row, Column: fe[0].Field, Message: fe[0].Message}, r.opts.MaxProblems)
			continue
		}
		r.values = append(r.values[:0], int32(r.src.row))
		r.values = append(r.values, r.spec.Values(in, r.opts.Source)...)
		if r.opts.Progress != nil && r.src.row%progressEvery == 0 {
			r.opts.Progress(r.src.lines.total)
		}
		return true
	}
}

// Values returns the current row's staging values.
func (r *rowReader[In]) Values() ([]any, error) { return r.values, nil }

// Err reports a failure that ended the file early.
func (r *rowReader[In]) Err() error { return r.fatal }

func (r *rowReader[In]) read() (*In, error) {
	if r.src.format == "jsonl" {
		line, err := r.src.nextJSON()
		if err != nil {
			return nil, err
		}
		in, err := decodeJSONRow[In](line)
		if err != nil {
			return nil, &rowError{row: r.src.row, column: jsonField(err), msg: jsonMessage(err)}
		}
		return in, nil
	}
	rec, err := r.src.nextCSV()
	if err != nil {
		return nil, err
	}
	return r.fromCSV(rec)
}

func (r *rowReader[In]) fromCSV(rec []string) (*In, error) {
	if len(rec) != len(r.cols) {
		return nil, &rowError{row: r.src.row, msg: fmt.Sprintf("has %d columns; the header has %d", len(rec), len(r.cols))}
	}
	in := new(In)
	v := reflect.ValueOf(in).Elem()
	for i, cell := range rec {
		if err := checkCell(cell); err != nil {
			return nil, &rowError{row: r.src.row, column: r.columnName(i), msg: err.Error()}
		}
		idx := r.cols[i]
		cell = strings.TrimSpace(cell)
		if idx < 0 || cell == "" {
			continue
		}
		set := r.sets[idx]
		val, err := set.parse(cell)
		if err != nil {
			return nil, &rowError{row: r.src.row, column: r.names[idx], msg: err.Error()}
		}
		v.FieldByIndex(set.index).Set(val)
	}
	if len(r.extra) > 0 {
		r.collectExtra(v, rec)
	}
	return in, nil
}

// collectExtra puts the cells of unmatched columns into the ExtraInto map.
func (r *rowReader[In]) collectExtra(v reflect.Value, rec []string) {
	m := v.FieldByIndex(r.extraF.index)
	if m.IsNil() {
		m.Set(reflect.MakeMap(m.Type()))
	}
	for _, i := range r.extra {
		if cell := strings.TrimSpace(rec[i]); cell != "" {
			m.SetMapIndex(reflect.ValueOf(r.headerName(i)), reflect.ValueOf(cell))
		}
	}
}

func (r *rowReader[In]) columnName(i int) string {
	if idx := r.cols[i]; idx >= 0 {
		return r.names[idx]
	}
	return r.headerName(i)
}

func (r *rowReader[In]) headerName(i int) string {
	if h := strings.TrimSpace(r.header[i]); h != "" {
		return h
	}
	return fmt.Sprintf("column %d", i+1)
}

// jsonField and jsonMessage describe a JSON decoding error of one line.
func jsonField(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return typeErr.Field
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return strings.Trim(name, `"`)
	}
	return ""
}

func jsonMessage(err error) string {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr):
		return "must be " + typeErr.Type.String()
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "is not a known field"
	}
	return "not a valid JSON object: " + err.Error()
}
