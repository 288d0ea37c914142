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
// to": a failure of to propagates to from. backed_up_by, replicates_to and
// fails_over_to matter to recovery only.
var RelationTypes = []string{"depends_on", "runs_on", "hosted_in", "provided_by", "backed_up_by", "replicates_to", "fails_over_to"}

// Activations say whether a failover happens by itself or takes a decision;
// Replications whether a replica is written with its source or after it.
var (
	Activations  = []string{"automatic", "manual"}
	Replications = []string{"sync", "async"}
)

// IsStandby reports whether a relation of type typ names a failover
// target: a data replica (replicates_to) or a standby (fails_over_to).
func IsStandby(typ string) bool { return typ == "replicates_to" || typ == "fails_over_to" }

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
	Failover
}

// Failover is how a failover to the To CI of a replicates_to or
// fails_over_to relation goes: the time to switch, whether it happens by
// itself, and for data the replication mode and the data lost (lag). Every
// field is optional; other relation types carry none.
type Failover struct {
	FailoverEstimate *orchestrator.Duration `json:"failover_estimate,omitempty"`
	Activation       string                 `json:"activation,omitempty"`
	Replication      string                 `json:"replication,omitempty"`
	Lag              *orchestrator.Duration `json:"lag,omitempty"`
}

// validate checks the failover attributes of a relation of type typ.
func (f *Failover) validate(v *orchestrator.Validation, typ string) {
	f.Activation, f.Replication = strings.ToLower(strings.TrimSpace(f.Activation)), strings.ToLower(strings.TrimSpace(f.Replication))
	if !IsStandby(typ) {
		for _, a := range []struct {
			field string
			set   bool
		}{{"failover_estimate", f.FailoverEstimate != nil}, {"activation", f.Activation != ""},
			{"replication", f.Replication != ""}, {"lag", f.Lag != nil}} {
			if a.set {
				v.Add(a.field, "applies to replicates_to and fails_over_to relations only, not %s", typ)
			}
		}
		return
	}
	if f.FailoverEstimate != nil && *f.FailoverEstimate < 0 {
		v.Add("failover_estimate", "must not be negative")
	}
	if f.Lag != nil && *f.Lag < 0 {
		v.Add("lag", "must not be negative")
	}
	if f.Activation != "" && !slices.Contains(Activations, f.Activation) {
		v.Add("activation", "must be one of %s", strings.Join(Activations, ", "))
	}
	if f.Replication != "" && !slices.Contains(Replications, f.Replication) {
		v.Add("replication", "must be one of %s", strings.Join(Replications, ", "))
	}
	if f.Replication == "sync" && f.Lag != nil && *f.Lag > 0 {
		v.Add("lag", "must be 0 for sync replication, which loses no data")
	}
}

// values returns the failover columns as stored: seconds, or NULL.
func (f Failover) values() (estimate, lag *int64) {
	if f.FailoverEstimate != nil {
		s := f.FailoverEstimate.Seconds()
		estimate = &s
	}
	if f.Lag != nil {
		s := f.Lag.Seconds()
		lag = &s
	}
	return estimate, lag
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
	// The failover attributes, spelled out rather than embedded so that a
	// decoding error names the field as the client wrote it.
	FailoverEstimate *orchestrator.Duration `json:"failover_estimate"`
	Activation       string                 `json:"activation"`
	Replication      string                 `json:"replication"`
	Lag              *orchestrator.Duration `json:"lag"`
}

// failover returns the input's failover attributes.
func (in *RelationInput) failover() Failover {
	return Failover{FailoverEstimate: in.FailoverEstimate, Activation: in.Activation, Replication: in.Replication, Lag: in.Lag}
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
	f := in.failover()
	f.validate(&v, in.Type)
	in.Activation, in.Replication = f.Activation, f.Replication
	return v.Err()
}

const relationSelect = `SELECT r.id, f.key, t.key, r.type, r.grp, r.min_up, r.source, r.external_id, r.created_at,
	r.failover_estimate_s, r.activation, r.replication, r.lag_s
	FROM relations r JOIN cis f ON f.id = r.from_id JOIN cis t ON t.id = r.to_id`

// scanRelation reads one row of relationSelect.
func scanRelation(row pgx.Row) (Relation, error) {
	var r Relation
	var estimate, lag *int64
	err := row.Scan(&r.ID, &r.From, &r.To, &r.Type, &r.Group, &r.MinUp, &r.Source, &r.ExternalID, &r.CreatedAt,
		&estimate, &r.Activation, &r.Replication, &lag)
	if estimate != nil {
		d := orchestrator.DurationFromSeconds(*estimate)
		r.FailoverEstimate = &d
	}
	if lag != nil {
		d := orchestrator.DurationFromSeconds(*lag)
		r.Lag = &d
	}
	return r, err
}

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
		if IsStandby(in.Type) {
			if err := checkStandbyCycle(ctx, tx, in.Type, in.From, in.To, fromID, toID); err != nil {
				return err
			}
		}
		estimate, lag := in.failover().values()
		const insert = `INSERT INTO relations (from_id, to_id, type, grp, min_up, source, external_id,
				failover_estimate_s, activation, replication, lag_s)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id`
		err = tx.QueryRow(ctx, insert, fromID, toID, in.Type, in.Group, in.MinUp, in.Source, in.ExternalID,
			estimate, in.Activation, in.Replication, lag).Scan(&id)
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
	r, err := pgx.CollectExactlyOneRow(rows, func(row pgx.CollectableRow) (Relation, error) { return scanRelation(row) })
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
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Relation, error) { return scanRelation(row) })
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
		r, err := scanRelation(rows)
		if err != nil {
			return fmt.Errorf("export relations: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
