package scheduler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/robfig/cron/v3"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Service manages schedule records and their run history. Every mutation
// is audited in the transaction that makes it: its own, or for the
// tx-taking methods the caller's.
type Service struct {
	pool *pgxpool.Pool
	rt   orchestrator.Runtime
	// handled is ServiceOptions.Handled in the order of Kinds.
	handled []Kind
	targets map[Kind]func(string) error
}

// ServiceOptions tune a Service.
type ServiceOptions struct {
	// Handled lists the kinds that a handler runs in this deployment (the
	// kinds registered with its Schedulers). Only these can be given to a
	// schedule being created, changing kind or being enabled; schedules of
	// other kinds are refused rather than accepted to fail every run.
	Handled []Kind
	// Targets check the target of a kind that knows what its target must
	// be (a report's request); the error names what is wrong. Kinds
	// without one take any target.
	Targets map[Kind]func(target string) error
}

// NewService returns a schedule service over pool. A nil rt.Clock means the
// database clock, the one the Scheduler measures firings on; tests pass a
// fixed clock shared with their Scheduler.
func NewService(pool *pgxpool.Pool, rt orchestrator.Runtime, opts ServiceOptions) *Service {
	s := &Service{pool: pool, rt: rt, targets: opts.Targets}
	for _, k := range Kinds {
		if slices.Contains(opts.Handled, k) {
			s.handled = append(s.handled, k)
		}
	}
	return s
}

const scheduleColumns = `id, name, kind, target, cron, timezone, enabled, catch_up_window_s, jitter_s, max_run_s,
	next_fire_at, created_at, updated_at, created_by`

func scanSchedule(row pgx.CollectableRow) (Schedule, error) {
	var sc Schedule
	var window, jitter, maxRun int64
	err := row.Scan(&sc.ID, &sc.Name, &sc.Kind, &sc.Target, &sc.Cron, &sc.Timezone, &sc.Enabled, &window, &jitter, &maxRun,
		&sc.NextFireAt, &sc.CreatedAt, &sc.UpdatedAt, &sc.CreatedBy)
	sc.CatchUpWindow = orchestrator.DurationFromSeconds(window)
	sc.Jitter = orchestrator.DurationFromSeconds(jitter)
	sc.MaxRun = orchestrator.DurationFromSeconds(maxRun)
	return sc, err
}

// now is the current time on the service's clock: rt.Clock's, else the
// database's, so that firings computed here and by the Scheduler agree.
func now(ctx context.Context, q postgres.Querier, clock orchestrator.Clock) (time.Time, error) {
	if clock != nil {
		return clock.Now(), nil
	}
	var t time.Time
	if err := q.QueryRow(ctx, `SELECT now()`).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("read database clock: %w", err)
	}
	return t, nil
}

// nextFire is the first firing of spec after t, nil when there is none.
func nextFire(spec cron.Schedule, t time.Time) *time.Time {
	next := spec.Next(t)
	if next.IsZero() {
		return nil
	}
	next = next.UTC()
	return &next
}

// Create adds a schedule; its first firing is the first cron time after now.
func (s *Service) Create(ctx context.Context, in Input) (Schedule, error) {
	var created Schedule
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) (err error) {
		created, err = s.CreateTx(ctx, tx, in)
		return err
	})
	return created, err
}

