package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// BIA statuses of a business service in the report: its approved BIA is
// in force, only a draft awaits approval, or it has no BIA at all.
const (
	BIAApproved = "approved"
	BIADraft    = "draft"
	BIANone     = "none"
)

// BIAReport is the business impact analysis report's content (业务影响分析
// 报告): every business service's BIA status and recovery targets, the
// impact of an outage over time of those with an approved BIA, and the
// services whose analysis falls short.
type BIAReport struct {
	GeneratedAt time.Time `json:"generated_at"`
	// Currency is the one the settings rate losses in now; each service's
	// impact is in the currency of its own BIA.
	Currency string          `json:"currency"`
	Summary  BIASummary      `json:"summary"`
	Services []BIAServiceRow `json:"services"`
	Findings []BIAFinding    `json:"findings"`
	// settings are the current BIA settings; names the services' names
	// by key, for the findings.
	settings impact.Settings
	names    map[string]string
}

// BIASummary counts the business services by BIA status and by tier.
type BIASummary struct {
	Services int `json:"services"`
	Approved int `json:"approved"`
	Draft    int `json:"draft"`
	None     int `json:"none"`
	// ByTier counts the services with an approved BIA by tier ("0", "1",
	// ...) and the others as "unassessed".
	ByTier map[string]int `json:"by_tier"`
	// ExceedsMTPD counts approved BIAs whose RTO + WRT passes their MTPD.
	ExceedsMTPD int `json:"exceeds_mtpd"`
}

// BIAServiceRow is one business service: its BIA's status and, when one
// is approved, the targets it sets and its impact over time. The targets
// and the impact are nil without an approved BIA; the MTPD is nil too when
// no category of the BIA ever becomes intolerable.
type BIAServiceRow struct {
	Service string `json:"service"`
	Name    string `json:"name"`
	Owner   string `json:"owner"`
	Status  string `json:"status"`
	// Version is the approved version in force; DraftVersion the draft
	// awaiting approval of a service without one.
	Version      *int                   `json:"version"`
	DraftVersion *int                   `json:"draft_version,omitempty"`
	Tier         *int                   `json:"tier"`
	MTPD         *orchestrator.Duration `json:"mtpd"`
	RTO          *orchestrator.Duration `json:"rto"`
	RPO          *orchestrator.Duration `json:"rpo"`
	WRT          *orchestrator.Duration `json:"wrt"`
	SuggestedRTO *orchestrator.Duration `json:"suggested_rto"`
	MBCO         *float64               `json:"mbco"`
	ApprovedAt   *time.Time             `json:"approved_at"`
	ApprovedBy   string                 `json:"approved_by"`
	Currency     string                 `json:"currency,omitempty"`
	// Impact is the loss and every category's rating at each time point
	// of the settings and of the BIA's own thresholds.
	Impact []BIAImpactPoint `json:"impact"`
	// Dependencies summarises what the service needs; nil when the
	// organisation is too large for the report to count them.
	Dependencies *BIADependencies `json:"dependencies"`
	// mtpdNow is the MTPD the approved thresholds give under the current
	// settings, which may have changed since the approval.
	mtpdNow *orchestrator.Duration
}

// BIAImpactPoint is the impact of an outage lasting After.
type BIAImpactPoint struct {
	After        orchestrator.Duration `json:"after"`
	Loss         float64               `json:"loss"`
	Ratings      map[string]int        `json:"ratings"`
	RTOBreached  bool                  `json:"rto_breached"`
	MTPDBreached bool                  `json:"mtpd_breached"`
}

// BIADependencies counts the CIs a service needs, directly or
// transitively.
type BIADependencies struct {
	CIs         int `json:"cis"`
	DataBearing int `json:"data_bearing"`
	Suppliers   int `json:"supplier_services"`
	Services    int `json:"business_services"`
}

// BIAFinding is one shortfall of the analysis: a service without an
// approved BIA (impact.GapNoBIA, Version naming its draft if any), or an
// approved BIA whose RTO + WRT passes the MTPD its thresholds give under
// the current settings (impact.GapExceedsMTPD, as impact.Gaps finds it).
type BIAFinding struct {
	Kind    string                 `json:"kind"`
	Service string                 `json:"service"`
	Version *int                   `json:"version"`
	MTPD    *orchestrator.Duration `json:"mtpd,omitempty"`
}

// Bounds on what the BIA report reads and shows.
const (
	// biaDependencyLimit: above this many services the dependencies are
	// not counted (a closure walk per service).
	biaDependencyLimit = 500
	// biaDraftLookups bounds the parallel reads of unapproved services'
	// drafts.
	biaDraftLookups = 8
)

// biaReport gathers the BIA report as of now.
func (e *Reports) biaReport(ctx context.Context, q Request, _, _ time.Time) (any, htmlPage, error) {
	rep, err := e.gatherBIA(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("gather BIA report: %w", err)
	}
	return rep, rep.document(q.Lang), nil
}

