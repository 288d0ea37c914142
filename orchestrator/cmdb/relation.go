package cmdb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// RelationTypes are the kinds of relation. The first four mean "from needs
// to": a failure of to propagates to from. backed_up_by and replicates_to
// matter to recovery only.
var RelationTypes = []string{"depends_on", "runs_on", "hosted_in", "provided_by", "backed_up_by", "replicates_to"}

// Propagates reports whether a relation type carries failure.
func Propagates(typ string) bool {
	switch typ {
	case "depends_on", "runs_on", "hosted_in", "provided_by":
		return true
	}
	return false
}

// Relation is a typed edge between two CIs, optionally in a redundancy
// group: "from" stays up while at least MinUp of the group's "to" CIs are up.
type Relation struct {
	ID         int64     `json:"id"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Type       string    `json:"type"`
	Group      string    `json:"group,omitempty"`
	MinUp      int       `json:"min_up,omitempty"`
	Source     string    `json:"source"`
	ExternalID string    `json:"external_id"`
	CreatedAt  time.Time `json:"created_at"`
}

// RelationInput creates a relation, by API or import row.
type RelationInput struct {
	From       string `json:"from"`
	To         string `json:"to"`
	Type       string `json:"type"`
	Group      string `json:"group"`
	MinUp      int    `json:"min_up"`
	Source     string `json:"source"`
	ExternalID string `json:"external_id"`
}

// Normalize fills defaults: an external id made of the relation's ends.
func (in *RelationInput) Normalize(defaultSource string) {
	in.From, in.To, in.Type, in.Group = strings.TrimSpace(in.From), strings.TrimSpace(in.To), strings.TrimSpace(in.Type), strings.TrimSpace(in.Group)
	if in.Type == "" {
		in.Type = "depends_on"
	}
	if in.Source == "" {
		in.Source = defaultSource
	}
	if in.ExternalID == "" {
		in.ExternalID = in.From + " " + in.Type + " " + in.To
	}
}

// Validate checks a relation without the database.
func (in *RelationInput) Validate() error {
	var v orchestrator.Validation
	v.Require("from", in.From)
	v.Require("to", in.To)
	if in.From != "" && in.From == in.To {
		v.Add("to", "a CI cannot relate to itself (%q)", in.From)
	}
	if !slices.Contains(RelationTypes, in.Type) {
		v.Add("type", "must be one of %s", strings.Join(RelationTypes, ", "))
	}
	checkText(&v, "group", in.Group, 100, false)
	switch {
	case in.Group != "" && in.MinUp < 1:
		v.Add("min_up", "must be at least 1 for a redundancy group")
	case in.Group == "" && in.MinUp != 0:
		v.Add("group", "is required when min_up is set")
	case in.Group != "" && !Propagates(in.Type):
		v.Add("group", "redundancy groups apply to depends_on, runs_on, hosted_in and provided_by relations")
	}
	checkText(&v, "source", in.Source, 100, false)
	checkText(&v, "external_id", in.ExternalID, 300, false)
	return v.Err()
}

const relationSelect = `SELECT r.id, f.key, t.key, r.type, r.grp, r.min_up, r.source, r.external_id, r.created_at
	FROM relations r JOIN cis f ON f.id = r.from_id JOIN cis t ON t.id = r.to_id`

// CreateRelation adds a relation between two existing CIs.
func (s *Service) CreateRelation(ctx context.Context, in RelationInput) (Relation, error) {
	in.Normalize("manual")
	if err := in.Validate(); err != nil {
		return Relation{}, err
	}
	var id int64
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		fromID, toID, err := resolveEnds(ctx, tx, in.From, in.To)
		if err != nil {
			return err
		}
		const insert = `INSERT INTO relations (from_id, to_id, type, grp, min_up, source, external_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`
		err = tx.QueryRow(ctx, insert, fromID, toID, in.Type, in.Group, in.MinUp, in.Source, in.ExternalID).Scan(&id)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return orchestrator.Errorf(orchestrator.ECONFLICT, "%s %s %s already exists", in.From, in.Type, in.To)
		}
		if err != nil {
			return fmt.Errorf("insert relation: %w", postgres.Translate(err))
		}
		return audit.Record(ctx, tx, audit.Change{Action: "create", Resource: "relations", ResourceID: strconv.FormatInt(id, 10),
			Summary: in.ExternalID})
	})
	if err != nil {
		return Relation{}, err
	}
	return s.GetRelation(ctx, strconv.FormatInt(id, 10))
}

// resolveEnds finds the ids of both CIs, naming whichever is unknown.
func resolveEnds(ctx context.Context, tx pgx.Tx, from, to string) (int64, int64, error) {
	refs, err := Resolve(ctx, tx, []string{from, to}, ResolveOptions{})
	if err != nil && !IsUnknown(err) {
		return 0, 0, fmt.Errorf("resolve relation ends: %w", err)
	}
	var v orchestrator.Validation
	if _, ok := refs[from]; !ok {
		v.Add("from", "no CI has key %q", from)
	}
	if _, ok := refs[to]; !ok {
		v.Add("to", "no CI has key %q", to)
	}
	return refs[from].ID, refs[to].ID, v.Err()
}

// GetRelation returns one relation by id.
func (s *Service) GetRelation(ctx context.Context, id string) (Relation, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return Relation{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "relation %q not found", id)
	}
	rows, err := s.pool.Query(ctx, relationSelect+` WHERE r.id = $1`, n)
	if err != nil {
		return Relation{}, fmt.Errorf("get relation %s: %w", id, err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Relation])
	if errors.Is(err, pgx.ErrNoRows) {
		return Relation{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "relation %s not found", id)
	}
	return r, err
}

// DeleteRelation removes one relation.
func (s *Service) DeleteRelation(ctx context.Context, id string) error {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return orchestrator.Errorf(orchestrator.ENOTFOUND, "relation %q not found", id)
	}
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var ext string
		err := tx.QueryRow(ctx, `DELETE FROM relations WHERE id = $1 RETURNING external_id`, n).Scan(&ext)
		if errors.Is(err, pgx.ErrNoRows) {
			return orchestrator.Errorf(orchestrator.ENOTFOUND, "relation %s not found", id)
		}
		if err != nil {
			return fmt.Errorf("delete relation %s: %w", id, err)
		}
		return audit.Record(ctx, tx, audit.Change{Action: "delete", Resource: "relations", ResourceID: id, Summary: ext})
	})
}

// RelationFilter narrows a relation listing.
type RelationFilter struct {
	From, To, CI, Type, Group string
}

const relationWhere = ` WHERE ($1 = '' OR f.key = $1) AND ($2 = '' OR t.key = $2) AND ($3 = '' OR f.key = $3 OR t.key = $3)
	AND ($4 = '' OR r.type = $4) AND ($5 = '' OR r.grp = $5)`

// ListRelations returns relations ordered by id.
func (s *Service) ListRelations(ctx context.Context, f RelationFilter, page orchestrator.Page) (orchestrator.List[Relation], error) {
	after := int64(0)
	if page.After != "" {
		var err error
		if after, err = strconv.ParseInt(page.After, 10, 64); err != nil {
			return orchestrator.List[Relation]{}, orchestrator.Errorf(orchestrator.EINVALID, "invalid pagination cursor")
		}
	}
	rows, err := s.pool.Query(ctx, relationSelect+relationWhere+` AND r.id > $6 ORDER BY r.id LIMIT $7`,
		f.From, f.To, f.CI, f.Type, f.Group, after, page.Limit+1)
	if err != nil {
		return orchestrator.List[Relation]{}, fmt.Errorf("list relations: %w", err)
	}
	items, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Relation])
	if err != nil {
		return orchestrator.List[Relation]{}, fmt.Errorf("list relations: %w", err)
	}
	return orchestrator.Paginate(items, page.Limit, func(r Relation) string { return strconv.FormatInt(r.ID, 10) }), nil
}

// EachRelation streams every relation matching f in id order.
func (s *Service) EachRelation(ctx context.Context, f RelationFilter, fn func(Relation) error) error {
	rows, err := s.pool.Query(ctx, relationSelect+relationWhere+` ORDER BY r.id`, f.From, f.To, f.CI, f.Type, f.Group)
	if err != nil {
		return fmt.Errorf("export relations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Relation
		if err := rows.Scan(&r.ID, &r.From, &r.To, &r.Type, &r.Group, &r.MinUp, &r.Source, &r.ExternalID, &r.CreatedAt); err != nil {
			return fmt.Errorf("export relations: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
