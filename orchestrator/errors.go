// Package orchestrator holds bcdr's domain vocabulary: error codes, roles,
// actors, durations, pages, RPO states, and the Runtime (logger and clock)
// every service is built with. It depends on the standard library only;
// every capability package builds on it.
//
// Conventions every service follows: a constructor takes the pool, then an
// orchestrator.Runtime (see clock.go: nil logger discards, nil clock is real
// time), then its own options; a public method that writes opens its
// transaction, and a …Tx variant takes the caller's for work composed across
// capabilities; errors carry an orchestrator error code and name the field.
package orchestrator

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. The HTTP layer maps each to exactly one status.
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ETOOLARGE     = "too_large"
	ERATELIMITED  = "rate_limited"
	EUNAVAILABLE  = "unavailable"
	EINTERNAL     = "internal"
)

// FieldError names one invalid input field and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an application error a user may see: a code, a message and,
// for validation errors, the fields at fault.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return e.Message + " (" + strings.Join(parts, "; ") + ")"
}

// Errorf returns an application error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid is the EINVALID error of one field, as Validation.Err would
// give for it alone.
func Invalid(field, format string, args ...any) error {
	var v Validation
	v.Add(field, format, args...)
	return v.Err()
}

// ErrorCode returns the code of an application error, EINTERNAL for any
// other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of an application error, or
// a generic message for internal errors so their details never leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorFields returns the field errors of an application error, if any.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Validation collects field errors and turns them into one EINVALID error.
type Validation struct {
	fields []FieldError
}

// Add records that field is invalid.
func (v *Validation) Add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Require records an error for field when the value is blank.
func (v *Validation) Require(field, value string) {
	if strings.TrimSpace(value) == "" {
		v.Add(field, "is required")
	}
}

// Err returns nil when nothing was recorded, else an EINVALID error listing
// every field at fault.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "validation failed", Fields: v.fields}
}
