package drills

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// Options are the services drills work with.
type Options struct {
	Runbooks   *runbooks.Service
	Executions *execution.Service
	// Schedules creates the drill schedules of an approved programme;
	// without it (tests, the demo) drills start only by hand.
	Schedules *scheduler.Service
	Impact    *impact.Service
}

// Service plans, runs and scores drills and keeps the improvement
// register.
type Service struct {
	pool *pgxpool.Pool
	rt   orchestrator.Runtime
	opts Options
}

// NewService returns the drills service over pool.
func NewService(pool *pgxpool.Pool, rt orchestrator.Runtime, opts Options) *Service {
	return &Service{pool: pool, rt: rt, opts: opts}
}

// Bounds on what a drill carries.
const (
	maxTitle        = 300
	maxText         = 4000
	maxListItems    = 100
	maxParticipants = 200
	maxScope        = 500
)

// Input plans a drill. Scope is Services (each drilled through its
// approved runbook) or Runbooks, or both.
type Input struct {
	Title        string        `json:"title"`
	Type         string        `json:"type"`
	Scenario     *Scenario     `json:"scenario"`
	Services     []string      `json:"services"`
	Runbooks     []int64       `json:"runbooks"`
	Participants []Participant `json:"participants"`
	Objectives   []string      `json:"objectives"`
	Criteria     *Criteria     `json:"criteria"`
	PlannedStart *time.Time    `json:"planned_start"`
	// Retest marks a drill planned to retest findings or a stale runbook.
	Retest bool `json:"retest"`
	// ProgrammeYear is set by a programme's approval.
	ProgrammeYear *int `json:"-"`
}

// Create plans a drill.
func (s *Service) Create(ctx context.Context, in Input) (Drill, error) {
	var id int64
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		id, err = s.CreateTx(ctx, tx, in)
		return err
	})
	if err != nil {
		return Drill{}, err
	}
	return s.Get(ctx, id)
}

// CreateTx plans a drill in the caller's transaction and returns its id.
func (s *Service) CreateTx(ctx context.Context, tx pgx.Tx, in Input) (int64, error) {
	if err := s.resolveScope(ctx, &in); err != nil {
		return 0, err
	}
	if err := validate(in); err != nil {
		return 0, err
	}
	if sc := in.Scenario; sc != nil && sc.Kind == ScenarioRisk && s.opts.Impact != nil {
		if _, err := s.opts.Impact.GetRisk(ctx, sc.Ref); orchestrator.ErrorCode(err) == orchestrator.ENOTFOUND {
			return 0, orchestrator.Invalid("scenario.ref", "no risk in the register has id %q", sc.Ref)
		} else if err != nil {
			return 0, err
		}
	}
	if in.Scenario == nil {
		in.Scenario = &Scenario{Kind: ScenarioText, Text: in.Title}
	}
	if in.Criteria == nil {
		in.Criteria = &Criteria{}
	}
	if in.Participants == nil {
		in.Participants = []Participant{}
	}
	if in.Objectives == nil {
		in.Objectives = []string{}
	}
	now := s.rt.Now()
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO drills (programme_year, title, type, scenario, services, runbooks, participants,
			objectives, criteria, planned_start, retest, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id`,
		in.ProgrammeYear, in.Title, in.Type, marshal(in.Scenario), in.Services, in.Runbooks, marshal(in.Participants),
		in.Objectives, marshal(in.Criteria), *in.PlannedStart, in.Retest, orchestrator.ActorFrom(ctx).Name, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert drill: %w", postgres.Translate(err))
	}
	if err := s.schedule(ctx, tx, id, *in.PlannedStart); err != nil {
		return 0, err
	}
	err = audit.Record(ctx, tx, audit.Change{Action: "create", Resource: "drills", ResourceID: strconv.FormatInt(id, 10),
		Summary: fmt.Sprintf("%s drill %q of %s on %s", in.Type, in.Title, strings.Join(in.Services, ", "), in.PlannedStart.Format(time.DateOnly))})
	return id, err
}

// schedule gives a drill planned in the future the schedule that starts it:
// kind drill, target drill/<id>, firing at its planned start (in UTC, an
// instant whatever the zone). Without a scheduler, drills start by hand.
func (s *Service) schedule(ctx context.Context, tx pgx.Tx, id int64, start time.Time) error {
	if s.opts.Schedules == nil || !start.After(s.rt.Now()) {
		return nil
	}
	at := start.UTC()
	name, kind, target, tz := fmt.Sprintf("drill %d", id), scheduler.KindDrill, subject(id), "UTC"
	cron := fmt.Sprintf("%d %d %d %d *", at.Minute(), at.Hour(), at.Day(), int(at.Month()))
	sc, err := s.opts.Schedules.CreateTx(ctx, tx, scheduler.Input{Name: &name, Kind: &kind, Target: &target, Cron: &cron, Timezone: &tz})
	if err != nil {
		return fmt.Errorf("schedule drill %d: %w", id, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE drills SET schedule_id = $2 WHERE id = $1`, id, sc.ID); err != nil {
		return fmt.Errorf("link drill %d to its schedule: %w", id, err)
	}
	return nil
}

