package report

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Archived is a report kept in the archive, without its body.
type Archived struct {
	ID          int64     `json:"id"`
	Kind        Kind      `json:"kind"`
	Subject     string    `json:"subject"`
	Period      string    `json:"period"`
	Format      string    `json:"format"`
	Lang        string    `json:"lang"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	ScheduleID  *int64    `json:"schedule_id"`
	RunID       *int64    `json:"run_id"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
}

// ArchiveFilter narrows the archive's list.
type ArchiveFilter struct {
	Kind       Kind
	ScheduleID int64
}

const archiveColumns = `id, kind, subject, period, format, lang, filename, content_type, size, sha256,
	schedule_id, run_id, created_at, created_by`

func scanArchived(row pgx.CollectableRow) (Archived, error) {
	var a Archived
	err := row.Scan(&a.ID, &a.Kind, &a.Subject, &a.Period, &a.Format, &a.Lang, &a.Filename, &a.ContentType, &a.Size,
		&a.SHA256, &a.ScheduleID, &a.RunID, &a.CreatedAt, &a.CreatedBy)
	a.CreatedAt = a.CreatedAt.UTC()
	return a, err
}

// Digest is the hex SHA-256 of a report's body, as the archive keeps it.
func Digest(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// archiveSource says who made an archived report: a person through a job,
// or a schedule's firing.
type archiveSource struct {
	by         string
	scheduleID *int64
	runID      *int64
}

// archive stores r on q and returns its row; a firing's report stored
// before (a retried run) is returned instead of stored twice, with
// stored false.
func archive(ctx context.Context, q postgres.Querier, r Rendered, src archiveSource) (a Archived, stored bool, err error) {
	const insert = `INSERT INTO report_archive (kind, subject, period, format, lang, filename, content_type, size, sha256,
			body, schedule_id, run_id, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (run_id) DO NOTHING
		RETURNING ` + archiveColumns
	rq := r.Request
	rows, err := q.Query(ctx, insert, rq.Kind, rq.Subject, rq.Period, rq.Format, rq.Lang, r.Filename, r.ContentType,
		len(r.Body), Digest(r.Body), r.Body, src.scheduleID, src.runID, src.by)
	if err != nil {
		return Archived{}, false, fmt.Errorf("archive %s: %w", r.Filename, postgres.Translate(err))
	}
	a, err = pgx.CollectExactlyOneRow(rows, scanArchived)
	if errors.Is(err, pgx.ErrNoRows) && src.runID != nil {
		rows, err = q.Query(ctx, `SELECT `+archiveColumns+` FROM report_archive WHERE run_id = $1`, *src.runID)
		if err == nil {
			a, err = pgx.CollectExactlyOneRow(rows, scanArchived)
		}
		return a, false, err
	}
	if err != nil {
		return Archived{}, false, fmt.Errorf("archive %s: %w", r.Filename, err)
	}
	return a, true, nil
}

// Archive keeps a made report in the archive as made by by.
func (e *Reports) Archive(ctx context.Context, r Rendered, by string) (Archived, error) {
	a, _, err := archive(ctx, e.r.pool, r, archiveSource{by: by})
	return a, err
}

// ListArchive lists archived reports, newest first.
func (e *Reports) ListArchive(ctx context.Context, f ArchiveFilter, page orchestrator.Page) (orchestrator.List[Archived], error) {
	if f.Kind != "" && !f.Kind.Valid() {
		return orchestrator.List[Archived]{}, orchestrator.Invalid("kind", "must be one of %s", kindList())
	}
	after, err := strconv.ParseInt(cmp.Or(page.After, "0"), 10, 64)
	if err != nil || after < 0 {
		return orchestrator.List[Archived]{}, orchestrator.Invalid("after", "is not a cursor returned by this server")
	}
	rows, err := e.r.pool.Query(ctx, `SELECT `+archiveColumns+` FROM report_archive
		WHERE ($1 = 0 OR id < $1) AND ($2 = '' OR kind = $2) AND ($3 = 0 OR schedule_id = $3)
		ORDER BY id DESC LIMIT $4`, after, string(f.Kind), f.ScheduleID, page.Limit+1)
	if err != nil {
		return orchestrator.List[Archived]{}, fmt.Errorf("list report archive: %w", err)
	}
	items, err := pgx.CollectRows(rows, scanArchived)
	if err != nil {
		return orchestrator.List[Archived]{}, fmt.Errorf("list report archive: %w", err)
	}
	return orchestrator.Paginate(items, page.Limit, func(a Archived) string { return strconv.FormatInt(a.ID, 10) }), nil
}

// GetArchived returns an archived report's record.
func (e *Reports) GetArchived(ctx context.Context, id int64) (Archived, error) {
	rows, err := e.r.pool.Query(ctx, `SELECT `+archiveColumns+` FROM report_archive WHERE id = $1`, id)
	if err != nil {
		return Archived{}, fmt.Errorf("read archived report %d: %w", id, err)
	}
	a, err := pgx.CollectExactlyOneRow(rows, scanArchived)
	if errors.Is(err, pgx.ErrNoRows) {
		return Archived{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "no archived report has id %d", id)
	}
	return a, err
}

// ArchivedContent returns an archived report and its body, checked
// against the digest it was archived with: a body changed in the database
// is refused, never served as the report.
func (e *Reports) ArchivedContent(ctx context.Context, id int64) (Archived, []byte, error) {
	a, err := e.GetArchived(ctx, id)
	if err != nil {
		return Archived{}, nil, err
	}
	var body []byte
	if err := e.r.pool.QueryRow(ctx, `SELECT body FROM report_archive WHERE id = $1`, id).Scan(&body); err != nil {
		return Archived{}, nil, fmt.Errorf("read archived report %d: %w", id, postgres.Translate(err))
	}
	if Digest(body) != a.SHA256 {
		return Archived{}, nil, fmt.Errorf("archived report %d does not match its SHA-256 %s: its body was changed after it was archived", id, a.SHA256)
	}
	return a, body, nil
}
