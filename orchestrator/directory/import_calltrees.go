package directory

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/importer"
)

// stagedLevel is a call tree level as it is staged and as levelsOf
// aggregates the stored ones.
type stagedLevel struct {
	Level    int      `json:"level"`
	WaitS    int64    `json:"wait_s"`
	Contacts []string `json:"contacts"`
}

// CallTreeImport imports call trees. The levels column holds the levels as
// JSON, e.g. [{"contacts":["alice","bob"],"wait":"15m"},{"contacts":["carol"]}];
// the contacts must exist (import contacts first) and the service must be a
// business_service CI.
func CallTreeImport() *importer.Spec[CallTreeInput] {
	return &importer.Spec[CallTreeInput]{
		Type: "call-trees",
		Aliases: map[string]string{
			"sys_id": "external_id", "call_tree": "key", "tree": "key", "business_service": "service",
			"runbook_id": "runbook", "escalation": "levels", "escalation_levels": "levels",
		},
		Required: []string{"key", "name", "levels"},
		Validate: func(in *CallTreeInput) error {
			in.Normalize("")
			return in.Validate()
		},
		Stage: []importer.Column{
			{Name: "key", Type: "text"}, {Name: "name", Type: "text"}, {Name: "service", Type: "text"},
			{Name: "runbook", Type: "text"}, {Name: "source", Type: "text"}, {Name: "external_id", Type: "text"},
			{Name: "levels", Type: "jsonb"},
		},
		Values: func(in *CallTreeInput, source string) []any {
			if in.Source == "" {
				in.Source = source
			}
			levels := make([]stagedLevel, len(in.Levels))
			for i, l := range in.Levels {
				levels[i] = stagedLevel{Level: l.Level, WaitS: l.Wait.Seconds(), Contacts: l.Contacts}
			}
			return []any{in.Key, in.Name, in.Service, in.Runbook, in.Source, in.ExternalID, levels}
		},
		Identity: []string{"source", "external_id"},
		Resolve: func(ctx context.Context, tx pgx.Tx) ([]importer.Problem, error) {
			return nil, cmdb.ResolveStaged(ctx, tx, cmdb.StagedRef{Column: "service", Kind: cmdb.RefText})
		},
		Check: cmdb.AmbiguousCheck(cmdb.StagedRef{Column: "service", Kind: cmdb.RefText}, "service") + `
			UNION ALL
			SELECT row_no, 'key', 'duplicates the key of row ' || first_row || ' of this file'
				FROM (SELECT row_no, min(row_no) OVER (PARTITION BY key) AS first_row FROM import_stage) d
				WHERE row_no <> first_row
			UNION ALL
			SELECT s.row_no, 'key', format('key %s already belongs to the call tree with source %s and external_id %s',
					s.key, t.source, t.external_id)
				FROM import_stage s JOIN call_trees t ON t.key = s.key
				WHERE (t.source, t.external_id) IS DISTINCT FROM (s.source, s.external_id)
			UNION ALL
			SELECT s.row_no, 'service', format('no CI with key %s', to_json(s.service))
				FROM import_stage s WHERE s.service <> '' AND NOT EXISTS (SELECT 1 FROM cis c WHERE c.key = s.service)
			UNION ALL
			SELECT s.row_no, 'service', format('CI %s is a %s, not a business_service', to_json(s.service), c.class)
				FROM import_stage s JOIN cis c ON c.key = s.service WHERE c.class <> 'business_service'
			UNION ALL
			SELECT s.row_no, 'levels', format('level %s: no contact with key %s', l.n, to_json(m.key))
				FROM import_stage s CROSS JOIN jsonb_array_elements(s.levels) WITH ORDINALITY AS l(v, n)
				CROSS JOIN jsonb_array_elements_text(l.v->'contacts') AS m(key)
				WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.key = m.key)
			UNION ALL
			SELECT row_no, 'service', format('service %s with runbook %s is the scope of row %s of this file too',
					to_json(service), to_json(runbook), first_row)
				FROM (SELECT row_no, service, runbook, min(row_no) OVER (PARTITION BY service, runbook) AS first_row
					FROM import_stage) d
				WHERE row_no <> first_row
			UNION ALL
			SELECT s.row_no, 'service', format('service %s with runbook %s already has the call tree %s (source %s, external_id %s)',
					to_json(s.service), to_json(s.runbook), t.key, t.source, t.external_id)
				FROM import_stage s LEFT JOIN cis c ON c.key = nullif(s.service, '')
				JOIN call_trees t ON coalesce(t.service_id, 0) = coalesce(c.id, 0) AND coalesce(t.runbook, '') = s.runbook
				WHERE (s.service = '' OR c.id IS NOT NULL)
				  AND (t.source, t.external_id) IS DISTINCT FROM (s.source, s.external_id)`,
		Merge: `INSERT INTO call_trees AS t (key, name, service_id, runbook, source, external_id)
			SELECT s.key, s.name, c.id, nullif(s.runbook, ''), s.source, s.external_id
			FROM import_stage s LEFT JOIN cis c ON c.key = nullif(s.service, '')
			LEFT JOIN call_trees o ON o.source = s.source AND o.external_id = s.external_id
			WHERE o.id IS NULL
				OR (o.key, o.name, o.service_id, o.runbook) IS DISTINCT FROM (s.key, s.name, c.id, nullif(s.runbook, ''))
				OR s.levels IS DISTINCT FROM ` + levelsOf("o.id") + `
			ORDER BY s.row_no
			ON CONFLICT (source, external_id) DO UPDATE SET key = EXCLUDED.key, name = EXCLUDED.name,
				service_id = EXCLUDED.service_id, runbook = EXCLUDED.runbook, updated_at = now()
			RETURNING (xmax = 0)`,
		After: replaceLevels,
	}
}

