package impact

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Threats are the threat categories of the risk register: the incident
// cause list, so incident history can be matched to a threat.
var Threats = itsm.Causes

// Risk is one entry of the risk register, quantified with the current
// CMDB, BIAs and incident history each time it is read.
type Risk struct {
	ID int64 `json:"id"`
	RiskInput
	InherentScore int `json:"inherent_score"`
	ResidualScore int `json:"residual_score"`
	// ReviewOverdue: the review date has passed.
	ReviewOverdue  bool               `json:"review_overdue"`
	Quantification RiskQuantification `json:"quantification"`
	CreatedAt      time.Time          `json:"created_at"`
	UpdatedAt      time.Time          `json:"updated_at"`
}

const riskSelect = `SELECT id, title, threat, scope_cis, scope_sites, scope_suppliers, description, likelihood, impact,
	inherent_score, controls, residual_likelihood, residual_impact, residual_score, treatment, owner,
	to_char(review_date, 'YYYY-MM-DD'), review_date < $1::date, source, external_id, created_at, updated_at FROM risks`

func scanRisk(row pgx.CollectableRow) (Risk, error) {
	var (
		r       Risk
		overdue *bool
	)
	err := row.Scan(&r.ID, &r.Title, &r.Threat, &r.Scope.CIs, &r.Scope.Sites, &r.Scope.Suppliers, &r.Description,
		&r.Likelihood, &r.Impact, &r.InherentScore, &r.Controls, &r.ResidualLikelihood, &r.ResidualImpact,
		&r.ResidualScore, &r.Treatment, &r.Owner, &r.ReviewDate, &overdue, &r.Source, &r.ExternalID, &r.CreatedAt, &r.UpdatedAt)
	r.ReviewOverdue = overdue != nil && *overdue
	return r, err
}

// RiskFilter narrows a risk listing; zero fields match everything.
type RiskFilter struct {
	Threat, Treatment, Owner string
	// CI, Site and Supplier match risks whose scope names them.
	CI, Site, Supplier string
}

// ListRisks returns risks ordered by id, each quantified.
func (s *Service) ListRisks(ctx context.Context, f RiskFilter, page orchestrator.Page) (orchestrator.List[Risk], error) {
	after := int64(0)
	if page.After != "" {
		var err error
		if after, err = strconv.ParseInt(page.After, 10, 64); err != nil {
			return orchestrator.List[Risk]{}, orchestrator.Errorf(orchestrator.EINVALID, "invalid pagination cursor")
		}
	}
	const where = ` WHERE ($2 = '' OR threat = $2) AND ($3 = '' OR treatment = $3) AND ($4 = '' OR owner = $4)
		AND ($5 = '' OR $5 = ANY(scope_cis)) AND ($6 = '' OR $6 = ANY(scope_sites)) AND ($7 = '' OR $7 = ANY(scope_suppliers))
		AND id > $8 ORDER BY id LIMIT $9`
	rows, err := s.pool.Query(ctx, riskSelect+where, s.today(), f.Threat, f.Treatment, f.Owner, f.CI, f.Site, f.Supplier, after, page.Limit+1)
	if err != nil {
		return orchestrator.List[Risk]{}, fmt.Errorf("list risks: %w", err)
	}
	items, err := pgx.CollectRows(rows, scanRisk)
	if err != nil {
		return orchestrator.List[Risk]{}, fmt.Errorf("list risks: %w", err)
	}
	list := orchestrator.Paginate(items, page.Limit, func(r Risk) string { return strconv.FormatInt(r.ID, 10) })
	if err := s.quantifyAll(ctx, list.Items); err != nil {
		return orchestrator.List[Risk]{}, err
	}
	return list, nil
}

func (s *Service) today() time.Time { return s.rt.Now().UTC() }

// getRisk reads one risk without quantifying it.
func (s *Service) getRisk(ctx context.Context, q postgres.Querier, id string) (Risk, error) {
	notFound := orchestrator.Errorf(orchestrator.ENOTFOUND, "risk %s not found", id)
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return Risk{}, notFound
	}
	rows, err := q.Query(ctx, riskSelect+` WHERE id = $2`, s.today(), n)
	if err != nil {
		return Risk{}, fmt.Errorf("get risk %s: %w", id, err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanRisk)
	if errors.Is(err, pgx.ErrNoRows) {
		return Risk{}, notFound
	}
	if err != nil {
		return Risk{}, fmt.Errorf("get risk %s: %w", id, err)
	}
	return r, nil
}

// GetRisk returns one risk, quantified.
func (s *Service) GetRisk(ctx context.Context, id string) (Risk, error) {
	r, err := s.getRisk(ctx, s.pool, id)
	if err != nil {
		return Risk{}, err
	}
	items := []Risk{r}
	if err := s.quantifyAll(ctx, items); err != nil {
		return Risk{}, err
	}
	return items[0], nil
}

// CreateRisk adds a risk to the register.
func (s *Service) CreateRisk(ctx context.Context, in RiskInput) (Risk, error) {
	var id int64
	err := s.writeRisk(ctx, &in, "create", func(tx pgx.Tx) error {
		const insert = `WITH n AS (SELECT nextval(pg_get_serial_sequence('risks', 'id')) AS id)
			INSERT INTO risks (id, title, threat, scope_cis, scope_sites, scope_suppliers, description, likelihood, impact,
				controls, residual_likelihood, residual_impact, treatment, owner, review_date, source, external_id)
			SELECT n.id, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::text::date, $15, coalesce(nullif($16, ''), 'risk-' || n.id)
			FROM n RETURNING id`
		return tx.QueryRow(ctx, insert, riskArgs(in)...).Scan(&id)
	}, func() string { return strconv.FormatInt(id, 10) })
	if err != nil {
		return Risk{}, err
	}
	return s.GetRisk(ctx, strconv.FormatInt(id, 10))
}

