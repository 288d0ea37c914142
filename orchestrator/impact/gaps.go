package impact

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// Gap kinds, in the order gaps are listed.
const (
	GapSupplierRTO = "supplier_rto"
	GapSupplierRPO = "supplier_rpo"
	GapExceedsMTPD = "rto_wrt_exceeds_mtpd"
	GapNoBIA       = "no_approved_bia"
	GapNoBackup    = "no_backup_target"
	GapCMDBAnomaly = "cmdb_anomaly"
)

// BackupCoverage tells which CIs have a backup target. The backup
// capability implements it; impact, its sibling, asks through it rather
// than reading backup's tables.
type BackupCoverage interface {
	// CIsWithTargets returns the keys of the CIs with at least one backup
	// target.
	CIsWithTargets(ctx context.Context) (map[string]bool, error)
}

// GapKinds lists every gap kind.
var GapKinds = []string{GapSupplierRTO, GapSupplierRPO, GapExceedsMTPD, GapNoBIA, GapNoBackup, GapCMDBAnomaly}

// Gap is one thing standing between the organisation and the recovery its
// BIAs require.
type Gap struct {
	Kind string `json:"kind"`
	// Subject is the key of the supplier, service or CI at fault.
	Subject string `json:"subject"`
	// CI is the CI concerned when the subject is a supplier.
	CI      string `json:"ci,omitempty"`
	Message string `json:"message"`
	// Services are the business services affected.
	Services []string `json:"services"`
	// Required and Committed are the figures compared, where there are two.
	Required  *orchestrator.Duration `json:"required,omitempty"`
	Committed *orchestrator.Duration `json:"committed,omitempty"`
}

// Gaps is every gap the model sees, with a count per kind.
type Gaps struct {
	Items  []Gap          `json:"items"`
	Counts map[string]int `json:"counts"`
	// BackupsChecked says whether data-bearing CIs were checked for backup
	// targets: whether the service knows the backup capability.
	BackupsChecked bool `json:"backups_checked"`
}

// gapFinder holds what every gap check reads.
type gapFinder struct {
	s       *Service
	snap    *Snapshot
	req     []Requirement
	targets map[int32]Target
	out     []Gap
}

// Gaps lists the gaps of the given kind ("" for all).
func (s *Service) Gaps(ctx context.Context, kind string) (Gaps, error) {
	snap, req, targets, err := s.rollDown(ctx)
	if err != nil {
		return Gaps{}, err
	}
	f := &gapFinder{s: s, snap: snap, req: req, targets: targets}
	res := Gaps{Counts: map[string]int{}}
	checks := []struct {
		kind string
		run  func(context.Context) error
	}{
		{GapSupplierRTO, f.suppliers},
		{GapExceedsMTPD, f.mtpd},
		{GapNoBIA, f.unassessed},
		{GapNoBackup, func(ctx context.Context) error {
			var err error
			res.BackupsChecked, err = f.backups(ctx)
			return err
		}},
		{GapCMDBAnomaly, f.anomalies},
	}
	for _, c := range checks {
		if kind == "" || kind == c.kind || (c.kind == GapSupplierRTO && kind == GapSupplierRPO) {
			if err := c.run(ctx); err != nil {
				return Gaps{}, err
			}
		}
	}
	res.Items = []Gap{}
	for _, k := range GapKinds {
		res.Counts[k] = 0
	}
	for _, g := range f.out {
		if kind == "" || g.Kind == kind {
			res.Items = append(res.Items, g)
			res.Counts[g.Kind]++
		}
	}
	return res, nil
}

// servicesNeeding lists the services with an approved BIA that need n,
// keeping those whose figure passes keep.
func (f *gapFinder) servicesNeeding(n int32, keep func(Target) bool) []string {
	out := []string{}
	for _, m := range f.snap.Graph.Dependents(n).Nodes {
		if t, ok := f.targets[m]; ok && (keep == nil || keep(t)) {
			out = append(out, f.snap.Graph.Key(m))
		}
	}
	slices.Sort(out)
	return out
}

// suppliers compares each supplier's contract in force with what the
// supplier_service CIs it provides are required to meet: the RTO always,
// the RPO when the CI holds data.
func (f *gapFinder) suppliers(ctx context.Context) error {
	const query = `SELECT s.key, c.key, a.reference, a.rto_s, a.rpo_s
		FROM suppliers s JOIN supplier_services ss ON ss.supplier_id = s.id JOIN cis c ON c.id = ss.ci_id
		LEFT JOIN LATERAL (SELECT k.reference, k.rto_s, k.rpo_s FROM supplier_contracts k
			WHERE k.supplier_id = s.id AND k.start_date <= $1::date AND k.end_date >= $1::date
			ORDER BY k.end_date DESC, k.position LIMIT 1) a ON true
		ORDER BY s.key, ss.position`
	rows, err := f.s.pool.Query(ctx, query, f.s.today())
	if err != nil {
		return fmt.Errorf("read supplier contracts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			sup, ci  string
			ref      *string
			rto, rpo *int64
		)
		if err := rows.Scan(&sup, &ci, &ref, &rto, &rpo); err != nil {
			return fmt.Errorf("read supplier contracts: %w", err)
		}
		n, ok := f.snap.Graph.Index(ci)
		if !ok {
			continue
		}
		r := f.req[n]
		if r.HasRTO() {
			f.supplierGap(GapSupplierRTO, "RTO", "recover within", sup, ci, n, ref, rto, r.RTO, r.RTOFrom,
				func(t Target) orchestrator.Duration { return t.RTO })
		}
		// A recovery point means something only for a CI that holds data.
		if r.HasRPO() && f.snap.DataBearing(n) {
			f.supplierGap(GapSupplierRPO, "RPO", "lose at most", sup, ci, n, ref, rpo, r.RPO, r.RPOFrom,
				func(t Target) orchestrator.Duration { return t.RPO })
		}
	}
	return rows.Err()
}

