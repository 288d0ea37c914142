package orchestrator

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Duration is a span of time stored as whole seconds and written in the API
// as a Go duration ("90m", "4h"); "d" for days is accepted on input ("3d").
type Duration time.Duration

// maxDuration bounds user input to 100 years so arithmetic on it cannot
// overflow.
const maxDuration = 100 * 365 * 24 * time.Hour

// ErrNegativeDuration is what ParseDuration's error wraps for a duration
// below zero, so that callers can say which field must not be negative.
var ErrNegativeDuration = errors.New("must not be negative")

// ParseDuration reads "4h", "90m", "1h30m", "3d" or "0". Negative and
// sub-second values are rejected.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if s == "0" {
		return 0, nil
	}
	if abs, negative := strings.CutPrefix(s, "-"); negative {
		// "-3d" is negative, not a malformed day count; "-0s" is zero.
		d, err := ParseDuration(abs)
		if err != nil || d == 0 {
			return 0, err
		}
		return 0, fmt.Errorf("invalid duration %q: %w", s, ErrNegativeDuration)
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i >= 0 {
		n, err := strconv.ParseUint(s[:i], 10, 16)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: days must be a whole number", s)
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
	}
	var rest time.Duration
	if s != "" {
		var err error
		if rest, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("invalid duration %q: use a form such as 90m, 4h or 3d", s)
		}
	}
	d := days + rest
	switch {
	case rest < 0:
		return 0, fmt.Errorf("invalid duration %q: %w", s, ErrNegativeDuration)
	case d > maxDuration:
		return 0, fmt.Errorf("invalid duration: longer than 100 years")
	case d%time.Second != 0:
		return 0, fmt.Errorf("invalid duration: must be whole seconds")
	}
	return Duration(d), nil
}

// DurationFromSeconds converts a stored seconds count.
func DurationFromSeconds(s int64) Duration { return Duration(time.Duration(s) * time.Second) }

// Seconds returns the whole seconds to store.
func (d Duration) Seconds() int64 { return int64(time.Duration(d) / time.Second) }

// String writes the shortest Go form: "4h", "1h30m", "90s", "0s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string. Errors are type errors so that the
// JSON decoder names the field at fault; the Value of one for a string
// holds the string, so that DurationProblem can say what is wrong with it.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeFor[Duration]()}
	}
	v, err := ParseDuration(s)
	if err != nil {
		return &json.UnmarshalTypeError{Value: "string " + strconv.Quote(s), Type: reflect.TypeFor[Duration]()}
	}
	*d = v
	return nil
}

// DurationHint says what a valid duration looks like, for error messages.
const DurationHint = "a duration such as 90m, 4h or 3d"

// DurationProblem says what is wrong with the value of a duration field
// that UnmarshalJSON refused: "must not be negative" for a negative one,
// else what a valid duration looks like.
func DurationProblem(e *json.UnmarshalTypeError) string {
	if s, err := strconv.Unquote(strings.TrimPrefix(e.Value, "string ")); err == nil {
		if _, err := ParseDuration(s); errors.Is(err, ErrNegativeDuration) {
			return ErrNegativeDuration.Error()
		}
	}
	return "must be " + DurationHint
}
