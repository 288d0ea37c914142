package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/outbound"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// Service keeps backup targets and their check history and runs checks.
type Service struct {
	pool       *pgxpool.Pool
	rt         orchestrator.Runtime
	logger     *slog.Logger
	scratchDir string
	lookupEnv  func(string) (string, bool)
	limits     limits
	http       httpSettings
	// requiredRPO is Options.RequiredRPO; nil turns RPO events off.
	requiredRPO func(ctx context.Context, ciKey string) (*orchestrator.Duration, error)
	// schedules writes each target's backup_check schedule in the
	// target's own transaction.
	schedules *scheduler.Service
}

// Options tune a Service; zero fields take the defaults in brackets.
type Options struct {
	// ScratchDir holds each check's private HOME and restore area, removed
	// after the check [os.TempDir()].
	ScratchDir string
	// LookupEnv resolves secret references [os.LookupEnv].
	LookupEnv func(string) (string, bool)
	// Secrets is what secret references may name [BCDR_SECRET_*
	// variables, no files].
	Secrets secretref.Policy
	// Roots are the directories local backup paths must lie under [none:
	// every local path is refused].
	Roots []string
	// HTTPRetryWaitMin and HTTPRetryWaitMax bound the backoff between
	// retries of http targets [1s, 30s].
	HTTPRetryWaitMin, HTTPRetryWaitMax time.Duration
	// HTTPTransport carries http targets' requests [a pooled transport
	// enforcing OutboundPolicy].
	HTTPTransport http.RoundTripper
	// OutboundPolicy is the address policy of the default transport: the
	// private hosts http targets may reach [public addresses only].
	OutboundPolicy outbound.Policy
	// RequiredRPO gives a CI's required RPO (nil when nothing requires
	// one); with it, every check also judges the CI's RPO and announces a
	// breach and its end. Without it RPO events are not published.
	RequiredRPO func(ctx context.Context, ciKey string) (*orchestrator.Duration, error)
	// Schedules is the schedule service targets' schedules are written
	// through [one over the pool that accepts backup_check].
	Schedules *scheduler.Service
}

// NewService returns a backup service over pool; the runtime's clock stamps
// checks and measures backup ages.
func NewService(pool *pgxpool.Pool, rt orchestrator.Runtime, opts Options) *Service {
	s := &Service{pool: pool, rt: rt, logger: rt.Log(), scratchDir: opts.ScratchDir, lookupEnv: opts.LookupEnv,
		requiredRPO: opts.RequiredRPO, schedules: opts.Schedules, limits: limits{secrets: opts.Secrets, roots: opts.Roots},
		http: httpSettings{transport: opts.HTTPTransport, retryWaitMin: opts.HTTPRetryWaitMin, retryWaitMax: opts.HTTPRetryWaitMax}}
	if s.schedules == nil {
		s.schedules = scheduler.NewService(pool, rt, scheduler.ServiceOptions{Handled: []scheduler.Kind{scheduler.KindBackupCheck}})
	}
	if s.lookupEnv == nil {
		s.lookupEnv = os.LookupEnv
	}
	if s.http.transport == nil {
		tr := outbound.NewTransport(opts.OutboundPolicy)
		tr.MaxIdleConnsPerHost = 16
		s.http.transport = tr
	}
	if s.http.retryWaitMin <= 0 {
		s.http.retryWaitMin = time.Second
	}
	if s.http.retryWaitMax < s.http.retryWaitMin {
		s.http.retryWaitMax = max(30*time.Second, s.http.retryWaitMin)
	}
	return s
}

const checkColumns = `id, target_id, trigger, status, latest_backup_at, verified, size_bytes, attempts, started_at,
	duration_ms, message, output`

// targetSelect joins each target with its CI key, its schedule and its
// latest check (all NULL when it has none).
const targetSelect = `SELECT t.id, c.key, t.name, t.kind, coalesce(s.cron, ''), coalesce(s.timezone, ''), t.schedule_id,
	t.config, t.restore_test, t.timeout_s, t.max_age_s, t.created_at, t.updated_at,
	lc.id, lc.target_id, lc.trigger, lc.status, lc.latest_backup_at, lc.verified, lc.size_bytes, lc.attempts, lc.started_at,
	lc.duration_ms, lc.message, lc.output
	FROM backup_targets t JOIN cis c ON c.id = t.ci_id
	LEFT JOIN schedules s ON s.id = t.schedule_id
	LEFT JOIN LATERAL (SELECT ` + checkColumns + ` FROM backup_checks WHERE target_id = t.id ORDER BY id DESC LIMIT 1) lc ON true`

// nullCheck scans a check that may be absent from an outer join.
type nullCheck struct {
	id, targetID, durationMS *int64
	trigger, status, message *string
	output                   *string
	latest, started          *time.Time
	verified                 *bool
	size                     *int64
	attempts                 *int
}

