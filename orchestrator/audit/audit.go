// Package audit keeps the append-only, hash-chained record of every
// successful mutation: who did what to which resource, when, in which request.
//
// A row written with a Key in its context (see WithKey) is hashed with
// HMAC-SHA256 under that key, which never reaches the database, so a
// database superuser cannot rewrite the chain; rows written without one
// keep a plain SHA-256 and are trusted only before the first keyed row.
// Anchors (see Anchor) record the chain head outside the database, so that
// deleting the newest rows or emptying the table is found too.
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
	// KeyID names the key whose HMAC Hash is; empty for a plain SHA-256.
	KeyID string `json:"key_id"`
}

// Change describes a mutation to record.
type Change struct {
	Action     string // create, update, delete, approve, import, ...
	Resource   string // tokens, cis, runbooks, ...
	ResourceID string
	Summary    string
}

// Record appends a row for change, attributed to the context's actor and
// keyed with the context's key, if any. Call it inside the mutation's own
// transaction so the two commit together. The advisory lock it takes is
// held until that transaction ends.
//
// Once the chain is keyed, a row without the key or with another key is
// refused: verification with one key could not tell it from a forgery.
func Record(ctx context.Context, q postgres.Querier, change Change) error {
	actor := orchestrator.ActorFrom(ctx)
	if _, err := q.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(chainLock)); err != nil {
		return fmt.Errorf("lock audit chain: %w", err)
	}
	e := Entry{
		Actor: actor.Name, Role: string(actor.Role), RequestID: actor.RequestID,
		Action: change.Action, Resource: change.Resource, ResourceID: change.ResourceID, Summary: change.Summary,
	}
	var headKey string
	const head = `SELECT now(), coalesce(h.hash, ''), coalesce(h.key_id, '')
		FROM (SELECT 1) one LEFT JOIN (SELECT hash, key_id FROM audit_log ORDER BY id DESC LIMIT 1) h ON true`
	if err := q.QueryRow(ctx, head).Scan(&e.At, &e.PrevHash, &headKey); err != nil {
		return fmt.Errorf("read audit chain head: %w", err)
	}
	key, keyed := KeyFrom(ctx)
	if keyed {
		e.KeyID = key.ID()
	}
	if headKey != "" && headKey != e.KeyID {
		return fmt.Errorf("append audit row: the audit log is keyed with key %s but this process has %s "+
			"(every replica and command must read the same BCDR_AUDIT_KEY_FILE)", headKey, describeKey(key, keyed))
	}
	e.Hash = e.computeHash(key)
	const insert = `INSERT INTO audit_log (at, actor, role, action, resource, resource_id, request_id, summary, prev_hash, hash, key_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`
	if _, err := q.Exec(ctx, insert, e.At, e.Actor, e.Role, e.Action, e.Resource, e.ResourceID, e.RequestID, e.Summary,
		e.PrevHash, e.Hash, e.KeyID); err != nil {
		return fmt.Errorf("append audit row: %w", err)
	}
	return nil
}

// describeKey names the key a process holds, for messages.
func describeKey(k Key, ok bool) string {
	if !ok {
		return "no key"
	}
	return "key " + k.ID()
}

// computeHash is hex(sha256(prev_hash || canonical row)) for an unkeyed
// row and hex(HMAC-SHA256(key, prev_hash || canonical row)) for a keyed
// one; key is used only when e.KeyID is set. The canonical row is a JSON
// array in a fixed field order with the time in UTC at microsecond
// precision, the precision PostgreSQL stores.
func (e Entry) computeHash(key Key) string {
	canonical, _ := json.Marshal([]string{
		e.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano),
		e.Actor, e.Role, e.Action, e.Resource, e.ResourceID, e.RequestID, e.Summary,
	})
	if e.KeyID != "" {
		return key.mac([]byte(e.PrevHash), canonical)
	}
	sum := sha256.Sum256(append([]byte(e.PrevHash), canonical...))
	return hex.EncodeToString(sum[:])
}
