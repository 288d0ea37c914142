package itsm

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// maxNamed bounds how many offending values one field error lists.
const maxNamed = 10

// resolveKeys maps CI keys to ids, in order and without duplicates. Unknown
// keys, and when services is set CIs that are not business services, are
// recorded on v against field; the caller returns v.Err() once every
// reference has been checked.
func resolveKeys(ctx context.Context, q postgres.Querier, v *orchestrator.Validation, field string, keys []string, services bool) ([]int64, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	refs, err := cmdb.Resolve(ctx, q, keys, cmdb.ResolveOptions{Field: field})
	if err != nil && !cmdb.IsUnknown(err) {
		return nil, fmt.Errorf("resolve %s: %w", field, err)
	}
	var (
		ids               []int64
		seen              = map[int64]bool{}
		unknown, notServs []string
	)
	for _, key := range keys {
		ref, ok := refs[key]
		switch {
		case !ok:
			if !slices.Contains(unknown, key) {
				unknown = append(unknown, key)
			}
		case services && ref.Class != classBusinessService:
			notServs = append(notServs, key)
		case !seen[ref.ID]:
			seen[ref.ID] = true
			ids = append(ids, ref.ID)
		}
	}
	if len(unknown) > 0 {
		v.Add(field, "unknown CI keys: %s", quoteList(unknown))
	}
	if len(notServs) > 0 {
		v.Add(field, "not business services (class business_service): %s", quoteList(notServs))
	}
	return ids, nil
}

// quoteList writes values quoted (so hostile text stays inert), at most
// maxNamed of them.
func quoteList(values []string) string {
	var b strings.Builder
	for i, s := range values {
		if i == maxNamed {
			fmt.Fprintf(&b, " and %d more", len(values)-maxNamed)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if len(s) > 100 {
			s = s[:100] + "..."
		}
		b.WriteString(strconv.Quote(s))
	}
	return b.String()
}

// link is a table joining a record to the CIs it affects.
type link struct {
	table, owner, ci string
}

var (
	incidentCIs      = link{"incident_cis", "incident_id", "ci_id"}
	incidentServices = link{"incident_services", "incident_id", "service_id"}
	changeCIs        = link{"change_cis", "change_id", "ci_id"}
	releaseCIs       = link{"release_cis", "release_id", "ci_id"}
)

// replace makes the record's links exactly ids.
func (l link) replace(ctx context.Context, q postgres.Querier, owner int64, ids []int64) error {
	if ids == nil {
		ids = []int64{} // a NULL array would make <> ALL unknown and keep every link
	}
	del := `DELETE FROM ` + l.table + ` WHERE ` + l.owner + ` = $1 AND ` + l.ci + ` <> ALL($2::bigint[])`
	if _, err := q.Exec(ctx, del, owner, ids); err != nil {
		return fmt.Errorf("unlink %s: %w", l.table, err)
	}
	ins := `INSERT INTO ` + l.table + ` (` + l.owner + `, ` + l.ci + `) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`
	if _, err := q.Exec(ctx, ins, owner, ids); err != nil {
		return fmt.Errorf("link %s: %w", l.table, postgres.Translate(err))
	}
	return nil
}

// keysOf is the select-list expression of the record's linked CI keys,
// sorted, for the record aliased as alias.
func (l link) keysOf(alias string) string {
	return `ARRAY(SELECT lci.key FROM ` + l.table + ` lnk JOIN cis lci ON lci.id = lnk.` + l.ci +
		` WHERE lnk.` + l.owner + ` = ` + alias + `.id ORDER BY lci.key)`
}

// where collects the conditions of a dynamically filtered query with their
// positional arguments. Only present filters become conditions, so every
// query plan can use the index that fits it.
type where struct {
	conds []string
	args  []any
}

// arg adds an argument and returns its placeholder.
func (w *where) arg(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

// add appends a condition.
func (w *where) add(cond string) { w.conds = append(w.conds, cond) }

// sql is the WHERE clause body.
func (w *where) sql() string {
	if len(w.conds) == 0 {
		return "true"
	}
	return strings.Join(w.conds, " AND ")
}

// beforeID starts the conditions of a listing newest (highest id) first:
// the records of the table aliased alias that come after the keyset
// position after, a record id.
func beforeID(alias, after string) (where, error) {
	var w where
	if after == "" {
		return w, nil
	}
	id, err := strconv.ParseInt(after, 10, 64)
	if err != nil || id < 1 {
		return w, badCursor()
	}
	w.add(alias + ".id < " + w.arg(id))
	return w, nil
}

func badCursor() error {
	return &orchestrator.Error{Code: orchestrator.EINVALID, Message: "invalid pagination cursor",
		Fields: []orchestrator.FieldError{{Field: "after", Message: "is not a cursor returned by this list"}}}
}

// notFound is the error for a missing record.
func notFound(kind string, id int64) error {
	return orchestrator.Errorf(orchestrator.ENOTFOUND, "%s %d not found", kind, id)
}

// conflictOrErr turns a unique violation on (source, external_id) into a
// conflict naming external_id.
func conflictOrErr(err error, what string) error {
	err = postgres.Translate(err)
	if orchestrator.ErrorCode(err) == orchestrator.ECONFLICT {
		return &orchestrator.Error{Code: orchestrator.ECONFLICT, Message: what + " already exists",
			Fields: []orchestrator.FieldError{{Field: "external_id", Message: "is already used by another record from the same source"}}}
	}
	return err
}

// summaryText shortens user text for an audit summary.
func summaryText(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return strconv.Quote(s)
}
