package orchestrator

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestExcerpt(t *testing.T) {
	t.Parallel()
	require.Equal(t, "short", Excerpt("short", 100))
	require.Equal(t, "ab\uFFFDc", Excerpt("a\x00b\xffc", 100), "no NUL, valid UTF-8")
	for _, limit := range []int{5, 19, 20, 64, 1000, 64 << 10} {
		long := strings.Repeat("é", 50000) + "FATAL: disk full"
		got := Excerpt(long, limit)
		require.LessOrEqual(t, len(got), limit)
		require.True(t, utf8.ValidString(got), "limit %d", limit)
		if limit >= 64 {
			require.True(t, strings.HasPrefix(got, "é"), "keeps the head")
			require.True(t, strings.HasSuffix(got, "FATAL: disk full"), "keeps the tail, which says what went wrong")
			require.Contains(t, got, "[truncated]")
		}
	}
}

func FuzzExcerpt(f *testing.F) {
	f.Add("a\x00b\xffc", 10)
	f.Add(strings.Repeat("é", 100), 33)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 0 || limit > 1<<20 {
			return
		}
		got := Excerpt(s, limit)
		if len(got) > limit || !utf8.ValidString(got) || strings.Contains(got, "\x00") {
			t.Fatalf("Excerpt(%q, %d) = %q", s, limit, got)
		}
	})
}
