package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Job statuses.
const (
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// Bounds of a job's life.
const (
	// jobTimeout bounds making one report in the background.
	jobTimeout = 10 * time.Minute
	// jobHeartbeat is how often a running job says it is alive; a job
	// silent for jobStale lost its replica.
	jobHeartbeat = 10 * time.Second
	jobStale     = 6 * jobHeartbeat
	// jobRetention is how long finished jobs are kept (their reports stay
	// in the archive).
	jobRetention = 7 * 24 * time.Hour
)

// Job is a report being made for someone who did not wait for it, or
// made: a done job points at its report in the archive.
type Job struct {
	ID         int64      `json:"id"`
	Request    Request    `json:"request"`
	Status     string     `json:"status"`
	Stage      string     `json:"stage"`
	Progress   float64    `json:"progress"`
	Error      string     `json:"error,omitempty"`
	ArchiveID  *int64     `json:"archive_id"`
	CreatedAt  time.Time  `json:"created_at"`
	CreatedBy  string     `json:"created_by"`
	FinishedAt *time.Time `json:"finished_at"`
}

// made is the end of making one report.
type made struct {
	r   Rendered
	err error
}

// maker makes one report in the background and remembers how far it got.
type maker struct {
	mu       sync.Mutex
	stage    string
	progress float64
	changed  chan struct{} // signalled (without blocking) on each stage
	done     chan made     // receives the one result
}

func (m *maker) tell(stage string, fraction float64) {
	m.mu.Lock()
	m.stage, m.progress = stage, fraction
	m.mu.Unlock()
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

func (m *maker) state() (string, float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stage, m.progress
}

// Make makes the report asked for. When it is ready within wait it is
// returned; otherwise making it goes on in the background as a job, which
// is returned to be polled (Job), and which archives the report when it
// is done. A request that cannot be made (a bad field, PDF without
// Chromium) fails at once. The job outlives ctx; Close ends it.
func (e *Reports) Make(ctx context.Context, q Request, wait time.Duration) (*Rendered, *Job, error) {
	if _, _, err := q.Validate(e.r.rt.Now().UTC()); err != nil {
		return nil, nil, err
	}
	if q.Format == FormatPDF && e.opts.PDF == nil {
		return nil, nil, errNoPrinter
	}
	m := &maker{stage: StageGather, changed: make(chan struct{}, 1), done: make(chan made, 1)}
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jobTimeout)
	stopOnClose := context.AfterFunc(e.jobsCtx, cancel)
	e.jobs.Add(1)
	go func() {
		defer e.jobs.Done()
		r, err := e.Render(mctx, q, m.tell)
		m.done <- made{r, err}
	}()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case res := <-m.done:
		stopOnClose()
		cancel()
		if res.err != nil {
			return nil, nil, res.err
		}
		return &res.r, nil, nil
	case <-ctx.Done():
		cancel()
		stopOnClose()
		return nil, nil, ctx.Err()
	case <-timer.C:
	}
	by := orchestrator.ActorFrom(ctx).Name
	stage, progress := m.state()
	job, err := e.createJob(ctx, q, stage, progress, by)
	if err != nil {
		cancel()
		stopOnClose()
		return nil, nil, err
	}
	e.jobs.Add(1)
	go func() {
		defer e.jobs.Done()
		defer stopOnClose()
		defer cancel()
		e.follow(mctx, job.ID, m, by)
	}()
	return nil, &job, nil
}

// follow records a job's progress until its report is made, then archives
// the report or records why it failed.
func (e *Reports) follow(ctx context.Context, id int64, m *maker, by string) {
	bg := context.WithoutCancel(ctx)
	heartbeat := time.NewTicker(jobHeartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case res := <-m.done:
			e.finishJob(bg, id, res, by)
			return
		case <-m.changed:
		case <-heartbeat.C:
		}
		stage, progress := m.state()
		if _, err := e.r.pool.Exec(bg, `UPDATE report_jobs SET stage = $2, progress = $3, heartbeat_at = now()
			WHERE id = $1 AND status = 'running'`, id, stage, progress); err != nil {
			e.r.rt.Log().Warn("report job progress not recorded", "job", id, "err", err.Error())
		}
	}
}

