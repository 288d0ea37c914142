// Package directory keeps who to call and who is bound by what: contacts
// and their deputies, call trees with their escalation order, suppliers with
// their contracts and the supplier_service CIs they provide, and the SLAs of
// business services.
//
// Each record type has an input struct with a Normalize and a Validate
// method that need no database, so the API and the bulk importer check rows
// the same way; references to CIs and contacts are checked by the store in
// the writing transaction and held by foreign keys.
package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// CI classes the directory refers to.
const (
	ClassBusinessService = "business_service"
	ClassSupplierService = "supplier_service"
)

// DefaultSource is the source of records entered through the API.
const DefaultSource = "manual"

// Service reads and writes directory records.
type Service struct {
	pool *pgxpool.Pool
	rt   orchestrator.Runtime
}

// NewService returns a directory service over pool; the runtime's clock
// decides which supplier contracts are active today.
func NewService(pool *pgxpool.Pool, rt orchestrator.Runtime) *Service {
	return &Service{pool: pool, rt: rt}
}

// today is the current calendar day in UTC.
func (s *Service) today() Date { return DateOf(s.rt.Now()) }

// ref is one reference to resolve: the input field it came from and the key.
type ref struct {
	field string
	key   string
}

// refs pairs every key of a list field with its indexed field name.
func refs(field string, keys []string) []ref {
	out := make([]ref, len(keys))
	for i, k := range keys {
		out[i] = ref{field: fmt.Sprintf("%s[%d]", field, i), key: k}
	}
	return out
}

// contactIDs resolves contact keys to ids, locking the rows against deletion
// until the transaction ends. Unknown keys are recorded in v.
func contactIDs(ctx context.Context, q postgres.Querier, v *orchestrator.Validation, rs []ref) (map[string]int64, error) {
	keys := make([]string, len(rs))
	for i, r := range rs {
		keys[i] = r.key
	}
	rows, err := q.Query(ctx, `SELECT key, id FROM contacts WHERE key = ANY($1) FOR KEY SHARE`, keys)
	if err != nil {
		return nil, fmt.Errorf("look up contacts: %w", err)
	}
	ids := map[string]int64{}
	var key string
	var id int64
	if _, err := pgx.ForEachRow(rows, []any{&key, &id}, func() error { ids[key] = id; return nil }); err != nil {
		return nil, fmt.Errorf("look up contacts: %w", err)
	}
	for _, r := range rs {
		if _, ok := ids[r.key]; !ok {
			v.Add(r.field, "no contact with key %q", r.key)
		}
	}
	return ids, nil
}

// ciIDs resolves CI keys that must be of class, locking the CIs against
// deletion until the transaction ends. Unknown keys and CIs of another class
// are recorded in v.
func ciIDs(ctx context.Context, q postgres.Querier, v *orchestrator.Validation, class string, rs []ref) (map[string]int64, error) {
	keys := make([]string, len(rs))
	for i, r := range rs {
		keys[i] = r.key
	}
	cis, err := cmdb.Resolve(ctx, q, keys, cmdb.ResolveOptions{Lock: cmdb.LockKeyShare})
	if err != nil && !cmdb.IsUnknown(err) {
		return nil, fmt.Errorf("look up CIs: %w", err)
	}
	ids := make(map[string]int64, len(cis))
	for k, ci := range cis {
		ids[k] = ci.ID
	}
	for _, r := range rs {
		switch ci, ok := cis[r.key]; {
		case !ok:
			v.Add(r.field, "no CI with key %q", r.key)
		case ci.Class != class:
			v.Add(r.field, "CI %q is a %s, not a %s", r.key, ci.Class, class)
		}
	}
	return ids, nil
}

// idList maps keys to their resolved ids, in order.
func idList(ids map[string]int64, keys []string) []int64 {
	out := make([]int64, len(keys))
	for i, k := range keys {
		out[i] = ids[k]
	}
	return out
}

