package drills

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
)

// coverageYears is the ISO 22301 cycle in which every critical service is
// exercised for real at least once.
const coverageYears = 3

// Coverage is how far the drills of a year meet the policy, per service
// with an approved runbook, and the rolling three-year coverage of the
// critical services.
type Coverage struct {
	Year     int               `json:"year"`
	AsOf     time.Time         `json:"as_of"`
	Services []ServiceCoverage `json:"services"`
	Summary  CoverageSummary   `json:"summary"`
}

// CoverageSummary counts the services in each state.
type CoverageSummary struct {
	Services int `json:"services"`
	// Met: services with at least the required drills done.
	Met     int `json:"met"`
	Overdue int `json:"overdue"`
	// Critical services (tier 0–1) and those without a technical or full
	// interruption drill completed in the last three years.
	Critical          int `json:"critical"`
	CriticalUncovered int `json:"critical_uncovered"`
}

// ServiceCoverage is one service's drills against its policy.
type ServiceCoverage struct {
	Service     string `json:"service"`
	Tier        int    `json:"tier"`
	TierAssumed bool   `json:"tier_assumed"`
	Runbook     int64  `json:"runbook"`
	// Required is the policy's drill type and count for the tier.
	Required Requirement `json:"required"`
	// Planned counts the year's programme drills of the service, not
	// cancelled.
	Planned int `json:"planned"`
	// Done lists the drills of the service completed in the year.
	Done []DoneDrill `json:"done"`
	// Met: at least Required.Count drills of the required type, or a more
	// thorough one, completed in the year.
	Met bool `json:"met"`
	// Overdue lists the year's drills still planned after their start.
	Overdue   []OverdueDrill `json:"overdue"`
	ThreeYear ThreeYear      `json:"three_year"`
}

// Requirement is what the policy asks of a tier.
type Requirement struct {
	Type  string `json:"type"`
	Count int    `json:"count"`
}

// DoneDrill is a completed drill.
type DoneDrill struct {
	Drill       int64     `json:"drill"`
	Type        string    `json:"type"`
	CompletedAt time.Time `json:"completed_at"`
	Result      *string   `json:"result"`
	Retest      bool      `json:"retest"`
}

// OverdueDrill is a planned drill whose start passed.
type OverdueDrill struct {
	Drill        int64     `json:"drill"`
	Type         string    `json:"type"`
	PlannedStart time.Time `json:"planned_start"`
}

// ThreeYear is the rolling three-year coverage (ISO 22301): a critical
// service needs a technical or full interruption drill completed within
// it.
type ThreeYear struct {
	Required bool       `json:"required"`
	Covered  bool       `json:"covered"`
	Last     *time.Time `json:"last"`
	Drill    *int64     `json:"drill"`
}

// coverageDrill is a drill as coverage reads it.
type coverageDrill struct {
	ID            int64
	Type          string
	Status        string
	Result        *string
	Retest        bool
	PlannedStart  time.Time
	CompletedAt   *time.Time
	Services      []string
	ProgrammeYear *int
}

// Coverage reports the year's drills against the policy for every service
// with an approved runbook.
func (s *Service) Coverage(ctx context.Context, year int) (Coverage, error) {
	if year < 2000 || year > 2200 {
		return Coverage{}, orchestrator.Invalid("year", "must be a year between 2000 and 2200")
	}
	now := s.rt.Now()
	cov := Coverage{Year: year, AsOf: now.UTC(), Services: []ServiceCoverage{}}
	ps, err := s.Policies(ctx)
	if err != nil {
		return cov, err
	}
	policy := map[int]Policy{}
	for _, p := range ps {
		policy[p.Tier] = p
	}
	services, err := s.serviceRunbooks(ctx)
	if err != nil {
		return cov, err
	}
	bias, err := s.opts.Impact.ApprovedBIAs(ctx, nil)
	if err != nil {
		return cov, err
	}
	byService, err := s.coverageDrills(ctx, year, now)
	if err != nil {
		return cov, err
	}
	for _, svc := range slices.Sorted(maps.Keys(services)) {
		c := ServiceCoverage{Service: svc, Runbook: services[svc], Tier: unknownTier, TierAssumed: true,
			Done: []DoneDrill{}, Overdue: []OverdueDrill{}}
		if b, ok := bias[svc]; ok {
			c.Tier, c.TierAssumed = b.Tier, false
		}
		p := policy[c.Tier]
		c.Required = Requirement{Type: p.Type, Count: p.PerYear}
		c.ThreeYear.Required = c.Tier <= 1
		coverService(&c, byService[svc], year, now)
		cov.Services = append(cov.Services, c)
		cov.Summary.Services++
		if c.Met {
			cov.Summary.Met++
		}
		if len(c.Overdue) > 0 {
			cov.Summary.Overdue++
		}
		if c.ThreeYear.Required {
			cov.Summary.Critical++
			if !c.ThreeYear.Covered {
				cov.Summary.CriticalUncovered++
			}
		}
	}
	return cov, nil
}

