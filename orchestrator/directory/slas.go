package directory

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// SLA periods, measurement bases and priorities.
var (
	Periods    = []string{"month", "quarter", "year"}
	MeasuredIn = []string{"business_hours", "24x7"}
	Priorities = []string{"P1", "P2", "P3", "P4"}
)

// SLA is a service level agreement of a business service: an availability
// target per period, measured in business hours or around the clock, and
// response and resolution targets per incident priority.
type SLA struct {
	ID                 int64             `json:"id"`
	Service            string            `json:"service"`
	Name               string            `json:"name"`
	Period             string            `json:"period"`
	AvailabilityTarget float64           `json:"availability_target"`
	MeasuredIn         string            `json:"measured_in"`
	Targets            map[string]Target `json:"targets"`
	ValidFrom          Date              `json:"valid_from"`
	ValidTo            *Date             `json:"valid_to"`
	Source             string            `json:"source"`
	ExternalID         string            `json:"external_id"`
	CreatedAt          time.Time         `json:"created_at"`
	UpdatedAt          time.Time         `json:"updated_at"`
}

// Target is the response and resolution time promised for one priority.
type Target struct {
	Response   orchestrator.Duration `json:"response"`
	Resolution orchestrator.Duration `json:"resolution"`
}

// SLAInput is what a client sends to create or replace an SLA, and what one
// row of an SLA import holds. Service is a business_service CI key;
// AvailabilityTarget is a percentage; Targets is keyed by priority P1-P4.
type SLAInput struct {
	Service            string            `json:"service"`
	Name               string            `json:"name"`
	Period             string            `json:"period"`
	AvailabilityTarget float64           `json:"availability_target"`
	MeasuredIn         string            `json:"measured_in"`
	Targets            map[string]Target `json:"targets"`
	ValidFrom          Date              `json:"valid_from"`
	ValidTo            *Date             `json:"valid_to"`
	Source             string            `json:"source"`
	ExternalID         string            `json:"external_id"`
}

// NaturalKey identifies an SLA without its id: service, name and first day.
func (in *SLAInput) NaturalKey() string {
	return in.Service + "/" + in.Name + "/" + in.ValidFrom.String()
}

// Normalize trims the input and fills defaults: the source given and an
// external id equal to the natural key.
func (in *SLAInput) Normalize(defaultSource string) {
	trim(&in.Service, &in.Name, &in.Period, &in.MeasuredIn, &in.Source, &in.ExternalID)
	if in.Targets == nil {
		in.Targets = map[string]Target{}
	}
	if in.ValidTo != nil && in.ValidTo.IsZero() {
		in.ValidTo = nil
	}
	if in.Source == "" {
		in.Source = defaultSource
	}
	if in.ExternalID == "" && !in.ValidFrom.IsZero() {
		in.ExternalID = in.NaturalKey()
	}
}

// Validate checks an SLA without the database, naming every bad field.
func (in *SLAInput) Validate() error {
	var v orchestrator.Validation
	v.Require("service", in.Service)
	checkText(&v, "service", in.Service, maxKey, false)
	v.Require("name", in.Name)
	checkText(&v, "name", in.Name, maxName, false)
	oneOf(&v, "period", in.Period, Periods...)
	if !(in.AvailabilityTarget > 0 && in.AvailabilityTarget <= 100) {
		v.Add("availability_target", "must be a percentage above 0 and at most 100")
	}
	oneOf(&v, "measured_in", in.MeasuredIn, MeasuredIn...)
	priorities := make([]string, 0, len(in.Targets))
	for p := range in.Targets {
		priorities = append(priorities, p)
	}
	slices.Sort(priorities)
	for _, p := range priorities {
		t, field := in.Targets[p], "targets."+p
		if !slices.Contains(Priorities, p) {
			v.Add(field, "priority must be one of P1, P2, P3, P4")
			continue
		}
		if t.Response <= 0 {
			v.Add(field+".response", "is required and must be longer than 0")
		}
		if t.Resolution <= 0 {
			v.Add(field+".resolution", "is required and must be longer than 0")
		} else if t.Resolution < t.Response {
			v.Add(field+".resolution", "must not be shorter than the response target (%s)", t.Response)
		}
	}
	if in.ValidFrom.IsZero() {
		v.Add("valid_from", "is required")
	} else if in.ValidTo != nil && in.ValidTo.Before(in.ValidFrom) {
		v.Add("valid_to", "must not be before valid_from (%s)", in.ValidFrom)
	}
	checkIdentity(&v, in.Source, in.ExternalID)
	return v.Err()
}