func (f *gapFinder) supplierGap(kind, figure, verb, sup, ci string, n int32, ref *string, committedS *int64,
	required orchestrator.Duration, setBy int32, of func(Target) orchestrator.Duration) {
	need := fmt.Sprintf("%s must %s %s (set by %s)", ci, verb, required, f.snap.Graph.Key(setBy))
	g := Gap{Kind: kind, Subject: sup, CI: ci, Required: &required}
	switch {
	case ref == nil:
		g.Message = fmt.Sprintf("supplier %s has no contract in force, but %s", sup, need)
	case committedS == nil:
		g.Message = fmt.Sprintf("contract %s of supplier %s commits to no %s, but %s", *ref, sup, figure, need)
	default:
		committed := orchestrator.DurationFromSeconds(*committedS)
		if committed <= required {
			return
		}
		g.Committed = &committed
		g.Message = fmt.Sprintf("contract %s of supplier %s commits to %s %s, looser than the %s required: %s",
			*ref, sup, figure, committed, required, need)
	}
	g.Services = f.servicesNeeding(n, func(t Target) bool { return g.Committed == nil || of(t) < *g.Committed })
	f.out = append(f.out, g)
}

// mtpd re-checks approved BIAs against the current settings, which may
// have moved the MTPD since they were approved.
func (f *gapFinder) mtpd(ctx context.Context) error {
	settings, err := loadSettings(ctx, f.s.pool)
	if err != nil {
		return err
	}
	bias, err := approvedBIAs(ctx, f.s.pool, nil)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(bias))
	for k := range bias {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b := bias[k]
		m, ok := MTPD(settings, b.Thresholds)
		if !ok || b.RTO+b.WRT <= m {
			continue
		}
		f.out = append(f.out, Gap{Kind: GapExceedsMTPD, Subject: k, Services: []string{k}, Required: &m,
			Message: fmt.Sprintf("BIA v%d of %s: RTO %s + WRT %s = %s exceeds MTPD %s", b.Version, k, b.RTO, b.WRT, b.RTO+b.WRT, m)})
	}
	return nil
}

// unassessed lists business services without an approved BIA.
func (f *gapFinder) unassessed(ctx context.Context) error {
	drafts, err := draftVersions(ctx, f.s.pool)
	if err != nil {
		return err
	}
	g := f.snap.Graph
	services := g.OfClass(ClassBusinessService)
	slices.SortFunc(services, func(a, b int32) int { return cmp.Compare(g.Key(a), g.Key(b)) })
	for _, n := range services {
		if _, ok := f.targets[n]; ok {
			continue
		}
		k := g.Key(n)
		msg := fmt.Sprintf("%s has no approved BIA", k)
		if v, ok := drafts[k]; ok {
			msg += fmt.Sprintf(" (draft v%d awaits approval)", v)
		}
		f.out = append(f.out, Gap{Kind: GapNoBIA, Subject: k, Services: []string{k}, Message: msg})
	}
	return nil
}

func draftVersions(ctx context.Context, q postgres.Querier) (map[string]int, error) {
	rows, err := q.Query(ctx, `SELECT c.key, b.version FROM bia_versions b JOIN cis c ON c.id = b.service_id WHERE b.status = 'draft'`)
	if err != nil {
		return nil, fmt.Errorf("read BIA drafts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			k string
			v int
		)
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("read BIA drafts: %w", err)
		}
		out[k] = v
	}
	return out, rows.Err()
}

// backups lists data-bearing CIs without a backup target, when the
// service knows the backup capability; it reports whether it could check.
func (f *gapFinder) backups(ctx context.Context) (bool, error) {
	if f.s.backups == nil {
		return false, nil
	}
	covered, err := f.s.backups.CIsWithTargets(ctx)
	if err != nil {
		return true, fmt.Errorf("read CIs with backup targets: %w", err)
	}
	rows, err := f.s.pool.Query(ctx, `SELECT c.key, c.class FROM cis c WHERE c.data_bearing AND c.status <> 'retired' ORDER BY c.key`)
	if err != nil {
		return true, fmt.Errorf("read CIs without backup: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key, class string
		if err := rows.Scan(&key, &class); err != nil {
			return true, fmt.Errorf("read CIs without backup: %w", err)
		}
		if covered[key] {
			continue
		}
		g := Gap{Kind: GapNoBackup, Subject: key, Services: []string{},
			Message: fmt.Sprintf("%s %s holds data but has no backup target", class, key)}
		if n, ok := f.snap.Graph.Index(key); ok {
			g.Services = f.servicesNeeding(n, nil)
			if r := f.req[n]; r.HasRPO() {
				rpo := r.RPO
				g.Required = &rpo
				g.Message += fmt.Sprintf("; its required RPO is %s (set by %s)", rpo, f.snap.Graph.Key(r.RPOFrom))
			}
		}
		f.out = append(f.out, g)
	}
	return true, rows.Err()
}

// anomalies lists what loading the graph had to repair.
func (f *gapFinder) anomalies(context.Context) error {
	for _, a := range f.snap.Anomalies {
		g := Gap{Kind: GapCMDBAnomaly, Subject: a.CI, Message: a.Message, Services: []string{}}
		if n, ok := f.snap.Graph.Index(a.CI); ok {
			g.Services = f.servicesNeeding(n, nil)
		}
		f.out = append(f.out, g)
	}
	return nil
}
