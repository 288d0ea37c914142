package api

import (
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

// decodeJSON reads the request body into v. It rejects unknown fields,
// trailing data, bodies past the route's limit and wrong types, naming the
// field at fault where there is one.
func decodeJSON(c *gin.Context, v any) error {
	if ct := c.ContentType(); ct != "" && ct != "application/json" {
		return &orchestrator.Error{Code: orchestrator.EINVALID, Message: "request body must be JSON",
			Fields: []orchestrator.FieldError{{Field: "Content-Type", Message: "must be application/json"}}}
	}
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return decodeError(err)
		}
		return orchestrator.Errorf(orchestrator.EINVALID, "request body has data after the JSON value")
	}
	return nil
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
