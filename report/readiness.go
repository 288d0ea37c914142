// Package report turns what the capabilities below it know into what
// executives and continuity managers read: the readiness of every business
// service and of the organisation (DESIGN.md, "Readiness score"), and its
// daily history.
package report

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/runbooks"
)

// Readiness statuses.
const (
	StatusReady    = "ready"
	StatusAtRisk   = "at_risk"
	StatusNotReady = "not_ready"
)

// Statuses lists the statuses, best first.
var Statuses = []string{StatusReady, StatusAtRisk, StatusNotReady}

// Components of a service's score and the points each is worth.
const (
	ComponentBIA       = "bia"
	ComponentRunbook   = "runbook"
	ComponentRTO       = "rto"
	ComponentRPO       = "rpo"
	ComponentDrills    = "drills"
	ComponentFindings  = "findings"
	ComponentSuppliers = "suppliers"
)

// maxPoints is what each component is worth, in the order a service's
// readiness lists them.
var maxPoints = []struct {
	name   string
	points int
}{
	{ComponentBIA, 10}, {ComponentRunbook, 15}, {ComponentRTO, 20}, {ComponentRPO, 20},
	{ComponentDrills, 20}, {ComponentFindings, 10}, {ComponentSuppliers, 5},
}

// Thresholds of the statuses.
const (
	readyFrom  = 85
	atRiskFrom = 60
)

// Loss is points a component lost, why, and the API path of the thing to
// fix.
type Loss struct {
	Points int    `json:"points"`
	Reason string `json:"reason"`
	Link   string `json:"link"`
}

// Component is one part of a service's score.
type Component struct {
	Name   string `json:"name"`
	Max    int    `json:"max"`
	Points int    `json:"points"`
	Lost   []Loss `json:"lost"`
}

// ServiceReadiness is one business service's score, status and every lost
// point. Tier is nil for a service without an approved BIA; it then weighs
// as tier 4 in the organisation's score.
type ServiceReadiness struct {
	Service string `json:"service"`
	Tier    *int   `json:"tier"`
	Score   int    `json:"score"`
	Status  string `json:"status"`
	// CappedBy says what holds the status at at_risk at best, whatever the
	// score: an RPO breach, an RTO the recovery cannot meet, or both.
	CappedBy   string      `json:"capped_by,omitempty"`
	Components []Component `json:"components"`
}

// Counts are services by status and by tier ("unassessed" for those
// without a tier).
type Counts struct {
	ByStatus map[string]int `json:"by_status"`
	ByTier   map[string]int `json:"by_tier"`
}

// Organisation is the organisation's readiness: the tier-weighted score
// over every business service, the counts, and the services (filtered).
type Organisation struct {
	Score       float64            `json:"score"`
	Status      string             `json:"status"`
	Services    int                `json:"services"`
	Counts      Counts             `json:"counts"`
	Attention   Attention          `json:"attention"`
	Items       []ServiceReadiness `json:"items"`
	EvaluatedAt time.Time          `json:"evaluated_at"`
}

// Attention counts what needs someone's attention across the organisation:
// approved runbooks that are stale, services whose data is past its RPO,
// overdue findings, and services whose tier's drill policy is not met.
type Attention struct {
	StaleRunbooks   int `json:"stale_runbooks"`
	RPOBreached     int `json:"rpo_breached"`
	OverdueFindings int `json:"overdue_findings"`
	DrillsDue       int `json:"drills_due"`
}

// Filter narrows the services an Organisation lists; the score and counts
// are always the whole organisation's.
type Filter struct {
	Status string
	Tier   *int
}

// validate checks a filter's values.
func (f Filter) validate() error {
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		return orchestrator.Invalid("status", "must be one of ready, at_risk, not_ready")
	}
	if f.Tier != nil && (*f.Tier < 0 || *f.Tier > 4) {
		return orchestrator.Invalid("tier", "must be a tier from 0 to 4")
	}
	return nil
}

// BackupEvidence tells which backups real checks verified (the backup
// capability implements it, as for the impact model).
type BackupEvidence interface {
	VerifiedBackups(ctx context.Context, at time.Time) (map[string]*time.Time, error)
}

// Options are the capabilities readiness reads.
type Options struct {
	Impact   *impact.Service
	Backups  BackupEvidence
	Runbooks *runbooks.Service
	Drills   *drills.Service
}

// Service computes readiness and keeps its history.
type Service struct {
	pool *pgxpool.Pool
	rt   orchestrator.Runtime
	opts Options

	// recent is the last organisation scored for Recent.
	recent orchestrator.Recent[struct{}, Organisation]
}

