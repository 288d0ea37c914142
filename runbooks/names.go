package runbooks

import (
	"fmt"
	"strings"
)

// slug turns a key into a safe file name part: lower-case letters, digits
// and dashes only, at most 40 characters, never empty. Nothing a user
// writes can reach the file system unsanitised.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if b.Len() >= 40 {
			break
		}
		ok := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
		switch {
		case ok:
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		return "runbook"
	}
	return out
}

// fileStem names a runbook's files in a kit: its id, which is unique, and
// its service key or "scenario" for a reader.
func fileStem(doc Document) string {
	name := "scenario"
	if doc.Scope.Service != "" {
		name = doc.Scope.Service
	}
	return fmt.Sprintf("runbook-%d-%s", doc.ID, slug(name))
}
