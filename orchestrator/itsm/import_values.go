package itsm

import (
	"slices"
	"strings"

	"github.com/bcdr/bcdr/orchestrator/importer"
)

// The values of ServiceNow and iTop exports read as bcdr's. Each mapping
// leaves bcdr's own values alone and passes what it does not know through,
// so validation names it — except causes, where an unknown category is
// "other" (exports carry categories such as "Inquiry / Help").

// trimmed trims surrounding white space.
func trimmed(s string) string { return strings.TrimSpace(s) }

// importedPriority reads "1 - Critical" ... "4 - Low" (ServiceNow), 1-4
// (iTop), p1 and the words as P1-P4; ServiceNow's "5 - Planning" is P4.
func importedPriority(p string) string {
	s := strings.ToUpper(trimmed(p))
	digits := strings.TrimPrefix(s, "P")
	if digits != "" && digits[0] >= '1' && digits[0] <= '5' && (len(digits) == 1 || digits[1] < '0' || digits[1] > '9') {
		return "P" + string(min(digits[0], '4'))
	}
	switch strings.ToLower(s) {
	case "critical", "very high", "major":
		return "P1"
	case "high":
		return "P2"
	case "moderate", "medium":
		return "P3"
	case "low", "planning", "very low":
		return "P4"
	}
	return s
}

// importedCause reads a category (or, when it names no cause, a close
// code) as a cause; anything else, or nothing, is "other".
func importedCause(category, closeCode string) string {
	if c := causeOf(category); c != "" {
		return c
	}
	if c := causeOf(closeCode); c != "" {
		return c
	}
	return "other"
}

// causeWords maps fragments of export categories to causes, in order.
var causeWords = []struct{ fragment, cause string }{
	{"ransomware", "ransomware"}, {"cyber", "cyber_attack"}, {"security", "cyber_attack"}, {"malware", "cyber_attack"},
	{"hardware", "hardware"}, {"network", "network"}, {"software", "software"}, {"database", "software"},
	{"application", "software"}, {"power", "power"}, {"human", "human_error"}, {"operator error", "human_error"},
	{"supplier", "supplier"}, {"vendor", "supplier"}, {"third party", "supplier"}, {"fire", "fire"},
	{"natural", "natural_disaster"}, {"flood", "natural_disaster"}, {"earthquake", "natural_disaster"}, {"storm", "natural_disaster"},
}

// causeSpelling reads "Human error" and "human-error" as human_error.
var causeSpelling = strings.NewReplacer(" ", "_", "-", "_")

func causeOf(s string) string {
	if slices.Contains(Causes, s) {
		return s
	}
	l := strings.ToLower(trimmed(s))
	if l == "" {
		return ""
	}
	if norm := causeSpelling.Replace(l); slices.Contains(Causes, norm) {
		return norm
	}
	for _, w := range causeWords {
		if strings.Contains(l, w.fragment) {
			return w.cause
		}
	}
	return ""
}

// importedKeys reads a list of CI names without duplicates. An iTop link
// set (functionalci_id->name:web01;impact_code:manual|...) arrives as its
// links; each gives its CI attribute's value.
func importedKeys(keys []string) []string {
	out := keys[:0]
	for _, k := range keys {
		k = importer.LinkValue(k, "functionalci")
		if k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// serviceNowPriority is ServiceNow's default priority matrix: impact and
// urgency (1 high, 2 medium, 3 low) give priority 1-5.
var serviceNowPriority = [3][3]byte{{'1', '2', '3'}, {'2', '3', '4'}, {'3', '4', '5'}}

// priorityFrom reads ServiceNow's impact and urgency ("1 - High", "2",
// "Medium") as the priority the default matrix gives, "" when either is
// missing or unknown.
func priorityFrom(impact, urgency string) string {
	i, u := level(impact), level(urgency)
	if i < 0 || u < 0 {
		return ""
	}
	return importedPriority(string(serviceNowPriority[i][u]))
}

// level reads "1 - High", "2 - Medium", "3 - Low", the digit or the word
// as 0, 1, 2; -1 otherwise.
func level(s string) int {
	l := strings.ToLower(trimmed(s))
	if l != "" && l[0] >= '1' && l[0] <= '3' && (len(l) == 1 || l[1] == ' ' || l[1] == '-') {
		return int(l[0] - '1')
	}
	if _, word, ok := strings.Cut(l, "-"); ok {
		l = trimmed(word)
	}
	switch l {
	case "high", "critical":
		return 0
	case "medium", "moderate":
		return 1
	case "low":
		return 2
	}
	return -1
}

// importedChangeType reads ServiceNow's Standard/Normal/Emergency and
// iTop's RoutineChange/NormalChange/EmergencyChange.
func importedChangeType(t string) string {
	l := strings.ToLower(trimmed(t))
	switch {
	case l == "":
		return ""
	case strings.Contains(l, "routine"), strings.Contains(l, "standard"):
		return "standard"
	case strings.Contains(l, "emergency"), strings.Contains(l, "expedited"):
		return "emergency"
	case strings.Contains(l, "normal"):
		return "normal"
	}
	return l
}

// importedRisk reads High/Moderate/Low (and Very High, None, numbered
// forms such as "2 - High") as high/medium/low.
func importedRisk(r string) string {
	l := strings.ToLower(trimmed(r))
	switch {
	case l == "":
		return ""
	case strings.Contains(l, "high"):
		return "high"
	case strings.Contains(l, "moderate"), strings.Contains(l, "medium"):
		return "medium"
	case strings.Contains(l, "low"), l == "none":
		return "low"
	}
	return l
}

// importedChangeStatus reads ServiceNow change states (names or their
// numbers) and iTop statuses. A closed change whose close code says it was
// unsuccessful failed; a cancelled change counts as never carried out
// (requested) unless work had started, when it was rolled back.
func importedChangeStatus(state, closeCode string, started bool) string {
	l := strings.ToLower(trimmed(state))
	var st string
	switch l {
	case "new", "assess", "authorize", "-5", "-4", "-3", "assigned", "notapproved", "rejected", "on hold", "pending":
		st = "requested"
	case "scheduled", "-2", "plannedscheduled":
		st = "approved"
	case "implement", "review", "closed", "-1", "0", "3", "monitored", "in progress", "resolved", "closed complete",
		"closed successful", "implemented":
		st = "implemented"
	case "closed unsuccessful", "closed incomplete", "unsuccessful":
		st = "failed"
	case "canceled", "cancelled", "4":
		st = "requested"
		if started {
			st = "rolled_back"
		}
	case "rolled back", "backed out":
		st = "rolled_back"
	default:
		return l
	}
	if st == "implemented" && strings.Contains(strings.ToLower(closeCode), "unsuccessful") {
		return "failed"
	}
	return st
}

// importedProblemStatus reads ServiceNow problem states (names or their
// numbers) and iTop statuses.
func importedProblemStatus(state string) string {
	l := strings.ToLower(trimmed(state))
	switch l {
	case "new", "assess", "root cause analysis", "fix in progress", "assigned", "101", "102", "103", "104",
		"open", "1", "in progress", "on hold", "pending change", "3", "work in progress":
		return "open"
	case "known error", "known_error", "2":
		return "known_error"
	case "resolved", "106":
		return "resolved"
	case "closed", "107", "closed/resolved", "4", "canceled", "cancelled", "closed complete", "closed incomplete":
		return "closed"
	}
	return l
}