// replaceList replaces the ordered child rows (owner, position, ref) of one
// record. The table and column names are constants of this package.
func replaceList(ctx context.Context, tx pgx.Tx, table, owner, ref string, id int64, refs []int64) error {
	if _, err := tx.Exec(ctx, `DELETE FROM `+table+` WHERE `+owner+` = $1`, id); err != nil {
		return postgres.Translate(err)
	}
	insert := `INSERT INTO ` + table + ` (` + owner + `, position, ` + ref + `)
		SELECT $1, n, r FROM unnest($2::bigint[]) WITH ORDINALITY AS u(r, n)`
	_, err := tx.Exec(ctx, insert, id, refs)
	return postgres.Translate(err)
}

// conflict turns a unique violation into a conflict naming the field at
// fault; fields maps constraint names to field errors. A not_found (the
// record to replace is gone) passes unchanged; other errors are translated
// and wrapped with what.
func conflict(err error, what string, fields map[string]orchestrator.FieldError) error {
	if orchestrator.ErrorCode(err) == orchestrator.ENOTFOUND {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		if f, ok := fields[pgErr.ConstraintName]; ok {
			return &orchestrator.Error{Code: orchestrator.ECONFLICT, Message: what + " already exists",
				Fields: []orchestrator.FieldError{f}}
		}
	}
	return fmt.Errorf("save %s: %w", what, postgres.Translate(err))
}

// taken is the field error for a value another record already uses.
func taken(field, value string) orchestrator.FieldError {
	return orchestrator.FieldError{Field: field, Message: fmt.Sprintf("%q is already in use", value)}
}

// inUse returns a conflict when the query lists any referrers.
func inUse(ctx context.Context, q postgres.Querier, what, query string, id int64) error {
	rows, err := q.Query(ctx, query, id)
	if err != nil {
		return fmt.Errorf("find references to %s: %w", what, err)
	}
	users, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("find references to %s: %w", what, err)
	}
	if len(users) > 0 {
		return orchestrator.Errorf(orchestrator.ECONFLICT, "%s is still referred to by %s; remove those references first",
			what, strings.Join(users, ", "))
	}
	return nil
}

// keepIdentity is true when a replacement names no import identity, so the
// record keeps the one it has instead of reverting to the manual default.
func keepIdentity(source, externalID string) bool {
	return strings.TrimSpace(source) == "" && strings.TrimSpace(externalID) == ""
}

// notFound is the error for a record that does not exist.
func notFound(what, key string) error {
	return orchestrator.Errorf(orchestrator.ENOTFOUND, "%s %q not found", what, key)
}

// mismatchedKey is the error for a replacement whose body names another key.
func mismatchedKey(what, key string) error {
	return &orchestrator.Error{Code: orchestrator.EINVALID, Message: "a " + what + "'s key cannot change",
		Fields: []orchestrator.FieldError{{Field: "key", Message: fmt.Sprintf("must be %q, the key in the path", key)}}}
}

// checkList returns the filter's error, else checkAfter's.
func checkList(filterErr error, page orchestrator.Page) error {
	if filterErr != nil {
		return filterErr
	}
	return checkAfter(page)
}

// refused reports a delete the foreign keys refused as a conflict; it only
// happens when a reference was added after inUse looked.
func refused(err error, what, key string) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return orchestrator.Errorf(orchestrator.ECONFLICT, "%s %q is still referred to by %s", what, key, pgErr.TableName)
	}
	return postgres.Translate(err)
}

// checkAfter rejects a keyset position the database could not compare; a
// client can forge one inside an otherwise well-formed cursor.
func checkAfter(page orchestrator.Page) error {
	if textProblem(page.After, 1000, false) != "" {
		return errBadCursor()
	}
	return nil
}

// errBadCursor is the error for an ?after= this server did not hand out.
func errBadCursor() error {
	return &orchestrator.Error{Code: orchestrator.EINVALID, Message: "invalid pagination cursor",
		Fields: []orchestrator.FieldError{{Field: "after", Message: "is not a cursor returned by this server"}}}
}
