package drills

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Policy is how often the services of one tier are drilled and how
// (DESIGN.md defaults: tier 0–1 technical twice a year, tier 2 simulation
// yearly, tier 3–4 tabletop yearly).
type Policy struct {
	Tier      int       `json:"tier"`
	Type      string    `json:"type"`
	PerYear   int       `json:"per_year"`
	UpdatedBy string    `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

// PolicyInput changes the policy of one tier.
type PolicyInput struct {
	Tier    *int   `json:"tier"`
	Type    string `json:"type"`
	PerYear *int   `json:"per_year"`
}

// maxPerYear bounds the drills a policy asks for per service and year.
const maxPerYear = 12

// Policies returns the policy of every tier, tier 0 first.
func (s *Service) Policies(ctx context.Context) ([]Policy, error) {
	return policies(ctx, s.pool)
}

func policies(ctx context.Context, q postgres.Querier) ([]Policy, error) {
	rows, err := q.Query(ctx, `SELECT tier, drill_type, per_year, updated_by, updated_at FROM drill_policies ORDER BY tier`)
	if err != nil {
		return nil, fmt.Errorf("read drill policy: %w", err)
	}
	ps, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Policy])
	if err != nil {
		return nil, fmt.Errorf("read drill policy: %w", err)
	}
	return ps, nil
}

// SetPolicies changes the policy of the tiers given (the others keep
// theirs), audited, and returns the whole policy.
func (s *Service) SetPolicies(ctx context.Context, in []PolicyInput) ([]Policy, error) {
	if err := validatePolicies(in); err != nil {
		return nil, err
	}
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var summary []string
		for _, p := range in {
			_, err := tx.Exec(ctx, `UPDATE drill_policies SET drill_type = $2, per_year = $3, updated_by = $4, updated_at = $5
				WHERE tier = $1`, *p.Tier, p.Type, *p.PerYear, orchestrator.ActorFrom(ctx).Name, s.rt.Now())
			if err != nil {
				return fmt.Errorf("update drill policy of tier %d: %w", *p.Tier, err)
			}
			summary = append(summary, fmt.Sprintf("tier %d: %s ×%d", *p.Tier, p.Type, *p.PerYear))
		}
		return audit.Record(ctx, tx, audit.Change{Action: "update", Resource: "drill_policies", ResourceID: "tiers",
			Summary: "drill policy " + strings.Join(summary, "; ")})
	})
	if err != nil {
		return nil, err
	}
	return s.Policies(ctx)
}

// validatePolicies checks a policy change, naming tiers[i].field.
func validatePolicies(in []PolicyInput) error {
	var v orchestrator.Validation
	if len(in) == 0 {
		v.Add("tiers", "name at least one tier")
	}
	seen := map[int]bool{}
	for i, p := range in {
		field := fmt.Sprintf("tiers[%d]", i)
		switch {
		case p.Tier == nil:
			v.Add(field+".tier", "is required")
		case *p.Tier < 0 || *p.Tier > 4:
			v.Add(field+".tier", "must be between 0 and 4")
		case seen[*p.Tier]:
			v.Add(field+".tier", "tier %d is listed twice", *p.Tier)
		default:
			seen[*p.Tier] = true
		}
		if !slices.Contains(Types, p.Type) {
			v.Add(field+".type", "must be one of %s", strings.Join(Types, ", "))
		}
		if p.PerYear == nil || *p.PerYear < 1 || *p.PerYear > maxPerYear {
			v.Add(field+".per_year", "must be between 1 and %d", maxPerYear)
		}
	}
	return v.Err()
}