// SLAFilter narrows an SLA listing; zero fields match everything.
type SLAFilter struct {
	Service string // business service CI key
	Period  string
}

const slaSelect = `SELECT l.id, ci.key, l.name, l.period, l.availability_target, l.measured_in,
	coalesce((SELECT jsonb_object_agg(t.priority, jsonb_build_object('response_s', t.response_s,
		'resolution_s', t.resolution_s)) FROM sla_targets t WHERE t.sla_id = l.id), '{}'),
	l.valid_from, l.valid_to, l.source, l.external_id, l.created_at, l.updated_at
	FROM slas l JOIN cis ci ON ci.id = l.service_id`

// scanSLA reads one row of slaSelect.
func scanSLA(row pgx.CollectableRow) (SLA, error) {
	var (
		l       SLA
		from    time.Time
		to      *time.Time
		targets map[string]struct {
			Response   int64 `json:"response_s"`
			Resolution int64 `json:"resolution_s"`
		}
	)
	err := row.Scan(&l.ID, &l.Service, &l.Name, &l.Period, &l.AvailabilityTarget, &l.MeasuredIn, &targets,
		&from, &to, &l.Source, &l.ExternalID, &l.CreatedAt, &l.UpdatedAt)
	if err != nil {
		return SLA{}, err
	}
	l.ValidFrom, l.ValidTo = DateOf(from), datePtr(to)
	l.Targets = make(map[string]Target, len(targets))
	for p, t := range targets {
		l.Targets[p] = Target{Response: orchestrator.DurationFromSeconds(t.Response), Resolution: orchestrator.DurationFromSeconds(t.Resolution)}
	}
	return l, nil
}

func getSLA(ctx context.Context, q postgres.Querier, id int64) (SLA, error) {
	return getRecord(ctx, q, scanSLA, fmt.Sprintf("SLA %d", id), slaNotFound(id), slaSelect+` WHERE l.id = $1`, id)
}

// slaNotFound is the error for an SLA id that does not exist.
func slaNotFound(id int64) error {
	return orchestrator.Errorf(orchestrator.ENOTFOUND, "SLA %d not found", id)
}

// GetSLA returns the SLA with id.
func (s *Service) GetSLA(ctx context.Context, id int64) (SLA, error) { return getSLA(ctx, s.pool, id) }

// ListSLAs returns SLAs ordered by id.
func (s *Service) ListSLAs(ctx context.Context, f SLAFilter, page orchestrator.Page) (orchestrator.List[SLA], error) {
	var v orchestrator.Validation
	checkFilter(&v, "service", f.Service)
	if f.Period != "" {
		oneOf(&v, "period", f.Period, Periods...)
	}
	var after int64
	if page.After != "" {
		n, err := strconv.ParseInt(page.After, 10, 64)
		if err != nil {
			return orchestrator.List[SLA]{}, errBadCursor()
		}
		after = n
	}
	if err := v.Err(); err != nil {
		return orchestrator.List[SLA]{}, err
	}
	const where = ` WHERE ($1 = '' OR ci.key = $1) AND ($2 = '' OR l.period = $2) AND l.id > $3 ORDER BY l.id LIMIT $4`
	return listRecords(ctx, s.pool, scanSLA, "SLAs", page.Limit, func(l SLA) string { return strconv.FormatInt(l.ID, 10) },
		slaSelect+where, f.Service, f.Period, after, page.Limit+1)
}

