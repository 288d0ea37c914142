package importer

import "strings"

// iTop exports a link set (the CIs of a ticket, say) as one cell:
// links separated by "|", each link's attributes by ";", each attribute as
// code:value, external keys with the attribute they show
// ("functionalci_id->name:web01;impact_code:manual|functionalci_id->name:db01").
// Hand-written files shorten it to "functionalci_id->name:web01|db01".

// isLinkSet reports whether a list cell is an iTop link set: it starts
// with an attribute code (lower-case letters, digits and _, with at least
// one _, optionally ->code) and a colon. CI keys may hold a colon but
// rarely an underscore before it.
func isLinkSet(cell string) bool {
	code, _, ok := strings.Cut(cell, ":")
	return ok && isAttrCode(code)
}

func isAttrCode(code string) bool {
	base, ext, hasExt := strings.Cut(code, "->")
	if !isCodeWord(base) || hasExt && !isCodeWord(ext) {
		return false
	}
	return strings.Contains(base, "_")
}

func isCodeWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// splitLinks splits a link set into its links.
func splitLinks(cell string) []string {
	parts := strings.Split(cell, "|")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// LinkValue is the value of the link's attribute whose code starts with
// target ("functionalci" for a ticket's CIs), or the link itself when it
// is a bare value (the shortened form), or "" when it has no such
// attribute.
func LinkValue(link, target string) string {
	if !isLinkSet(link) {
		return strings.TrimSpace(link)
	}
	for attr := range strings.SplitSeq(link, ";") {
		code, value, ok := strings.Cut(attr, ":")
		if ok && strings.HasPrefix(strings.TrimSpace(code), target) {
			return strings.TrimSpace(value)
		}
	}
	return ""
}
