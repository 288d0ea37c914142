package runbooks

import (
	"context"

	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// header is a runbooks row.
type header struct {
	ID        int64
	Title     string
	Scope     Scope
	CreatedAt time.Time
	UpdatedAt time.Time
	RetiredAt *time.Time
}

const headerSelect = `SELECT r.id, r.title, coalesce(c.key, ''), r.failed, r.created_at, r.updated_at, r.retired_at
	FROM runbooks r LEFT JOIN cis c ON c.id = r.service_id`

func scanHeader(row pgx.Row) (header, error) {
	var h header
	err := row.Scan(&h.ID, &h.Title, &h.Scope.Service, &h.Scope.Failed, &h.CreatedAt, &h.UpdatedAt, &h.RetiredAt)
	if len(h.Scope.Failed) == 0 {
		h.Scope.Failed = nil
	}
	return h, err
}

// parseID reads a runbook id from a path; anything else is not found.
func parseID(id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0, orchestrator.Errorf(orchestrator.ENOTFOUND, "runbook %q not found", clip(id))
	}
	return n, nil
}

// lockLive locks runbook id's header for the rest of the transaction and
// refuses a retired runbook: "runbook <id> <retired>".
func lockLive(ctx context.Context, tx pgx.Tx, id int64, retired string) error {
	h, err := getHeader(ctx, tx, id, true)
	if err != nil {
		return err
	}
	if h.RetiredAt != nil {
		return orchestrator.Errorf(orchestrator.ECONFLICT, "runbook %d %s", id, retired)
	}
	return nil
}