// CreateTx is Create inside the caller's transaction, for a capability
// that writes a schedule together with its own records (a backup target
// and its backup_check schedule).
func (s *Service) CreateTx(ctx context.Context, tx pgx.Tx, in Input) (Schedule, error) {
	sc := newSchedule()
	sc.apply(in)
	spec, err := sc.validate(s.handled, true, s.targets)
	if err != nil {
		return Schedule{}, err
	}
	t, err := now(ctx, tx, s.rt.Clock)
	if err != nil {
		return Schedule{}, err
	}
	const insert = `INSERT INTO schedules (name, kind, target, cron, timezone, enabled, catch_up_window_s, jitter_s, max_run_s,
			next_fire_at, created_at, updated_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)
		RETURNING ` + scheduleColumns
	rows, err := tx.Query(ctx, insert, sc.Name, sc.Kind, sc.Target, sc.Cron, sc.Timezone, sc.Enabled,
		sc.CatchUpWindow.Seconds(), sc.Jitter.Seconds(), sc.MaxRun.Seconds(), nextFire(spec, t), t, orchestrator.ActorFrom(ctx).Name)
	if err != nil {
		return Schedule{}, fmt.Errorf("insert schedule: %w", err)
	}
	created, err := pgx.CollectExactlyOneRow(rows, scanSchedule)
	if err != nil {
		return Schedule{}, nameConflict(fmt.Errorf("insert schedule: %w", postgres.Translate(err)), sc.Name)
	}
	err = audit.Record(ctx, tx, audit.Change{Action: "create", Resource: "schedules", ResourceID: strconv.FormatInt(created.ID, 10),
		Summary: fmt.Sprintf("schedule %q: %s %q at %q (%s)", created.Name, created.Kind, created.Target, created.Cron, created.Timezone)})
	return created, err
}

// Owner is the record a schedule belongs to when another capability keeps
// the schedule in step with it (a backup target owns its backup_check
// schedule). The zero Owner means the schedule is changed for itself.
type Owner struct {
	// Noun says what the owner is: "backup target".
	Noun string
	ID   int64
}

// nameConflict names the field when a unique violation is the schedule name.
func nameConflict(err error, name string) error {
	if orchestrator.ErrorCode(err) != orchestrator.ECONFLICT {
		return err
	}
	return &orchestrator.Error{Code: orchestrator.ECONFLICT, Message: "schedule name already in use",
		Fields: []orchestrator.FieldError{{Field: "name", Message: fmt.Sprintf("a schedule named %q exists", name)}}}
}

// Get returns one schedule.
func (s *Service) Get(ctx context.Context, id int64) (Schedule, error) {
	return getSchedule(ctx, s.pool, id, false)
}

func getSchedule(ctx context.Context, q postgres.Querier, id int64, forUpdate bool) (Schedule, error) {
	query := `SELECT ` + scheduleColumns + ` FROM schedules WHERE id = $1`
	if forUpdate {
		query += ` FOR UPDATE`
	}
	rows, err := q.Query(ctx, query, id)
	if err != nil {
		return Schedule{}, fmt.Errorf("load schedule %d: %w", id, err)
	}
	sc, err := pgx.CollectExactlyOneRow(rows, scanSchedule)
	if errors.Is(err, pgx.ErrNoRows) {
		return Schedule{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "schedule %d not found", id)
	}
	if err != nil {
		return Schedule{}, fmt.Errorf("load schedule %d: %w", id, err)
	}
	return sc, nil
}

// Filter narrows a schedule listing; zero fields match everything.
type Filter struct {
	Kind    Kind
	Target  string
	Enabled *bool
}

// List returns schedules ordered by id.
func (s *Service) List(ctx context.Context, f Filter, page orchestrator.Page) (orchestrator.List[Schedule], error) {
	var after int64
	if page.After != "" {
		n, err := strconv.ParseInt(page.After, 10, 64)
		if err != nil {
			return orchestrator.List[Schedule]{}, orchestrator.Errorf(orchestrator.EINVALID, "invalid pagination cursor")
		}
		after = n
	}
	const query = `SELECT ` + scheduleColumns + ` FROM schedules
		WHERE id > $1 AND ($2 = '' OR kind = $2) AND ($3 = '' OR target = $3) AND ($4::boolean IS NULL OR enabled = $4)
		ORDER BY id LIMIT $5`
	rows, err := s.pool.Query(ctx, query, after, string(f.Kind), f.Target, f.Enabled, page.Limit+1)
	if err != nil {
		return orchestrator.List[Schedule]{}, fmt.Errorf("list schedules: %w", err)
	}
	items, err := pgx.CollectRows(rows, scanSchedule)
	if err != nil {
		return orchestrator.List[Schedule]{}, fmt.Errorf("list schedules: %w", err)
	}
	return orchestrator.Paginate(items, page.Limit, func(sc Schedule) string { return strconv.FormatInt(sc.ID, 10) }), nil
}

