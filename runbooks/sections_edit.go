package runbooks

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
)

// Section limits.
const (
	maxSectionLines = 200
	maxSectionLine  = 1000
	maxNotes        = 4000
)

var ciKeyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$`)

// applySections changes the editable sections of v that in carries.
func applySections(v *Version, in SectionsInput) error {
	var val orchestrator.Validation
	lines := func(field string, list *[]string, dst *[]string) {
		if list == nil {
			return
		}
		if len(*list) > maxSectionLines {
			val.Add(field, "must hold at most %d lines", maxSectionLines)
			return
		}
		out := make([]string, 0, len(*list))
		for i, l := range *list {
			l = strings.TrimSpace(l)
			if msg := checkText(l, maxSectionLine, true, true); msg != "" {
				val.Add(fmt.Sprintf("%s[%d]", field, i), "%s", msg)
				continue
			}
			out = append(out, l)
		}
		*dst = out
	}
	s := v.Sections
	if in.Invocation != nil {
		lines("invocation.criteria", in.Invocation.Criteria, &s.Invocation.Criteria)
		lines("invocation.authority", in.Invocation.Authority, &s.Invocation.Authority)
	}
	if in.CallTree != nil {
		lines("call_tree.services", in.CallTree.Services, &s.CallTree.Services)
		for i, k := range s.CallTree.Services {
			if !ciKeyPattern.MatchString(k) {
				val.Add(fmt.Sprintf("call_tree.services[%d]", i), "%q is not a business service key", clip(k))
			}
		}
		if in.CallTree.Notes != nil {
			notes := strings.TrimSpace(*in.CallTree.Notes)
			if msg := checkText(notes, maxNotes, false, true); msg != "" {
				val.Add("call_tree.notes", "%s", msg)
			}
			s.CallTree.Notes = notes
		}
	}
	lines("communications", in.Communications, &s.Communications)
	if in.Availability != nil {
		lines("availability.targets", in.Availability.Targets, &s.Availability.Targets)
	}
	lines("failback", in.Failback, &s.Failback)
	lines("vital_records", in.VitalRecords, &s.VitalRecords)
	if err := val.Err(); err != nil {
		return err
	}
	v.Sections = s
	return nil
}
