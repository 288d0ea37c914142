package itsm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/importer"
)

// ITSM records import on (source, external_id). Affected CIs are staged as
// text[] columns of CI keys; the checks name unknown keys, and the After
// hooks write only the link rows that differ, so importing a file twice
// writes nothing. The generated columns (incidents.status,
// changes.implemented_at) follow from the timestamps written.

// IncidentRow is one row of an incident import: the API's IncidentInput
// plus the columns only exports carry.
type IncidentRow struct {
	IncidentInput
	// Problem names the incident's problem by its external_id in the same
	// source (ServiceNow's problem_id column holds PRB0040012), or by its
	// bcdr id when it is a whole number that no external_id matches.
	Problem string `json:"problem"`
	// ResolvedAt is taken as restored_at when restored_at is blank, so an
	// export carrying both ServiceNow's u_restored_at and resolved_at reads
	// the better one.
	ResolvedAt *time.Time `json:"resolved_at"`
	// CloseCode gives the cause when the category names none.
	CloseCode string `json:"close_code"`
	// Impact and Urgency give the priority when the priority is blank, by
	// ServiceNow's default matrix.
	Impact  string `json:"impact"`
	Urgency string `json:"urgency"`
}

// UnmarshalJSON decodes a JSON line strictly: the export-only fields, then
// the rest as an IncidentInput.
func (r *IncidentRow) UnmarshalJSON(b []byte) error {
	return decodeRow(b, &r.IncidentInput, map[string]any{
		"problem": &r.Problem, "resolved_at": &r.ResolvedAt, "close_code": &r.CloseCode, "impact": &r.Impact, "urgency": &r.Urgency})
}

