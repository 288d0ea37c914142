// Package audit keeps the append-only, hash-chained record of every
// successful mutation: who did what to which resource, when, in which request.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// chainLock is the advisory lock that serialises audit writers, so every row
// is chained to the one committed before it.
const chainLock = 0x6263_6472_6175_6474 // "bcdraudt"

// Entry is one audit row.
type Entry struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	Role       string    `json:"role"`
	Action     string    `json:"action"`
	Resource   string    `json:"resource"`
	ResourceID string    `json:"resource_id"`
	RequestID  string    `json:"request_id"`
	Summary    string    `json:"summary"`
	PrevHash   string    `json:"prev_hash"`
	Hash       string    `json:"hash"`
}

// Change describes a mutation to record.
type Change struct {
	Action     string // create, update, delete, approve, import, ...
	Resource   string // tokens, cis, runbooks, ...
	ResourceID string
	Summary    string
}

// Record appends a row for change, attributed to the context's actor. Call
// it inside the mutation's own transaction so the two commit together. The
// advisory lock it takes is held until that transaction ends.
func Record(ctx context.Context, q postgres.Querier, change Change) error {
	actor := orchestrator.ActorFrom(ctx)
	if _, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(chainLock)); err != nil {
		return fmt.Errorf("lock audit chain: %w", err)
	}
	e := Entry{
		Actor: actor.Name, Role: string(actor.Role), RequestID: actor.RequestID,
		Action: change.Action, Resource: change.Resource, ResourceID: change.ResourceID, Summary: change.Summary,
	}
	const head = `SELECT now(), coalesce((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), '')`
	if err := q.QueryRow(ctx, head).Scan(&e.At, &e.PrevHash); err != nil {
		return fmt.Errorf("read audit chain head: %w", err)
	}
	e.Hash = e.computeHash()
	const insert = `INSERT INTO audit_log (at, actor, role, action, resource, resource_id, request_id, summary, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
	if _, err := q.Exec(ctx, insert, e.At, e.Actor, e.Role, e.Action, e.Resource, e.ResourceID, e.RequestID, e.Summary, e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("append audit row: %w", err)
	}
	return nil
}

// computeHash is sha256(prev_hash || canonical row), hex-encoded. The
// canonical row is a JSON array in a fixed field order with the time in UTC
// at microsecond precision, the precision PostgreSQL stores.
func (e Entry) computeHash() string {
	canonical, _ := json.Marshal([]string{
		e.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano),
		e.Actor, e.Role, e.Action, e.Resource, e.ResourceID, e.RequestID, e.Summary,
	})
	sum := sha256.Sum256(append([]byte(e.PrevHash), canonical...))
	return hex.EncodeToString(sum[:])
}
