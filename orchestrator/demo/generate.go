package demo

import (
	"fmt"

	"github.com/bcdr/bcdr/orchestrator/directory"
)

// organisation is everything the demo seeds, by record type.
type organisation struct {
	cmdb      *cmdbBuilder
	contacts  []directory.ContactInput
	callTrees []directory.CallTreeInput
	suppliers []directory.SupplierInput
	slas      []directory.SLAInput
}

func generate(opts Options) *organisation {
	o := &organisation{cmdb: buildCMDB(opts.Scale)}
	for _, p := range people {
		o.contacts = append(o.contacts, p.input())
	}
	for _, s := range suppliers {
		o.suppliers = append(o.suppliers, s.input(opts.Now))
	}
	for copyN := range opts.Scale {
		for _, d := range services {
			key := serviceKey(d, copyN)
			o.callTrees = append(o.callTrees, callTree(d, key))
			o.slas = append(o.slas, sla(d, key, opts.Now))
		}
	}
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
	}
}

func rowsOf[T any](items []T) []any {
	rows := make([]any, len(items))
	for i := range items {
		rows[i] = items[i]
	}
	return rows
}