// getHeader reads a runbook row; lock takes it FOR UPDATE, which
// serialises every write to one runbook.
func getHeader(ctx context.Context, q postgres.Querier, id int64, lock bool) (header, error) {
	query := headerSelect + ` WHERE r.id = $1`
	if lock {
		query += ` FOR UPDATE OF r`
	}
	h, err := scanHeader(q.QueryRow(ctx, query, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return header{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "runbook %d not found", id)
	}
	if err != nil {
		return header{}, fmt.Errorf("get runbook %d: %w", id, err)
	}
	return h, nil
}

// headers reads the rows of the runbooks ids; unknown ids are left out.
func headers(ctx context.Context, q postgres.Querier, ids []int64) (map[int64]header, error) {
	rows, err := q.Query(ctx, headerSelect+` WHERE r.id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", runbookIDs(ids), err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (header, error) { return scanHeader(row) })
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", runbookIDs(ids), err)
	}
	out := make(map[int64]header, len(list))
	for _, h := range list {
		out[h.ID] = h
	}
	return out, nil
}

// versionHead and versionTail surround a version's steps and sections,
// which are most of its size, in the columns every version read selects:
// the version and its latest review.
const (
	versionHead = `SELECT v.runbook_id, v.version, v.status, `
	versionTail = `, v.next_step, v.scope_cis, v.scope_relations,
	v.redundant, v.fingerprint, v.bia_versions, v.created_at, v.created_by, v.approved_at, v.approved_by, v.ended_at,
	rv.reviewed_at, rv.reviewed_by, rv.notes, rv.outcome, rv.actions
	FROM runbook_versions v
	LEFT JOIN LATERAL (SELECT reviewed_at, reviewed_by, notes, outcome, actions FROM runbook_reviews x
		WHERE x.runbook_id = v.runbook_id AND x.version = v.version ORDER BY reviewed_at DESC, id DESC LIMIT 1) rv ON true`
	// versionSelect reads whole versions.
	versionSelect = versionHead + `v.steps, v.sections` + versionTail
	// outlineSelect reads versions without their steps and sections.
	outlineSelect = versionHead + `'[]'::jsonb, '{}'::jsonb` + versionTail
)

// storedVersion is a version row with what approval needs beside it.
type storedVersion struct {
	Version
	runbookID      int64
	scopeRelations []string
	fingerprint    string
	biaVersions    map[string]int
}

func scanVersion(row pgx.CollectableRow) (storedVersion, error) {
	var (
		sv                 storedVersion
		approvedAt         *time.Time
		approvedBy         string
		reviewAt           *time.Time
		reviewBy, reviewNt *string
		reviewOutcome      *string
		reviewActions      []string
	)
	v := &sv.Version
	err := row.Scan(&sv.runbookID, &v.Number, &v.Status, &v.Steps, &v.Sections, &v.nextStep, &v.ScopeCIs, &sv.scopeRelations,
		&v.Redundant, &sv.fingerprint, &sv.biaVersions, &v.CreatedAt, &v.CreatedBy, &approvedAt, &approvedBy, &v.EndedAt,
		&reviewAt, &reviewBy, &reviewNt, &reviewOutcome, &reviewActions)
	if err != nil {
		return storedVersion{}, err
	}
	if approvedAt != nil {
		v.Approval = &Approval{By: approvedBy, At: *approvedAt, Fingerprint: sv.fingerprint, BIAVersions: sv.biaVersions,
			ScopeCIs: v.ScopeCIs, ScopeRelations: sv.scopeRelations}
	}
	if reviewAt != nil {
		v.LastReview = &Review{At: *reviewAt, By: *reviewBy, Notes: *reviewNt, Outcome: *reviewOutcome, Actions: reviewActions}
	}
	return sv, nil
}

// versions reads every version of a runbook, oldest first.
func versions(ctx context.Context, q postgres.Querier, id int64) ([]storedVersion, error) {
	vs, err := versionsOf(ctx, q, []int64{id}, false)
	return vs[id], err
}

// versionsOf reads every version of the runbooks ids, oldest first, by
// runbook; an unknown id has none. An outline leaves out their steps and
// sections.
func versionsOf(ctx context.Context, q postgres.Querier, ids []int64, outline bool) (map[int64][]storedVersion, error) {
	query := versionSelect
	if outline {
		query = outlineSelect
	}
	rows, err := q.Query(ctx, query+` WHERE v.runbook_id = ANY($1) ORDER BY v.runbook_id, v.version`, ids)
	if err != nil {
		return nil, fmt.Errorf("read versions of %s: %w", runbookIDs(ids), err)
	}
	list, err := pgx.CollectRows(rows, scanVersion)
	if err != nil {
		return nil, fmt.Errorf("read versions of %s: %w", runbookIDs(ids), err)
	}
	out := make(map[int64][]storedVersion, len(ids))
	for _, sv := range list {
		out[sv.runbookID] = append(out[sv.runbookID], sv)
	}
	return out, nil
}

// runbookIDs names runbooks in an error message: "runbook 7", or
// "runbooks 7, 9, ..." when there are several.
func runbookIDs(ids []int64) string {
	if len(ids) == 1 {
		return fmt.Sprintf("runbook %d", ids[0])
	}
	names := make([]string, 0, 4)
	for i, id := range ids {
		if i == 3 {
			names = append(names, "...")
			break
		}
		names = append(names, strconv.FormatInt(id, 10))
	}
	return "runbooks " + strings.Join(names, ", ")
}

// oneVersion reads version n of a runbook.
func oneVersion(ctx context.Context, q postgres.Querier, id int64, n int) (storedVersion, error) {
	rows, err := q.Query(ctx, versionSelect+` WHERE v.runbook_id = $1 AND v.version = $2`, id, n)
	if err != nil {
		return storedVersion{}, fmt.Errorf("read version %d of runbook %d: %w", n, id, err)
	}
	sv, err := pgx.CollectExactlyOneRow(rows, scanVersion)
	if errors.Is(err, pgx.ErrNoRows) {
		return storedVersion{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "runbook %d has no version %d", id, n)
	}
	if err != nil {
		return storedVersion{}, fmt.Errorf("read version %d of runbook %d: %w", n, id, err)
	}
	return sv, nil
}

// insertVersion writes a new version row.
func insertVersion(ctx context.Context, q postgres.Querier, id int64, sv storedVersion) error {
	const insert = `INSERT INTO runbook_versions (runbook_id, version, status, steps, sections, next_step, scope_cis,
		scope_relations, redundant, fingerprint, bia_versions, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`
	v := sv.Version
	_, err := q.Exec(ctx, insert, id, v.Number, v.Status, v.Steps, v.Sections, v.nextStep, v.ScopeCIs, sv.scopeRelations,
		v.Redundant, sv.fingerprint, sv.biaVersions, v.CreatedAt, v.CreatedBy)
	if err != nil {
		return fmt.Errorf("insert version %d of runbook %d: %w", v.Number, id, postgres.Translate(err))
	}
	return nil
}

// saveDraft overwrites the content of a draft version.
func saveDraft(ctx context.Context, q postgres.Querier, id int64, sv storedVersion) error {
	const update = `UPDATE runbook_versions SET steps = $3, sections = $4, next_step = $5, scope_cis = $6,
		scope_relations = $7, redundant = $8, fingerprint = $9, bia_versions = $10
		WHERE runbook_id = $1 AND version = $2 AND status = 'draft'`
	v := sv.Version
	tag, err := q.Exec(ctx, update, id, v.Number, v.Steps, v.Sections, v.nextStep, v.ScopeCIs, sv.scopeRelations,
		v.Redundant, sv.fingerprint, sv.biaVersions)
	if err != nil {
		return fmt.Errorf("save draft %d of runbook %d: %w", v.Number, id, postgres.Translate(err))
	}
	if tag.RowsAffected() != 1 {
		return orchestrator.Errorf(orchestrator.ECONFLICT, "version %d of runbook %d is no longer a draft", v.Number, id)
	}
	return nil
}

// touch marks the runbook as changed at now.
func touch(ctx context.Context, q postgres.Querier, id int64, now time.Time) error {
	if _, err := q.Exec(ctx, `UPDATE runbooks SET updated_at = $2 WHERE id = $1`, id, now); err != nil {
		return fmt.Errorf("touch runbook %d: %w", id, err)
	}
	return nil
}

// biaJSON keeps nil maps out of the database.
func biaJSON(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}
