package directory

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/importer"
)

// SLARow is one row of an SLA import: the fields of SLAInput, with the
// days as text. The importer reads a CSV cell of a struct type such as Date
// as JSON, which would refuse a bare 2026-01-31, so the days are parsed
// here; embedding SLAInput instead would put its type name into the field
// names of JSON errors.
type SLARow struct {
	Service            string            `json:"service"`
	Name               string            `json:"name"`
	Period             string            `json:"period"`
	AvailabilityTarget float64           `json:"availability_target"`
	MeasuredIn         string            `json:"measured_in"`
	Targets            map[string]Target `json:"targets"`
	ValidFrom          string            `json:"valid_from"`
	ValidTo            string            `json:"valid_to"`
	Source             string            `json:"source"`
	ExternalID         string            `json:"external_id"`

	input SLAInput // the row as Validate read it
}

// stagedTarget is a priority's targets as they are staged and as targetsOf
// aggregates the stored ones.
type stagedTarget struct {
	ResponseS   int64 `json:"response_s"`
	ResolutionS int64 `json:"resolution_s"`
}

// SLAImport imports SLAs. The service must be a business_service CI; the
// targets column holds JSON keyed by priority, e.g.
// {"P1":{"response":"15m","resolution":"4h"}}. An SLA without external_id
// is identified by its service, name and valid_from.
func SLAImport() *importer.Spec[SLARow] {
	return &importer.Spec[SLARow]{
		Type: "slas",
		Aliases: map[string]string{
			"sys_id": "external_id", "business_service": "service", "sla": "name", "sla_name": "name",
			"availability": "availability_target", "target_availability": "availability_target",
			"measured": "measured_in", "start": "valid_from", "start_date": "valid_from", "valid from": "valid_from",
			"end": "valid_to", "end_date": "valid_to", "valid to": "valid_to", "priority_targets": "targets",
		},
		Required: []string{"service", "name", "period", "availability_target", "measured_in", "valid_from"},
		Validate: func(row *SLARow) error {
			if err := row.read(); err != nil {
				return err
			}
			row.input.Normalize("")
			return row.input.Validate()
		},
		Stage: []importer.Column{
			{Name: "service", Type: "text"}, {Name: "name", Type: "text"}, {Name: "period", Type: "text"},
			{Name: "availability_target", Type: "double precision"}, {Name: "measured_in", Type: "text"},
			{Name: "valid_from", Type: "date"}, {Name: "valid_to", Type: "date"}, {Name: "source", Type: "text"},
			{Name: "external_id", Type: "text"}, {Name: "targets", Type: "jsonb"},
		},
		Values: func(row *SLARow, source string) []any {
			in := &row.input
			if in.Source == "" {
				in.Source = source
			}
			targets := make(map[string]stagedTarget, len(in.Targets))
			for p, t := range in.Targets {
				targets[p] = stagedTarget{ResponseS: t.Response.Seconds(), ResolutionS: t.Resolution.Seconds()}
			}
			return []any{in.Service, in.Name, in.Period, in.AvailabilityTarget, in.MeasuredIn, in.ValidFrom.Time(),
				sqlDate(in.ValidTo), in.Source, in.ExternalID, targets}
		},
		Identity: []string{"source", "external_id"},
		Resolve: func(ctx context.Context, tx pgx.Tx) ([]importer.Problem, error) {
			return nil, cmdb.ResolveStaged(ctx, tx, cmdb.StagedRef{Column: "service", Kind: cmdb.RefText})
		},
		Check: cmdb.AmbiguousCheck(cmdb.StagedRef{Column: "service", Kind: cmdb.RefText}, "service") + `
			UNION ALL
			SELECT s.row_no, 'service', format('no CI with key %s', to_json(s.service))
				FROM import_stage s WHERE NOT EXISTS (SELECT 1 FROM cis c WHERE c.key = s.service)
			UNION ALL
			SELECT s.row_no, 'service', format('CI %s is a %s, not a business_service', to_json(s.service), c.class)
				FROM import_stage s JOIN cis c ON c.key = s.service WHERE c.class <> 'business_service'
			UNION ALL
			SELECT row_no, 'name', 'duplicates the SLA of row ' || first_row || ' of this file (same service, name and valid_from)'
				FROM (SELECT row_no, min(row_no) OVER (PARTITION BY service, name, valid_from) AS first_row FROM import_stage) d
				WHERE row_no <> first_row
			UNION ALL
			SELECT s.row_no, 'name', format('service %s already has the SLA %s from %s, with source %s and external_id %s',
					s.service, to_json(s.name), s.valid_from, l.source, l.external_id)
				FROM import_stage s JOIN cis c ON c.key = s.service
				JOIN slas l ON l.service_id = c.id AND l.name = s.name AND l.valid_from = s.valid_from
				WHERE (l.source, l.external_id) IS DISTINCT FROM (s.source, s.external_id)`,
		Merge: `INSERT INTO slas AS l (service_id, name, period, availability_target, measured_in, valid_from, valid_to,
				source, external_id)
			SELECT c.id, s.name, s.period, s.availability_target, s.measured_in, s.valid_from, s.valid_to,
				s.source, s.external_id
			FROM import_stage s JOIN cis c ON c.key = s.service
			LEFT JOIN slas o ON o.source = s.source AND o.external_id = s.external_id
			WHERE o.id IS NULL
				OR (o.service_id, o.name, o.period, o.availability_target, o.measured_in, o.valid_from, o.valid_to)
					IS DISTINCT FROM (c.id, s.name, s.period, s.availability_target, s.measured_in, s.valid_from, s.valid_to)
				OR s.targets IS DISTINCT FROM ` + targetsOf("o.id") + `
			ORDER BY s.row_no
			ON CONFLICT (source, external_id) DO UPDATE SET service_id = EXCLUDED.service_id, name = EXCLUDED.name,
				period = EXCLUDED.period, availability_target = EXCLUDED.availability_target,
				measured_in = EXCLUDED.measured_in, valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to,
				updated_at = now()
			RETURNING (xmax = 0)`,
		After: replaceTargets,
	}
}

