package directory

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Directory records import with their child rows staged as JSON in the same
// shape the current children aggregate to, so that one IS DISTINCT FROM
// tells whether a record's children changed. The merges write only records
// whose own values or children differ, and the After hooks replace only the
// children that differ, so importing a file twice writes nothing.

// ContactImport imports contacts. CSV columns are the JSON field names, or
// those of a ServiceNow sys_user export (docs/import.md). Deputies may be
// contacts defined later in the same file: they are linked after every
// contact of the file is written.
func ContactImport() *importer.Spec[ContactInput] {
	return &importer.Spec[ContactInput]{
		Type: "contacts",
		Aliases: map[string]string{
			// ServiceNow sys_user
			"user_name": "key", "sys_id": "external_id", "title": "role", "company": "organisation",
			"mobile_phone": "phone",
			// plain words
			"contact": "key", "username": "key", "full_name": "name", "job_title": "role", "organization": "organisation",
			"mobile": "phone", "telephone": "phone", "e-mail": "email", "chat_handle": "chat", "deputy": "deputies",
		},
		Required: []string{"key", "name"},
		Validate: func(in *ContactInput) error {
			in.Normalize("")
			return in.Validate()
		},
		Stage: []importer.Column{
			{Name: "key", Type: "text"}, {Name: "name", Type: "text"}, {Name: "role", Type: "text"},
			{Name: "organisation", Type: "text"}, {Name: "phone", Type: "text"}, {Name: "email", Type: "text"},
			{Name: "chat", Type: "text"}, {Name: "notes", Type: "text"}, {Name: "source", Type: "text"},
			{Name: "external_id", Type: "text"}, {Name: "deputies", Type: "jsonb"},
		},
		Values: func(in *ContactInput, source string) []any {
			if in.Source == "" {
				in.Source = source
			}
			return []any{in.Key, in.Name, in.Role, in.Organisation, in.Phone, in.Email, in.Chat, in.Notes,
				in.Source, in.ExternalID, in.Deputies}
		},
		Identity: []string{"source", "external_id"},
		Check:    contactCheck,
		Merge: `INSERT INTO contacts AS c (key, name, role, organisation, phone, email, chat, notes, source, external_id)
			SELECT s.key, s.name, s.role, s.organisation, s.phone, s.email, s.chat, s.notes, s.source, s.external_id
			FROM import_stage s LEFT JOIN contacts o ON o.source = s.source AND o.external_id = s.external_id
			WHERE o.id IS NULL
				OR (o.key, o.name, o.role, o.organisation, o.phone, o.email, o.chat, o.notes)
					IS DISTINCT FROM (s.key, s.name, s.role, s.organisation, s.phone, s.email, s.chat, s.notes)
				OR s.deputies IS DISTINCT FROM ` + deputyList.current("o.id") + `
			ORDER BY s.row_no
			ON CONFLICT (source, external_id) DO UPDATE SET key = EXCLUDED.key, name = EXCLUDED.name, role = EXCLUDED.role,
				organisation = EXCLUDED.organisation, phone = EXCLUDED.phone, email = EXCLUDED.email, chat = EXCLUDED.chat,
				notes = EXCLUDED.notes, updated_at = now()
			RETURNING (xmax = 0)`,
		After: deputyList.replace,
	}
}