// finishJob archives a made report and marks its job done, in one
// transaction, or marks the job failed with a message a person can act on.
func (e *Reports) finishJob(ctx context.Context, id int64, res made, by string) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := res.err
	if err == nil {
		err = postgres.WithTx(ctx, e.r.pool, func(tx pgx.Tx) error {
			a, _, err := archive(ctx, tx, res.r, archiveSource{by: by})
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE report_jobs SET status = 'done', stage = $2, progress = 1, archive_id = $3,
				heartbeat_at = now(), finished_at = now() WHERE id = $1`, id, StageDone, a.ID)
			return err
		})
	}
	if err == nil {
		return
	}
	msg := jobError(err, e.jobsCtx.Err() != nil)
	if msg == internalJobError {
		e.r.rt.Log().Error("report job failed", "job", id, "err", err.Error())
	}
	if _, uerr := e.r.pool.Exec(ctx, `UPDATE report_jobs SET status = 'failed', error = $2, heartbeat_at = now(),
		finished_at = now() WHERE id = $1 AND status = 'running'`, id, msg); uerr != nil {
		e.r.rt.Log().Error("report job failure not recorded", "job", id, "err", uerr.Error(), slog.String("failure", msg))
	}
}

const internalJobError = "the report could not be made: an internal error, logged on the server"

// jobError is what a failed job says: an application error's own message,
// a shutdown or timeout said plainly, anything else only as internal.
func jobError(err error, shutdown bool) string {
	var e *orchestrator.Error
	switch {
	case shutdown:
		return "the server stopped before the report was made; ask for it again"
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("the report was not made within %s", jobTimeout)
	case errors.As(err, &e) && e.Code != orchestrator.EINTERNAL:
		return orchestrator.Excerpt(e.Error(), 2000)
	}
	return internalJobError
}

const jobColumns = `id, request, status, stage, progress, error, archive_id, created_at, created_by, finished_at`

func scanJob(row pgx.CollectableRow) (Job, error) {
	var j Job
	err := row.Scan(&j.ID, &j.Request, &j.Status, &j.Stage, &j.Progress, &j.Error, &j.ArchiveID, &j.CreatedAt,
		&j.CreatedBy, &j.FinishedAt)
	return j, err
}

// createJob records a job running on this replica, pruning old finished
// ones as it goes.
func (e *Reports) createJob(ctx context.Context, q Request, stage string, progress float64, by string) (Job, error) {
	const prune = `DELETE FROM report_jobs WHERE id IN (SELECT id FROM report_jobs
		WHERE finished_at < now() - $1::bigint * interval '1 second' ORDER BY finished_at LIMIT $2)`
	if _, err := postgres.Prune(ctx, e.r.pool, "report jobs", prune, int64(jobRetention/time.Second)); err != nil {
		return Job{}, err
	}
	rows, err := e.r.pool.Query(ctx, `INSERT INTO report_jobs (request, status, stage, progress, replica, created_by)
		VALUES ($1, 'running', $2, $3, $4, $5) RETURNING `+jobColumns, q, stage, progress, e.opts.Replica, by)
	if err != nil {
		return Job{}, fmt.Errorf("record report job: %w", postgres.Translate(err))
	}
	return pgx.CollectExactlyOneRow(rows, scanJob)
}

// Job returns a job as it stands. A running job whose replica stopped
// saying it is alive is failed first: nobody is making its report.
func (e *Reports) Job(ctx context.Context, id int64) (Job, error) {
	if _, err := e.r.pool.Exec(ctx, `UPDATE report_jobs SET status = 'failed', finished_at = now(),
		error = 'the server making the report stopped before it was made; ask for it again'
		WHERE id = $1 AND status = 'running' AND heartbeat_at < now() - $2::bigint * interval '1 second'`,
		id, int64(jobStale/time.Second)); err != nil {
		return Job{}, fmt.Errorf("read report job %d: %w", id, postgres.Translate(err))
	}
	rows, err := e.r.pool.Query(ctx, `SELECT `+jobColumns+` FROM report_jobs WHERE id = $1`, id)
	if err != nil {
		return Job{}, fmt.Errorf("read report job %d: %w", id, err)
	}
	j, err := pgx.CollectExactlyOneRow(rows, scanJob)
	if errors.Is(err, pgx.ErrNoRows) {
		return Job{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "no report job has id %d", id)
	}
	return j, err
}