// read converts the row to an SLAInput; a blank valid_from is left for
// Validate to report as required.
func (r *SLARow) read() error {
	r.input = SLAInput{Service: r.Service, Name: r.Name, Period: r.Period, AvailabilityTarget: r.AvailabilityTarget,
		MeasuredIn: r.MeasuredIn, Targets: r.Targets, Source: r.Source, ExternalID: r.ExternalID}
	var v orchestrator.Validation
	if from := strings.TrimSpace(r.ValidFrom); from != "" {
		d, err := ParseDate(from)
		if err != nil {
			v.Add("valid_from", "must be a day such as 2026-01-31")
		}
		r.input.ValidFrom = d
	}
	if to := strings.TrimSpace(r.ValidTo); to != "" {
		d, err := ParseDate(to)
		if err != nil {
			v.Add("valid_to", "must be a day such as 2026-12-31")
		}
		r.input.ValidTo = &d
	}
	return v.Err()
}

// targetsOf aggregates the targets of the SLA with id idExpr the way they
// are staged.
func targetsOf(idExpr string) string {
	return `(SELECT coalesce(jsonb_object_agg(t.priority, jsonb_build_object('response_s', t.response_s,
			'resolution_s', t.resolution_s)), '{}')
		FROM sla_targets t WHERE t.sla_id = ` + idExpr + `)`
}

// replaceTargets rewrites the targets of staged SLAs whose targets changed.
func replaceTargets(ctx context.Context, tx pgx.Tx) error {
	return replaceChildren(ctx, tx, "SLA targets", `SELECT l.id FROM import_stage s
			JOIN slas l ON l.source = s.source AND l.external_id = s.external_id
			WHERE s.targets IS DISTINCT FROM `+targetsOf("l.id"),
		`DELETE FROM sla_targets WHERE sla_id = ANY($1)`,
		`INSERT INTO sla_targets (sla_id, priority, response_s, resolution_s)
			SELECT l.id, t.key, (t.value->>'response_s')::bigint, (t.value->>'resolution_s')::bigint
			FROM import_stage s JOIN slas l ON l.source = s.source AND l.external_id = s.external_id
			CROSS JOIN jsonb_each(s.targets) AS t
			WHERE l.id = ANY($1)`)
}