// IncidentImport imports incidents. CSV columns are the JSON field names,
// or those of ServiceNow (incident) and iTop (UserRequest, Incident)
// exports listed in docs/import.md.
func IncidentImport() *importer.Spec[IncidentRow] {
	return &importer.Spec[IncidentRow]{
		Type:     "incidents",
		Aliases:  incidentAliases,
		Required: []string{"external_id", "title", "opened_at"},
		Resolve: func(ctx context.Context, tx pgx.Tx) ([]importer.Problem, error) {
			return nil, cmdb.ResolveStaged(ctx, tx, stagedCIs, stagedServices)
		},
		Validate: func(r *IncidentRow) error {
			in := &r.IncidentInput
			in.Normalize("")
			if in.Priority == "" {
				in.Priority = priorityFrom(r.Impact, r.Urgency)
			}
			in.Priority = importedPriority(in.Priority)
			in.Cause = importedCause(in.Cause, r.CloseCode)
			in.AffectedCIs = importedKeys(in.AffectedCIs)
			in.AffectedServices = importedKeys(in.AffectedServices)
			if in.RestoredAt == nil {
				in.RestoredAt = r.ResolvedAt
			}
			r.Problem = trimmed(r.Problem)
			if err := requireExternalID(in.ExternalID); err != nil {
				return err
			}
			if err := in.Validate(); err != nil {
				return err
			}
			var v orchestrator.Validation
			checkText(&v, "problem", r.Problem, maxExternalID, false, false)
			return v.Err()
		},
		Stage: []importer.Column{
			{Name: "source", Type: "text"}, {Name: "external_id", Type: "text"}, {Name: "title", Type: "text"},
			{Name: "description", Type: "text"}, {Name: "priority", Type: "text"}, {Name: "major", Type: "boolean"},
			{Name: "cause", Type: "text"}, {Name: "cis", Type: "text[]"}, {Name: "services", Type: "text[]"},
			{Name: "opened_at", Type: "timestamptz"}, {Name: "restored_at", Type: "timestamptz"},
			{Name: "closed_at", Type: "timestamptz"}, {Name: "problem_id", Type: "bigint"}, {Name: "problem_ref", Type: "text"},
			{Name: "continuity_invoked", Type: "boolean"},
		},
		Values: func(r *IncidentRow, source string) []any {
			in := &r.IncidentInput
			defaultTo(&in.Source, source)
			return []any{in.Source, in.ExternalID, in.Title, in.Description, in.Priority, in.Major, in.Cause,
				in.AffectedCIs, in.AffectedServices, in.OpenedAt, in.RestoredAt, in.ClosedAt, in.ProblemID,
				nullIfBlank(r.Problem), in.ContinuityInvoked}
		},
		Identity: []string{"source", "external_id"},
		Check: cmdb.AmbiguousCheck(stagedCIs, "affected_cis") + ` UNION ALL ` + cmdb.AmbiguousCheck(stagedServices, "affected_services") + `
			UNION ALL ` + unknownKeys("cis", "affected_cis") + ` UNION ALL ` + unknownKeys("services", "affected_services") + `
			UNION ALL
			SELECT s.row_no, 'affected_services', 'not business services (class business_service): ' || ` + keyList("k.key") + `
				FROM import_stage s CROSS JOIN LATERAL unnest(s.services) AS k (key) JOIN cis c ON c.key = k.key
				WHERE c.class <> '` + classBusinessService + `'
				GROUP BY s.row_no
			UNION ALL
			SELECT s.row_no, 'problem', format('no problem has external_id %s in source %s, nor that id', to_json(s.problem_ref), to_json(s.source))
				FROM import_stage s
				WHERE s.problem_ref IS NOT NULL
					AND NOT EXISTS (SELECT 1 FROM problems p WHERE p.source = s.source AND p.external_id = s.problem_ref)
					AND NOT EXISTS (SELECT 1 FROM problems p WHERE p.id = ` + problemNumber + `)
			UNION ALL
			SELECT s.row_no, 'problem_id', format('problem %s does not exist', s.problem_id)
				FROM import_stage s
				WHERE s.problem_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM problems p WHERE p.id = s.problem_id)`,
		// Only new rows and rows whose values or links differ are written, so
		// unchanged records are neither rewritten nor locked. New records are
		// inserted outright rather than through ON CONFLICT, whose
		// speculative insertion costs a third of a million-row load: imports
		// of incidents take turns, so none can appear in between.
		Merge: `WITH inserted AS (
				INSERT INTO incidents (source, external_id, title, description, priority, major, cause,
					opened_at, restored_at, closed_at, problem_id, continuity_invoked)
				SELECT s.source, s.external_id, s.title, s.description, s.priority, s.major, s.cause,
					s.opened_at, s.restored_at, s.closed_at, s.problem, s.continuity_invoked
				FROM ` + stagedIncidents + ` s
				WHERE NOT EXISTS (SELECT 1 FROM incidents o WHERE o.source = s.source AND o.external_id = s.external_id)
				RETURNING true
			), updated AS (
				UPDATE incidents i SET title = s.title, description = s.description, priority = s.priority,
					major = s.major, cause = s.cause, opened_at = s.opened_at, restored_at = s.restored_at,
					closed_at = s.closed_at, problem_id = s.problem, continuity_invoked = s.continuity_invoked,
					updated_at = now()
				FROM ` + stagedIncidents + ` s
				WHERE i.source = s.source AND i.external_id = s.external_id
					AND ((i.title, i.description, i.priority, i.major, i.cause, i.opened_at, i.restored_at, i.closed_at,
							i.problem_id, i.continuity_invoked)
						IS DISTINCT FROM (s.title, s.description, s.priority, s.major, s.cause, s.opened_at, s.restored_at,
							s.closed_at, s.problem, s.continuity_invoked)
						OR ` + linksDiffer(incidentCIs, "s.cis", "i.id") + `
						OR ` + linksDiffer(incidentServices, "s.services", "i.id") + `)
				RETURNING false
			)
			SELECT * FROM inserted UNION ALL SELECT * FROM updated`,
		After: func(ctx context.Context, tx pgx.Tx) error {
			return syncLinks(ctx, tx, "incidents", stagedLink{incidentCIs, "cis"}, stagedLink{incidentServices, "services"})
		},
		Bulk: []string{"incidents", incidentCIs.table, incidentServices.table},
	}
}