// CreateSLA adds an SLA to a business service.
func (s *Service) CreateSLA(ctx context.Context, in SLAInput) (SLA, error) {
	const insert = `INSERT INTO slas (service_id, name, period, availability_target, measured_in, valid_from, valid_to,
		source, external_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`
	return saveInTx(ctx, s.pool, &in, func(tx pgx.Tx, out *SLA) error {
		return saveSLA(ctx, tx, "create", in, out, func(service int64) (int64, error) {
			return scanID(tx.QueryRow(ctx, insert, service, in.Name, in.Period, in.AvailabilityTarget, in.MeasuredIn,
				in.ValidFrom.Time(), sqlDate(in.ValidTo), in.Source, in.ExternalID), nil)
		})
	})
}

// ReplaceSLA overwrites the SLA with id, targets included. Without source
// and external_id the SLA keeps its import identity.
func (s *Service) ReplaceSLA(ctx context.Context, id int64, in SLAInput) (SLA, error) {
	keep := keepIdentity(in.Source, in.ExternalID)
	const update = `UPDATE slas SET service_id = $2, name = $3, period = $4, availability_target = $5,
		measured_in = $6, valid_from = $7, valid_to = $8, source = CASE WHEN $9 THEN source ELSE $10 END,
		external_id = CASE WHEN $9 THEN external_id ELSE $11 END, updated_at = now() WHERE id = $1 RETURNING id`
	return saveInTx(ctx, s.pool, &in, func(tx pgx.Tx, out *SLA) error {
		return saveSLA(ctx, tx, "update", in, out, func(service int64) (int64, error) {
			return scanID(tx.QueryRow(ctx, update, id, service, in.Name, in.Period, in.AvailabilityTarget, in.MeasuredIn,
				in.ValidFrom.Time(), sqlDate(in.ValidTo), keep, in.Source, in.ExternalID), slaNotFound(id))
		})
	})
}

// saveSLA resolves the service, writes the SLA row with write, replaces
// its targets, records the change and reads the result into out.
func saveSLA(ctx context.Context, tx pgx.Tx, action string, in SLAInput, out *SLA, write func(service int64) (int64, error)) error {
	var v orchestrator.Validation
	services, err := ciIDs(ctx, tx, &v, ClassBusinessService, []ref{{field: "service", key: in.Service}})
	if err != nil {
		return err
	}
	if err := v.Err(); err != nil {
		return err
	}
	id, err := write(services[in.Service])
	if err != nil {
		return conflict(err, "SLA", map[string]orchestrator.FieldError{
			"slas_source_external_id_key": taken("external_id", in.ExternalID),
		})
	}
	var priorities []string
	var responses, resolutions []int64
	for p, t := range in.Targets {
		priorities = append(priorities, p)
		responses, resolutions = append(responses, t.Response.Seconds()), append(resolutions, t.Resolution.Seconds())
	}
	if _, err := tx.Exec(ctx, `DELETE FROM sla_targets WHERE sla_id = $1`, id); err != nil {
		return fmt.Errorf("save targets of SLA %d: %w", id, postgres.Translate(err))
	}
	const insert = `INSERT INTO sla_targets (sla_id, priority, response_s, resolution_s)
		SELECT $1, p, r, s FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS u(p, r, s)`
	if _, err := tx.Exec(ctx, insert, id, priorities, responses, resolutions); err != nil {
		return fmt.Errorf("save targets of SLA %d: %w", id, postgres.Translate(err))
	}
	if err := audit.Record(ctx, tx, audit.Change{Action: action, Resource: "slas", ResourceID: strconv.FormatInt(id, 10),
		Summary: fmt.Sprintf("SLA %q of service %s: %g%% per %s", in.Name, in.Service, in.AvailabilityTarget, in.Period)}); err != nil {
		return err
	}
	*out, err = getSLA(ctx, tx, id)
	return err
}

// DeleteSLA removes an SLA.
func (s *Service) DeleteSLA(ctx context.Context, id int64) error {
	const del = `DELETE FROM slas WHERE id = $1`
	return s.deleteRecord(ctx, fmt.Sprintf("SLA %d", id), slaNotFound(id), del, id, "slas", strconv.FormatInt(id, 10))
}
