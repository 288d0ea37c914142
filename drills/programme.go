package drills

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/runbooks"
)

// Programme statuses: a draft is proposed and edited, then approved once.
const (
	ProgrammeDraft    = "draft"
	ProgrammeApproved = "approved"
)

// maxEntries bounds a programme.
const maxEntries = 10000

// Programme is the year's drill calendar.
type Programme struct {
	Year       int        `json:"year"`
	Status     string     `json:"status"`
	Settings   Settings   `json:"settings"`
	Entries    []Entry    `json:"entries"`
	Placed     int        `json:"placed"`
	Unplaced   int        `json:"unplaced"`
	ProposedBy string     `json:"proposed_by"`
	ProposedAt time.Time  `json:"proposed_at"`
	ApprovedBy string     `json:"approved_by,omitempty"`
	ApprovedAt *time.Time `json:"approved_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// checkYear refuses years a programme cannot be planned for.
func (s *Service) checkYear(year int) error {
	if now := s.rt.Now().UTC().Year(); year < now || year > now+5 {
		return orchestrator.Invalid("year", "must be this year or one of the next five (%d–%d)", now, now+5)
	}
	return nil
}

// ProposeProgramme computes the year's programme under the settings and
// stores it as the year's draft, replacing an earlier draft. An approved
// programme is not replaced (ECONFLICT).
func (s *Service) ProposeProgramme(ctx context.Context, year int, in SettingsInput) (Programme, error) {
	if err := s.checkYear(year); err != nil {
		return Programme{}, err
	}
	settings, err := in.settings(year)
	if err != nil {
		return Programme{}, err
	}
	if _, err := s.programmeStatus(ctx, s.pool, year, false); err != nil && orchestrator.ErrorCode(err) != orchestrator.ENOTFOUND {
		return Programme{}, err // refuse an approved programme before the work of planning
	}
	pin, err := s.planInputs(ctx, year, settings)
	if err != nil {
		return Programme{}, err
	}
	entries := plan(pin)
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := s.programmeStatus(ctx, tx, year, true); err != nil && orchestrator.ErrorCode(err) != orchestrator.ENOTFOUND {
			return err
		}
		now := s.rt.Now()
		_, err := tx.Exec(ctx, `INSERT INTO drill_programmes (year, status, settings, entries, proposed_by, proposed_at, updated_at)
			VALUES ($1, 'draft', $2, $3, $4, $5, $5)
			ON CONFLICT (year) DO UPDATE SET settings = $2, entries = $3, proposed_by = $4, proposed_at = $5, updated_at = $5`,
			year, marshal(settings), marshal(entries), orchestrator.ActorFrom(ctx).Name, now)
		if err != nil {
			return fmt.Errorf("store programme %d: %w", year, postgres.Translate(err))
		}
		placed, unplaced := countPlaced(entries)
		return audit.Record(ctx, tx, audit.Change{Action: "propose", Resource: "drill_programmes", ResourceID: strconv.Itoa(year),
			Summary: fmt.Sprintf("drill programme %d proposed: %d drills placed, %d not placed", year, placed, unplaced)})
	})
	if err != nil {
		return Programme{}, err
	}
	return s.Programme(ctx, year)
}

// programmeStatus reads (and locks, for the caller's transaction) the
// year's programme status: ENOTFOUND without one, ECONFLICT when approved.
func (s *Service) programmeStatus(ctx context.Context, q postgres.Querier, year int, lock bool) (string, error) {
	query := `SELECT status FROM drill_programmes WHERE year = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	var status string
	err := q.QueryRow(ctx, query, year).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", orchestrator.Errorf(orchestrator.ENOTFOUND, "no drill programme for %d", year)
	}
	if err != nil {
		return "", fmt.Errorf("read programme %d: %w", year, err)
	}
	if status == ProgrammeApproved {
		return status, orchestrator.Errorf(orchestrator.ECONFLICT, "the %d programme is approved; change its drills one by one", year)
	}
	return status, nil
}

func countPlaced(entries []Entry) (placed, unplaced int) {
	for _, e := range entries {
		if e.PlannedStart != nil {
			placed++
		} else {
			unplaced++
		}
	}
	return placed, unplaced
}

// Programme returns the year's programme.
func (s *Service) Programme(ctx context.Context, year int) (Programme, error) {
	return getProgramme(ctx, s.pool, year)
}

