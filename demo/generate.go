package demo

import (
	"fmt"

	"github.com/bcdr/bcdr/orchestrator/directory"
	"github.com/bcdr/bcdr/orchestrator/itsm"
)

// organisation is everything the demo seeds, by record type.
type organisation struct {
	cmdb      *cmdbBuilder
	contacts  []directory.ContactInput
	callTrees []directory.CallTreeInput
	suppliers []directory.SupplierInput
	slas      []directory.SLAInput
	incidents []itsm.IncidentInput
	problems  []itsm.ProblemInput
	changes   []itsm.ChangeInput
	releases  []itsm.ReleaseInput
}

func generate(opts Options) *organisation {
	o := &organisation{cmdb: buildCMDB(opts.Scale)}
	for _, p := range people {
		o.contacts = append(o.contacts, p.input())
	}
	for _, s := range suppliers {
		o.suppliers = append(o.suppliers, s.input(opts.Now))
	}
	var keys []string
	for copyN := range opts.Scale {
		for _, d := range services {
			key := serviceKey(d, copyN)
			keys = append(keys, key)
			o.callTrees = append(o.callTrees, callTree(d, key))
			o.slas = append(o.slas, sla(d, key, opts.Now))
		}
	}
	h := newHistory(opts.Now)
	o.incidents = h.incidents(o.cmdb.stacks, keys)
	o.problems = h.problems()
	o.changes = h.changes(o.cmdb.stacks, keys)
	o.releases = h.releases(o.cmdb.stacks, keys)
	return o
}

// serviceKey names the copyN-th copy of a service (the first has no suffix).
func serviceKey(d serviceDef, copyN int) string {
	if copyN == 0 {
		return d.key
	}
	return fmt.Sprintf("%s-%d", d.key, copyN+1)
}

// batches lists the record types in the order they must be imported:
// what others refer to comes first.
func (o *organisation) batches() []batch {
	return []batch{
		{typ: "cis", rows: rowsOf(o.cmdb.cis)},
		{typ: "relations", rows: rowsOf(o.cmdb.relations)},
		{typ: "contacts", rows: rowsOf(o.contacts)},
		{typ: "call-trees", rows: rowsOf(o.callTrees)},
		{typ: "suppliers", rows: rowsOf(o.suppliers)},
		{typ: "slas", rows: rowsOf(o.slas)},
		{typ: "problems", rows: rowsOf(o.problems)},
		{typ: "incidents", rows: rowsOf(o.incidents)},
		{typ: "changes", rows: rowsOf(o.changes)},
		{typ: "releases", rows: rowsOf(o.releases)},
	}
}

func rowsOf[T any](items []T) []any {
	rows := make([]any, len(items))
	for i := range items {
		rows[i] = items[i]
	}
	return rows
}
