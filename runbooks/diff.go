package runbooks

import (
	"encoding/json"
	"slices"
)

// Diff is what changed from one version to another, readably: steps added,
// removed and changed field by field, sections changed line by line, and
// the scope's CIs.
type Diff struct {
	From         int           `json:"from"`
	To           int           `json:"to"`
	StepsAdded   []Step        `json:"steps_added"`
	StepsRemoved []Step        `json:"steps_removed"`
	StepsChanged []StepChange  `json:"steps_changed"`
	OrderChanged bool          `json:"order_changed"`
	Sections     []FieldChange `json:"sections"`
	CIsAdded     []string      `json:"cis_added"`
	CIsRemoved   []string      `json:"cis_removed"`
}

// StepChange lists the fields of one step that changed.
type StepChange struct {
	Step    string        `json:"step"`
	Title   string        `json:"title"`
	Changes []FieldChange `json:"changes"`
}

// FieldChange is one changed field: From and To for a value, Added and
// Removed for a list.
type FieldChange struct {
	Field   string   `json:"field"`
	From    any      `json:"from,omitempty"`
	To      any      `json:"to,omitempty"`
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
}

// diffVersions compares version a with version b.
func diffVersions(a, b Version) Diff {
	d := Diff{From: a.Number, To: b.Number, StepsAdded: []Step{}, StepsRemoved: []Step{}, StepsChanged: []StepChange{}, Sections: []FieldChange{}}
	before := make(map[string]Step, len(a.Steps))
	for _, s := range a.Steps {
		before[s.ID] = s
	}
	after := make(map[string]bool, len(b.Steps))
	var common []string
	for _, s := range b.Steps {
		after[s.ID] = true
		old, ok := before[s.ID]
		if !ok {
			d.StepsAdded = append(d.StepsAdded, s)
			continue
		}
		common = append(common, s.ID)
		if ch := stepChanges(old, s); len(ch) > 0 {
			d.StepsChanged = append(d.StepsChanged, StepChange{Step: s.ID, Title: s.Title, Changes: ch})
		}
	}
	var oldCommon []string
	for _, s := range a.Steps {
		if !after[s.ID] {
			d.StepsRemoved = append(d.StepsRemoved, s)
		} else {
			oldCommon = append(oldCommon, s.ID)
		}
	}
	d.OrderChanged = !slices.Equal(common, oldCommon)
	d.Sections = sectionChanges(a.Sections, b.Sections)
	d.CIsAdded, d.CIsRemoved = difference(a.ScopeCIs, b.ScopeCIs)
	return d
}

func stepChanges(a, b Step) []FieldChange {
	var out []FieldChange
	value := func(field string, x, y any) {
		if !sameJSON(x, y) {
			out = append(out, FieldChange{Field: field, From: x, To: y})
		}
	}
	value("kind", a.Kind, b.Kind)
	value("ci", a.CI, b.CI)
	value("title", a.Title, b.Title)
	value("text", a.Text, b.Text)
	value("owner_role", a.OwnerRole, b.OwnerRole)
	value("owner", a.Owner, b.Owner)
	value("estimate", a.Estimate, b.Estimate)
	value("mandatory", a.Mandatory, b.Mandatory)
	if c, ok := listChange("depends_on", a.DependsOn, b.DependsOn); ok {
		out = append(out, c)
	}
	if !sameJSON(a.Automation, b.Automation) {
		c := FieldChange{Field: "automation", From: a.Automation, To: b.Automation}
		if a.Automation == nil {
			c.From = "manual"
		}
		if b.Automation == nil {
			c.To = "manual"
		}
		out = append(out, c)
	}
	return out
}

func sectionChanges(a, b Sections) []FieldChange {
	var out []FieldChange
	list := func(field string, x, y []string) {
		if c, ok := listChange(field, x, y); ok {
			out = append(out, c)
		}
	}
	list("invocation.criteria", a.Invocation.Criteria, b.Invocation.Criteria)
	list("invocation.authority", a.Invocation.Authority, b.Invocation.Authority)
	list("call_tree.services", a.CallTree.Services, b.CallTree.Services)
	if a.CallTree.Notes != b.CallTree.Notes {
		out = append(out, FieldChange{Field: "call_tree.notes", From: a.CallTree.Notes, To: b.CallTree.Notes})
	}
	list("communications", a.Communications, b.Communications)
	if !sameJSON(a.Availability.MBCO, b.Availability.MBCO) {
		out = append(out, FieldChange{Field: "availability.mbco", From: a.Availability.MBCO, To: b.Availability.MBCO})
	}
	list("availability.targets", a.Availability.Targets, b.Availability.Targets)
	if !sameJSON(a.Requirements, b.Requirements) {
		out = append(out, FieldChange{Field: "requirements", From: a.Requirements, To: b.Requirements})
	}
	list("failback", a.Failback, b.Failback)
	list("vital_records", a.VitalRecords, b.VitalRecords)
	return out
}

// listChange compares two lists as sets of lines; a pure reordering counts
// as a change with nothing added or removed.
func listChange(field string, a, b []string) (FieldChange, bool) {
	if slices.Equal(a, b) {
		return FieldChange{}, false
	}
	added, removed := difference(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
	c := FieldChange{Field: field, Added: added, Removed: removed}
	if len(added) == 0 && len(removed) == 0 {
		c.From, c.To = a, b
	}
	return c, true
}

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