// gatherBIA reads every business service, the approved BIAs, the settings
// and the dependency graph at once, then the drafts of the services
// without an approved BIA.
func (e *Reports) gatherBIA(ctx context.Context) (*BIAReport, error) {
	rep := &BIAReport{GeneratedAt: e.r.rt.Now().UTC(), Services: []BIAServiceRow{}, Findings: []BIAFinding{},
		names: map[string]string{}}
	var (
		bias map[string]impact.BIA
		snap *impact.Snapshot
	)
	eg, gctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		return cmdb.NewService(e.r.pool).EachCI(gctx, cmdb.CIFilter{Class: cmdb.ClassBusinessService}, func(c cmdb.CI) error {
			rep.Services = append(rep.Services, BIAServiceRow{Service: c.Key, Name: c.Name, Owner: c.Owner, Status: BIANone})
			return nil
		})
	})
	eg.Go(func() (err error) { bias, err = e.r.opts.Impact.ApprovedBIAs(gctx, nil); return err })
	eg.Go(func() (err error) { rep.settings, err = e.r.opts.Impact.Settings(gctx); return err })
	eg.Go(func() (err error) { snap, err = e.r.opts.Impact.Graphs().Current(gctx); return err })
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	rep.Currency = rep.settings.Currency
	for i := range rep.Services {
		row := &rep.Services[i]
		rep.names[row.Service] = cmp.Or(row.Name, row.Service)
		if b, ok := bias[row.Service]; ok {
			row.fill(b, rep.settings)
		}
	}
	if err := e.biaReadDrafts(ctx, rep.Services); err != nil {
		return nil, err
	}
	if len(rep.Services) <= biaDependencyLimit {
		biaCountDependencies(snap, rep.Services)
	}
	slices.SortFunc(rep.Services, func(a, b BIAServiceRow) int {
		return cmp.Or(biaCompareTier(a.Tier, b.Tier), strings.Compare(a.Service, b.Service))
	})
	rep.summarise()
	return rep, nil
}

// fill sets the row from the service's approved BIA, evaluating it at
// every time point of the settings and of its own thresholds.
func (row *BIAServiceRow) fill(b impact.BIA, s impact.Settings) {
	version, tier := b.Version, b.Tier
	rto, rpo, wrt, mbco := b.RTO, b.RPO, b.WRT, b.MBCO
	row.Status, row.Version, row.Tier = BIAApproved, &version, &tier
	row.RTO, row.RPO, row.WRT, row.MBCO = &rto, &rpo, &wrt, &mbco
	row.MTPD, row.SuggestedRTO = b.MTPD, b.SuggestedRTO
	row.ApprovedAt, row.ApprovedBy, row.Currency = b.ApprovedAt, b.ApprovedBy, b.Currency
	if m, ok := impact.MTPD(s, b.Thresholds); ok {
		row.mtpdNow = &m
	}
	points := slices.Clone(s.TimePoints)
	for _, t := range b.Thresholds {
		points = append(points, t.At)
	}
	slices.Sort(points)
	for _, at := range slices.Compact(points) {
		l := b.At(at)
		row.Impact = append(row.Impact, BIAImpactPoint{After: at, Loss: l.Loss, Ratings: l.Ratings,
			RTOBreached: l.RTOBreached, MTPDBreached: l.MTPDBreached})
	}
}

// exceedsMTPD reports whether the approved BIA's RTO plus its work
// recovery time passes the MTPD under the current settings: recovery on
// target would still come too late. Approval checks the same against the
// settings of the day, so only a change of settings since brings it about.
func (row *BIAServiceRow) exceedsMTPD() bool {
	return row.RTO != nil && row.WRT != nil && row.mtpdNow != nil && *row.RTO+*row.WRT > *row.mtpdNow
}

// biaReadDrafts finds the draft of each service without an approved BIA: its
// newest version, when it has one, is a draft.
func (e *Reports) biaReadDrafts(ctx context.Context, rows []BIAServiceRow) error {
	eg, gctx := errgroup.WithContext(ctx)
	eg.SetLimit(biaDraftLookups)
	for i := range rows {
		if rows[i].Status == BIAApproved {
			continue
		}
		row := &rows[i]
		eg.Go(func() error {
			b, err := e.r.opts.Impact.CurrentBIA(gctx, row.Service)
			switch {
			case orchestrator.ErrorCode(err) == orchestrator.ENOTFOUND:
				return nil
			case err != nil:
				return err
			case b.Status == impact.StatusDraft:
				v := b.Version
				row.Status, row.DraftVersion = BIADraft, &v
			}
			return nil
		})
	}
	return eg.Wait()
}

// biaCountDependencies counts what each service needs over the graph
// snapshot; a service the graph lacks keeps nil.
func biaCountDependencies(snap *impact.Snapshot, rows []BIAServiceRow) {
	g := snap.Graph
	for i := range rows {
		n, ok := g.Index(rows[i].Service)
		if !ok {
			continue
		}
		d := &BIADependencies{}
		for _, m := range g.Dependencies(n).Nodes {
			if m == n {
				continue
			}
			d.CIs++
			if snap.DataBearing(m) {
				d.DataBearing++
			}
			switch g.Class(m) {
			case "supplier_service":
				d.Suppliers++
			case impact.ClassBusinessService:
				d.Services++
			}
		}
		rows[i].Dependencies = d
	}
}

// summarise counts the services and lists the findings, in the services'
// order.
func (rep *BIAReport) summarise() {
	s := BIASummary{Services: len(rep.Services), ByTier: map[string]int{}}
	for _, row := range rep.Services {
		s.ByTier[tierName(row.Tier)]++
		switch row.Status {
		case BIAApproved:
			s.Approved++
			if row.exceedsMTPD() {
				s.ExceedsMTPD++
				rep.Findings = append(rep.Findings, BIAFinding{Kind: impact.GapExceedsMTPD, Service: row.Service, Version: row.Version, MTPD: row.mtpdNow})
			}
		case BIADraft:
			s.Draft++
			rep.Findings = append(rep.Findings, BIAFinding{Kind: impact.GapNoBIA, Service: row.Service, Version: row.DraftVersion})
		default:
			s.None++
			rep.Findings = append(rep.Findings, BIAFinding{Kind: impact.GapNoBIA, Service: row.Service})
		}
	}
	rep.Summary = s
}

// biaCompareTier orders tiers most critical first, a service without one
// last.
func biaCompareTier(a, b *int) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return cmp.Compare(*a, *b)
}