// contactCheck rejects key clashes and deputies that will not exist. A
// deputy exists when a row of the file defines it, or a contact has its key
// and the file does not redefine that contact. A row whose deputy is
// defined only on a rejected row is rejected in turn, and so on along
// chains of deputies, so a partial import never links a deputy it did not
// write. The chains are followed through links, one JSON object mapping a
// defining row to its key and the rows naming it: each step of the
// recursion looks its rows up there, so a chain as long as the file costs
// a lookup per row rather than a join of the whole file per step.
const contactCheck = `WITH RECURSIVE refs AS MATERIALIZED (
		SELECT s.row_no, d.key FROM import_stage s CROSS JOIN jsonb_array_elements_text(s.deputies) AS d(key)
	), firsts AS MATERIALIZED (
		SELECT key, min(row_no) AS row_no FROM import_stage GROUP BY key
	), links AS MATERIALIZED (
		SELECT jsonb_object_agg(definer::text, jsonb_build_object('key', key, 'referrers', referrers)) AS m
		FROM (SELECT f.row_no AS definer, f.key, jsonb_agg(r.row_no) AS referrers
			FROM refs r JOIN firsts f ON f.key = r.key
			WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.key = f.key)
			GROUP BY f.row_no, f.key) e
	), own (row_no, col, msg) AS (
		SELECT s.row_no, 'key', 'duplicates the key of row ' || f.row_no || ' of this file'
			FROM import_stage s JOIN firsts f ON f.key = s.key WHERE s.row_no <> f.row_no
		UNION ALL
		SELECT row_no, 'external_id', 'duplicates row ' || first_row || ' of this file'
			FROM (SELECT row_no, min(row_no) OVER (PARTITION BY source, external_id) AS first_row FROM import_stage) d
			WHERE row_no <> first_row
		UNION ALL
		SELECT s.row_no, 'key', format('key %s already belongs to the contact with source %s and external_id %s',
				s.key, c.source, c.external_id)
			FROM import_stage s JOIN contacts c ON c.key = s.key
			WHERE (c.source, c.external_id) IS DISTINCT FROM (s.source, s.external_id)
		UNION ALL
		SELECT r.row_no, 'deputies', format('no contact with key %s', to_json(r.key))
			FROM refs r LEFT JOIN contacts c ON c.key = r.key
			LEFT JOIN import_stage t ON t.source = c.source AND t.external_id = c.external_id
			WHERE NOT EXISTS (SELECT 1 FROM firsts f WHERE f.key = r.key) AND (c.id IS NULL OR t.row_no IS NOT NULL)
	), bad (row_no, col, msg, depth) AS (
		SELECT row_no, col, msg, 0 FROM own
		UNION
		SELECT r.row_no::integer, 'deputies', format('deputy %s is defined on row %s, which is rejected',
				(SELECT m FROM links) -> b.row_no::text -> 'key', b.row_no), 1
			FROM bad b CROSS JOIN jsonb_array_elements_text((SELECT m FROM links) -> b.row_no::text -> 'referrers') AS r(row_no)
	)
	SELECT DISTINCT ON (row_no) row_no, col, msg FROM bad ORDER BY row_no, depth, msg`

// deputyList is a contact's ordered deputies.
var deputyList = linkList{what: "deputies", column: "deputies", parent: "contacts", link: "contact_deputies",
	owner: "contact_id", target: "deputy_id", targets: "contacts"}

// linkList is an ordered list of references staged as a JSON array of keys
// and stored as (owner, position, target) rows. Its names are constants of
// this package, never input.
type linkList struct {
	what    string // for error messages
	column  string // staging column holding the keys
	parent  string // table of the records that own the list
	link    string // table of the list's rows
	owner   string // link column naming the parent
	target  string // link column naming the referenced record
	targets string // table of the referenced records, which have a key
}

// current aggregates the list of the parent with id idExpr the way it is
// staged: a JSON array of keys in position order. It runs once per staged
// record, so each key is looked up by primary key: a join here would let
// the planner, with statistics that predate the import, hash the whole
// referenced table once per record.
func (l linkList) current(idExpr string) string {
	return `(SELECT coalesce(jsonb_agg((SELECT x.key FROM ` + l.targets + ` x WHERE x.id = k.` + l.target + `)
		ORDER BY k.position), '[]') FROM ` + l.link + ` k WHERE k.` + l.owner + ` = ` + idExpr + `)`
}

// replace rewrites the lists of staged parents whose list differs from the
// staged one. A key that resolves to nothing leaves the target NULL, which
// the NOT NULL column refuses, rather than dropping a reference silently.
func (l linkList) replace(ctx context.Context, tx pgx.Tx) error {
	return replaceChildren(ctx, tx, l.what, `SELECT p.id FROM import_stage s
			JOIN `+l.parent+` p ON p.source = s.source AND p.external_id = s.external_id
			WHERE s.`+l.column+` IS DISTINCT FROM `+l.current("p.id"),
		`DELETE FROM `+l.link+` WHERE `+l.owner+` = ANY($1)`,
		`INSERT INTO `+l.link+` (`+l.owner+`, position, `+l.target+`)
			SELECT p.id, e.n, x.id FROM import_stage s
			JOIN `+l.parent+` p ON p.source = s.source AND p.external_id = s.external_id
			CROSS JOIN jsonb_array_elements_text(s.`+l.column+`) WITH ORDINALITY AS e(key, n)
			LEFT JOIN `+l.targets+` x ON x.key = e.key
			WHERE p.id = ANY($1)`)
}

// replaceChildren finds the parents whose children changed with changed
// (a query of parent ids), deletes their children with del and writes the
// staged ones with the inserts, each taking the parent ids as $1. Parents
// whose children are unchanged are not touched.
func replaceChildren(ctx context.Context, tx pgx.Tx, what, changed, del string, inserts ...string) error {
	rows, err := tx.Query(ctx, changed)
	if err != nil {
		return fmt.Errorf("compare %s: %w", what, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("compare %s: %w", what, err)
	}
	if len(ids) == 0 {
		return nil
	}
	for _, q := range append([]string{del}, inserts...) {
		if _, err := tx.Exec(ctx, q, ids); err != nil {
			return fmt.Errorf("replace %s: %w", what, postgres.Translate(err))
		}
	}
	return nil
}
