package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/importer"
)

// seedImpact gives every demo business service an approved BIA consistent
// with its tier, and the bureau a risk register. It writes only what
// differs, so seeding twice changes nothing; services and scope entries
// the database lacks (a registry without those record types) are skipped.
func seedImpact(ctx context.Context, pool *pgxpool.Pool, opts Options, summary Summary) error {
	svc := impact.NewService(pool, orchestrator.Runtime{}, nil)
	settings := impact.DefaultSettings()
	settings.Currency = "CNY"
	if _, err := svc.InitSettings(ctx, settings); err != nil {
		return fmt.Errorf("seed demo BIA settings: %w", err)
	}
	bias := importer.Report{Type: "bias", Format: "demo"}
	for copyN := range opts.Scale {
		for n, d := range services {
			outcome, err := seedBIA(ctx, svc, serviceKey(d, copyN), demoAssessment(d, copyN*len(services)+n))
			if err != nil {
				return err
			}
			count(&bias, outcome)
		}
	}
	summary["bias"] = bias
	risks := importer.Report{Type: "risks", Format: "demo"}
	for i, r := range riskRegister {
		in, ok, err := r.input(ctx, pool, i, opts.Now)
		if err != nil || !ok {
			if err != nil {
				return err
			}
			continue
		}
		outcome, err := svc.UpsertRisk(ctx, in)
		if err != nil {
			return fmt.Errorf("seed demo risk %s: %w", in.ExternalID, err)
		}
		count(&risks, outcome)
	}
	summary["risks"] = risks
	return nil
}

func count(r *importer.Report, outcome string) {
	if outcome == "" {
		return
	}
	r.Rows++
	switch outcome {
	case impact.Inserted:
		r.Inserted++
	case impact.Updated:
		r.Updated++
	default:
		r.Unchanged++
	}
	r.Written = r.Inserted+r.Updated > 0
}

// seedBIA approves a for the service unless its newest version already is
// that assessment, approved. It returns "" for a service not in the CMDB.
func seedBIA(ctx context.Context, svc *impact.Service, key string, a impact.Assessment) (string, error) {
	outcome := impact.Updated
	current, err := svc.CurrentBIA(ctx, key)
	switch orchestrator.ErrorCode(err) {
	case "":
		if current.Status == impact.StatusApproved && sameAssessment(current.Assessment, a) {
			return impact.Unchanged, nil
		}
	case orchestrator.ENOTFOUND:
		// No BIA yet, or no such service: only the latter has no versions.
		if _, err := svc.BIAVersions(ctx, key); err != nil {
			if orchestrator.ErrorCode(err) == orchestrator.ENOTFOUND {
				return "", nil
			}
			return "", fmt.Errorf("seed demo BIA of %s: %w", key, err)
		}
		outcome = impact.Inserted
	default:
		return "", fmt.Errorf("seed demo BIA of %s: %w", key, err)
	}
	if _, err := svc.SaveBIA(ctx, key, a); err != nil {
		return "", fmt.Errorf("seed demo BIA of %s: %w", key, err)
	}
	if _, err := svc.ApproveBIA(ctx, key); err != nil {
		return "", fmt.Errorf("approve demo BIA of %s: %w", key, err)
	}
	return outcome, nil
}

// sameAssessment compares assessments as stored, which is as JSON.
func sameAssessment(a, b impact.Assessment) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// tierProfile is what a service of a tier can tolerate: Tier(RTO) is the
// tier under the default bounds and RTO + WRT stays within the MTPD, the
// time point at which its leading category becomes intolerable.
type tierProfile struct {
	rto, rpo, wrt time.Duration
	mtpdPoint     int // index into the time points; -1: never intolerable
	mbco          float64
	lossPerHour   float64 // CNY
}

var tierProfiles = [5]tierProfile{
	{rto: time.Hour, rpo: 5 * time.Minute, wrt: time.Hour, mtpdPoint: 1, mbco: 80, lossPerHour: 500_000},
	{rto: 4 * time.Hour, rpo: 15 * time.Minute, wrt: 2 * time.Hour, mtpdPoint: 2, mbco: 60, lossPerHour: 150_000},
	{rto: 24 * time.Hour, rpo: 4 * time.Hour, wrt: 8 * time.Hour, mtpdPoint: 4, mbco: 50, lossPerHour: 30_000},
	{rto: 72 * time.Hour, rpo: 24 * time.Hour, wrt: 24 * time.Hour, mtpdPoint: 5, mbco: 30, lossPerHour: 5_000},
	{rto: 120 * time.Hour, rpo: 72 * time.Hour, wrt: 24 * time.Hour, mtpdPoint: -1, mbco: 0, lossPerHour: 1_000},
}

// leadingCategory is the impact that drives a service's MTPD.
var leadingCategory = map[string]string{
	"tax-payment": "financial", "si-levy": "financial", "finance": "financial", "export-refund": "financial",
	"core-levy": "regulatory", "declaration": "regulatory", "einvoice": "regulatory", "e-archives": "regulatory",
	"audit-cases": "regulatory", "taxpayer-reg": "regulatory",
}

// demoAssessment rates every category at every default time point. The
// leading category climbs to the intolerable level at the tier's MTPD
// point; the others trail it by one or two levels. Financial amounts grow
// linearly with the outage at a rate set by the tier.
func demoAssessment(d serviceDef, n int) impact.Assessment {
	p := tierProfiles[d.tier]
	s := impact.DefaultSettings()
	lead, ok := leadingCategory[d.key]
	if !ok {
		lead = "customer"
	}
	rate := p.lossPerHour * (1 + float64(n%4)/4)
	a := impact.Assessment{
		RTO: orchestrator.Duration(p.rto), RPO: orchestrator.Duration(p.rpo), WRT: orchestrator.Duration(p.wrt), MBCO: p.mbco,
		CriticalPeriods: []string{"每月1-15日申报征期 monthly filing period, days 1-15"},
		VitalRecords:    []string{d.en + " database", "操作手册 operating manual"},
		People:          distinct(d.owner, "wu.hong"), // the owner and the continuity manager
		Suppliers:       append([]string{}, d.suppliers...),
	}
	if d.tier >= 2 {
		a.CriticalPeriods = []string{"年度汇算清缴 annual reconciliation, March-June"}
	}
	trail := 1
	for _, c := range s.Categories {
		lag := 0
		if c != lead {
			lag, trail = trail, 3-trail // alternate 1 and 2
		}
		for i, at := range s.TimePoints {
			t := impact.Threshold{Category: c, At: at, Rating: max(leading(p.mtpdPoint, i)-lag, 0)}
			if c == impact.CategoryFinancial {
				amount := rate * time.Duration(at).Hours()
				t.Amount = &amount
			}
			if lag == 0 && i == p.mtpdPoint {
				t.Justification = "超过此时限影响不可容忍 beyond this point the outage is intolerable"
			}
			a.Thresholds = append(a.Thresholds, t)
		}
	}
	return a
}

// distinct drops repeated keys, keeping the first of each.
func distinct(keys ...string) []string {
	var out []string
	for _, k := range keys {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// leading is the leading category's rating at time point i: 4 from the
// MTPD point on, climbing by one per point before it; without an MTPD it
// tops out at 3.
func leading(mtpdPoint, i int) int {
	if mtpdPoint < 0 {
		return []int{0, 0, 1, 1, 2, 3}[i]
	}
	if i >= mtpdPoint {
		return impact.MaxRating
	}
	return max(impact.MaxRating-1-(mtpdPoint-1-i), 0)
}