// coverService fills a service's figures from its drills.
func coverService(c *ServiceCoverage, drills []coverageDrill, year int, now time.Time) {
	need := slices.Index(Types, c.Required.Type)
	done := 0
	for _, d := range drills {
		if d.ProgrammeYear != nil && *d.ProgrammeYear == year && d.Status != StatusCancelled {
			c.Planned++
		}
		if d.Status == StatusPlanned && d.PlannedStart.Year() == year && d.PlannedStart.Before(now) {
			c.Overdue = append(c.Overdue, OverdueDrill{Drill: d.ID, Type: d.Type, PlannedStart: d.PlannedStart})
		}
		if d.Status != StatusCompleted || d.CompletedAt == nil {
			continue
		}
		if d.CompletedAt.Year() == year {
			c.Done = append(c.Done, DoneDrill{Drill: d.ID, Type: d.Type, CompletedAt: *d.CompletedAt, Result: d.Result, Retest: d.Retest})
			if slices.Index(Types, d.Type) >= need {
				done++
			}
		}
		real := d.Type == TypeTechnical || d.Type == TypeFullInterruption
		if real && d.CompletedAt.After(now.AddDate(-coverageYears, 0, 0)) && (c.ThreeYear.Last == nil || d.CompletedAt.After(*c.ThreeYear.Last)) {
			c.ThreeYear.Covered, c.ThreeYear.Last, c.ThreeYear.Drill = true, d.CompletedAt, &d.ID
		}
	}
	c.Met = done >= c.Required.Count
}

// serviceRunbooks maps each service with an approved runbook of its own to
// that runbook (the first, by id).
func (s *Service) serviceRunbooks(ctx context.Context) (map[string]int64, error) {
	out := map[string]int64{}
	page := orchestrator.Page{Limit: 1000}
	for {
		list, err := s.opts.Runbooks.List(ctx, runbooks.Filter{Status: runbooks.StatusApproved}, page)
		if err != nil {
			return nil, err
		}
		for _, rb := range list.Items {
			if _, ok := out[rb.Scope.Service]; rb.Scope.Service != "" && !ok {
				out[rb.Scope.Service] = rb.ID
			}
		}
		if list.Next == "" {
			return out, nil
		}
		if page.After, err = orchestrator.DecodeCursor(list.Next); err != nil {
			return nil, err
		}
	}
}

// coverageDrills reads, by service, the drills planned in the year or
// completed within the three-year cycle.
func (s *Service) coverageDrills(ctx context.Context, year int, now time.Time) (map[string][]coverageDrill, error) {
	from := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	rows, err := s.pool.Query(ctx, `SELECT id, type, status, result, retest, planned_start, completed_at, services, programme_year
		FROM drills WHERE (planned_start >= $1 AND planned_start < $2) OR programme_year = $3
		OR (completed_at >= $4 AND completed_at < $2) ORDER BY id`,
		from, from.AddDate(1, 0, 0), year, now.AddDate(-coverageYears, 0, 0))
	if err != nil {
		return nil, fmt.Errorf("read drills for coverage: %w", err)
	}
	drills, err := pgx.CollectRows(rows, pgx.RowToStructByPos[coverageDrill])
	if err != nil {
		return nil, fmt.Errorf("read drills for coverage: %w", err)
	}
	out := map[string][]coverageDrill{}
	for _, d := range drills {
		for _, svc := range d.Services {
			out[svc] = append(out[svc], d)
		}
	}
	return out, nil
}
