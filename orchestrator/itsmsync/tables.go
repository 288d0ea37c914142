package itsmsync

import (
	"slices"
	"strings"
)

// A table is read with sysparm_display_value=all, which gives every field
// both its stored value and its display value, and each CSV column takes
// the one the importer reads best: display values for choices (Operational,
// "1 - Critical", "Depends on::Used by"), which is what a list export
// holds; stored values for dates (UTC, "2025-03-05 14:22:10", where display
// values follow the sync user's time zone and date format) and for
// references to CIs (the sys_id, which the importer resolves exactly where
// a display name may be shared by several CIs).

// field is one column: a ServiceNow field and which of its values the CSV
// takes.
type field struct {
	name    string
	display bool
}

// tableSpec is how one ServiceNow table syncs.
type tableSpec struct {
	// importType is the importer's record type.
	importType string
	// order places the table among the others: a table's references must
	// have been imported before it.
	order  int
	fields []field
	// query narrows the table (core_company: the vendors only).
	query string
}

func v(name string) field { return field{name: name} }
func d(name string) field { return field{name: name, display: true} }

// The tables bcdr syncs, besides every cmdb_ci class table.
var (
	ciSpec = tableSpec{importType: "cis", order: 0, fields: []field{
		v("sys_id"), v("name"), v("sys_class_name"), d("operational_status"), d("install_status"),
		d("location"), d("owned_by")}}
	tableSpecs = map[string]*tableSpec{
		"cmdb_rel_ci":  {importType: "relations", order: 1, fields: []field{v("sys_id"), v("parent"), v("child"), d("type")}},
		"core_company": {importType: "suppliers", order: 2, fields: []field{v("sys_id"), v("name"), v("notes")}, query: "vendor=true"},
		"problem": {importType: "problems", order: 3, fields: []field{
			v("number"), v("short_description"), v("cause_notes"), d("state"), v("opened_at"), v("resolved_at"),
			v("known_error"), v("workaround")}},
		"incident": {importType: "incidents", order: 4, fields: []field{
			v("number"), v("short_description"), v("description"), d("priority"), d("impact"), d("urgency"),
			v("cmdb_ci"), v("business_service"), v("opened_at"), v("resolved_at"), v("closed_at"),
			d("category"), d("close_code"), d("problem_id")}},
		"change_request": {importType: "changes", order: 5, fields: []field{
			v("number"), v("short_description"), d("type"), d("risk"), d("state"), v("cmdb_ci"),
			v("start_date"), v("end_date"), v("work_start"), v("work_end"), d("close_code")}},
	}
)

// specOf is how table syncs, nil for a table bcdr does not sync. cmdb_ci and
// its class tables (cmdb_ci_server, cmdb_ci_appl, ...) are CIs; cmdb_rel_ci
// is not a class.
func specOf(table string) *tableSpec {
	if s, ok := tableSpecs[table]; ok {
		return s
	}
	if table == "cmdb_ci" || strings.HasPrefix(table, "cmdb_ci_") {
		return &ciSpec
	}
	return nil
}

// columns are the fields a table's sync asks for and writes, given the
// other tables of the schedule: an incident's problem_id names a problem
// by number, which only a schedule that also syncs problem can resolve,
// so without it the column is left out rather than rejecting every
// incident that has one.
func (s *tableSpec) columns(tables []string) []field {
	if s.importType != "incidents" || slices.Contains(tables, "problem") {
		return s.fields
	}
	return slices.DeleteFunc(slices.Clone(s.fields), func(f field) bool { return f.name == "problem_id" })
}

// tableNames lists what a target's tables may name, for messages.
func tableNames() string {
	names := []string{"cmdb_ci (and its class tables, cmdb_ci_*)"}
	for name := range tableSpecs {
		names = append(names, name)
	}
	slices.SortFunc(names[1:], func(a, b string) int { return tableSpecs[a].order - tableSpecs[b].order })
	return strings.Join(names, ", ")
}
