package itsm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bcdr/bcdr/orchestrator"
)

// Input limits shared by every record type.
const (
	maxTitle      = 500
	maxText       = 20000
	maxSource     = 100
	maxExternalID = 200
	maxKey        = 200
	maxKeys       = 1000
	minYear       = 1900
	maxYear       = 2200
)

// checkText validates a free-text field: valid UTF-8, at most max bytes and
// no control characters (tab, and for multiline text newlines, allowed).
func checkText(v *orchestrator.Validation, field, s string, max int, required, multiline bool) {
	switch {
	case required && strings.TrimSpace(s) == "":
		v.Add(field, "is required")
	case len(s) > max:
		v.Add(field, "must be at most %d bytes", max)
	case !utf8.ValidString(s):
		v.Add(field, "must be valid UTF-8 text")
	case strings.ContainsFunc(s, func(r rune) bool {
		if multiline && (r == '\n' || r == '\r') {
			return false
		}
		return r < 0x20 && r != '\t' || r == 0x7f
	}):
		v.Add(field, "must not contain control characters")
	}
}

// checkOneOf validates an enumerated field.
func checkOneOf(v *orchestrator.Validation, field, s string, allowed []string) {
	switch {
	case s == "":
		v.Add(field, "is required: one of %s", strings.Join(allowed, ", "))
	case !slices.Contains(allowed, s):
		v.Add(field, "must be one of %s", strings.Join(allowed, ", "))
	}
}

// checkKeys validates a list of CI keys without looking them up.
func checkKeys(v *orchestrator.Validation, field string, keys []string) {
	if len(keys) > maxKeys {
		v.Add(field, "must list at most %d CIs", maxKeys)
		return
	}
	for i, k := range keys {
		checkText(v, fmt.Sprintf("%s[%d]", field, i), k, maxKey, true, false)
	}
}

// checkTime validates a timestamp: required when asked, and within years
// 1900-2200 so period arithmetic stays meaningful.
func checkTime(v *orchestrator.Validation, field string, t *time.Time, required bool) {
	switch {
	case t == nil || t.IsZero():
		if required {
			v.Add(field, "is required: an RFC 3339 time such as 2026-01-31T09:00:00Z")
		}
	case t.Year() < minYear || t.Year() > maxYear:
		v.Add(field, "must be between the years %d and %d", minYear, maxYear)
	}
}

// checkOrder records an error on later when it is before earlier.
func checkOrder(v *orchestrator.Validation, later string, l *time.Time, earlier string, e *time.Time) {
	if l != nil && e != nil && !l.IsZero() && !e.IsZero() && l.Before(*e) {
		v.Add(later, "must not be before %s (%s)", earlier, e.UTC().Format(time.RFC3339))
	}
}

// checkIdentity validates the import identity: source and external_id.
func checkIdentity(v *orchestrator.Validation, source, externalID string) {
	checkText(v, "source", source, maxSource, false, false)
	checkText(v, "external_id", externalID, maxExternalID, false, false)
}

// defaultTo sets *s to def when it is blank.
func defaultTo(s *string, def string) {
	if *s == "" {
		*s = def
	}
}

// trim trims each field in place.
func trim(fields ...*string) {
	for _, f := range fields {
		*f = strings.TrimSpace(*f)
	}
}

// trimKeys trims every key of a list in place.
func trimKeys(keys []string) {
	for i := range keys {
		keys[i] = strings.TrimSpace(keys[i])
	}
}

// decodeStrict decodes one JSON object into v (a pointer to a struct with
// no UnmarshalJSON method), refusing unknown fields. encoding/json does not
// say which field held a malformed time, so when decoding fails on one, every
// bad time field is reported by its JSON name.
func decodeStrict(data []byte, v any) error {
	if !utf8.Valid(data) {
		// encoding/json would silently replace the bad bytes.
		return &orchestrator.Error{Code: orchestrator.EINVALID, Message: "request body is not valid UTF-8", Fields: badUTF8(data)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		return nil
	}
	var (
		typeErr   *json.UnmarshalTypeError
		syntaxErr *json.SyntaxError
	)
	if errors.As(err, &typeErr) || errors.As(err, &syntaxErr) || strings.HasPrefix(err.Error(), "json: unknown field ") {
		return err
	}
	if fields := badTimes(data, reflect.TypeOf(v).Elem()); len(fields) > 0 {
		return &orchestrator.Error{Code: orchestrator.EINVALID, Message: "invalid time in request body", Fields: fields}
	}
	return err
}

// badUTF8 names the top-level fields whose raw values are not valid UTF-8.
func badUTF8(data []byte) []orchestrator.FieldError {
	var raw map[string]json.RawMessage
	if json.Unmarshal(data, &raw) != nil {
		return nil
	}
	var out []orchestrator.FieldError
	for name, value := range raw {
		if !utf8.Valid(value) || !utf8.ValidString(name) {
			out = append(out, orchestrator.FieldError{Field: strings.ToValidUTF8(name, "?"), Message: "must be valid UTF-8 text"})
		}
	}
	slices.SortFunc(out, func(a, b orchestrator.FieldError) int { return strings.Compare(a.Field, b.Field) })
	return out
}

var timeType = reflect.TypeFor[time.Time]()

// badTimes lists the time fields of struct type t whose values in data do
// not decode.
func badTimes(data []byte, t reflect.Type) []orchestrator.FieldError {
	var raw map[string]json.RawMessage
	if json.Unmarshal(data, &raw) != nil || t.Kind() != reflect.Struct {
		return nil
	}
	var out []orchestrator.FieldError
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type != timeType && f.Type != reflect.PointerTo(timeType) {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		value, ok := raw[name]
		var probe time.Time
		if ok && json.Unmarshal(value, &probe) != nil {
			out = append(out, orchestrator.FieldError{Field: name, Message: "must be an RFC 3339 time such as 2026-01-31T09:00:00Z"})
		}
	}
	return out
}
