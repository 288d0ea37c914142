package backup

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseFieldPath(t *testing.T) {
	t.Parallel()
	doc := map[string]any{}
	require.NoError(t, json.Unmarshal([]byte(`{"last":{"finished_at":"x"},"items":[{"time":1},{"time":2,"tags":["a","b"]}],"a-b":{"c_d":true}}`), &doc))
	for path, want := range map[string]any{
		"last.finished_at":  "x",
		"items[0].time":     float64(1),
		"items[-1].time":    float64(2),
		"items[1].tags[-1]": "b",
		"a-b.c_d":           true,
	} {
		p, err := ParseFieldPath(path)
		require.NoError(t, err, path)
		require.Equal(t, path, p.String())
		got, ok := p.Lookup(doc)
		require.True(t, ok, path)
		require.Equal(t, want, got, path)
	}
	for _, missing := range []string{"last.started_at", "items[2].time", "items[-3]", "last[0]", "items.time", "last.finished_at.x"} {
		p, err := ParseFieldPath(missing)
		require.NoError(t, err, missing)
		_, ok := p.Lookup(doc)
		require.False(t, ok, missing)
	}
	for _, bad := range []string{"", ".a", "a.", "a..b", "[0]", "a[", "a[x]", "a[0", "a]b", "a[0]b", "a[99999999999]",
		strings.Repeat("a.", 40) + "a", "a\x00b", strings.Repeat("a", 300)} {
		_, err := ParseFieldPath(bad)
		require.Error(t, err, "%q", bad)
	}
}

// FuzzParseFieldPath: the parser never panics, a parsed path writes back
// to a form that parses to the same path, and looking it up in any JSON
// document never panics.
func FuzzParseFieldPath(f *testing.F) {
	for _, seed := range []string{"last.finished_at", "items[0].time", "items[-1]", "a[0][1].b", "a..b", "[", "a[1", "ü.ß[2]"} {
		f.Add(seed, `{"items":[{"time":1}],"last":{"finished_at":"x"}}`)
	}
	f.Fuzz(func(t *testing.T, path, doc string) {
		p, err := ParseFieldPath(path)
		if err != nil {
			return
		}
		again, err := ParseFieldPath(p.String())
		if err != nil {
			t.Fatalf("%q parsed, but its form %q does not: %v", path, p.String(), err)
		}
		if again.String() != p.String() {
			t.Fatalf("%q: round trip changed %q to %q", path, p.String(), again.String())
		}
		var v any
		if json.Unmarshal([]byte(doc), &v) == nil {
			p.Lookup(v)
		}
	})
}
