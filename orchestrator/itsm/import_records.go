package itsm

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/importer"
)

// ProblemImport imports problems. incident_ids, when given, makes the
// problem's incidents exactly that list (bcdr incident ids), as on the API;
// a blank cell leaves the links alone. Incidents usually name their problem
// instead (the incident import's problem column).
func ProblemImport() *importer.Spec[ProblemInput] {
	return &importer.Spec[ProblemInput]{
		Type: "problems",
		Aliases: map[string]string{
			// ServiceNow problem
			"number": "external_id", "short_description": "title", "cause_notes": "root_cause", "state": "status",
			"fix_notes": "workaround",
			// iTop Problem
			"ref": "external_id", "start_date": "opened_at", "resolution_date": "resolved_at",
			// plain words
			"incidents": "incident_ids",
		},
		Required: []string{"external_id", "title", "opened_at"},
		Validate: func(in *ProblemInput) error {
			in.Status = importedProblemStatus(in.Status)
			if in.Status == "known_error" {
				in.KnownError = true
			}
			in.Normalize("")
			if err := requireExternalID(in.ExternalID); err != nil {
				return err
			}
			return in.Validate()
		},
		Stage: []importer.Column{
			{Name: "source", Type: "text"}, {Name: "external_id", Type: "text"}, {Name: "title", Type: "text"},
			{Name: "root_cause", Type: "text"}, {Name: "known_error", Type: "boolean"}, {Name: "workaround", Type: "text"},
			{Name: "status", Type: "text"}, {Name: "opened_at", Type: "timestamptz"}, {Name: "resolved_at", Type: "timestamptz"},
			{Name: "incident_ids", Type: "bigint[]"},
		},
		Values: func(in *ProblemInput, source string) []any {
			defaultTo(&in.Source, source)
			return []any{in.Source, in.ExternalID, in.Title, in.RootCause, in.KnownError, in.Workaround, in.Status,
				in.OpenedAt, in.ResolvedAt, in.IncidentIDs}
		},
		Identity: []string{"source", "external_id"},
		Check: `SELECT s.row_no, 'incident_ids', 'unknown incidents: ' || string_agg(DISTINCT k.id::text, ', ')
				FROM import_stage s CROSS JOIN LATERAL unnest(s.incident_ids) AS k (id)
				WHERE NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = k.id)
				GROUP BY s.row_no
			UNION ALL
			SELECT row_no, 'incident_ids', format('incident %s is also listed by row %s of this file', id, first_row)
				FROM (SELECT s.row_no, k.id, min(s.row_no) OVER (PARTITION BY k.id) AS first_row
					FROM import_stage s CROSS JOIN LATERAL unnest(s.incident_ids) AS k (id)) d
				WHERE row_no <> first_row`,
		Merge: `INSERT INTO problems AS p (source, external_id, title, root_cause, known_error, workaround, status, opened_at, resolved_at)
			SELECT s.source, s.external_id, s.title, s.root_cause, s.known_error, s.workaround, s.status, s.opened_at, s.resolved_at
			FROM import_stage s LEFT JOIN problems o ON o.source = s.source AND o.external_id = s.external_id
			WHERE o.id IS NULL
				OR (o.title, o.root_cause, o.known_error, o.workaround, o.status, o.opened_at, o.resolved_at)
					IS DISTINCT FROM (s.title, s.root_cause, s.known_error, s.workaround, s.status, s.opened_at, s.resolved_at)
				OR s.incident_ids IS NOT NULL AND ARRAY(SELECT DISTINCT k FROM unnest(s.incident_ids) AS k ORDER BY k)
					IS DISTINCT FROM ARRAY(SELECT i.id FROM incidents i WHERE i.problem_id = o.id ORDER BY i.id)
			ON CONFLICT (source, external_id) DO UPDATE SET title = EXCLUDED.title, root_cause = EXCLUDED.root_cause,
				known_error = EXCLUDED.known_error, workaround = EXCLUDED.workaround, status = EXCLUDED.status,
				opened_at = EXCLUDED.opened_at, resolved_at = EXCLUDED.resolved_at, updated_at = now()
			RETURNING (xmax = 0)`,
		After: linkProblemIncidents,
		Bulk:  []string{"problems"},
	}
}