// Update changes the fields set in in. A new cron expression or time zone,
// or enabling a disabled schedule, restarts firing from now, so nothing
// from before the change is caught up; disabling cancels pending runs.
func (s *Service) Update(ctx context.Context, id int64, in Input) (Schedule, error) {
	var updated Schedule
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) (err error) {
		updated, err = s.UpdateTx(ctx, tx, id, in, Owner{})
		return err
	})
	return updated, err
}

// UpdateTx is Update inside the caller's transaction. A non-zero owner is
// the record the caller is changing, and the audit row says the schedule
// follows it.
func (s *Service) UpdateTx(ctx context.Context, tx pgx.Tx, id int64, in Input, owner Owner) (Schedule, error) {
	old, err := getSchedule(ctx, tx, id, true)
	if err != nil {
		return Schedule{}, err
	}
	sc := old
	changed := sc.apply(in)
	spec, err := sc.validate(s.handled, sc.Kind != old.Kind || sc.Enabled && !old.Enabled, s.targets)
	if err != nil {
		return Schedule{}, err
	}
	t, err := now(ctx, tx, s.rt.Clock)
	if err != nil {
		return Schedule{}, err
	}
	if sc.Cron != old.Cron || sc.Timezone != old.Timezone || sc.Enabled && !old.Enabled {
		sc.NextFireAt = nextFire(spec, t)
	}
	const update = `UPDATE schedules SET name = $2, kind = $3, target = $4, cron = $5, timezone = $6, enabled = $7,
			catch_up_window_s = $8, jitter_s = $9, max_run_s = $10, next_fire_at = $11, updated_at = $12
		WHERE id = $1 RETURNING ` + scheduleColumns
	rows, err := tx.Query(ctx, update, sc.ID, sc.Name, sc.Kind, sc.Target, sc.Cron, sc.Timezone, sc.Enabled,
		sc.CatchUpWindow.Seconds(), sc.Jitter.Seconds(), sc.MaxRun.Seconds(), sc.NextFireAt, t)
	if err != nil {
		return Schedule{}, fmt.Errorf("update schedule %d: %w", sc.ID, err)
	}
	updated, err := pgx.CollectExactlyOneRow(rows, scanSchedule)
	if err != nil {
		return Schedule{}, nameConflict(fmt.Errorf("update schedule %d: %w", sc.ID, postgres.Translate(err)), sc.Name)
	}
	if old.Enabled && !sc.Enabled {
		const cancel = `UPDATE schedule_runs SET status = 'cancelled', finished_at = $2, error = 'schedule disabled'
			WHERE schedule_id = $1 AND status = 'pending'`
		if _, err := tx.Exec(ctx, cancel, sc.ID, t); err != nil {
			return Schedule{}, fmt.Errorf("cancel pending runs of schedule %d: %w", sc.ID, err)
		}
	}
	var summary string
	switch {
	case owner != (Owner{}):
		summary = fmt.Sprintf("schedule %d follows its %s: %q (%s)", sc.ID, owner.Noun, updated.Cron, updated.Timezone)
	case len(changed) > 0:
		summary = fmt.Sprintf("schedule %q: changed %s", updated.Name, strings.Join(changed, ", "))
	default:
		summary = fmt.Sprintf("schedule %q: no change", updated.Name)
	}
	err = audit.Record(ctx, tx, audit.Change{Action: "update", Resource: "schedules", ResourceID: strconv.FormatInt(sc.ID, 10), Summary: summary})
	return updated, err
}

// Delete removes a schedule and its run history. A run in progress keeps
// running but its outcome is no longer recorded.
func (s *Service) Delete(ctx context.Context, id int64) error {
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		return s.DeleteTx(ctx, tx, id, Owner{})
	})
}

