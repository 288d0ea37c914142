package importer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
)

// progressEvery is how many rows pass between progress callbacks.
const progressEvery = 10000

// Rows pass from the parsing goroutine to COPY in batches; a few batches in
// flight keep both busy while memory stays bounded whatever the file size.
const (
	batchRows     = 512
	batchesAhead  = 4
	progressBatch = progressEvery / batchRows
)

// rowReader feeds COPY: it decodes and validates each row, records the bad
// ones in the report and hands over the values of the good ones. Parsing
// and validation run in their own goroutine (started by the first Next),
// so they overlap with pgx encoding the rows and the server storing them.
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
	fatal  error
	row    int // number of the row being read (a held row's when replayed)
	// held are rows whose year-last dates waited for the file to show
	// their order; they are read again once it has.
	held      []heldRow
	heldBytes int

	// Pipeline state: the producer owns src, rep and fatal until done is
	// closed; the consumer reads them only after that.
	batches chan [][]any
	stop    chan struct{}
	done    chan struct{}
	cur     [][]any
	i       int
	ended   bool // Next saw the end: fatal is settled
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
	names := make([]string, len(header))
	strong := map[string]bool{}
	for i, h := range header {
		names[i] = r.spec.fieldName(h)
		strong[names[i]] = true
	}
	for i, h := range header {
		name := names[i]
		if weak, ok := strings.CutPrefix(name, "?"); ok {
			// A weak alias gives its field only when no other column does.
			name = weak
			if strong[weak] {
				name = "?"
			}
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
		if f.timeKind != 0 && r.src.dates != nil {
			f.parse = r.src.dates.setter(name, f.timeKind == 2, &r.row)
		}
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

// Next advances to the next good row.
func (r *rowReader[In]) Next() bool {
	if r.batches == nil {
		r.start()
	}
	if r.i++; r.i < len(r.cur) {
		return true
	}
	batch, ok := <-r.batches
	if !ok {
		r.cur, r.ended = nil, true
		return false
	}
	r.cur, r.i = batch, 0
	return true
}

// Values returns the current row's staging values.
func (r *rowReader[In]) Values() ([]any, error) { return r.cur[r.i], nil }

// Err reports a failure that ended the file early. pgx asks while rows
// still flow; the producer's fatal error is only read once the batches
// channel is closed, which it closes after setting it.
func (r *rowReader[In]) Err() error {
	if !r.ended {
		return nil
	}
	return r.fatal
}

// close stops the producer (when COPY ended early) and waits for it, so the
// report is settled when close returns.
func (r *rowReader[In]) close() {
	if r.batches == nil {
		return
	}
	close(r.stop)
	<-r.done
}

func (r *rowReader[In]) start() {
	r.batches = make(chan [][]any, batchesAhead)
	r.stop = make(chan struct{})
	r.done = make(chan struct{})
	r.i = -1
	go r.produce()
}

// produce reads the whole file, sending the good rows' values in batches.
func (r *rowReader[In]) produce() {
	defer close(r.done)
	defer close(r.batches)
	batch := make([][]any, 0, batchRows)
	for sent := 1; ; sent++ {
		in, ok := r.nextGood()
		if ok {
			vals := r.spec.Values(in, r.opts.Source)
			row := make([]any, len(vals)+1)
			row[0] = int32(r.row)
			copy(row[1:], vals)
			if batch = append(batch, row); len(batch) < batchRows {
				continue
			}
		}
		if len(batch) > 0 {
			select {
			case r.batches <- batch:
			case <-r.stop:
				return
			}
		}
		if !ok {
			return
		}
		if r.opts.Progress != nil && sent%progressBatch == 0 {
			r.opts.Progress(r.src.lines.total)
		}
		batch = make([][]any, 0, batchRows)
	}
}

// maxHeldBytes bounds the rows held for their dates' order, so memory stays
// bounded whatever the file: a file whose first many rows all carry dates
// such as 05/03/2025 needs date_format.
const maxHeldBytes = 32 << 20

// heldRow is a CSV row kept until the file shows its dates' order.
type heldRow struct {
	row    int
	rec    []string
	column string
}

// nextGood reads rows until a good one, recording the bad ones; false at
// the end of the file or when the file cannot be read on (r.fatal).
func (r *rowReader[In]) nextGood() (*In, bool) {
	for {
		in, err := r.readNext()
		if errors.Is(err, io.EOF) {
			r.dropHeld()
			return nil, false
		}
		var rowErr *rowError
		if errors.As(err, &rowErr) {
			if rowErr.held {
				if r.heldBytes > maxHeldBytes {
					r.fatal = orchestrator.Errorf(orchestrator.EINVALID,
						"the dates of the first %d rows (column %s) read either day/month or month/day; give date_format (dmy or mdy)", len(r.held), rowErr.column)
					return nil, false
				}
				continue
			}
			r.rep.add(Problem{Row: rowErr.row, Column: rowErr.column, Message: rowErr.msg}, r.opts.MaxProblems)
			continue
		}
		if err != nil {
			r.fatal = orchestrator.Errorf(orchestrator.EINVALID, "%v", err)
			return nil, false
		}
		if err := r.spec.Validate(in); err != nil {
			// One problem per row keeps reports readable; the first field is named.
			p := Problem{Row: r.row, Message: err.Error()}
			if fe := orchestrator.ErrorFields(err); len(fe) > 0 {
				p.Column, p.Message = fe[0].Field, fe[0].Message
			}
			r.rep.add(p, r.opts.MaxProblems)
			continue
		}
		return in, true
	}
}

// readNext reads a held row again once its dates' order is known, else
// the next row of the file.
func (r *rowReader[In]) readNext() (*In, error) {
	if len(r.held) > 0 && r.src.dates.order != "" {
		h := r.held[0]
		r.held[0] = heldRow{}
		r.held = r.held[1:]
		if len(r.held) == 0 {
			r.held, r.heldBytes = nil, 0
		}
		r.row = h.row
		return r.fromCSV(h.rec)
	}
	return r.read()
}

// dropHeld reports the rows still held at the end of the file: nothing
// showed their dates' order.
func (r *rowReader[In]) dropHeld() {
	for _, h := range r.held {
		r.rep.add(Problem{Row: h.row, Column: h.column, Message: fmt.Sprintf(
			"date %q reads either day/month or month/day and no date in the file tells which; give date_format (dmy or mdy)",
			h.rec[r.columnIndex(h.column)])}, r.opts.MaxProblems)
	}
	r.held = nil
}

// columnIndex is the CSV column of a field name.
func (r *rowReader[In]) columnIndex(name string) int {
	for i, idx := range r.cols {
		if idx >= 0 && r.names[idx] == name {
			return i
		}
	}
	return 0
}

func (r *rowReader[In]) read() (*In, error) {
	if r.src.format == "jsonl" {
		line, err := r.src.nextJSON()
		r.row = r.src.row
		if err != nil {
			return nil, err
		}
		in, err := decodeJSONRow[In](line)
		if err != nil {
			return nil, &rowError{row: r.row, column: jsonField(err), msg: jsonMessage(err)}
		}
		return in, nil
	}
	rec, err := r.src.nextCSV()
	r.row = r.src.row
	if err != nil {
		return nil, err
	}
	return r.fromCSV(rec)
}

func (r *rowReader[In]) fromCSV(rec []string) (*In, error) {
	if len(rec) != len(r.cols) {
		return nil, &rowError{row: r.row, msg: fmt.Sprintf("has %d columns; the header has %d", len(rec), len(r.cols))}
	}
	in := new(In)
	v := reflect.ValueOf(in).Elem()
	for i, cell := range rec {
		if err := checkCell(cell); err != nil {
			return nil, &rowError{row: r.row, column: r.columnName(i), msg: err.Error()}
		}
		idx := r.cols[i]
		cell = strings.TrimSpace(cell)
		if idx < 0 || cell == "" {
			continue
		}
		set := r.sets[idx]
		if err := set.parse(cell, v.FieldByIndex(set.index)); err != nil {
			if errors.Is(err, errAmbiguousDate) {
				// The reader reuses rec; a held row keeps its own copy.
				r.held = append(r.held, heldRow{row: r.row, rec: slices.Clone(rec), column: r.names[idx]})
				for _, c := range rec {
					r.heldBytes += len(c) + 16
				}
				return nil, &rowError{row: r.row, column: r.names[idx], held: true}
			}
			return nil, &rowError{row: r.row, column: r.names[idx], msg: err.Error()}
		}
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

// fieldName is the field a CSV header names: a JSON field name or an alias
// of the spec, ignoring case and surrounding spaces; "?field" for a weak
// alias (Spec.Aliases). An iTop external-key
// header such as org_id->name is looked up whole, then by its attribute
// code (org_id).
func (s *Spec[In]) fieldName(header string) string {
	name := strings.ToLower(strings.TrimSpace(header))
	if alias, ok := s.Aliases[name]; ok {
		return alias
	}
	if base, _, ok := strings.Cut(name, "->"); ok {
		base = strings.TrimSpace(base)
		if alias, ok := s.Aliases[base]; ok {
			return alias
		}
		return base
	}
	return name
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
// Input types with their own strict decoders name the field themselves.
func jsonField(err error) string {
	if fe := orchestrator.ErrorFields(err); len(fe) > 0 {
		return fe[0].Field
	}
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
	fe := orchestrator.ErrorFields(err)
	switch {
	case len(fe) > 0:
		return fe[0].Message
	case errors.As(err, &typeErr):
		return "must be " + typeErr.Type.String()
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "is not a known field"
	}
	return "not a valid JSON object: " + err.Error()
}