// resolveScope completes the scope: each service named gets its approved
// runbook, each runbook named adds its service. Both lists end sorted and
// without repeats.
func (s *Service) resolveScope(ctx context.Context, in *Input) error {
	var v orchestrator.Validation
	if len(in.Services)+len(in.Runbooks) == 0 {
		v.Add("services", "name at least one service or runbook to drill")
		return v.Err()
	}
	if len(in.Services) > maxScope || len(in.Runbooks) > maxScope {
		v.Add("services", "at most %d services and %d runbooks", maxScope, maxScope)
		return v.Err()
	}
	services, rbs := slices.Clone(in.Services), slices.Clone(in.Runbooks)
	for i, key := range in.Services {
		list, err := s.opts.Runbooks.List(ctx, runbooks.Filter{Service: key, Status: runbooks.StatusApproved}, orchestrator.Page{Limit: 1})
		if err != nil {
			return err
		}
		if len(list.Items) == 0 {
			v.Add(fmt.Sprintf("services[%d]", i), "%q has no approved runbook to drill", key)
			continue
		}
		rbs = append(rbs, list.Items[0].ID)
	}
	for i, id := range in.Runbooks {
		rb, err := s.opts.Runbooks.Brief(ctx, strconv.FormatInt(id, 10), runbooks.BriefOptions{})
		if orchestrator.ErrorCode(err) == orchestrator.ENOTFOUND {
			v.Add(fmt.Sprintf("runbooks[%d]", i), "no runbook has id %d", id)
			continue
		}
		if err != nil {
			return err
		}
		if rb.Status == runbooks.StatusRetired {
			v.Add(fmt.Sprintf("runbooks[%d]", i), "runbook %d is retired", id)
		}
		services = append(services, rb.Services...)
	}
	slices.Sort(services)
	slices.Sort(rbs)
	in.Services, in.Runbooks = slices.Compact(services), slices.Compact(rbs)
	return v.Err()
}

// validate checks a drill's fields after its scope resolved.
func validate(in Input) error {
	var v orchestrator.Validation
	checkText(&v, "title", in.Title, maxTitle, true)
	if !slices.Contains(Types, in.Type) {
		v.Add("type", "must be one of %s", strings.Join(Types, ", "))
	}
	if sc := in.Scenario; sc != nil {
		switch sc.Kind {
		case ScenarioRisk, ScenarioDisruption:
			checkText(&v, "scenario.ref", sc.Ref, maxTitle, true)
		case ScenarioText:
		default:
			v.Add("scenario.kind", "must be risk, disruption or text")
		}
		checkText(&v, "scenario.text", sc.Text, maxText, false)
	}
	if len(in.Participants) > maxParticipants {
		v.Add("participants", "at most %d", maxParticipants)
	}
	for i, p := range in.Participants {
		checkText(&v, fmt.Sprintf("participants[%d].name", i), p.Name, maxTitle, true)
		checkText(&v, fmt.Sprintf("participants[%d].role", i), p.Role, maxTitle, false)
	}
	checkList(&v, "objectives", in.Objectives)
	if c := in.Criteria; c != nil {
		checkList(&v, "criteria.other", c.Other)
		for field, m := range map[string]map[string]orchestrator.Duration{"criteria.rto": c.RTO, "criteria.rpo": c.RPO} {
			for svc, d := range m {
				if !slices.Contains(in.Services, svc) {
					v.Add(field+"."+svc, "%q is not in the drill's scope", svc)
				} else if d < 0 {
					v.Add(field+"."+svc, "must not be negative")
				}
			}
		}
	}
	if in.PlannedStart == nil {
		v.Add("planned_start", "is required")
	}
	return v.Err()
}

// checkText checks one text field's length and presence.
func checkText(v *orchestrator.Validation, field, s string, max int, required bool) {
	switch {
	case required && strings.TrimSpace(s) == "":
		v.Add(field, "is required")
	case len(s) > max:
		v.Add(field, "must be at most %d bytes", max)
	case !utf8.ValidString(s):
		v.Add(field, "must be UTF-8 text")
	}
}

// checkList checks a list of short texts.
func checkList(v *orchestrator.Validation, field string, items []string) {
	if len(items) > maxListItems {
		v.Add(field, "at most %d items", maxListItems)
		return
	}
	for i, s := range items {
		checkText(v, fmt.Sprintf("%s[%d]", field, i), s, maxText, true)
	}
}

// drillColumns are the columns scanDrill reads.
const drillColumns = `id, programme_year, title, type, scenario, services, runbooks, participants, objectives, criteria,
	planned_start, retest, status, approved_by, approved_at, executions, started_by, started_at, completed_at, result,
	outcome, report, schedule_id, created_by, created_at, updated_at`