// NewService returns a report service over the capabilities in opts.
func NewService(pool *pgxpool.Pool, rt orchestrator.Runtime, opts Options) *Service {
	return &Service{pool: pool, rt: rt, opts: opts}
}

// Readiness scores every business service and the organisation, and lists
// the services f keeps.
func (s *Service) Readiness(ctx context.Context, f Filter) (Organisation, error) {
	if err := f.validate(); err != nil {
		return Organisation{}, err
	}
	org, _, err := s.readiness(ctx, f)
	return org, err
}

// readiness is Readiness for a valid filter, with the inputs it was
// scored from, which the executive report reads too.
func (s *Service) readiness(ctx context.Context, f Filter) (Organisation, *inputs, error) {
	in, err := s.gather(ctx)
	if err != nil {
		return Organisation{}, nil, err
	}
	all := in.scoreAll()
	org := organise(all, in.now)
	org.Attention = in.attention(all)
	org.Items = all
	return org.filter(f), in, nil
}

// filter is org listing only the services f keeps.
func (org Organisation) filter(f Filter) Organisation {
	all := org.Items
	org.Items = []ServiceReadiness{}
	for _, r := range all {
		if (f.Status == "" || r.Status == f.Status) && (f.Tier == nil || r.Tier != nil && *r.Tier == *f.Tier) {
			org.Items = append(org.Items, r)
		}
	}
	return org
}

// Recent is Readiness scored at most maxAge ago: pages that many people
// look at at once (the UI's dashboard) share one scoring instead of each
// reading every input. Requests arriving while the organisation is scored
// wait for that scoring; EvaluatedAt says when it was.
func (s *Service) Recent(ctx context.Context, f Filter, maxAge time.Duration) (Organisation, error) {
	if err := f.validate(); err != nil {
		return Organisation{}, err
	}
	org, err := s.recent.Get(ctx, struct{}{}, maxAge, func(ctx context.Context) (Organisation, error) {
		org, _, err := s.readiness(ctx, Filter{})
		return org, err
	})
	return org.filter(f), err
}

// ServiceReadiness scores one business service.
func (s *Service) ServiceReadiness(ctx context.Context, key string) (ServiceReadiness, error) {
	in, err := s.gather(ctx)
	if err != nil {
		return ServiceReadiness{}, err
	}
	if !slices.Contains(in.services, key) {
		return ServiceReadiness{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "business service %q not found", key)
	}
	return in.score(key), nil
}

// organise weighs the services' scores by tier into the organisation's.
func organise(all []ServiceReadiness, now time.Time) Organisation {
	org := Organisation{Services: len(all), Items: []ServiceReadiness{}, EvaluatedAt: now.UTC(),
		Counts: Counts{ByStatus: map[string]int{}, ByTier: map[string]int{}}}
	for _, st := range Statuses {
		org.Counts.ByStatus[st] = 0
	}
	var sum, weights float64
	for _, r := range all {
		w := float64(weight(r.Tier))
		sum += w * float64(r.Score)
		weights += w
		org.Counts.ByStatus[r.Status]++
		org.Counts.ByTier[tierName(r.Tier)]++
	}
	if weights > 0 {
		org.Score = math.Round(sum/weights*10) / 10
	}
	org.Status = statusOf(int(math.Floor(org.Score)))
	if len(all) == 0 {
		org.Status = StatusNotReady
	}
	return org
}

// weight is a tier's weight in the organisation's score: tier 0 ×5 …
// tier 4 ×1; a service without a tier weighs as tier 4.
func weight(tier *int) int {
	if tier == nil {
		return 1
	}
	return 5 - min(max(*tier, 0), 4)
}

// tierName is a tier's key in the counts.
func tierName(tier *int) string {
	if tier == nil {
		return "unassessed"
	}
	return string(rune('0' + *tier))
}

// StatusOf is the status an organisation's score earns.
func StatusOf(score float64) string { return statusOf(int(math.Floor(score))) }

// statusOf is the status a score earns before any cap.
func statusOf(score int) string {
	switch {
	case score >= readyFrom:
		return StatusReady
	case score >= atRiskFrom:
		return StatusAtRisk
	}
	return StatusNotReady
}

// total fills a service's score and status from its components.
func (r *ServiceReadiness) total(capped string) {
	r.Score = 0
	for _, c := range r.Components {
		r.Score += c.Points
	}
	r.Status = statusOf(r.Score)
	r.CappedBy = capped
	if capped != "" && r.Status == StatusReady {
		r.Status = StatusAtRisk
	}
}

// sortLosses orders a component's losses, largest first.
func sortLosses(ls []Loss) {
	slices.SortStableFunc(ls, func(a, b Loss) int { return cmp.Compare(b.Points, a.Points) })
}