func getProgramme(ctx context.Context, q postgres.Querier, year int) (Programme, error) {
	var (
		p                 Programme
		settings, entries []byte
	)
	err := q.QueryRow(ctx, `SELECT year, status, settings, entries, proposed_by, proposed_at, approved_by, approved_at, updated_at
		FROM drill_programmes WHERE year = $1`, year).Scan(&p.Year, &p.Status, &settings, &entries, &p.ProposedBy,
		&p.ProposedAt, &p.ApprovedBy, &p.ApprovedAt, &p.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, orchestrator.Errorf(orchestrator.ENOTFOUND, "no drill programme for %d; propose one", year)
	}
	if err != nil {
		return p, fmt.Errorf("read programme %d: %w", year, err)
	}
	if err := json.Unmarshal(settings, &p.Settings); err != nil {
		return p, fmt.Errorf("programme %d settings: %w", year, err)
	}
	if err := json.Unmarshal(entries, &p.Entries); err != nil {
		return p, fmt.Errorf("programme %d entries: %w", year, err)
	}
	p.Placed, p.Unplaced = countPlaced(p.Entries)
	return p, nil
}

// ReplaceEntries replaces a draft programme's entries with the manager's
// edit, validated: errors name entries[i].field.
func (s *Service) ReplaceEntries(ctx context.Context, year int, entries []Entry) (Programme, error) {
	p, err := s.Programme(ctx, year)
	if err != nil {
		return p, err
	}
	if p.Status == ProgrammeApproved {
		return p, orchestrator.Errorf(orchestrator.ECONFLICT, "the %d programme is approved; change its drills one by one", year)
	}
	if err := s.validateEntries(ctx, year, p.Settings, entries); err != nil {
		return p, err
	}
	for i := range entries {
		e := &entries[i]
		e.Drill = nil
		e.Services, e.Notes = nonNilStrings(e.Services), nonNilStrings(e.Notes)
		e.Runbooks, e.Findings = nonNilIDs(e.Runbooks), nonNilIDs(e.Findings)
		if entries[i].PlannedStart != nil {
			t := entries[i].PlannedStart.UTC()
			entries[i].PlannedStart, entries[i].Unplaced = &t, ""
		}
	}
	sortEntries(entries)
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := s.programmeStatus(ctx, tx, year, true); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE drill_programmes SET entries = $2, updated_at = $3 WHERE year = $1`,
			year, marshal(entries), s.rt.Now())
		if err != nil {
			return fmt.Errorf("store programme %d: %w", year, err)
		}
		return audit.Record(ctx, tx, audit.Change{Action: "update", Resource: "drill_programmes", ResourceID: strconv.Itoa(year),
			Summary: fmt.Sprintf("drill programme %d edited: %d entries", year, len(entries))})
	})
	if err != nil {
		return Programme{}, err
	}
	return s.Programme(ctx, year)
}

// validateEntries checks edited entries: known types, services with an
// approved runbook, approved runbooks, starts within the year.
func (s *Service) validateEntries(ctx context.Context, year int, settings Settings, entries []Entry) error {
	var v orchestrator.Validation
	if len(entries) > maxEntries {
		v.Add("entries", "at most %d", maxEntries)
		return v.Err()
	}
	rbs, err := s.opts.Runbooks.List(ctx, runbooks.Filter{Status: runbooks.StatusApproved}, orchestrator.Page{Limit: maxEntries})
	if err != nil {
		return err
	}
	services, ids := map[string]bool{}, map[int64]bool{}
	for _, rb := range rbs.Items {
		ids[rb.ID] = true
		if rb.Scope.Service != "" {
			services[rb.Scope.Service] = true
		}
	}
	loc, _ := loadZone(settings.Timezone)
	if loc == nil {
		loc = time.UTC
	}
	for i, e := range entries {
		field := fmt.Sprintf("entries[%d].", i)
		checkText(&v, field+"title", e.Title, maxTitle, true)
		if !slices.Contains(Types, e.Type) {
			v.Add(field+"type", "must be one of %s", strings.Join(Types, ", "))
		}
		if len(e.Services)+len(e.Runbooks) == 0 {
			v.Add(field+"services", "name at least one service or runbook")
		}
		if len(e.Services) > maxScope || len(e.Runbooks) > maxScope || len(e.Findings) > maxListItems {
			v.Add(field+"services", "at most %d services and runbooks, %d findings", maxScope, maxListItems)
			continue
		}
		for j, svc := range e.Services {
			if !services[svc] && len(e.Runbooks) == 0 {
				v.Add(fmt.Sprintf("%sservices[%d]", field, j), "%q has no approved runbook to drill", orchestrator.Excerpt(svc, 100))
			}
		}
		for j, id := range e.Runbooks {
			if !ids[id] {
				v.Add(fmt.Sprintf("%srunbooks[%d]", field, j), "no approved runbook has id %d", id)
			}
		}
		if e.Tier < 0 || e.Tier > 4 {
			v.Add(field+"tier", "must be between 0 and 4")
		}
		if e.PlannedStart != nil && e.PlannedStart.In(loc).Year() != year {
			v.Add(field+"planned_start", "must lie in %d (%s)", year, settings.Timezone)
		}
		checkText(&v, field+"reason", e.Reason, maxText, false)
		checkText(&v, field+"unplaced", e.Unplaced, maxText, false)
		if len(e.Notes) > maxListItems {
			v.Add(field+"notes", "at most %d", maxListItems)
		}
		for j, n := range e.Notes {
			checkText(&v, fmt.Sprintf("%snotes[%d]", field, j), n, maxText, false)
		}
	}
	return v.Err()
}

// ApproveProgramme approves the year's draft in one transaction: every
// entry becomes a drill, each with its schedule (kind drill, firing at its
// planned start) when the service has a scheduler, plus the programme's
// daily reminder schedule at 08:00 in its time zone. Every entry must be
// placed.
func (s *Service) ApproveProgramme(ctx context.Context, year int) (Programme, error) {
	p, err := s.Programme(ctx, year)
	if err != nil {
		return p, err
	}
	if p.Status == ProgrammeApproved {
		return p, orchestrator.Errorf(orchestrator.ECONFLICT, "the %d programme is already approved", year)
	}
	var v orchestrator.Validation
	for i, e := range p.Entries {
		if e.PlannedStart == nil {
			v.Add(fmt.Sprintf("entries[%d].planned_start", i), "is not placed (%s): give it a date or remove it", e.Unplaced)
		}
	}
	if err := v.Err(); err != nil {
		return p, err
	}
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := s.programmeStatus(ctx, tx, year, true); err != nil {
			return err
		}
		for i := range p.Entries {
			id, err := s.createEntryDrill(ctx, tx, year, p.Entries[i])
			if err != nil {
				return fieldsUnder(fmt.Sprintf("entries[%d].", i), err)
			}
			p.Entries[i].Drill = &id
		}
		if err := s.createReminderSchedule(ctx, tx, year, p.Settings.Timezone); err != nil {
			return err
		}
		now := s.rt.Now()
		_, err := tx.Exec(ctx, `UPDATE drill_programmes SET status = 'approved', entries = $2, approved_by = $3, approved_at = $4,
			updated_at = $4 WHERE year = $1`, year, marshal(p.Entries), orchestrator.ActorFrom(ctx).Name, now)
		if err != nil {
			return fmt.Errorf("approve programme %d: %w", year, err)
		}
		return audit.Record(ctx, tx, audit.Change{Action: "approve", Resource: "drill_programmes", ResourceID: strconv.Itoa(year),
			Summary: fmt.Sprintf("drill programme %d approved: %d drills planned", year, len(p.Entries))})
	})
	if err != nil {
		return Programme{}, err
	}
	return s.Programme(ctx, year)
}

// createEntryDrill plans an entry's drill (and so its schedule).
func (s *Service) createEntryDrill(ctx context.Context, tx pgx.Tx, year int, e Entry) (int64, error) {
	in := Input{Title: e.Title, Type: e.Type, Runbooks: e.Runbooks, PlannedStart: e.PlannedStart, Retest: e.Retest,
		ProgrammeYear: &year, Scenario: &Scenario{Kind: ScenarioText, Text: e.Reason}}
	if len(e.Runbooks) == 0 {
		in.Services = e.Services
	}
	return s.CreateTx(ctx, tx, in)
}

// createReminderSchedule adds the programme's daily 08:00 reminder run.
func (s *Service) createReminderSchedule(ctx context.Context, tx pgx.Tx, year int, tz string) error {
	if s.opts.Schedules == nil {
		return nil
	}
	name, kind, target, cron := fmt.Sprintf("drill reminders %d", year), scheduler.KindDrill, targetReminders, "0 8 * * *"
	_, err := s.opts.Schedules.CreateTx(ctx, tx, scheduler.Input{Name: &name, Kind: &kind, Target: &target, Cron: &cron, Timezone: &tz})
	if err != nil {
		return fmt.Errorf("schedule the %d reminders: %w", year, err)
	}
	return nil
}