// linkProblemIncidents applies the incident_ids of staged problems that
// carry a list, touching only incidents whose problem changes.
func linkProblemIncidents(ctx context.Context, tx pgx.Tx) error {
	const unlink = `UPDATE incidents i SET problem_id = NULL, updated_at = now()
		FROM import_stage s JOIN problems p ON p.source = s.source AND p.external_id = s.external_id
		WHERE s.incident_ids IS NOT NULL AND i.problem_id = p.id AND i.id <> ALL (s.incident_ids)`
	const link = `UPDATE incidents i SET problem_id = p.id, updated_at = now()
		FROM import_stage s JOIN problems p ON p.source = s.source AND p.external_id = s.external_id
			CROSS JOIN LATERAL unnest(s.incident_ids) AS k (id)
		WHERE i.id = k.id AND i.problem_id IS DISTINCT FROM p.id`
	for _, stmt := range []string{unlink, link} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("link problems to incidents: %w", err)
		}
	}
	return nil
}

// ChangeRow is one row of a change import: the API's ChangeInput plus
// ServiceNow's close code, which tells a failed change from a done one.
type ChangeRow struct {
	ChangeInput
	CloseCode string `json:"close_code"`
}

// UnmarshalJSON decodes a JSON line strictly.
func (r *ChangeRow) UnmarshalJSON(b []byte) error {
	return decodeRow(b, &r.ChangeInput, map[string]any{"close_code": &r.CloseCode})
}

// ChangeImport imports changes. CSV columns are the JSON field names, or
// those of ServiceNow (change_request) and iTop change exports listed in
// docs/import.md. The status is taken as exported: the source system owns
// the change lifecycle, so an import may move a change any way.
func ChangeImport() *importer.Spec[ChangeRow] {
	return &importer.Spec[ChangeRow]{
		Type: "changes",
		Aliases: map[string]string{
			// ServiceNow change_request
			"number": "external_id", "short_description": "title", "state": "status", "cmdb_ci": "affected_cis",
			"start_date": "planned_start", "end_date": "planned_end", "work_start": "actual_start", "work_end": "actual_end",
			// iTop Change
			"ref": "external_id", "finalclass": "type", "functionalcis_list": "affected_cis",
			// plain words
			"cis": "affected_cis", "change_type": "type",
		},
		Required: []string{"external_id", "title"},
		Resolve:  resolveCIs,
		Validate: func(r *ChangeRow) error {
			in := &r.ChangeInput
			in.Type = importedChangeType(in.Type)
			in.Risk = importedRisk(in.Risk)
			in.Status = importedChangeStatus(in.Status, r.CloseCode, in.ActualStart != nil)
			in.Normalize("")
			in.AffectedCIs = importedKeys(in.AffectedCIs)
			// Exports often leave the actual start of a done change blank; its
			// planned start is then the best time it took effect.
			if in.ActualStart == nil && (in.ActualEnd != nil || slices.Contains(changeDone, in.Status)) {
				in.ActualStart = in.PlannedStart
			}
			if err := requireExternalID(in.ExternalID); err != nil {
				return err
			}
			return in.Validate()
		},
		Stage: []importer.Column{
			{Name: "source", Type: "text"}, {Name: "external_id", Type: "text"}, {Name: "title", Type: "text"},
			{Name: "type", Type: "text"}, {Name: "risk", Type: "text"}, {Name: "major", Type: "boolean"},
			{Name: "status", Type: "text"}, {Name: "cis", Type: "text[]"}, {Name: "planned_start", Type: "timestamptz"},
			{Name: "planned_end", Type: "timestamptz"}, {Name: "actual_start", Type: "timestamptz"},
			{Name: "actual_end", Type: "timestamptz"},
		},
		Values: func(r *ChangeRow, source string) []any {
			in := &r.ChangeInput
			defaultTo(&in.Source, source)
			return []any{in.Source, in.ExternalID, in.Title, in.Type, in.Risk, in.Major, in.Status, in.AffectedCIs,
				in.PlannedStart, in.PlannedEnd, in.ActualStart, in.ActualEnd}
		},
		Identity: []string{"source", "external_id"},
		Check:    cmdb.AmbiguousCheck(stagedCIs, "affected_cis") + ` UNION ALL ` + unknownKeys("cis", "affected_cis"),
		Merge: `INSERT INTO changes AS c (source, external_id, title, type, risk, major, status,
				planned_start, planned_end, actual_start, actual_end)
			SELECT s.source, s.external_id, s.title, s.type, s.risk, s.major, s.status, s.planned_start, s.planned_end,
				s.actual_start, s.actual_end
			FROM import_stage s LEFT JOIN changes o ON o.source = s.source AND o.external_id = s.external_id
			WHERE o.id IS NULL
				OR (o.title, o.type, o.risk, o.major, o.status, o.planned_start, o.planned_end, o.actual_start, o.actual_end)
					IS DISTINCT FROM (s.title, s.type, s.risk, s.major, s.status, s.planned_start, s.planned_end,
						s.actual_start, s.actual_end)
				OR ` + linksDiffer(changeCIs, "s.cis", "o.id") + `
			ON CONFLICT (source, external_id) DO UPDATE SET title = EXCLUDED.title, type = EXCLUDED.type, risk = EXCLUDED.risk,
				major = EXCLUDED.major, status = EXCLUDED.status, planned_start = EXCLUDED.planned_start,
				planned_end = EXCLUDED.planned_end, actual_start = EXCLUDED.actual_start, actual_end = EXCLUDED.actual_end,
				updated_at = now()
			RETURNING (xmax = 0)`,
		After: func(ctx context.Context, tx pgx.Tx) error {
			return syncLinks(ctx, tx, "changes", stagedLink{changeCIs, "cis"})
		},
		Bulk: []string{"changes", changeCIs.table},
	}
}

