package cmdb

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator/importer"
)

// maxDerivedKey leaves room under the 128-character key limit for a
// collision suffix.
const maxDerivedKey = 100

// DeriveKey makes a CI key from a display name, as an import does for rows
// without one: lower case, letters and digits of any script kept (so
// Chinese names stay readable), every run of anything else one "-", no
// leading or trailing "-". "" when the name has no letter or digit.
func DeriveKey(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	n, dash := 0, false
	for _, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				if n+2 > maxDerivedKey {
					break
				}
				b.WriteByte('-')
				n++
			}
			if n == maxDerivedKey {
				break
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
			n++
			continue
		}
		dash = true
	}
	return b.String()
}

// CIRow is one row of a CI import: the API's CIInput, and whether its key
// was derived from its name.
type CIRow struct {
	CIInput
	// InstallStatus is ServiceNow's install_status, read with the
	// operational status into Status (importedStatus).
	InstallStatus string `json:"install_status"`
	derived       bool
}

// deriveKey gives a row without a key one from its name (else from its
// external id).
func (r *CIRow) deriveKey() {
	if strings.TrimSpace(r.Key) != "" {
		return
	}
	if r.Key = DeriveKey(r.Name); r.Key == "" {
		r.Key = DeriveKey(r.ExternalID)
	}
	r.derived = r.Key != ""
}

// resolveDerivedKeys settles the keys an import derived from names: a CI
// already imported from the same source record keeps the key it has, so
// keys stay stable when names change or collide later; a derived key that
// another CI or another row holds gets the first free suffix -2, -3, ...,
// the rows of one key taking them in external_id order, and is reported.
// Keys given in the file are never changed.
func resolveDerivedKeys(ctx context.Context, tx pgx.Tx) ([]importer.Problem, error) {
	const keep = `UPDATE import_stage s SET key = c.key FROM cis c
		WHERE s.key_derived AND c.source = s.source AND c.external_id = s.external_id AND c.key <> s.key`
	if _, err := tx.Exec(ctx, keep); err != nil {
		return nil, fmt.Errorf("keep imported keys: %w", err)
	}
	// A derived key is lost to a CI of another identity, to a key given in
	// the file, or to a derived row earlier in external_id order.
	const collisions = `SELECT s.row_no, s.key, coalesce(
			(SELECT format('CI %s (source %s, external_id %s)', c.key, c.source, c.external_id) FROM cis c
				WHERE c.key = s.key AND (c.source, c.external_id) IS DISTINCT FROM (s.source, s.external_id)),
			(SELECT 'row ' || min(o.row_no) FROM import_stage o WHERE o.key = s.key AND o.row_no <> s.row_no
				AND (NOT o.key_derived OR (o.external_id, o.row_no) < (s.external_id, s.row_no))))
		FROM import_stage s
		WHERE s.key_derived
			AND (EXISTS (SELECT 1 FROM cis c WHERE c.key = s.key AND (c.source, c.external_id) IS DISTINCT FROM (s.source, s.external_id))
				OR EXISTS (SELECT 1 FROM import_stage o WHERE o.key = s.key AND o.row_no <> s.row_no
					AND (NOT o.key_derived OR (o.external_id, o.row_no) < (s.external_id, s.row_no))))
		ORDER BY s.key, s.external_id, s.row_no`
	type lost struct {
		row        int32
		key, taker string
		next       int
	}
	rows, err := tx.Query(ctx, collisions)
	if err != nil {
		return nil, fmt.Errorf("find key collisions: %w", err)
	}
	var moved []*lost
	var l lost
	_, err = pgx.ForEachRow(rows, []any{&l.row, &l.key, &l.taker}, func() error {
		c := l
		c.next = 2
		moved = append(moved, &c)
		return nil
	})
	if err != nil || len(moved) == 0 {
		if err != nil {
			err = fmt.Errorf("find key collisions: %w", err)
		}
		return nil, err
	}
	// Try suffixes until every moved row has a key no CI and no row holds;
	// keys handed out in this loop count as held too.
	given := map[string]bool{}
	final := make([]string, len(moved))
	pending := slices.Clone(moved)
	for len(pending) > 0 {
		candidates := make([]string, len(pending))
		for i, m := range pending {
			for {
				candidates[i] = suffixed(m.key, m.next)
				if !given[candidates[i]] {
					break
				}
				m.next++
			}
			given[candidates[i]] = true
		}
		var taken []string
		err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(k), '{}') FROM unnest($1::text[]) k
			WHERE EXISTS (SELECT 1 FROM cis c WHERE c.key = k) OR EXISTS (SELECT 1 FROM import_stage s WHERE s.key = k)`,
			candidates).Scan(&taken)
		if err != nil {
			return nil, fmt.Errorf("find free keys: %w", err)
		}
		var again []*lost
		for i, m := range pending {
			if slices.Contains(taken, candidates[i]) {
				m.next++
				again = append(again, m)
				continue
			}
			final[slices.Index(moved, m)] = candidates[i]
		}
		pending = again
	}
	ids := make([]int32, len(moved))
	warnings := make([]importer.Problem, len(moved))
	for i, m := range moved {
		ids[i] = m.row
		warnings[i] = importer.Problem{Row: int(m.row), Column: "key", Message: fmt.Sprintf(
			"key %s, derived from the name, is taken by %s; this CI gets key %s", m.key, m.taker, final[i])}
	}
	if _, err := tx.Exec(ctx, `UPDATE import_stage s SET key = n.key FROM unnest($1::int[], $2::text[]) n(row_no, key)
		WHERE s.row_no = n.row_no`, ids, final); err != nil {
		return nil, fmt.Errorf("rename colliding keys: %w", err)
	}
	slices.SortFunc(warnings, func(a, b importer.Problem) int { return a.Row - b.Row })
	return warnings, nil
}

func suffixed(key string, n int) string { return key + "-" + strconv.Itoa(n) }