// incidentAliases maps the CSV headers of ServiceNow (incident) and iTop
// (UserRequest, Incident, with field codes) exports to IncidentRow's fields.
var incidentAliases = map[string]string{
	// ServiceNow incident
	"number": "external_id", "short_description": "title", "cmdb_ci": "affected_cis",
	"business_service": "affected_services", "service": "affected_services", "u_restored_at": "restored_at",
	"category": "cause", "major_incident": "major", "u_major_incident": "major", "problem_id": "problem",
	// iTop UserRequest / Incident
	"ref": "external_id", "start_date": "opened_at", "resolution_date": "restored_at", "close_date": "closed_at",
	"functionalcis_list": "affected_cis", "service_id": "affected_services",
	// GLPI tickets (English labels)
	"id": "?external_id", "opening date": "opened_at", "resolution date": "restored_at", "closing date": "closed_at",
	"associated elements": "affected_cis", "items": "affected_cis",
	// plain words
	"cause_category": "cause", "cis": "affected_cis", "services": "affected_services",
}

// The staged columns naming CIs: by key, sys_id or display name.
var (
	stagedCIs      = cmdb.StagedRef{Column: "cis", Kind: cmdb.RefArray}
	stagedServices = cmdb.StagedRef{Column: "services", Kind: cmdb.RefArray}
)

// resolveCIs resolves the staged CI names of a record type with affected
// CIs only.
func resolveCIs(ctx context.Context, tx pgx.Tx) ([]importer.Problem, error) {
	return nil, cmdb.ResolveStaged(ctx, tx, stagedCIs)
}

// stagedIncidents is the staging table with each row's problem reference
// resolved: a problem of the same source with that external_id, else the
// bcdr problem with that number, else the problem_id column.
const stagedIncidents = `(SELECT s.*, coalesce(pe.id, pn.id, s.problem_id) AS problem
	FROM import_stage s
		LEFT JOIN problems pe ON pe.source = s.source AND pe.external_id = s.problem_ref
		LEFT JOIN problems pn ON pn.id = ` + problemNumber + `)`

// problemNumber is a staged problem reference read as a bcdr problem id, or
// NULL when it is not a whole number (CASE keeps the cast from failing).
const problemNumber = `CASE WHEN s.problem_ref ~ '^[0-9]{1,18}$' THEN s.problem_ref::bigint END`

// requireExternalID refuses a blank external_id: an imported record is
// matched on it the next time the file (or a later export) is imported.
func requireExternalID(id string) error {
	if id != "" {
		return nil
	}
	var v orchestrator.Validation
	v.Add("external_id", "is required in imports: the record's id in the source system, so a later import updates it")
	return v.Err()
}

// unknownKeys is a check query naming, per staged row, the keys of the
// text[] stage column col that no CI has, reported against field.
func unknownKeys(col, field string) string {
	return `SELECT s.row_no, '` + field + `', 'no CI has ' || CASE WHEN count(DISTINCT k.key) = 1 THEN 'key ' ELSE 'keys ' END || ` + keyList("k.key") + `
		FROM import_stage s CROSS JOIN LATERAL unnest(s.` + col + `) AS k (key)
		WHERE NOT EXISTS (SELECT 1 FROM cis c WHERE c.key = k.key)
		GROUP BY s.row_no`
}

// keyList is an aggregate expression listing the distinct values of expr,
// JSON-quoted so hostile text stays inert, at most maxNamed of them.
func keyList(expr string) string {
	return fmt.Sprintf(`array_to_string((array_agg(DISTINCT to_json(%[1]s)::text))[1:%[2]d], ', ')
		|| CASE WHEN count(DISTINCT %[1]s) > %[2]d THEN format(' and %%s more', count(DISTINCT %[1]s) - %[2]d) ELSE '' END`, expr, maxNamed)
}

// linksDiffer is a condition true when the CI keys of the staged text[]
// expression keys are not exactly the linked CIs of record owner.
func linksDiffer(l link, keys, owner string) string {
	return `ARRAY(SELECT k FROM unnest(` + keys + `) AS k ORDER BY k) IS DISTINCT FROM ARRAY(SELECT lc.key FROM ` + l.table +
		` ln JOIN cis lc ON lc.id = ln.` + l.ci + ` WHERE ln.` + l.owner + ` = ` + owner + ` ORDER BY lc.key)`
}