// ReleaseImport imports releases.
func ReleaseImport() *importer.Spec[ReleaseInput] {
	return &importer.Spec[ReleaseInput]{
		Type: "releases",
		Aliases: map[string]string{
			// ServiceNow rm_release
			"number": "external_id", "short_description": "title", "cmdb_ci": "affected_cis",
			// plain words
			"cis": "affected_cis", "release": "version",
		},
		Required: []string{"external_id", "version"},
		Resolve:  resolveCIs,
		Validate: func(in *ReleaseInput) error {
			in.Normalize("")
			in.AffectedCIs = importedKeys(in.AffectedCIs)
			if err := requireExternalID(in.ExternalID); err != nil {
				return err
			}
			return in.Validate()
		},
		Stage: []importer.Column{
			{Name: "source", Type: "text"}, {Name: "external_id", Type: "text"}, {Name: "version", Type: "text"},
			{Name: "title", Type: "text"}, {Name: "status", Type: "text"}, {Name: "cis", Type: "text[]"},
			{Name: "deployed_at", Type: "timestamptz"},
		},
		Values: func(in *ReleaseInput, source string) []any {
			defaultTo(&in.Source, source)
			return []any{in.Source, in.ExternalID, in.Version, in.Title, in.Status, in.AffectedCIs, in.DeployedAt}
		},
		Identity: []string{"source", "external_id"},
		Check:    cmdb.AmbiguousCheck(stagedCIs, "affected_cis") + ` UNION ALL ` + unknownKeys("cis", "affected_cis"),
		Merge: `INSERT INTO releases AS r (source, external_id, version, title, status, deployed_at)
			SELECT s.source, s.external_id, s.version, s.title, s.status, s.deployed_at
			FROM import_stage s LEFT JOIN releases o ON o.source = s.source AND o.external_id = s.external_id
			WHERE o.id IS NULL
				OR (o.version, o.title, o.status, o.deployed_at) IS DISTINCT FROM (s.version, s.title, s.status, s.deployed_at)
				OR ` + linksDiffer(releaseCIs, "s.cis", "o.id") + `
			ON CONFLICT (source, external_id) DO UPDATE SET version = EXCLUDED.version, title = EXCLUDED.title,
				status = EXCLUDED.status, deployed_at = EXCLUDED.deployed_at, updated_at = now()
			RETURNING (xmax = 0)`,
		After: func(ctx context.Context, tx pgx.Tx) error {
			return syncLinks(ctx, tx, "releases", stagedLink{releaseCIs, "cis"})
		},
		Bulk: []string{"releases", releaseCIs.table},
	}
}
