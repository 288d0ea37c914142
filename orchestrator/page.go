package orchestrator

import (
	"encoding/base64"
	"encoding/json"
)

// Page limits.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 1000
)

// Page asks for one page of a list: at most Limit items after the keyset
// position After ("" for the first page). Lists are ordered by a unique key,
// so the position is the last key the client saw.
type Page struct {
	Limit int
	After string
}

// List is one page of items and the cursor of the next page ("" when this
// is the last one).
type List[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next,omitempty"`
}

type cursor struct {
	After string `json:"a"`
}

// EncodeCursor makes the opaque cursor a client passes back as ?after=.
func EncodeCursor(after string) string {
	b, _ := json.Marshal(cursor{After: after})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reverses EncodeCursor; anything else is an EINVALID error
// naming the "after" parameter.
func DecodeCursor(s string) (string, error) {
	bad := &Error{Code: EINVALID, Message: "invalid pagination cursor", Fields: []FieldError{{Field: "after", Message: "is not a cursor returned by this server"}}}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 1024 {
		return "", bad
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.After == "" {
		return "", bad
	}
	return c.After, nil
}

// Paginate trims items fetched with Limit+1 rows to one page and sets the
// next cursor from the key of the last item kept.
func Paginate[T any](items []T, limit int, key func(T) string) List[T] {
	if items == nil {
		items = []T{}
	}
	if len(items) <= limit {
		return List[T]{Items: items}
	}
	items = items[:limit]
	return List[T]{Items: items, Next: EncodeCursor(key(items[limit-1]))}
}

// EachPage reads every page of a list, from the first, calling each for
// every item: list is asked for one page (of MaxPageLimit items) at a time.
func EachPage[T any](list func(Page) (List[T], error), each func(T)) error {
	page := Page{Limit: MaxPageLimit}
	for {
		l, err := list(page)
		if err != nil {
			return err
		}
		for _, it := range l.Items {
			each(it)
		}
		if l.Next == "" {
			return nil
		}
		if page.After, err = DecodeCursor(l.Next); err != nil {
			return err
		}
	}
}