// stagedLink is a link table filled from a text[] column of CI keys.
type stagedLink struct {
	link
	col string
}

// syncLinks makes the links of every record this import wrote exactly the
// CIs its row names, deleting and inserting only the link rows that differ.
// Records it left alone already have those links: the merges write every
// record whose links differ. The written records' rows carry this
// transaction's id and stay locked by it until commit, so no other writer
// changes their links in between and the inserts need no ON CONFLICT.
// The wanted links go to an analysed temporary table first: planned
// against a link table that is empty when the statement starts, an
// anti-join would rescan the rows the statement itself adds.
func syncLinks(ctx context.Context, tx pgx.Tx, table string, links ...stagedLink) error {
	stmts := []string{
		`CREATE TEMP TABLE import_owner ON COMMIT DROP AS
			SELECT s.row_no, r.id FROM import_stage s JOIN ` + table + ` r ON r.source = s.source AND r.external_id = s.external_id
			WHERE r.xmin = pg_current_xact_id()::xid`,
		`ANALYZE import_owner`,
	}
	for _, l := range links {
		stmts = append(stmts,
			// Keys are unique within a row (importedKeys), so import_link holds no duplicates.
			`CREATE TEMP TABLE import_link ON COMMIT DROP AS
				SELECT o.id AS owner, c.id AS ci
				FROM import_stage s JOIN import_owner o ON o.row_no = s.row_no
					CROSS JOIN LATERAL unnest(s.`+l.col+`) AS k (key) JOIN cis c ON c.key = k.key`,
			`ANALYZE import_link`,
			`DELETE FROM `+l.table+` l USING import_owner o
				WHERE l.`+l.owner+` = o.id
					AND NOT EXISTS (SELECT 1 FROM import_link w WHERE w.owner = l.`+l.owner+` AND w.ci = l.`+l.ci+`)`,
			`INSERT INTO `+l.table+` (`+l.owner+`, `+l.ci+`) SELECT w.owner, w.ci FROM import_link w
				WHERE NOT EXISTS (SELECT 1 FROM `+l.table+` l WHERE l.`+l.owner+` = w.owner AND l.`+l.ci+` = w.ci)
				ORDER BY w.owner, w.ci`,
			`DROP TABLE import_link`)
	}
	for _, stmt := range stmts {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("link imported %s: %w", table, err)
		}
	}
	return nil
}

// decodeRow decodes one JSON line into an import row: the export-only
// fields named in extra are taken out and decoded into their pointers, the
// rest goes to input's strict decoder.
func decodeRow(b []byte, input json.Unmarshaler, extra map[string]any) error {
	present := false
	for name := range extra {
		if bytes.Contains(b, []byte(`"`+name+`"`)) {
			present = true
		}
	}
	var fields map[string]json.RawMessage
	if !present || !utf8.Valid(b) || json.Unmarshal(b, &fields) != nil {
		return input.UnmarshalJSON(b)
	}
	names := make([]string, 0, len(extra))
	for name := range extra {
		names = append(names, name)
	}
	slices.Sort(names)
	var v orchestrator.Validation
	for _, name := range names {
		raw, ok := fields[name]
		if !ok {
			continue
		}
		delete(fields, name)
		if err := json.Unmarshal(raw, extra[name]); err != nil {
			v.Add(name, "must be %s", extraKind(extra[name]))
		}
	}
	if err := v.Err(); err != nil {
		return err
	}
	rest, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	return input.UnmarshalJSON(rest)
}

func extraKind(dst any) string {
	if _, ok := dst.(**time.Time); ok {
		return "an RFC 3339 time such as 2026-01-31T09:00:00Z"
	}
	return "a string"
}

// nullIfBlank stages a blank optional reference as NULL.
func nullIfBlank(s string) any {
	if s == "" {
		return nil
	}
	return s
}