func (n *nullCheck) dest() []any {
	return []any{&n.id, &n.targetID, &n.trigger, &n.status, &n.latest, &n.verified, &n.size, &n.attempts, &n.started,
		&n.durationMS, &n.message, &n.output}
}

func (n *nullCheck) check() *Check {
	if n.id == nil {
		return nil
	}
	return &Check{ID: *n.id, TargetID: *n.targetID, Trigger: *n.trigger, Status: CheckStatus(*n.status),
		LatestBackupAt: utc(n.latest), Verified: *n.verified, SizeBytes: n.size, Attempts: *n.attempts, StartedAt: n.started.UTC(),
		Duration: msDuration(*n.durationMS), Message: *n.message, Output: *n.output}
}

// msDuration converts stored milliseconds for the API.
func msDuration(ms int64) orchestrator.Duration {
	return orchestrator.Duration(time.Duration(ms) * time.Millisecond)
}

func scanTarget(row pgx.CollectableRow) (Target, error) {
	var t Target
	var timeout int64
	var maxAge *int64
	var last nullCheck
	dest := append([]any{&t.ID, &t.CI, &t.Name, &t.Kind, &t.Schedule, &t.Timezone, &t.ScheduleID, &t.Config,
		&t.RestoreTest, &timeout, &maxAge, &t.CreatedAt, &t.UpdatedAt}, last.dest()...)
	if err := row.Scan(dest...); err != nil {
		return Target{}, err
	}
	t.Timeout = orchestrator.DurationFromSeconds(timeout)
	if maxAge != nil {
		t.MaxAge = ptr(orchestrator.DurationFromSeconds(*maxAge))
	}
	t.LastCheck = last.check()
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	return t, nil
}

func scanCheck(row pgx.CollectableRow) (Check, error) {
	var c Check
	var ms int64
	err := row.Scan(&c.ID, &c.TargetID, &c.Trigger, &c.Status, &c.LatestBackupAt, &c.Verified, &c.SizeBytes, &c.Attempts,
		&c.StartedAt, &ms, &c.Message, &c.Output)
	c.Duration = msDuration(ms)
	c.LatestBackupAt, c.StartedAt = utc(c.LatestBackupAt), c.StartedAt.UTC()
	return c, err
}

// utc shows stored times in UTC whatever the session's zone.
func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Get returns one target with its latest check.
func (s *Service) Get(ctx context.Context, id int64) (Target, error) {
	return getTarget(ctx, s.pool, id)
}

func getTarget(ctx context.Context, q postgres.Querier, id int64) (Target, error) {
	rows, err := q.Query(ctx, targetSelect+` WHERE t.id = $1`, id)
	if err != nil {
		return Target{}, fmt.Errorf("load backup target %d: %w", id, err)
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanTarget)
	if errors.Is(err, pgx.ErrNoRows) {
		return Target{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "backup target %d not found", id)
	}
	if err != nil {
		return Target{}, fmt.Errorf("load backup target %d: %w", id, err)
	}
	return t, nil
}

// Filter narrows a target listing; zero fields match everything.
type Filter struct {
	CI   string
	Kind Kind
	// Status matches the status of each target's latest check; "none"
	// matches targets never checked.
	Status string
}

// List returns targets ordered by id.
func (s *Service) List(ctx context.Context, f Filter, page orchestrator.Page) (orchestrator.List[Target], error) {
	after, err := cursorID(page.After)
	if err != nil {
		return orchestrator.List[Target]{}, err
	}
	const where = ` WHERE t.id > $1 AND ($2 = '' OR c.key = $2) AND ($3 = '' OR t.kind = $3)
		AND ($4 = '' OR lc.status = $4 OR ($4 = 'none' AND lc.id IS NULL)) ORDER BY t.id LIMIT $5`
	rows, err := s.pool.Query(ctx, targetSelect+where, after, f.CI, string(f.Kind), f.Status, page.Limit+1)
	if err != nil {
		return orchestrator.List[Target]{}, fmt.Errorf("list backup targets: %w", err)
	}
	items, err := pgx.CollectRows(rows, scanTarget)
	if err != nil {
		return orchestrator.List[Target]{}, fmt.Errorf("list backup targets: %w", err)
	}
	return orchestrator.Paginate(items, page.Limit, func(t Target) string { return strconv.FormatInt(t.ID, 10) }), nil
}