// levelsOf aggregates the levels of the call tree with id idExpr the way
// they are staged, looking contacts up by primary key (see linkList.current).
func levelsOf(idExpr string) string {
	return `(SELECT coalesce(jsonb_agg(jsonb_build_object('level', l.level, 'wait_s', l.wait_s, 'contacts',
			(SELECT coalesce(jsonb_agg((SELECT c.key FROM contacts c WHERE c.id = m.contact_id) ORDER BY m.position), '[]')
			 FROM call_tree_contacts m WHERE m.call_tree_id = l.call_tree_id AND m.level = l.level))
			ORDER BY l.level), '[]')
		FROM call_tree_levels l WHERE l.call_tree_id = ` + idExpr + `)`
}

// replaceLevels rewrites the levels of staged call trees whose levels
// changed; deleting a level deletes its contacts.
func replaceLevels(ctx context.Context, tx pgx.Tx) error {
	return replaceChildren(ctx, tx, "call tree levels", `SELECT t.id FROM import_stage s
			JOIN call_trees t ON t.source = s.source AND t.external_id = s.external_id
			WHERE s.levels IS DISTINCT FROM `+levelsOf("t.id"),
		`DELETE FROM call_tree_levels WHERE call_tree_id = ANY($1)`,
		`INSERT INTO call_tree_levels (call_tree_id, level, wait_s)
			SELECT t.id, (l.v->>'level')::integer, (l.v->>'wait_s')::bigint FROM import_stage s
			JOIN call_trees t ON t.source = s.source AND t.external_id = s.external_id
			CROSS JOIN jsonb_array_elements(s.levels) AS l(v)
			WHERE t.id = ANY($1)`,
		`INSERT INTO call_tree_contacts (call_tree_id, level, position, contact_id)
			SELECT t.id, (l.v->>'level')::integer, m.n, c.id FROM import_stage s
			JOIN call_trees t ON t.source = s.source AND t.external_id = s.external_id
			CROSS JOIN jsonb_array_elements(s.levels) AS l(v)
			CROSS JOIN jsonb_array_elements_text(l.v->'contacts') WITH ORDINALITY AS m(key, n)
			LEFT JOIN contacts c ON c.key = m.key
			WHERE t.id = ANY($1)`)
}
