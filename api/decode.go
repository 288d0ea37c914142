package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
)

// maxJSONDepth bounds how deeply a request body may nest objects and
// arrays. No request needs more than a handful of levels; the bound keeps a
// hostile body from costing stack and time in every decoder behind it.
const maxJSONDepth = 32

// decodeJSON reads the request body into v. It rejects unknown fields,
// trailing data, bodies past the route's limit, wrong types, a key given
// twice in one object and nesting deeper than maxJSONDepth, naming the field
// at fault where there is one.
func decodeJSON(c *gin.Context, v any) error {
	if ct := c.ContentType(); ct != "" && ct != "application/json" {
		return &orchestrator.Error{Code: orchestrator.EINVALID, Message: "request body must be JSON",
			Fields: []orchestrator.FieldError{{Field: "Content-Type", Message: "must be application/json"}}}
	}
	// The shape check streams the body once and keeps what it read, so the
	// decode below sees exactly one well-formed value and only has types
	// and field names left to judge.
	var body bytes.Buffer
	if err := checkJSONShape(io.TeeReader(c.Request.Body, &body)); err != nil {
		return err
	}
	dec := json.NewDecoder(&body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	return nil
}

// jsonLevel is one open object or array on the way to the current token.
type jsonLevel struct {
	object bool
	key    string              // the object's current key
	keys   map[string]struct{} // the object's keys so far
	index  int                 // the array's current element
	inKey  bool                // the object expects a key next
}

// checkJSONShape reads one JSON value and the end of the input token by
// token. encoding/json keeps the last of two equal keys and nests as deep as
// it is given; a body that names a field twice or nests past maxJSONDepth is
// refused here, before any handler acts on either reading of it.
func checkJSONShape(r io.Reader) error {
	dec := json.NewDecoder(r)
	dec.UseNumber() // a number too large for float64 is still valid JSON
	var stack []jsonLevel
	for started := false; ; started = true {
		if started && len(stack) == 0 {
			if _, err := dec.Token(); !errors.Is(err, io.EOF) {
				var tooLarge *http.MaxBytesError
				if errors.As(err, &tooLarge) {
					return decodeError(err)
				}
				return orchestrator.Errorf(orchestrator.EINVALID, "request body has data after the JSON value")
			}
			return nil
		}
		tok, err := dec.Token()
		if err != nil {
			if started && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF // Token reports a value cut off between tokens as EOF
			}
			return decodeError(err)
		}
		top := len(stack) - 1
		if key, ok := tok.(string); ok && top >= 0 && stack[top].inKey {
			if err := stack[top].addKey(stack, key); err != nil {
				return err
			}
			continue
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if len(stack) == maxJSONDepth {
				return &orchestrator.Error{Code: orchestrator.EINVALID, Message: "request body nests too deeply",
					Fields: []orchestrator.FieldError{{Field: jsonPath(stack),
						Message: fmt.Sprintf("nests objects and arrays more than %d levels deep", maxJSONDepth)}}}
			}
			object := tok == json.Delim('{')
			stack = append(stack, jsonLevel{object: object, inKey: object})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:top]
		}
		// A value (scalar or just-closed container) is complete.
		if n := len(stack); n > 0 {
			if stack[n-1].object {
				stack[n-1].inKey = true
			} else {
				stack[n-1].index++
			}
		}
	}
}

// addKey records the object's next key, refusing one it already has.
// l is the top of stack.
func (l *jsonLevel) addKey(stack []jsonLevel, key string) error {
	l.key, l.inKey = key, false
	if _, dup := l.keys[key]; dup {
		return &orchestrator.Error{Code: orchestrator.EINVALID, Message: "duplicate field in request body",
			Fields: []orchestrator.FieldError{{Field: jsonPath(stack), Message: "appears twice; give each field once"}}}
	}
	if l.keys == nil {
		l.keys = make(map[string]struct{})
	}
	l.keys[key] = struct{}{}
	return nil
}

// jsonPath names the value being read, the way validation errors name
// fields: thresholds[0].at.
func jsonPath(stack []jsonLevel) string {
	var b strings.Builder
	for _, l := range stack {
		switch {
		case !l.object:
			b.WriteString("[" + strconv.Itoa(l.index) + "]")
		case l.key == "":
			b.WriteString(`[""]`) // an empty key would otherwise vanish from the path
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(l.key)
		}
	}
	return b.String()
}

func decodeError(err error) error {
	var (
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		tooLarge  *http.MaxBytesError
		appErr    *orchestrator.Error
		fieldName string
	)
	switch {
	case errors.As(err, &tooLarge):
		return orchestrator.Errorf(orchestrator.ETOOLARGE, "request body is larger than %d bytes", tooLarge.Limit)
	case errors.Is(err, io.EOF):
		return orchestrator.Errorf(orchestrator.EINVALID, "request body is empty; a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return orchestrator.Errorf(orchestrator.EINVALID, "request body is truncated JSON")
	case errors.As(err, &syntax):
		return orchestrator.Errorf(orchestrator.EINVALID, "request body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typeErr):
		fieldName = typeErr.Field
		if fieldName == "" {
			return orchestrator.Errorf(orchestrator.EINVALID, "request body must be a JSON %s", "object")
		}
		message, problem := "wrong type in request body", "must be "+describeType(typeErr.Type)
		if typeErr.Type == reflect.TypeFor[orchestrator.Duration]() && strings.HasPrefix(typeErr.Value, "string ") {
			// A string, as it should be, that is no valid duration: say
			// what is wrong with it (negative, say) rather than its type.
			message, problem = "invalid value in request body", orchestrator.DurationProblem(typeErr)
		}
		return &orchestrator.Error{Code: orchestrator.EINVALID, Message: message,
			Fields: []orchestrator.FieldError{{Field: fieldName, Message: problem}}}
	case errors.As(err, &appErr):
		return appErr
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return &orchestrator.Error{Code: orchestrator.EINVALID, Message: "unknown field in request body",
			Fields: []orchestrator.FieldError{{Field: name, Message: "is not a known field"}}}
	}
	// Errors from a field's own UnmarshalJSON (durations, enums) carry
	// their message; json does not say which field, so report it plainly.
	return orchestrator.Errorf(orchestrator.EINVALID, "invalid request body: %s", fmt.Sprint(err))
}

// pageFrom reads ?limit= and ?after= into a page request.
func pageFrom(c *gin.Context) (orchestrator.Page, error) {
	p := orchestrator.Page{Limit: orchestrator.DefaultPageLimit}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > orchestrator.MaxPageLimit {
			return p, &orchestrator.Error{Code: orchestrator.EINVALID, Message: "invalid limit",
				Fields: []orchestrator.FieldError{{Field: "limit", Message: fmt.Sprintf("must be a whole number from 1 to %d", orchestrator.MaxPageLimit)}}}
		}
		p.Limit = n
	}
	if s := c.Query("after"); s != "" {
		after, err := orchestrator.DecodeCursor(s)
		if err != nil {
			return p, err
		}
		p.After = after
	}
	return p, nil
}

// describeType names a Go type the way a client of the API thinks of it.
func describeType(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[orchestrator.Duration]():
		return orchestrator.DurationHint
	case reflect.TypeFor[time.Time]():
		return "an RFC 3339 time such as 2026-01-31T09:00:00Z"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}