// Checks returns a target's check history, newest first.
func (s *Service) Checks(ctx context.Context, targetID int64, page orchestrator.Page) (orchestrator.List[Check], error) {
	before, err := cursorID(page.After)
	if err != nil {
		return orchestrator.List[Check]{}, err
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM backup_targets WHERE id = $1)`, targetID).Scan(&exists); err != nil {
		return orchestrator.List[Check]{}, fmt.Errorf("list checks of backup target %d: %w", targetID, err)
	}
	if !exists {
		return orchestrator.List[Check]{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "backup target %d not found", targetID)
	}
	const query = `SELECT ` + checkColumns + ` FROM backup_checks WHERE target_id = $1 AND ($2 = 0 OR id < $2)
		ORDER BY id DESC LIMIT $3`
	rows, err := s.pool.Query(ctx, query, targetID, before, page.Limit+1)
	if err != nil {
		return orchestrator.List[Check]{}, fmt.Errorf("list checks of backup target %d: %w", targetID, err)
	}
	items, err := pgx.CollectRows(rows, scanCheck)
	if err != nil {
		return orchestrator.List[Check]{}, fmt.Errorf("list checks of backup target %d: %w", targetID, err)
	}
	return orchestrator.Paginate(items, page.Limit, func(c Check) string { return strconv.FormatInt(c.ID, 10) }), nil
}

// cursorID reads a page position that is a row id ("" is the start).
func cursorID(after string) (int64, error) {
	if after == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(after, 10, 64)
	if err != nil || n < 1 {
		return 0, &orchestrator.Error{Code: orchestrator.EINVALID, Message: "invalid pagination cursor",
			Fields: []orchestrator.FieldError{{Field: "after", Message: "is not a cursor returned by this list"}}}
	}
	return n, nil
}

// ciID resolves a CI key inside a mutation, as a field error when unknown.
func ciID(ctx context.Context, q postgres.Querier, key string) (int64, error) {
	ci, err := cmdb.ResolveOne(ctx, q, key, cmdb.ResolveOptions{Field: "ci"})
	if cmdb.IsUnknown(err) {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("resolve CI %s: %w", key, err)
	}
	return ci.ID, nil
}

// record stores a check result in a transaction of its own; a manual check
// is also audited, as the user's action.
func (s *Service) record(ctx context.Context, c checked, trigger string) (Check, error) {
	var rec Check
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if rec, _, err = s.recordTx(ctx, tx, c, trigger, nil); err != nil {
			return err
		}
		if trigger != TriggerManual {
			return nil
		}
		return audit.Record(ctx, tx, audit.Change{Action: "check", Resource: "backup-targets", ResourceID: strconv.FormatInt(c.target.ID, 10),
			Summary: fmt.Sprintf("backup check of %q: %s", c.target.Name, rec.Status)})
	})
	return rec, err
}

// recordTx stores a check result on tx with the events it causes. runID is
// the scheduled run the check was made for (nil for a check on request): a
// run's check is stored once, and a second one is dropped, with recorded
// false.
func (s *Service) recordTx(ctx context.Context, tx postgres.Querier, c checked, trigger string, runID *int64) (rec Check, recorded bool, err error) {
	t, r := c.target, c.result
	var previous CheckStatus
	err = tx.QueryRow(ctx, `SELECT status FROM backup_checks WHERE target_id = $1 ORDER BY id DESC LIMIT 1`, t.ID).Scan(&previous)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return Check{}, false, fmt.Errorf("read previous check of backup target %d: %w", t.ID, err)
	}
	const insert = `INSERT INTO backup_checks (target_id, trigger, status, latest_backup_at, verified, size_bytes, attempts,
			started_at, duration_ms, message, output, run_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (run_id) DO NOTHING RETURNING ` + checkColumns
	rows, err := tx.Query(ctx, insert, t.ID, trigger, r.Status, r.LatestBackupAt, r.Verified, r.SizeBytes, r.Attempts,
		c.started, c.took.Milliseconds(), r.Message, r.Output, runID)
	if err != nil {
		return Check{}, false, fmt.Errorf("record check of backup target %d: %w", t.ID, err)
	}
	rec, err = pgx.CollectExactlyOneRow(rows, scanCheck)
	if errors.Is(err, pgx.ErrNoRows) {
		s.logger.Warn("backup check already recorded for its run; this one dropped", "target", t.ID, "run", *runID)
		return Check{}, false, nil
	}
	if err != nil {
		if orchestrator.ErrorCode(postgres.Translate(err)) == orchestrator.EINVALID {
			return Check{}, false, orchestrator.Errorf(orchestrator.ENOTFOUND, "backup target %d was deleted during its check", t.ID)
		}
		return Check{}, false, fmt.Errorf("record check of backup target %d: %w", t.ID, err)
	}
	if err := publishTransition(ctx, tx, t, rec, previous); err != nil {
		return Check{}, false, err
	}
	if err := s.judgeRPO(ctx, tx, t, rec, c.required); err != nil {
		return Check{}, false, err
	}
	return rec, true, nil
}
