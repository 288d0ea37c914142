package cmdb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Service reads and writes CIs and relations.
type Service struct {
	pool *pgxpool.Pool
}

// NewService returns a CMDB service over pool.
func NewService(pool *pgxpool.Pool) *Service { return &Service{pool: pool} }

const ciSelect = `SELECT c.id, c.key, c.name, c.class, c.environment, c.site, c.owner, c.status, c.data_bearing,
	c.recovery_strategy, c.recovery_estimate_s, c.attributes, c.source, c.external_id, c.created_at, c.updated_at,
	s.description, s.timezone, s.business_hours, s.maintenance_windows
	FROM cis c LEFT JOIN business_services s ON s.ci_id = c.id`

// scanCI reads one row of ciSelect.
func scanCI(row pgx.Row) (int64, CI, error) {
	var (
		id       int64
		c        CI
		estimate int64
		desc, tz *string
		hours    []Window
		maint    []Window
	)
	err := row.Scan(&id, &c.Key, &c.Name, &c.Class, &c.Environment, &c.Site, &c.Owner, &c.Status, &c.DataBearing,
		&c.RecoveryStrategy, &estimate, &c.Attributes, &c.Source, &c.ExternalID, &c.CreatedAt, &c.UpdatedAt,
		&desc, &tz, &hours, &maint)
	if err != nil {
		return 0, CI{}, err
	}
	c.RecoveryEstimate = orchestrator.DurationFromSeconds(estimate)
	if desc != nil {
		c.Service = &ServiceDetails{Description: *desc, Timezone: *tz, BusinessHours: hours, MaintenanceWindows: maint}
	}
	return id, c, nil
}

// GetCI returns the CI with key.
func (s *Service) GetCI(ctx context.Context, key string) (CI, error) {
	_, c, err := scanCI(s.pool.QueryRow(ctx, ciSelect+` WHERE c.key = $1`, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return CI{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "CI %q not found", key)
	}
	if err != nil {
		return CI{}, fmt.Errorf("get CI %s: %w", key, err)
	}
	return c, nil
}

// CreateCI adds a CI; a key already in use is a conflict.
func (s *Service) CreateCI(ctx context.Context, in CIInput) (CI, error) {
	in.Normalize("manual")
	if err := in.Validate(); err != nil {
		return CI{}, err
	}
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		const insert = `INSERT INTO cis (key, name, class, environment, site, owner, status, data_bearing,
			recovery_strategy, recovery_estimate_s, attributes, source, external_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`
		var id int64
		err := tx.QueryRow(ctx, insert, in.Key, in.Name, in.Class, in.Environment, in.Site, in.Owner, in.Status,
			in.DataBearing, in.RecoveryStrategy, in.RecoveryEstimate.Seconds(), in.Attributes, in.Source, in.ExternalID).Scan(&id)
		if err != nil {
			return ciConflict(err, in)
		}
		if err := saveServiceDetails(ctx, tx, id, in.Service); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{Action: "create", Resource: "cis", ResourceID: in.Key,
			Summary: fmt.Sprintf("%s %q", in.Class, in.Name)})
	})
	if err != nil {
		return CI{}, err
	}
	return s.GetCI(ctx, in.Key)
}

// ReplaceCI overwrites the CI with key; the body may repeat the key but not
// change it.
func (s *Service) ReplaceCI(ctx context.Context, key string, in CIInput) (CI, error) {
	if in.Key == "" {
		in.Key = key
	}
	if in.Key != key {
		return CI{}, &orchestrator.Error{Code: orchestrator.EINVALID, Message: "a CI's key cannot change",
			Fields: []orchestrator.FieldError{{Field: "key", Message: fmt.Sprintf("must be %q, the key in the path", key)}}}
	}
	in.Normalize("manual")
	if err := in.Validate(); err != nil {
		return CI{}, err
	}
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		const update = `UPDATE cis SET name = $2, class = $3, environment = $4, site = $5, owner = $6, status = $7,
			data_bearing = $8, recovery_strategy = $9, recovery_estimate_s = $10, attributes = $11, source = $12,
			external_id = $13, updated_at = now()
			WHERE key = $1 RETURNING id`
		var id int64
		err := tx.QueryRow(ctx, update, key, in.Name, in.Class, in.Environment, in.Site, in.Owner, in.Status,
			in.DataBearing, in.RecoveryStrategy, in.RecoveryEstimate.Seconds(), in.Attributes, in.Source, in.ExternalID).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return orchestrator.Errorf(orchestrator.ENOTFOUND, "CI %q not found", key)
		}
		if err != nil {
			return ciConflict(err, in)
		}
		if err := saveServiceDetails(ctx, tx, id, in.Service); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Change{Action: "update", Resource: "cis", ResourceID: key,
			Summary: fmt.Sprintf("%s %q", in.Class, in.Name)})
	})
	if err != nil {
		return CI{}, err
	}
	return s.GetCI(ctx, key)
}

