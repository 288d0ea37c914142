package orchestrator

import (
	"strings"
	"unicode/utf8"
)

// Excerpt bounds text for storage in at most limit bytes: valid UTF-8
// without NUL bytes (which PostgreSQL text refuses), and when too long the
// head and the tail, where command output usually says what went wrong.
func Excerpt(s string, limit int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= limit {
		return s
	}
	const marker = "\n…[truncated]…\n"
	if limit <= len(marker) {
		return cutValid(s[:limit], false)
	}
	head := (limit - len(marker)) / 4
	tail := limit - len(marker) - head
	return cutValid(s[:head], false) + marker + cutValid(s[len(s)-tail:], true)
}

// cutValid drops the partial rune a byte cut left at one end of s.
func cutValid(s string, atStart bool) string {
	if atStart {
		for len(s) > 0 && !utf8.RuneStart(s[0]) {
			s = s[1:]
		}
		return s
	}
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			return s
		}
		s = s[:len(s)-1]
	}
	return s
}
