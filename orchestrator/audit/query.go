package audit

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Filter narrows an audit listing; zero fields match everything.
type Filter struct {
	Actor      string
	Action     string
	Resource   string
	ResourceID string
	Since      time.Time
	Until      time.Time
}

// List returns audit rows newest first.
func List(ctx context.Context, q postgres.Querier, f Filter, page orchestrator.Page) (orchestrator.List[Entry], error) {
	var before int64
	if page.After != "" {
		n, err := strconv.ParseInt(page.After, 10, 64)
		if err != nil {
			return orchestrator.List[Entry]{}, orchestrator.Errorf(orchestrator.EINVALID, "invalid pagination cursor")
		}
		before = n
	}
	const query = `SELECT id, at, actor, role, action, resource, resource_id, request_id, summary, prev_hash, hash, key_id
		FROM audit_log
		WHERE ($1 = 0 OR id < $1)
		  AND ($2 = '' OR actor = $2) AND ($3 = '' OR action = $3)
		  AND ($4 = '' OR resource = $4) AND ($5 = '' OR resource_id = $5)
		  AND ($6::timestamptz IS NULL OR at >= $6) AND ($7::timestamptz IS NULL OR at < $7)
		ORDER BY id DESC LIMIT $8`
	rows, err := q.Query(ctx, query, before, f.Actor, f.Action, f.Resource, f.ResourceID,
		nullTime(f.Since), nullTime(f.Until), page.Limit+1)
	if err != nil {
		return orchestrator.List[Entry]{}, fmt.Errorf("list audit rows: %w", err)
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Entry])
	if err != nil {
		return orchestrator.List[Entry]{}, fmt.Errorf("list audit rows: %w", err)
	}
	return orchestrator.Paginate(items, page.Limit, func(e Entry) string { return strconv.FormatInt(e.ID, 10) }), nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Verification is the result of walking the chain, or of checking it
// against anchors.
type Verification struct {
	OK      bool  `json:"ok"`
	Checked int64 `json:"checked"`
	// Keyed counts the rows whose hash is an HMAC under the audit key.
	Keyed   int64  `json:"keyed"`
	BadID   int64  `json:"broken_at,omitempty"`
	Problem string `json:"problem,omitempty"`
}

// Verify recomputes the chain from the first row with the context's key
// and reports the first row whose link or hash does not match, or that is
// unkeyed although a row before it is keyed. A keyed row is an error
// without a key, since nothing about it can then be checked.
func Verify(ctx context.Context, q postgres.Querier) (Verification, error) {
	const query = `SELECT id, at, actor, role, action, resource, resource_id, request_id, summary, prev_hash, hash, key_id
		FROM audit_log ORDER BY id`
	rows, err := q.Query(ctx, query)
	if err != nil {
		return Verification{}, fmt.Errorf("read audit chain: %w", err)
	}
	defer rows.Close()
	key, hasKey := KeyFrom(ctx)
	var v Verification
	prev := ""
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Role, &e.Action, &e.Resource, &e.ResourceID,
			&e.RequestID, &e.Summary, &e.PrevHash, &e.Hash, &e.KeyID); err != nil {
			return Verification{}, fmt.Errorf("read audit row: %w", err)
		}
		v.Checked++
		if e.KeyID != "" && !hasKey {
			return Verification{}, orchestrator.Errorf(orchestrator.EINVALID,
				"audit row %d is keyed with key %s: verifying it needs that key (BCDR_AUDIT_KEY_FILE)", e.ID, e.KeyID)
		}
		if problem := v.check(e, prev, key); problem != "" {
			return Verification{Checked: v.Checked, Keyed: v.Keyed, BadID: e.ID, Problem: problem}, nil
		}
		prev = e.Hash
	}
	if err := rows.Err(); err != nil {
		return Verification{}, fmt.Errorf("read audit chain: %w", err)
	}
	v.OK = true
	return v, nil
}

// check judges one row after the row whose hash is prev, counting it as
// keyed when it is; it returns what is wrong, or "".
func (v *Verification) check(e Entry, prev string, key Key) string {
	switch {
	case e.PrevHash != prev:
		return "previous-hash link does not match the row before it (a row was removed or altered)"
	case e.KeyID == "" && v.Keyed > 0:
		return fmt.Sprintf("row %d is not keyed although rows before it are (the chain was rewritten without the audit key)", e.ID)
	case e.KeyID != "" && e.KeyID != key.ID():
		return fmt.Sprintf("row %d is keyed with key %s, not with %s (another key, or a forged key id)", e.ID, e.KeyID, key.ID())
	case e.computeHash(key) != e.Hash:
		return "row content does not match its hash (the row was altered)"
	}
	if e.KeyID != "" {
		v.Keyed++
	}
	return ""
}
