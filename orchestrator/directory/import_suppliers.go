package directory

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/importer"
)

// A supplier's contacts and the supplier_service CIs it provides.
var (
	supplierContactList = linkList{what: "supplier contacts", column: "contacts", parent: "suppliers",
		link: "supplier_contacts", owner: "supplier_id", target: "contact_id", targets: "contacts"}
	supplierServiceList = linkList{what: "supplier services", column: "services", parent: "suppliers",
		link: "supplier_services", owner: "supplier_id", target: "ci_id", targets: "cis"}
)

// SupplierImport imports suppliers. CSV columns are the JSON field names,
// or those of a ServiceNow core_company export; a row without a key takes
// its external_id (the sys_id) as key. contacts and services list keys as
// "a; b"; contracts hold JSON, e.g. [{"reference":"C-1","start":"2026-01-01",
// "end":"2026-12-31","rto":"4h","support_hours":"24x7"}].
func SupplierImport() *importer.Spec[SupplierInput] {
	return &importer.Spec[SupplierInput]{
		Type: "suppliers",
		Aliases: map[string]string{
			// ServiceNow core_company: name, notes and sys_id
			"sys_id": "external_id",
			// plain words
			"supplier": "key", "supplier_key": "key", "supplier_name": "name",
			"supplier_contacts": "contacts", "contact": "contacts", "supplier_services": "services",
			"provides": "services", "contract": "contracts",
		},
		Required: []string{"name"},
		Validate: func(in *SupplierInput) error {
			in.Normalize("")
			if in.Key == "" {
				in.Key = in.ExternalID
			}
			return in.Validate()
		},
		Stage: []importer.Column{
			{Name: "key", Type: "text"}, {Name: "name", Type: "text"}, {Name: "notes", Type: "text"},
			{Name: "source", Type: "text"}, {Name: "external_id", Type: "text"}, {Name: "contacts", Type: "jsonb"},
			{Name: "services", Type: "jsonb"}, {Name: "contracts", Type: "jsonb"},
		},
		Values: func(in *SupplierInput, source string) []any {
			if in.Source == "" {
				in.Source = source
			}
			contracts := make([]contractRow, len(in.Contracts))
			for i, c := range in.Contracts {
				contracts[i] = contractRow{Reference: c.Reference, Start: c.Start, End: c.End, RTOSeconds: seconds(c.RTO),
					RPOSeconds: seconds(c.RPO), SupportHours: c.SupportHours, Notes: c.Notes}
			}
			return []any{in.Key, in.Name, in.Notes, in.Source, in.ExternalID, in.Contacts, in.Services, contracts}
		},
		Identity: []string{"source", "external_id"},
		Resolve: func(ctx context.Context, tx pgx.Tx) ([]importer.Problem, error) {
			return nil, cmdb.ResolveStaged(ctx, tx, cmdb.StagedRef{Column: "services", Kind: cmdb.RefJSON})
		},
		Check: cmdb.AmbiguousCheck(cmdb.StagedRef{Column: "services", Kind: cmdb.RefJSON}, "services") + `
			UNION ALL
			SELECT row_no, 'key', 'duplicates the key of row ' || first_row || ' of this file'
				FROM (SELECT row_no, min(row_no) OVER (PARTITION BY key) AS first_row FROM import_stage) d
				WHERE row_no <> first_row
			UNION ALL
			SELECT s.row_no, 'key', format('key %s already belongs to the supplier with source %s and external_id %s',
					s.key, p.source, p.external_id)
				FROM import_stage s JOIN suppliers p ON p.key = s.key
				WHERE (p.source, p.external_id) IS DISTINCT FROM (s.source, s.external_id)
			UNION ALL
			SELECT s.row_no, 'contacts', format('no contact with key %s', to_json(e.key))
				FROM import_stage s CROSS JOIN jsonb_array_elements_text(s.contacts) AS e(key)
				WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.key = e.key)
			UNION ALL
			SELECT s.row_no, 'services', CASE WHEN c.id IS NULL THEN format('no CI with key %s', to_json(e.key))
					ELSE format('CI %s is a %s, not a supplier_service', to_json(e.key), c.class) END
				FROM import_stage s CROSS JOIN jsonb_array_elements_text(s.services) AS e(key)
				LEFT JOIN cis c ON c.key = e.key
				WHERE c.class IS DISTINCT FROM 'supplier_service'`,
		Merge: `INSERT INTO suppliers AS p (key, name, notes, source, external_id)
			SELECT s.key, s.name, s.notes, s.source, s.external_id
			FROM import_stage s LEFT JOIN suppliers o ON o.source = s.source AND o.external_id = s.external_id
			WHERE o.id IS NULL
				OR (o.key, o.name, o.notes) IS DISTINCT FROM (s.key, s.name, s.notes)
				OR s.contacts IS DISTINCT FROM ` + supplierContactList.current("o.id") + `
				OR s.services IS DISTINCT FROM ` + supplierServiceList.current("o.id") + `
				OR s.contracts IS DISTINCT FROM ` + contractsOf("o.id") + `
			ORDER BY s.row_no
			ON CONFLICT (source, external_id) DO UPDATE SET key = EXCLUDED.key, name = EXCLUDED.name,
				notes = EXCLUDED.notes, updated_at = now()
			RETURNING (xmax = 0)`,
		After: func(ctx context.Context, tx pgx.Tx) error {
			if err := supplierContactList.replace(ctx, tx); err != nil {
				return err
			}
			if err := supplierServiceList.replace(ctx, tx); err != nil {
				return err
			}
			return replaceContracts(ctx, tx)
		},
	}
}

// contractsOf aggregates the contracts of the supplier with id idExpr the
// way they are staged (and supplierSelect reads them).
func contractsOf(idExpr string) string {
	return `(SELECT coalesce(jsonb_agg(jsonb_build_object('reference', k.reference, 'start', k.start_date,
			'end', k.end_date, 'rto_s', k.rto_s, 'rpo_s', k.rpo_s, 'support_hours', k.support_hours,
			'notes', k.notes) ORDER BY k.position), '[]')
		FROM supplier_contracts k WHERE k.supplier_id = ` + idExpr + `)`
}

// replaceContracts rewrites the contracts of staged suppliers whose
// contracts changed.
func replaceContracts(ctx context.Context, tx pgx.Tx) error {
	return replaceChildren(ctx, tx, "supplier contracts", `SELECT p.id FROM import_stage s
			JOIN suppliers p ON p.source = s.source AND p.external_id = s.external_id
			WHERE s.contracts IS DISTINCT FROM `+contractsOf("p.id"),
		`DELETE FROM supplier_contracts WHERE supplier_id = ANY($1)`,
		`INSERT INTO supplier_contracts (supplier_id, position, reference, start_date, end_date, rto_s, rpo_s,
				support_hours, notes)
			SELECT p.id, k.n, k.v->>'reference', (k.v->>'start')::date, (k.v->>'end')::date, (k.v->>'rto_s')::bigint,
				(k.v->>'rpo_s')::bigint, k.v->>'support_hours', k.v->>'notes'
			FROM import_stage s JOIN suppliers p ON p.source = s.source AND p.external_id = s.external_id
			CROSS JOIN jsonb_array_elements(s.contracts) WITH ORDINALITY AS k(v, n)
			WHERE p.id = ANY($1)`)
}
