package directory

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bcdr/bcdr/orchestrator"
)

// Limits on input sizes, in characters or list entries.
const (
	maxKey      = 128
	maxName     = 200
	maxShort    = 200
	maxNotes    = 10000
	maxSource   = 100
	maxExternal = 500
	maxList     = 200
	maxLevels   = 20
	maxContacts = 50
)

var keyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$`)

// checkKey records an error unless s is a usable record key, the same shape
// as a CI key: 1 to 128 ASCII letters, digits or . _ : @ -, starting with a
// letter or digit, so keys are safe in URLs and file names.
func checkKey(v *orchestrator.Validation, field, s string) {
	switch {
	case s == "":
		v.Add(field, "is required")
	case !keyPattern.MatchString(s):
		v.Add(field, "must be 1-128 letters, digits or . _ : @ - and start with a letter or digit")
	}
}

// checkText records an error when s is longer than max characters, is not
// valid UTF-8, or holds control characters or U+FFFD (the mark of text that
// was not valid UTF-8 before decoding). multiline allows tabs and newlines.
func checkText(v *orchestrator.Validation, field, s string, max int, multiline bool) {
	if msg := textProblem(s, max, multiline); msg != "" {
		v.Add(field, "%s", msg)
	}
}

func textProblem(s string, max int, multiline bool) string {
	switch {
	case !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError):
		return "must be valid UTF-8 text"
	case utf8.RuneCountInString(s) > max:
		return fmt.Sprintf("must be at most %d characters", max)
	}
	if strings.ContainsFunc(s, func(r rune) bool {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			return false
		}
		return unicode.IsControl(r)
	}) {
		return "must not contain control characters"
	}
	return ""
}

// checkRefs checks a list of referenced keys: at most max entries, each
// present, well-formed text and listed once.
func checkRefs(v *orchestrator.Validation, field string, keys []string, max int) {
	if len(keys) > max {
		v.Add(field, "must list at most %d entries", max)
		return
	}
	seen := make(map[string]bool, len(keys))
	for i, k := range keys {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case k == "":
			v.Add(f, "is required")
		case textProblem(k, maxKey, false) != "":
			v.Add(f, "%s", textProblem(k, maxKey, false))
		case seen[k]:
			v.Add(f, "%q is listed twice", k)
		}
		seen[k] = true
	}
}

// trimList trims every entry of a list in place and never returns nil, so
// an absent list is written as [].
func trimList(keys []string) []string {
	if keys == nil {
		return []string{}
	}
	for i := range keys {
		keys[i] = strings.TrimSpace(keys[i])
	}
	return keys
}

// checkIdentity checks the import identity fields.
func checkIdentity(v *orchestrator.Validation, source, externalID string) {
	checkText(v, "source", source, maxSource, false)
	checkText(v, "external_id", externalID, maxExternal, false)
}

var phoneShape = regexp.MustCompile(`^\+?[0-9][0-9 ()./-]{2,30}( ?(x|ext\.?) ?[0-9]{1,6})?$`)

// checkPhone accepts digits with an optional leading +, spaces, ( ) . / -
// and an optional extension ("x123", "ext. 12").
func checkPhone(v *orchestrator.Validation, field, s string) {
	if msg := textProblem(s, 50, false); msg != "" {
		v.Add(field, "%s", msg)
	} else if s != "" && !phoneShape.MatchString(s) {
		v.Add(field, "must be a phone number such as +44 20 7946 0000")
	}
}

// checkEmail accepts a bare address (no display name) with a dotted domain.
func checkEmail(v *orchestrator.Validation, field, s string) {
	if msg := textProblem(s, 254, false); msg != "" {
		v.Add(field, "%s", msg)
		return
	}
	if s == "" {
		return
	}
	addr, err := mail.ParseAddress(s)
	_, domain, _ := strings.Cut(s, "@")
	if err != nil || addr.Address != s || addr.Name != "" || !strings.Contains(domain, ".") {
		v.Add(field, "must be an email address such as alice@example.com")
	}
}

// checkFilter rejects filter text the database could not compare (control
// characters, invalid UTF-8) as a field error naming the parameter.
func checkFilter(v *orchestrator.Validation, name, s string) {
	checkText(v, name, s, maxShort, false)
}

// trim trims surrounding white space from every string pointed to.
func trim(fields ...*string) {
	for _, f := range fields {
		*f = strings.TrimSpace(*f)
	}
}

// oneOf records an error unless s is one of allowed; blank is "is required".
func oneOf(v *orchestrator.Validation, field, s string, allowed ...string) {
	if s == "" {
		v.Add(field, "is required")
		return
	}
	for _, a := range allowed {
		if s == a {
			return
		}
	}
	v.Add(field, "must be one of %s", strings.Join(allowed, ", "))
}
