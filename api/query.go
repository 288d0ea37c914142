package api

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// query reads a list endpoint's filter parameters, collecting a field error
// for every value that does not parse and for every unknown parameter, so a
// misspelt filter is an error instead of silently matching everything.
type query struct {
	values url.Values
	used   map[string]bool
	v      orchestrator.Validation
}

func newQuery(values url.Values) *query {
	return &query{values: values, used: map[string]bool{}}
}

// str returns a text filter ("" when absent).
func (q *query) str(name string) string {
	q.used[name] = true
	return strings.TrimSpace(q.values.Get(name))
}

// oneOf returns a filter that must be one of allowed ("" when absent).
func (q *query) oneOf(name string, allowed ...string) string {
	s := q.str(name)
	if s != "" && !slices.Contains(allowed, s) {
		q.v.Add(name, "must be one of %s", strings.Join(allowed, ", "))
	}
	return s
}

// boolean returns a true/false filter (nil when absent).
func (q *query) boolean(name string) *bool {
	s := q.str(name)
	if s == "" {
		return nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		q.v.Add(name, "must be true or false")
		return nil
	}
	return &b
}

// id returns a filter naming a record by its positive id (0 when absent).
func (q *query) id(name string) int64 {
	s := q.str(name)
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		q.v.Add(name, "must be a positive id")
		return 0
	}
	return n
}

// time returns an RFC 3339 or YYYY-MM-DD filter (zero when absent).
func (q *query) time(name string) time.Time {
	s := q.str(name)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	q.v.Add(name, "must be a date (2026-01-31) or an RFC 3339 time (2026-01-31T09:00:00Z)")
	return time.Time{}
}

// duration returns a duration filter such as 720h or 30d (zero when absent).
func (q *query) duration(name string) orchestrator.Duration {
	s := q.str(name)
	if s == "" {
		return 0
	}
	d, err := orchestrator.ParseDuration(s)
	if err != nil {
		q.v.Add(name, "%s", err.Error())
	}
	return d
}

// err reports bad values and unknown parameters.
func (q *query) err() error {
	for name := range q.values {
		if !q.used[name] {
			q.v.Add(name, "is not a known filter")
		}
	}
	return q.v.Err()
}
