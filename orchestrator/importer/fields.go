package importer

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// fieldSetter parses one CSV cell into one field of an input struct. The
// parsers write straight into the field, so a row costs no allocation per
// cell beyond the values themselves.
type fieldSetter struct {
	index []int
	parse func(cell string, dst reflect.Value) error
	// timeKind is 1 for a time.Time field and 2 for a *time.Time one: the
	// row reader gives those its file's date reader.
	timeKind int
}

var (
	durationType = reflect.TypeFor[orchestrator.Duration]()
	timeType     = reflect.TypeFor[time.Time]()
	stringsType  = reflect.TypeFor[[]string]()
)

// fieldsOf maps the JSON names of t's fields (following embedded structs)
// to setters.
func fieldsOf(t reflect.Type) map[string]fieldSetter {
	out := map[string]fieldSetter{}
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			index := append(append([]int{}, prefix...), i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type, index)
				continue
			}
			if name == "-" || !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			fs := fieldSetter{index: index, parse: parserFor(f.Type)}
			switch f.Type {
			case timeType:
				fs.timeKind = 1
			case reflect.PointerTo(timeType):
				fs.timeKind = 2
			}
			out[name] = fs
		}
	}
	walk(t, nil)
	return out
}

// parserFor returns the cell parser of a field type. Pointers parse their
// element and stay nil for an empty cell; anything without a natural text
// form (maps, structs, slices of structs) is read as JSON.
func parserFor(t reflect.Type) func(string, reflect.Value) error {
	if t.Kind() == reflect.Pointer {
		elem := parserFor(t.Elem())
		return func(cell string, dst reflect.Value) error {
			p := reflect.New(t.Elem())
			if err := elem(cell, p.Elem()); err != nil {
				return err
			}
			dst.Set(p)
			return nil
		}
	}
	switch {
	case t == durationType:
		return func(cell string, dst reflect.Value) error {
			d, err := orchestrator.ParseDuration(cell)
			if err == nil {
				dst.Set(reflect.ValueOf(d))
			}
			return err
		}
	case t == timeType:
		return func(cell string, dst reflect.Value) error {
			tm, err := parseTime(cell)
			if err == nil {
				*dst.Addr().Interface().(*time.Time) = tm
			}
			return err
		}
	case t == stringsType:
		return func(cell string, dst reflect.Value) error {
			*dst.Addr().Interface().(*[]string) = splitList(cell)
			return nil
		}
	}
	switch t.Kind() {
	case reflect.String:
		return func(cell string, dst reflect.Value) error {
			dst.SetString(cell)
			return nil
		}
	case reflect.Bool:
		return func(cell string, dst reflect.Value) error {
			b, err := parseBool(cell)
			dst.SetBool(b)
			return err
		}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return func(cell string, dst reflect.Value) error {
			n, err := strconv.ParseInt(cell, 10, 64)
			if err != nil || dst.OverflowInt(n) {
				return fmt.Errorf("%q is not a whole number", cell)
			}
			dst.SetInt(n)
			return nil
		}
	case reflect.Float64, reflect.Float32:
		return func(cell string, dst reflect.Value) error {
			f, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				return fmt.Errorf("%q is not a number", cell)
			}
			dst.SetFloat(f)
			return nil
		}
	case reflect.Slice:
		switch t.Elem().Kind() {
		case reflect.String, reflect.Int, reflect.Int32, reflect.Int64:
			elem := parserFor(t.Elem())
			return func(cell string, dst reflect.Value) error {
				parts := splitList(cell)
				out := reflect.MakeSlice(t, len(parts), len(parts))
				for i, p := range parts {
					if err := elem(p, out.Index(i)); err != nil {
						return err
					}
				}
				dst.Set(out)
				return nil
			}
		}
	}
	return func(cell string, dst reflect.Value) error {
		p := reflect.New(t)
		if err := json.Unmarshal([]byte(cell), p.Interface()); err != nil {
			return fmt.Errorf("must be JSON: %v", err)
		}
		dst.Set(p.Elem())
		return nil
	}
}

// splitList reads "a; b; c" (or commas, bars, or one per line) as a list;
// an iTop link set as its links (see LinkValue).
func splitList(cell string) []string {
	if isLinkSet(cell) {
		return splitLinks(cell)
	}
	parts := strings.FieldsFunc(cell, func(r rune) bool { return r == ';' || r == ',' || r == '\n' || r == '|' })
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func parseBool(cell string) (bool, error) {
	switch strings.ToLower(cell) {
	case "true", "yes", "y", "1", "t", "是":
		return true, nil
	case "false", "no", "n", "0", "f", "否":
		return false, nil
	}
	return false, fmt.Errorf("%q is not true or false", cell)
}

// parseTime reads a year-first time (RFC 3339, or ServiceNow's and iTop's
// "2006-01-02 15:04:05" as UTC). Row readers replace it with their file's
// dateReader, which also reads year-last dates.
func parseTime(cell string) (time.Time, error) {
	return (&dateReader{loc: time.UTC, order: DateYMD, fixed: true}).parse(cell, "", 0)
}