// DeleteCI removes a CI and its relations. A CI that records still refer
// to (incidents, changes, plans) cannot be deleted: retire it instead.
func (s *Service) DeleteCI(ctx context.Context, key string) error {
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM cis WHERE key = $1`, key)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23503" {
			return orchestrator.Errorf(orchestrator.ECONFLICT,
				"CI %q is still referred to by other records (%s); set its status to retired instead", key, pgErr.TableName)
		}
		if err != nil {
			return fmt.Errorf("delete CI %s: %w", key, err)
		}
		if tag.RowsAffected() == 0 {
			return orchestrator.Errorf(orchestrator.ENOTFOUND, "CI %q not found", key)
		}
		return audit.Record(ctx, tx, audit.Change{Action: "delete", Resource: "cis", ResourceID: key, Summary: "deleted"})
	})
}

func saveServiceDetails(ctx context.Context, tx pgx.Tx, id int64, d *ServiceDetails) error {
	if d == nil {
		_, err := tx.Exec(ctx, `DELETE FROM business_services WHERE ci_id = $1`, id)
		return err
	}
	const upsert = `INSERT INTO business_services (ci_id, description, timezone, business_hours, maintenance_windows)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (ci_id) DO UPDATE SET description = $2, timezone = $3, business_hours = $4, maintenance_windows = $5`
	if _, err := tx.Exec(ctx, upsert, id, d.Description, d.Timezone, d.BusinessHours, d.MaintenanceWindows); err != nil {
		return fmt.Errorf("save service details: %w", err)
	}
	return nil
}

// ciConflict names the clashing field of a unique violation.
func ciConflict(err error, in CIInput) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		field, value := "key", in.Key
		if pgErr.ConstraintName == "cis_source_external_id_key" {
			field, value = "external_id", in.ExternalID
		}
		return &orchestrator.Error{Code: orchestrator.ECONFLICT, Message: "CI already exists",
			Fields: []orchestrator.FieldError{{Field: field, Message: fmt.Sprintf("%q is already in use", value)}}}
	}
	return fmt.Errorf("save CI %s: %w", in.Key, postgres.Translate(err))
}

// CIFilter narrows a CI listing; zero fields match everything.
type CIFilter struct {
	Class, Site, Environment, Status, Source, Owner string
	DataBearing                                     *bool
	Query                                           string // substring of key or name
	UpdatedSince                                    time.Time
}

const ciWhere = ` WHERE ($1 = '' OR c.class = $1) AND ($2 = '' OR c.site = $2) AND ($3 = '' OR c.environment = $3)
	AND ($4 = '' OR c.status = $4) AND ($5 = '' OR c.source = $5) AND ($6 = '' OR c.owner = $6)
	AND ($7::boolean IS NULL OR c.data_bearing = $7)
	AND ($8 = '' OR c.key ILIKE '%' || $8 || '%' OR c.name ILIKE '%' || $8 || '%')
	AND ($9::timestamptz IS NULL OR c.updated_at >= $9)`

func (f CIFilter) args() []any {
	var since *time.Time
	if !f.UpdatedSince.IsZero() {
		since = &f.UpdatedSince
	}
	return []any{f.Class, f.Site, f.Environment, f.Status, f.Source, f.Owner, f.DataBearing, escapeLike(f.Query), since}
}

// ListCIs returns CIs ordered by key.
func (s *Service) ListCIs(ctx context.Context, f CIFilter, page orchestrator.Page) (orchestrator.List[CI], error) {
	args := append(f.args(), page.After, page.Limit+1)
	rows, err := s.pool.Query(ctx, ciSelect+ciWhere+` AND ($10 = '' OR c.key > $10) ORDER BY c.key LIMIT $11`, args...)
	if err != nil {
		return orchestrator.List[CI]{}, fmt.Errorf("list CIs: %w", err)
	}
	defer rows.Close()
	var items []CI
	for rows.Next() {
		_, c, err := scanCI(rows)
		if err != nil {
			return orchestrator.List[CI]{}, fmt.Errorf("list CIs: %w", err)
		}
		items = append(items, c)
	}
	if err := rows.Err(); err != nil {
		return orchestrator.List[CI]{}, fmt.Errorf("list CIs: %w", err)
	}
	return orchestrator.Paginate(items, page.Limit, func(c CI) string { return c.Key }), nil
}

// EachCI calls fn for every CI matching f, in key order, streaming rows so
// that an export of the whole CMDB holds one row in memory at a time.
func (s *Service) EachCI(ctx context.Context, f CIFilter, fn func(CI) error) error {
	rows, err := s.pool.Query(ctx, ciSelect+ciWhere+` ORDER BY c.key`, f.args()...)
	if err != nil {
		return fmt.Errorf("export CIs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		_, c, err := scanCI(rows)
		if err != nil {
			return fmt.Errorf("export CIs: %w", err)
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return rows.Err()
}

// escapeLike makes user text match literally inside ILIKE patterns.
func escapeLike(s string) string {
	r := make([]rune, 0, len(s))
	for _, c := range s {
		if c == '%' || c == '_' || c == '\\' {
			r = append(r, '\\')
		}
		r = append(r, c)
	}
	return string(r)
}
