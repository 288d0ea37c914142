package runbooks

import (
	"fmt"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
)

// maxListed bounds the generated lines that name CIs one by one.
const maxListed = 100

func (gen *generator) title() string {
	if s := gen.in.Scope.Service; s != "" {
		n, _ := gen.g.Index(s)
		return "业务持续性恢复预案 Recovery runbook: " + label(gen.info(n))
	}
	return "业务持续性恢复预案 Recovery runbook: loss of " + strings.Join(firstN(gen.in.Scope.Failed, 5), ", ")
}

// sections writes the generated sections: invocation criteria and
// authority, call tree, communications, MBCO, the BIA's requirements,
// failback and vital records.
func (gen *generator) sections(d Draft) Sections {
	var targets []CIInfo
	for _, t := range gen.r.targets {
		targets = append(targets, gen.info(t))
	}
	s := Sections{
		Invocation:     gen.invocation(targets),
		CallTree:       CallTreeRef{Services: append([]string{}, d.Services...)},
		Communications: gen.communications(targets),
		Availability:   gen.availability(targets),
		Requirements:   []Requirements{},
		Failback:       gen.failback(d),
		VitalRecords:   gen.vitalRecords(targets),
	}
	for _, t := range targets {
		req := Requirements{Service: t.Key}
		if b, ok := gen.in.BIAs[t.Key]; ok {
			v, a := b.Version, b.Assessment
			req.BIAVersion, req.RTO, req.RPO, req.WRT, req.MTPD = &v, &a.RTO, &a.RPO, &a.WRT, b.MTPD
		}
		s.Requirements = append(s.Requirements, req)
	}
	return s
}

func (gen *generator) invocation(targets []CIInfo) Invocation {
	var inv Invocation
	if gen.in.Scope.IsScenario() {
		inv.Criteria = append(inv.Criteria, "The scenario occurs: "+strings.Join(firstN(gen.in.Scope.Failed, 10), ", ")+" fail or are lost.")
	}
	for _, t := range targets {
		within := "its agreed incident resolution time"
		if b, ok := gen.in.BIAs[t.Key]; ok && b.Assessment.RTO > 0 {
			within = roundMinute(b.Assessment.RTO/2).String() + " (half its RTO)"
		}
		inv.Criteria = append(inv.Criteria, fmt.Sprintf("An outage of %s has lasted, or is expected to last, longer than %s and normal incident handling cannot restore it in time.", label(t), within))
	}
	inv.Criteria = append(inv.Criteria,
		"A site, data centre, network link or supplier the service needs is lost (fire, power, flood, equipment failure).")
	if data := gen.dataBearing(); len(data) > 0 {
		inv.Criteria = append(inv.Criteria, "Data in "+strings.Join(firstN(data, 5), ", ")+" is corrupted or encrypted (e.g. ransomware).")
	}
	inv.Authority = []string{"Continuity manager (业务持续性经理)", "The top manager, overall commander of the recovery (恢复总指挥)"}
	for _, t := range targets {
		if t.Owner != "" {
			inv.Authority = append(inv.Authority, "Service owner of "+t.Key+": "+t.Owner)
		}
	}
	return inv
}

func (gen *generator) communications(targets []CIInfo) []string {
	out := []string{
		"Open a recovery bridge (conference call) and log every decision with its time.",
		"The service desk posts a notice of the outage and the expected recovery time for users.",
		"Update stakeholders at least every 30 minutes until hand-back, and at hand-back.",
		"Report the invocation to management; after recovery hold a review and record it (复盘).",
	}
	for _, t := range targets {
		b, ok := gen.in.BIAs[t.Key]
		if !ok {
			continue
		}
		if len(b.Assessment.Suppliers) > 0 {
			out = append(out, fmt.Sprintf("Keep the suppliers of %s informed: %s.", t.Key, strings.Join(b.Assessment.Suppliers, ", ")))
		}
		if len(b.Assessment.People) > 0 {
			out = append(out, fmt.Sprintf("People and roles %s needs: %s.", t.Key, strings.Join(b.Assessment.People, ", ")))
		}
	}
	return out
}

func (gen *generator) availability(targets []CIInfo) Availability {
	a := Availability{Targets: []string{}}
	for _, t := range targets {
		b, ok := gen.in.BIAs[t.Key]
		if !ok {
			a.Targets = append(a.Targets, fmt.Sprintf("%s: no approved BIA states its MBCO yet.", t.Key))
			continue
		}
		m := b.Assessment.MBCO
		if len(targets) == 1 {
			a.MBCO = &m
		}
		a.Targets = append(a.Targets, fmt.Sprintf("%s: deliver at least %s%% of normal service while the plan is invoked.", t.Key, formatPercent(m)))
		if len(b.Assessment.CriticalPeriods) > 0 {
			a.Targets = append(a.Targets, fmt.Sprintf("%s: critical periods %s.", t.Key, strings.Join(b.Assessment.CriticalPeriods, ", ")))
		}
	}
	return a
}

func (gen *generator) failback(d Draft) []string {
	out := []string{"Repair or rebuild the primary components while the service runs in its recovery configuration."}
	if gen.in.Plan != nil && gen.in.Scope.IsScenario() {
		out = append(out, planFailback(*gen.in.Plan)...)
	}
	for _, s := range d.Steps {
		if gen.in.Plan != nil && gen.in.Scope.IsScenario() {
			break
		}
		if s.Kind != KindRecover || s.CI == "" {
			continue
		}
		if n, ok := gen.g.Index(s.CI); ok && gen.info(n).RecoveryStrategy == "failover" {
			to := gen.standbysOf(s.CI)
			if len(to) > 0 {
				out = append(out, fmt.Sprintf("Fail %s back from %s once the primary is verified, in a window agreed with the service owner.", s.CI, strings.Join(to, ", ")))
			}
		}
	}
	out = appendCapped(out, d.Redundant, func(k string) string {
		return fmt.Sprintf("Restore redundancy: recover %s (left out of the recovery steps because its group had enough members).", k)
	})
	return append(out,
		"Reconcile the data entered during the outage (manual records, queued transactions) into the primary systems.",
		"Close the invocation: record the achieved recovery time and recovery point, and review the plan.")
}

func (gen *generator) vitalRecords(targets []CIInfo) []string {
	out := []string{}
	for _, t := range targets {
		if b, ok := gen.in.BIAs[t.Key]; ok {
			out = append(out, b.Assessment.VitalRecords...)
		}
	}
	return appendCapped(out, gen.dataBearing(), func(k string) string { return "Backups of " + k })
}

// dataBearing lists the data-bearing CIs that must be recovered, in key
// order.
func (gen *generator) dataBearing() []string {
	var out []string
	for _, k := range gen.r.keys(gen.g) {
		n, _ := gen.g.Index(k)
		if gen.needed[n] && gen.info(n).DataBearing {
			out = append(out, k)
		}
	}
	return out
}

func appendCapped(out, keys []string, line func(string) string) []string {
	for i, k := range keys {
		if i == maxListed {
			return append(out, fmt.Sprintf("… and %d more.", len(keys)-maxListed))
		}
		out = append(out, line(k))
	}
	return out
}

// durationPtr returns a pointer to a copy of d.
func durationPtr(d orchestrator.Duration) *orchestrator.Duration { return &d }
