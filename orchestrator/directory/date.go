package directory

import (
	"encoding/json"
	"reflect"
	"time"
)

// dateLayout is how dates are written in the API and stored as SQL date.
const dateLayout = "2006-01-02"

// Date is a calendar day, written "2026-01-31" in the API. The zero Date
// means "not given".
type Date struct{ t time.Time }

// DateOf returns the calendar day of t in UTC.
func DateOf(t time.Time) Date {
	y, m, d := t.UTC().Date()
	return Date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// ParseDate reads a YYYY-MM-DD day.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, err
	}
	return Date{t}, nil
}

// IsZero reports whether the date was not given.
func (d Date) IsZero() bool { return d.t.IsZero() }

// Time returns midnight UTC at the start of the day.
func (d Date) Time() time.Time { return d.t }

// AddDays returns the day n days later.
func (d Date) AddDays(n int) Date { return Date{d.t.AddDate(0, 0, n)} }

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

// After reports whether d is a later day than e.
func (d Date) After(e Date) bool { return d.t.After(e.t) }

// String writes YYYY-MM-DD.
func (d Date) String() string { return d.t.Format(dateLayout) }

// MarshalJSON writes the day as a string.
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a YYYY-MM-DD string. Its error is a type error so the
// JSON decoder names the field at fault.
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if v, err := ParseDate(s); err == nil {
			*d = v
			return nil
		}
	}
	return &json.UnmarshalTypeError{Value: "date", Type: reflect.TypeFor[Date]()}
}

// datePtr converts a nullable SQL date.
func datePtr(t *time.Time) *Date {
	if t == nil {
		return nil
	}
	d := DateOf(*t)
	return &d
}

// sqlDate returns the value to pass for a nullable date column.
func sqlDate(d *Date) *time.Time {
	if d == nil || d.IsZero() {
		return nil
	}
	t := d.t
	return &t
}