func scanDrill(row pgx.CollectableRow) (Drill, error) {
	var (
		d                                        Drill
		scenario, participants, criteria, report []byte
		outcome                                  []byte
	)
	err := row.Scan(&d.ID, &d.ProgrammeYear, &d.Title, &d.Type, &scenario, &d.Services, &d.Runbooks, &participants,
		&d.Objectives, &criteria, &d.PlannedStart, &d.Retest, &d.Status, &d.ApprovedBy, &d.ApprovedAt, &d.Executions,
		&d.StartedBy, &d.StartedAt, &d.CompletedAt, &d.Result, &outcome, &report, &d.Schedule, &d.CreatedBy,
		&d.CreatedAt, &d.UpdatedAt)
	if err != nil {
		return d, err
	}
	for _, f := range []struct {
		raw []byte
		to  any
	}{{scenario, &d.Scenario}, {participants, &d.Participants}, {criteria, &d.Criteria}, {report, &d.Report}} {
		if err := json.Unmarshal(f.raw, f.to); err != nil {
			return d, fmt.Errorf("drill %d: %w", d.ID, err)
		}
	}
	if outcome != nil {
		d.Outcome = &Outcome{}
		if err := json.Unmarshal(outcome, d.Outcome); err != nil {
			return d, fmt.Errorf("drill %d outcome: %w", d.ID, err)
		}
	}
	return d, nil
}

// Get returns one drill.
func (s *Service) Get(ctx context.Context, id int64) (Drill, error) {
	return getDrill(ctx, s.pool, id, false)
}

// getDrill reads a drill, locking it for the caller's transaction when
// forUpdate.
func getDrill(ctx context.Context, q postgres.Querier, id int64, forUpdate bool) (Drill, error) {
	query := `SELECT ` + drillColumns + ` FROM drills WHERE id = $1`
	if forUpdate {
		query += ` FOR UPDATE`
	}
	rows, err := q.Query(ctx, query, id)
	if err != nil {
		return Drill{}, fmt.Errorf("read drill %d: %w", id, err)
	}
	d, err := pgx.CollectExactlyOneRow(rows, scanDrill)
	if err == pgx.ErrNoRows {
		return Drill{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "drill %d not found", id)
	}
	if err != nil {
		return Drill{}, fmt.Errorf("read drill %d: %w", id, err)
	}
	return d, nil
}

// Filter narrows a drill listing.
type Filter struct {
	Year    int
	Status  string
	Type    string
	Service string
	Runbook int64
}

// List returns drills ordered by id.
func (s *Service) List(ctx context.Context, f Filter, page orchestrator.Page) (orchestrator.List[Drill], error) {
	var after int64
	if page.After != "" {
		var err error
		if after, err = strconv.ParseInt(page.After, 10, 64); err != nil {
			return orchestrator.List[Drill]{}, orchestrator.Invalid("after", "is not a cursor returned by this server")
		}
	}
	rows, err := s.pool.Query(ctx, `SELECT `+drillColumns+` FROM drills
		WHERE id > $1 AND ($2 = 0 OR extract(year FROM planned_start) = $2) AND ($3 = '' OR status = $3)
		AND ($4 = '' OR type = $4) AND ($5 = '' OR $5 = ANY (services)) AND ($6 = 0 OR $6 = ANY (runbooks))
		ORDER BY id LIMIT $7`, after, f.Year, f.Status, f.Type, f.Service, f.Runbook, page.Limit+1)
	if err != nil {
		return orchestrator.List[Drill]{}, fmt.Errorf("list drills: %w", err)
	}
	items, err := pgx.CollectRows(rows, scanDrill)
	if err != nil {
		return orchestrator.List[Drill]{}, fmt.Errorf("list drills: %w", err)
	}
	return orchestrator.Paginate(items, page.Limit, func(d Drill) string { return strconv.FormatInt(d.ID, 10) }), nil
}

// Events returns a drill's own timeline, oldest first.
func (s *Service) Events(ctx context.Context, id int64) ([]Event, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT id, drill_id, at, actor, type, step, detail FROM drill_events
		WHERE drill_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("read drill %d timeline: %w", id, err)
	}
	events, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Event])
	if err != nil {
		return nil, fmt.Errorf("read drill %d timeline: %w", id, err)
	}
	return events, nil
}

// event appends a row to a drill's timeline.
func event(ctx context.Context, tx pgx.Tx, drill int64, at time.Time, typ, step, detail string) error {
	_, err := tx.Exec(ctx, `INSERT INTO drill_events (drill_id, at, actor, type, step, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
		drill, at, orchestrator.ActorFrom(ctx).Name, typ, step, detail)
	if err != nil {
		return fmt.Errorf("record drill %d event: %w", drill, err)
	}
	return nil
}