// ReplaceRisk overwrites a risk. A blank external id keeps the stored one.
func (s *Service) ReplaceRisk(ctx context.Context, id string, in RiskInput) (Risk, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return Risk{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "risk %s not found", id)
	}
	err = s.writeRisk(ctx, &in, "update", func(tx pgx.Tx) error {
		const update = `UPDATE risks SET title = $1, threat = $2, scope_cis = $3, scope_sites = $4, scope_suppliers = $5,
			description = $6, likelihood = $7, impact = $8, controls = $9, residual_likelihood = $10, residual_impact = $11,
			treatment = $12, owner = $13, review_date = $14::text::date, source = $15, external_id = coalesce(nullif($16, ''), external_id),
			updated_at = now() WHERE id = $17`
		tag, err := tx.Exec(ctx, update, append(riskArgs(in), n)...)
		if err == nil && tag.RowsAffected() == 0 {
			return orchestrator.Errorf(orchestrator.ENOTFOUND, "risk %s not found", id)
		}
		return err
	}, func() string { return id })
	if err != nil {
		return Risk{}, err
	}
	return s.GetRisk(ctx, id)
}

func riskArgs(in RiskInput) []any {
	return []any{in.Title, in.Threat, in.Scope.CIs, in.Scope.Sites, in.Scope.Suppliers, in.Description, in.Likelihood,
		in.Impact, in.Controls, in.ResidualLikelihood, in.ResidualImpact, in.Treatment, in.Owner, in.ReviewDate,
		in.Source, in.ExternalID}
}

// writeRisk normalises and validates in, checks its scope against the
// database and runs write with an audit row in one transaction.
func (s *Service) writeRisk(ctx context.Context, in *RiskInput, action string, write func(tx pgx.Tx) error, id func() string) error {
	in.Normalize("manual")
	if err := in.Validate(); err != nil {
		return err
	}
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if err := checkScope(ctx, tx, in.Scope); err != nil {
			return err
		}
		err := write(tx)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return &orchestrator.Error{Code: orchestrator.ECONFLICT, Message: "risk already exists",
				Fields: []orchestrator.FieldError{{Field: "external_id", Message: fmt.Sprintf("%q is already in use in source %q", in.ExternalID, in.Source)}}}
		}
		if err != nil {
			return fmt.Errorf("save risk: %w", postgres.Translate(err))
		}
		return audit.Record(ctx, tx, audit.Change{Action: action, Resource: "risks", ResourceID: id(),
			Summary: fmt.Sprintf("%s: %s (L%d×I%d, residual L%d×I%d)", in.Threat, in.Title, in.Likelihood, in.Impact,
				in.ResidualLikelihood, in.ResidualImpact)})
	})
}

// checkScope names every scope entry the database does not know.
func checkScope(ctx context.Context, q postgres.Querier, sc Scope) error {
	known := func(query string, keys []string) (map[string]bool, error) {
		out := map[string]bool{}
		if len(keys) == 0 {
			return out, nil
		}
		rows, err := q.Query(ctx, query, keys)
		if err != nil {
			return nil, fmt.Errorf("check risk scope: %w", err)
		}
		found, err := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, k := range found {
			out[k] = true
		}
		return out, err
	}
	var v orchestrator.Validation
	cis, err := cmdb.Resolve(ctx, q, sc.CIs, cmdb.ResolveOptions{Field: "scope.cis"})
	if err != nil && !cmdb.IsUnknown(err) {
		return fmt.Errorf("check risk scope: %w", err)
	}
	for i, k := range sc.CIs {
		if _, ok := cis[k]; !ok {
			v.Add(fmt.Sprintf("scope.cis[%d]", i), "no CI has key %q", k)
		}
	}
	for _, c := range []struct {
		field, query, what string
		keys               []string
	}{
		{"scope.sites", `SELECT site FROM cis WHERE site = ANY($1) UNION SELECT key FROM cis WHERE class = 'site' AND key = ANY($1)`,
			"no CI is at site %q", sc.Sites},
		{"scope.suppliers", `SELECT key FROM suppliers WHERE key = ANY($1)`, "no supplier has key %q", sc.Suppliers},
	} {
		found, err := known(c.query, c.keys)
		if err != nil {
			return err
		}
		for i, k := range c.keys {
			if !found[k] {
				v.Add(fmt.Sprintf("%s[%d]", c.field, i), c.what, k)
			}
		}
	}
	return v.Err()
}

// DeleteRisk removes a risk.
func (s *Service) DeleteRisk(ctx context.Context, id string) error {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return orchestrator.Errorf(orchestrator.ENOTFOUND, "risk %s not found", id)
	}
	return postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var title string
		err := tx.QueryRow(ctx, `DELETE FROM risks WHERE id = $1 RETURNING title`, n).Scan(&title)
		if errors.Is(err, pgx.ErrNoRows) {
			return orchestrator.Errorf(orchestrator.ENOTFOUND, "risk %s not found", id)
		}
		if err != nil {
			return fmt.Errorf("delete risk %s: %w", id, err)
		}
		return audit.Record(ctx, tx, audit.Change{Action: "delete", Resource: "risks", ResourceID: id, Summary: title})
	})
}
