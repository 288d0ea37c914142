package directory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// CallTree says whom to call, in which order, for a business service or a
// runbook: level 1 first, the next level when nobody at a level answers
// within its wait.
type CallTree struct {
	Key        string    `json:"key"`
	Name       string    `json:"name"`
	Service    *string   `json:"service"`
	Runbook    *string   `json:"runbook"`
	Levels     []Level   `json:"levels"`
	Source     string    `json:"source"`
	ExternalID string    `json:"external_id"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Level is one escalation level: the contacts called together and how long
// to wait for an answer before escalating.
type Level struct {
	Level    int                   `json:"level"`
	Contacts []string              `json:"contacts"`
	Wait     orchestrator.Duration `json:"wait"`
}

// CallTreeInput is what a client sends to create or replace a call tree.
// Service is a business_service CI key and Runbook a runbook id; at least
// one is required, and a scope has at most one call tree.
type CallTreeInput struct {
	Key        string  `json:"key"`
	Name       string  `json:"name"`
	Service    string  `json:"service"`
	Runbook    string  `json:"runbook"`
	Levels     []Level `json:"levels"`
	Source     string  `json:"source"`
	ExternalID string  `json:"external_id"`
}

// Normalize trims the input, numbers unnumbered levels in order and fills
// defaults: the source given and an external id equal to the key.
func (in *CallTreeInput) Normalize(defaultSource string) {
	trim(&in.Key, &in.Name, &in.Service, &in.Runbook, &in.Source, &in.ExternalID)
	if in.Levels == nil {
		in.Levels = []Level{}
	}
	for i := range in.Levels {
		if in.Levels[i].Level == 0 {
			in.Levels[i].Level = i + 1
		}
		in.Levels[i].Contacts = trimList(in.Levels[i].Contacts)
	}
	if in.Source == "" {
		in.Source = defaultSource
	}
	if in.ExternalID == "" {
		in.ExternalID = in.Key
	}
}

// Validate checks a call tree without the database, naming every bad field.
func (in *CallTreeInput) Validate() error {
	var v orchestrator.Validation
	checkKey(&v, "key", in.Key)
	v.Require("name", in.Name)
	checkText(&v, "name", in.Name, maxName, false)
	checkText(&v, "service", in.Service, maxKey, false)
	checkText(&v, "runbook", in.Runbook, maxKey, false)
	if in.Service == "" && in.Runbook == "" {
		v.Add("service", "a call tree needs a scope: a service, a runbook or both")
	}
	switch {
	case len(in.Levels) == 0:
		v.Add("levels", "must list at least one escalation level")
	case len(in.Levels) > maxLevels:
		v.Add("levels", "must list at most %d levels", maxLevels)
	}
	for i, l := range in.Levels {
		field := fmt.Sprintf("levels[%d]", i)
		if l.Level != i+1 {
			v.Add(field+".level", "must be %d: levels are numbered in order from 1", i+1)
		}
		if len(l.Contacts) == 0 {
			v.Add(field+".contacts", "must list at least one contact")
		}
		checkRefs(&v, field+".contacts", l.Contacts, maxContacts)
	}
	checkIdentity(&v, in.Source, in.ExternalID)
	return v.Err()
}

// CallTreeFilter narrows a call tree listing; zero fields match everything.
type CallTreeFilter struct {
	Service string // business service CI key
}

const callTreeSelect = `SELECT t.key, t.name, s.key, t.runbook,
	coalesce((SELECT jsonb_agg(jsonb_build_object('level', l.level, 'wait_s', l.wait_s, 'contacts',
		ARRAY(SELECT c.key FROM call_tree_contacts m JOIN contacts c ON c.id = m.contact_id
		      WHERE m.call_tree_id = l.call_tree_id AND m.level = l.level ORDER BY m.position)) ORDER BY l.level)
		FROM call_tree_levels l WHERE l.call_tree_id = t.id), '[]'),
	t.source, t.external_id, t.created_at, t.updated_at
	FROM call_trees t LEFT JOIN cis s ON s.id = t.service_id`

// scanCallTree reads one row of callTreeSelect.
func scanCallTree(row pgx.CollectableRow) (CallTree, error) {
	var (
		t      CallTree
		levels []struct {
			Level    int      `json:"level"`
			WaitS    int64    `json:"wait_s"`
			Contacts []string `json:"contacts"`
		}
	)
	if err := row.Scan(&t.Key, &t.Name, &t.Service, &t.Runbook, &levels, &t.Source, &t.ExternalID, &t.CreatedAt, &t.UpdatedAt); err != nil {
		return CallTree{}, err
	}
	t.Levels = make([]Level, len(levels))
	for i, l := range levels {
		t.Levels[i] = Level{Level: l.Level, Contacts: trimList(l.Contacts), Wait: orchestrator.DurationFromSeconds(l.WaitS)}
	}
	return t, nil
}

func getCallTree(ctx context.Context, q postgres.Querier, where string, args ...any) (CallTree, error) {
	rows, err := q.Query(ctx, callTreeSelect+where, args...)
	if err != nil {
		return CallTree{}, err
	}
	return pgx.CollectExactlyOneRow(rows, scanCallTree)
}

// GetCallTree returns the call tree with key.
func (s *Service) GetCallTree(ctx context.Context, key string) (CallTree, error) {
	if !keyPattern.MatchString(key) {
		return CallTree{}, notFound("call tree", key)
	}
	return getRecord(ctx, s.pool, scanCallTree, "call tree "+key, notFound("call tree", key), callTreeSelect+` WHERE t.key = $1`, key)
}

// CallTreeForService returns the call tree of a business service as a
// whole (not one of its runbooks'), or a not_found error when it has none.
func CallTreeForService(ctx context.Context, q postgres.Querier, serviceKey string) (CallTree, error) {
	none := orchestrator.Errorf(orchestrator.ENOTFOUND, "service %q has no call tree", serviceKey)
	if !keyPattern.MatchString(serviceKey) {
		return CallTree{}, none
	}
	t, err := getCallTree(ctx, q, ` WHERE s.key = $1 AND t.runbook IS NULL`, serviceKey)
	if errors.Is(err, pgx.ErrNoRows) {
		return CallTree{}, none
	}
	if err != nil {
		return CallTree{}, fmt.Errorf("get call tree of service %s: %w", serviceKey, postgres.Translate(err))
	}
	return t, nil
}

// ListCallTrees returns call trees ordered by key.
func (s *Service) ListCallTrees(ctx context.Context, f CallTreeFilter, page orchestrator.Page) (orchestrator.List[CallTree], error) {
	var v orchestrator.Validation
	checkFilter(&v, "service", f.Service)
	if err := checkList(v.Err(), page); err != nil {
		return orchestrator.List[CallTree]{}, err
	}
	const where = ` WHERE ($1 = '' OR s.key = $1) AND ($2 = '' OR t.key > $2) ORDER BY t.key LIMIT $3`
	return listRecords(ctx, s.pool, scanCallTree, "call trees", page.Limit, func(t CallTree) string { return t.Key },
		callTreeSelect+where, f.Service, page.After, page.Limit+1)
}

// CreateCallTree adds a call tree; its service and contacts must exist.
func (s *Service) CreateCallTree(ctx context.Context, in CallTreeInput) (CallTree, error) {
	const insert = `INSERT INTO call_trees (key, name, service_id, runbook, source, external_id)
		VALUES ($1, $2, $3, nullif($4, ''), $5, $6) RETURNING id`
	return saveInTx(ctx, s.pool, &in, func(tx pgx.Tx, out *CallTree) error {
		return s.saveCallTree(ctx, tx, "create", in, out, func(service *int64) (int64, error) {
			return scanID(tx.QueryRow(ctx, insert, in.Key, in.Name, service, in.Runbook, in.Source, in.ExternalID), nil)
		})
	})
}

// ReplaceCallTree overwrites the call tree with key, levels included; the
// body may repeat the key but not change it.
func (s *Service) ReplaceCallTree(ctx context.Context, key string, in CallTreeInput) (CallTree, error) {
	if err := pathKey(&in.Key, key, "call tree"); err != nil {
		return CallTree{}, err
	}
	keep := keepIdentity(in.Source, in.ExternalID)
	const update = `UPDATE call_trees SET name = $2, service_id = $3, runbook = nullif($4, ''),
		source = CASE WHEN $5 THEN source ELSE $6 END, external_id = CASE WHEN $5 THEN external_id ELSE $7 END,
		updated_at = now() WHERE key = $1 RETURNING id`
	return saveInTx(ctx, s.pool, &in, func(tx pgx.Tx, out *CallTree) error {
		return s.saveCallTree(ctx, tx, "update", in, out, func(service *int64) (int64, error) {
			return scanID(tx.QueryRow(ctx, update, key, in.Name, service, in.Runbook, keep, in.Source, in.ExternalID),
				notFound("call tree", key))
		})
	})
}

// saveCallTree resolves the service and contacts, writes the call tree row
// with write, replaces its levels, records the change and reads the result
// into out.
func (s *Service) saveCallTree(ctx context.Context, tx pgx.Tx, action string, in CallTreeInput, out *CallTree, write func(service *int64) (int64, error)) error {
	var v orchestrator.Validation
	var service *int64
	if in.Service != "" {
		ids, err := ciIDs(ctx, tx, &v, ClassBusinessService, []ref{{field: "service", key: in.Service}})
		if err != nil {
			return err
		}
		if id, ok := ids[in.Service]; ok {
			service = &id
		}
	}
	var members []ref
	for i, l := range in.Levels {
		members = append(members, refs(fmt.Sprintf("levels[%d].contacts", i), l.Contacts)...)
	}
	contacts, err := contactIDs(ctx, tx, &v, members)
	if err != nil {
		return err
	}
	if err := v.Err(); err != nil {
		return err
	}
	id, err := write(service)
	if err != nil {
		return conflict(err, "call tree", map[string]orchestrator.FieldError{
			"call_trees_key_key":                taken("key", in.Key),
			"call_trees_source_external_id_key": taken("external_id", in.ExternalID),
			"call_trees_scope_key": {Field: "service", Message: fmt.Sprintf(
				"service %q with runbook %q already has a call tree", in.Service, in.Runbook)},
		})
	}
	if err := saveLevels(ctx, tx, id, in.Levels, contacts); err != nil {
		return fmt.Errorf("save levels of call tree %s: %w", in.Key, err)
	}
	if err := audit.Record(ctx, tx, audit.Change{Action: action, Resource: "call-trees", ResourceID: in.Key,
		Summary: fmt.Sprintf("call tree %q with %d levels", in.Name, len(in.Levels))}); err != nil {
		return err
	}
	*out, err = getCallTree(ctx, tx, ` WHERE t.id = $1`, id)
	return err
}

// saveLevels replaces a call tree's levels and their contacts.
func saveLevels(ctx context.Context, tx pgx.Tx, id int64, levels []Level, contacts map[string]int64) error {
	var (
		levelNos, memberLevels, positions []int32
		waits, members                    []int64
	)
	for _, l := range levels {
		levelNos = append(levelNos, int32(l.Level))
		waits = append(waits, l.Wait.Seconds())
		for p, k := range l.Contacts {
			memberLevels = append(memberLevels, int32(l.Level))
			positions = append(positions, int32(p+1))
			members = append(members, contacts[k])
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM call_tree_levels WHERE call_tree_id = $1`, id); err != nil {
		return err
	}
	const insertLevels = `INSERT INTO call_tree_levels (call_tree_id, level, wait_s)
		SELECT $1, l, w FROM unnest($2::int[], $3::bigint[]) AS u(l, w)`
	if _, err := tx.Exec(ctx, insertLevels, id, levelNos, waits); err != nil {
		return postgres.Translate(err)
	}
	const insertMembers = `INSERT INTO call_tree_contacts (call_tree_id, level, position, contact_id)
		SELECT $1, l, p, c FROM unnest($2::int[], $3::int[], $4::bigint[]) AS u(l, p, c)`
	_, err := tx.Exec(ctx, insertMembers, id, memberLevels, positions, members)
	return postgres.Translate(err)
}

// DeleteCallTree removes a call tree.
func (s *Service) DeleteCallTree(ctx context.Context, key string) error {
	if !keyPattern.MatchString(key) {
		return notFound("call tree", key)
	}
	const del = `DELETE FROM call_trees WHERE key = $1`
	return s.deleteRecord(ctx, "call tree "+key, notFound("call tree", key), del, key, "call-trees", key)
}
