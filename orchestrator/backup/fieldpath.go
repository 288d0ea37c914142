package backup

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// FieldPath addresses a value inside a JSON document: object keys joined
// by dots, each optionally followed by array indexes, as in
// "last_success.finished_at" or "items[0].time". A negative index counts
// from the end ("items[-1]" is the last item).
type FieldPath []PathStep

// PathStep is one key or one array index of a FieldPath.
type PathStep struct {
	Key   string // set for an object key
	Index int    // used when IsIndex
	// IsIndex marks an array index step.
	IsIndex bool
}

// Limits of a field path.
const (
	maxFieldPathBytes = 256
	maxFieldPathSteps = 32
	maxPathIndex      = 1_000_000
)

// ParseFieldPath reads a field path. Keys are non-empty and hold no '.',
// '[' or ']'; indexes are whole numbers.
func ParseFieldPath(s string) (FieldPath, error) {
	if s == "" {
		return nil, fmt.Errorf("field path is empty")
	}
	if len(s) > maxFieldPathBytes || hasControl(s) {
		return nil, fmt.Errorf("field path must be printable text of at most %d bytes", maxFieldPathBytes)
	}
	var p FieldPath
	for i, part := range strings.Split(s, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key == "" || strings.ContainsRune(key, ']') {
			return nil, fmt.Errorf("field path %q: part %d must start with a key", s, i+1)
		}
		p = append(p, PathStep{Key: key})
		if part != key {
			rest = "[" + rest
		}
		for rest != "" {
			end := strings.IndexByte(rest, ']')
			if rest[0] != '[' || end < 0 {
				return nil, fmt.Errorf("field path %q: expected [index] after %q", s, key)
			}
			n, err := strconv.Atoi(rest[1:end])
			if err != nil || n > maxPathIndex || n < -maxPathIndex {
				return nil, fmt.Errorf("field path %q: index %q is not a whole number", s, rest[1:end])
			}
			p = append(p, PathStep{Index: n, IsIndex: true})
			rest = rest[end+1:]
		}
		if len(p) > maxFieldPathSteps {
			return nil, fmt.Errorf("field path %q has more than %d steps", s, maxFieldPathSteps)
		}
	}
	return p, nil
}

// String writes the path back in the form ParseFieldPath reads.
func (p FieldPath) String() string {
	var b strings.Builder
	for i, st := range p {
		switch {
		case st.IsIndex:
			fmt.Fprintf(&b, "[%d]", st.Index)
		case i > 0:
			b.WriteString("." + st.Key)
		default:
			b.WriteString(st.Key)
		}
	}
	return b.String()
}

// Lookup returns the value at p in a document decoded by encoding/json
// (maps, slices, strings, json.Number or float64, bools, nil), and whether
// it is there.
func (p FieldPath) Lookup(doc any) (any, bool) {
	cur := doc
	for _, st := range p {
		if st.IsIndex {
			arr, ok := cur.([]any)
			if !ok {
				return nil, false
			}
			i := st.Index
			if i < 0 {
				i += len(arr)
			}
			if i < 0 || i >= len(arr) {
				return nil, false
			}
			cur = arr[i]
			continue
		}
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[st.Key]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// describe names a JSON value's type for messages.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number, float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}