// DeleteTx is Delete inside the caller's transaction. A non-zero owner is
// the record being deleted with the schedule, and the audit row says so.
func (s *Service) DeleteTx(ctx context.Context, tx pgx.Tx, id int64, owner Owner) error {
	var name string
	err := tx.QueryRow(ctx, `DELETE FROM schedules WHERE id = $1 RETURNING name`, id).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return orchestrator.Errorf(orchestrator.ENOTFOUND, "schedule %d not found", id)
	}
	if err != nil {
		return fmt.Errorf("delete schedule %d: %w", id, err)
	}
	summary := fmt.Sprintf("schedule %q", name)
	if owner != (Owner{}) {
		summary = fmt.Sprintf("schedule of %s %d, deleted with it", owner.Noun, owner.ID)
	}
	return audit.Record(ctx, tx, audit.Change{Action: "delete", Resource: "schedules", ResourceID: strconv.FormatInt(id, 10), Summary: summary})
}

// FireNow queues a run of the schedule at the current time, without jitter,
// whether or not the schedule is enabled. Any replica picks it up at its
// next poll.
func (s *Service) FireNow(ctx context.Context, id int64) (Run, error) {
	var run Run
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		sc, err := getSchedule(ctx, tx, id, false)
		if err != nil {
			return err
		}
		t, err := now(ctx, tx, s.rt.Clock)
		if err != nil {
			return err
		}
		const insert = `INSERT INTO schedule_runs (schedule_id, fire_at, run_after, manual, created_at)
			VALUES ($1, $2, $2, true, $2) RETURNING ` + runColumns
		rows, err := tx.Query(ctx, insert, id, t)
		if err != nil {
			return fmt.Errorf("queue run of schedule %d: %w", id, err)
		}
		if run, err = pgx.CollectExactlyOneRow(rows, scanRun); err != nil {
			return fmt.Errorf("queue run of schedule %d: %w", id, postgres.Translate(err))
		}
		return audit.Record(ctx, tx, audit.Change{Action: "run", Resource: "schedules", ResourceID: strconv.FormatInt(id, 10),
			Summary: fmt.Sprintf("schedule %q fired on request (run %d)", sc.Name, run.ID)})
	})
	return run, err
}

// RunFilter narrows a run listing; zero fields match everything.
type RunFilter struct {
	Status Status
}

// Runs returns a schedule's run history, latest firing first. The page
// position is the fire time, unique within a schedule.
func (s *Service) Runs(ctx context.Context, scheduleID int64, f RunFilter, page orchestrator.Page) (orchestrator.List[Run], error) {
	var before *time.Time
	if page.After != "" {
		t, err := time.Parse(time.RFC3339Nano, page.After)
		if err != nil {
			return orchestrator.List[Run]{}, orchestrator.Errorf(orchestrator.EINVALID, "invalid pagination cursor")
		}
		before = &t
	}
	if _, err := getSchedule(ctx, s.pool, scheduleID, false); err != nil {
		return orchestrator.List[Run]{}, err
	}
	const query = `SELECT ` + runColumns + ` FROM schedule_runs
		WHERE schedule_id = $1 AND ($2::timestamptz IS NULL OR fire_at < $2) AND ($3 = '' OR status = $3)
		ORDER BY fire_at DESC LIMIT $4`
	rows, err := s.pool.Query(ctx, query, scheduleID, before, string(f.Status), page.Limit+1)
	if err != nil {
		return orchestrator.List[Run]{}, fmt.Errorf("list runs of schedule %d: %w", scheduleID, err)
	}
	items, err := pgx.CollectRows(rows, scanRun)
	if err != nil {
		return orchestrator.List[Run]{}, fmt.Errorf("list runs of schedule %d: %w", scheduleID, err)
	}
	return orchestrator.Paginate(items, page.Limit, func(r Run) string { return r.FireAt.UTC().Format(time.RFC3339Nano) }), nil
}
