package demo

// organisation is everything the demo seeds, by record type.
type organisation struct {
	cmdb *cmdbBuilder
}

func generate(opts Options) *organisation {
	return &organisation{cmdb: buildCMDB(opts.Scale)}
}

// batches lists the record types in the order they must be imported:
// what others refer to comes first.
func (o *organisation) batches() []batch {
	return []batch{
		{typ: "cis", rows: rowsOf(o.cmdb.cis)},
		{typ: "relations", rows: rowsOf(o.cmdb.relations)},
	}
}

func rowsOf[T any](items []T) []any {
	rows := make([]any, len(items))
	for i := range items {
		rows[i] = items[i]
	}
	return rows
}
