package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
)

// diffView is the diff page: two versions chosen among the runbook's and
// what changed from one to the other, in the page's words.
type diffView struct {
	Runbook  runbooks.Runbook
	Versions []runbooks.VersionSummary
	From, To int
	// Diff is nil when the runbook has a single version.
	Diff    *runbooks.Diff
	Changed []stepChangeView
	// Sections are the changed sections.
	Sections []fieldChangeView
	None     bool
}

// stepChangeView is a changed step.
type stepChangeView struct {
	Step, Title string
	Changes     []fieldChangeView
}

// fieldChangeView is one changed field with its values written out.
type fieldChangeView struct {
	Field, Label   string
	From, To       string
	Added, Removed []string
	// Moved: a list whose entries stayed the same but changed order.
	Moved bool
}

// runbookDiff compares two versions of a runbook: ?from= and ?to= are
// version numbers; by default the version in force against the draft, else
// the last two versions.
func (u *UI) runbookDiff(w http.ResponseWriter, r *http.Request) {
	ctx, id := r.Context(), r.PathValue("id")
	rb, err := u.svc.Runbooks.Recent(ctx, id, recentEnough)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	vs, err := u.svc.Runbooks.Versions(ctx, id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := diffView{Runbook: rb, Versions: vs}
	last := vs[len(vs)-1].Number
	v.To, v.From = last, last-1
	if rb.ApprovedVersion != nil && *rb.ApprovedVersion != last {
		v.From = *rb.ApprovedVersion
	}
	q := r.URL.Query()
	var val orchestrator.Validation
	for _, p := range []struct {
		field string
		dst   *int
	}{{"from", &v.From}, {"to", &v.To}} {
		s := strings.TrimPrefix(strings.TrimSpace(q.Get(p.field)), "v")
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			val.Add(p.field, "must be a version number such as 2")
			continue
		}
		*p.dst = n
	}
	if err := val.Err(); err != nil {
		u.fail(w, r, err)
		return
	}
	if v.From < 1 {
		u.render(w, r, http.StatusOK, "runbook_diff", v)
		return
	}
	d, err := u.svc.Runbooks.Diff(ctx, id, strconv.Itoa(v.From), strconv.Itoa(v.To))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	t := words(language(r))
	v.Diff = &d
	for _, sc := range d.StepsChanged {
		c := stepChangeView{Step: sc.Step, Title: sc.Title}
		for _, fc := range sc.Changes {
			c.Changes = append(c.Changes, rbeFieldChange(t, fc))
		}
		v.Changed = append(v.Changed, c)
	}
	for _, fc := range d.Sections {
		v.Sections = append(v.Sections, rbeFieldChange(t, fc))
	}
	v.None = len(d.StepsAdded)+len(d.StepsRemoved)+len(d.StepsChanged)+len(d.Sections)+len(d.CIsAdded)+len(d.CIsRemoved) == 0 && !d.OrderChanged
	u.render(w, r, http.StatusOK, "runbook_diff", v)
}

// fieldChange writes a changed field out in the page's words.
func rbeFieldChange(t func(string) string, fc runbooks.FieldChange) fieldChangeView {
	key := "rbe_f_" + strings.ReplaceAll(fc.Field, ".", "_")
	label := t(key)
	if label == key {
		label = fc.Field
	}
	c := fieldChangeView{Field: fc.Field, Label: label, Added: fc.Added, Removed: fc.Removed}
	if len(fc.Added) == 0 && len(fc.Removed) == 0 {
		c.From, c.To = rbeValue(t, fc.Field, fc.From), rbeValue(t, fc.Field, fc.To)
		_, list := fc.From.([]string)
		c.Moved = list
	}
	return c
}

// diffValue writes a value of a changed field: durations as durations,
// yes and no in the page's words, a call as its method and address.
func rbeValue(t func(string) string, field string, x any) string {
	switch v := x.(type) {
	case nil:
		return "—"
	case string:
		switch {
		case v == "":
			return "—"
		case field == "automation":
			return t("runbook_manual")
		case field == "kind":
			return t("rbe_kind_" + v)
		}
		return v
	case bool:
		if v {
			return t("runbook_yes")
		}
		return t("runbook_no")
	case orchestrator.Duration:
		return v.String()
	case *runbooks.Automation:
		if v == nil {
			return t("runbook_manual")
		}
		s := v.Method + " " + v.URL
		if v.DrillURL != "" {
			s += " (" + t("rbe_drill_url") + " " + v.DrillURL + ")"
		}
		return s
	case []string:
		return strings.Join(v, ", ")
	case *float64:
		if v == nil {
			return "—"
		}
		return fmt.Sprintf("%g", *v)
	case []runbooks.Requirements:
		parts := make([]string, len(v))
		for i, q := range v {
			parts[i] = fmt.Sprintf("%s: RTO %s, RPO %s", q.Service, rbeDur(q.RTO), rbeDur(q.RPO))
		}
		return strings.Join(parts, "; ")
	}
	b, err := json.Marshal(x)
	if err != nil {
		return fmt.Sprint(x)
	}
	return string(b)
}

func rbeDur(d *orchestrator.Duration) string {
	if d == nil {
		return "—"
	}
	return d.String()
}
