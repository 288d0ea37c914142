package cmdb

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Ref is what other capabilities need of a CI they name by key: its id to
// reference it, and the attributes they judge it by.
type Ref struct {
	ID               int64
	Key              string
	Name             string
	Class            string
	Site             string
	Owner            string
	Status           string
	DataBearing      bool
	RecoveryStrategy string
	RecoveryEstimate orchestrator.Duration
}

// Lock is the row lock Resolve takes on the CIs it finds. It lasts until
// the caller's transaction ends, so it means nothing on a pool.
type Lock int

const (
	// LockNone reads without locking.
	LockNone Lock = iota
	// LockKeyShare (FOR KEY SHARE) keeps the CIs from being deleted or
	// re-keyed while a row referencing them is written, without blocking
	// updates of their other columns (an import re-writing them) or other
	// readers.
	LockKeyShare
	// LockNoKeyUpdate (FOR NO KEY UPDATE) also serialises the callers that
	// take it on the same CI, such as writers of one service's BIA, while
	// still letting foreign-key checks and LockKeyShare through.
	LockNoKeyUpdate
)

// clause is the locking clause of the resolve query.
func (l Lock) clause() string {
	switch l {
	case LockKeyShare:
		return ` FOR KEY SHARE`
	case LockNoKeyUpdate:
		return ` FOR NO KEY UPDATE`
	}
	return ""
}

// ResolveOptions tune Resolve.
type ResolveOptions struct {
	Lock Lock
	// Field names the input the keys came from in the error for unknown
	// keys; "ci" when empty.
	Field string
}

// resolveQuery reads the CIs with keys. Rows are locked in key order, so
// two transactions resolving overlapping keys cannot deadlock on them.
const resolveQuery = `SELECT id, key, name, class, site, owner, status, data_bearing, recovery_strategy, recovery_estimate_s
	FROM cis WHERE key = ANY($1) ORDER BY key`

// Resolve looks up the CIs with keys in one query, taking opts.Lock on
// them, and returns them by key. When some keys name no CI it returns the
// CIs it found together with an *UnknownKeysError listing the others, an
// invalid-input error naming opts.Field; callers with their own message
// for that case test it with IsUnknown.
func Resolve(ctx context.Context, q postgres.Querier, keys []string, opts ResolveOptions) (map[string]Ref, error) {
	out := make(map[string]Ref, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := q.Query(ctx, resolveQuery+opts.Lock.clause(), keys)
	if err != nil {
		return nil, fmt.Errorf("resolve CI keys: %w", postgres.Translate(err))
	}
	var (
		r        Ref
		estimate int64
	)
	_, err = pgx.ForEachRow(rows, []any{&r.ID, &r.Key, &r.Name, &r.Class, &r.Site, &r.Owner, &r.Status, &r.DataBearing,
		&r.RecoveryStrategy, &estimate}, func() error {
		r.RecoveryEstimate = orchestrator.DurationFromSeconds(estimate)
		out[r.Key] = r
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("resolve CI keys: %w", postgres.Translate(err))
	}
	var missing []string
	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if _, ok := out[k]; !ok && !seen[k] {
			missing = append(missing, k)
		}
		seen[k] = true
	}
	if missing != nil {
		return out, newUnknownKeysError(opts.Field, missing)
	}
	return out, nil
}

// ResolveOne is Resolve for one key.
func ResolveOne(ctx context.Context, q postgres.Querier, key string, opts ResolveOptions) (Ref, error) {
	refs, err := Resolve(ctx, q, []string{key}, opts)
	if err != nil {
		return Ref{}, err
	}
	return refs[key], nil
}

// UnknownKeysError reports the keys Resolve found no CI for. It unwraps
// to an EINVALID application error with one field message per key.
type UnknownKeysError struct {
	Field string
	Keys  []string
	err   orchestrator.Error
}

func newUnknownKeysError(field string, keys []string) *UnknownKeysError {
	if field == "" {
		field = "ci"
	}
	e := &UnknownKeysError{Field: field, Keys: keys}
	e.err = orchestrator.Error{Code: orchestrator.EINVALID, Message: "unknown CI"}
	if len(keys) > 1 {
		e.err.Message = "unknown CIs"
	}
	for _, k := range keys {
		e.err.Fields = append(e.err.Fields, orchestrator.FieldError{Field: field, Message: fmt.Sprintf("no CI has key %q", k)})
	}
	return e
}

func (e *UnknownKeysError) Error() string { return e.err.Error() }

// Unwrap returns the application error the API answers with.
func (e *UnknownKeysError) Unwrap() error { return &e.err }

// IsUnknown reports whether err is Resolve's error for keys that name no
// CI, as opposed to a failure to look them up.
func IsUnknown(err error) bool {
	var u *UnknownKeysError
	return errors.As(err, &u)
}
