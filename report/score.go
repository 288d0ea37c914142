package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/backup"
)

// apiPrefix starts every link to the thing to fix.
const apiPrefix = "/api/v1"

// What caps a status at at_risk.
const (
	capRPO = "rpo_breached"
	capRTO = "rto_infeasible"
)

// scoreAll scores every service, in key order.
func (in *inputs) scoreAll() []ServiceReadiness {
	out := make([]ServiceReadiness, 0, len(in.services))
	for _, key := range in.services {
		out = append(out, in.score(key))
	}
	return out
}

// score is one service's readiness: each component starts at its maximum
// and loses points with a reason and a link.
func (in *inputs) score(key string) ServiceReadiness {
	r := ServiceReadiness{Service: key, Components: make([]Component, 0, len(maxPoints))}
	b, hasBIA := in.bias[key]
	if hasBIA {
		t := b.Tier
		r.Tier = &t
	}
	var caps []string
	for _, m := range maxPoints {
		c := Component{Name: m.name, Max: m.points, Lost: []Loss{}}
		var capped string
		switch m.name {
		case ComponentBIA:
			c.Lost = in.biaLoss(key, hasBIA)
		case ComponentRunbook:
			c.Lost = in.runbookLoss(key)
		case ComponentRTO:
			c.Lost, capped = in.rtoLoss(key, hasBIA)
		case ComponentRPO:
			c.Lost, capped = in.rpoLoss(key, hasBIA)
		case ComponentDrills:
			c.Lost = in.drillLoss(key, r.Tier)
		case ComponentFindings:
			c.Lost = in.findingLoss(key)
		case ComponentSuppliers:
			c.Lost = in.supplierLoss(key)
		}
		if c.Lost == nil {
			c.Lost = []Loss{}
		}
		sortLosses(c.Lost)
		c.Points = c.Max
		for _, l := range c.Lost {
			c.Points -= l.Points
		}
		if capped != "" {
			caps = append(caps, capped)
		}
		r.Components = append(r.Components, c)
	}
	r.total(strings.Join(caps, ","))
	return r
}

func biaLink(key string) string { return apiPrefix + "/services/" + key + "/bia" }

// biaLoss: an approved BIA is worth 10.
func (in *inputs) biaLoss(key string, hasBIA bool) []Loss {
	if hasBIA {
		return nil
	}
	return []Loss{{Points: 10, Reason: "no approved BIA", Link: biaLink(key)}}
}

// runbookLoss: an approved runbook that is not stale is worth 15.
func (in *inputs) runbookLoss(key string) []Loss {
	rbs := in.runbooks[key]
	if len(rbs) == 0 {
		return []Loss{{Points: 15, Reason: "no approved runbook", Link: apiPrefix + "/runbooks?service=" + key}}
	}
	for _, rb := range rbs {
		if !rb.Stale {
			return nil
		}
	}
	rb := rbs[0]
	return []Loss{{Points: 15, Reason: fmt.Sprintf("runbook %d is stale (%s)", rb.ID, strings.Join(rb.Flags, ", ")),
		Link: fmt.Sprintf("%s/runbooks/%d", apiPrefix, rb.ID)}}
}

// rtoLoss: recovery within the RTO in every scenario that can take the
// service down is worth 20; missing it caps the status.
func (in *inputs) rtoLoss(key string, hasBIA bool) ([]Loss, string) {
	if !hasBIA {
		return []Loss{{Points: 20, Reason: "no approved BIA, so no RTO to judge recovery against", Link: biaLink(key)}}, ""
	}
	res, ok := in.resilience[key]
	if !ok || res.RTOMisses == 0 {
		return nil, ""
	}
	reason := fmt.Sprintf("estimated recovery misses the RTO in %d of %d scenarios", res.RTOMisses, res.Scenarios)
	if w := res.WorstRTO; w != nil && res.RTO != nil {
		reason += fmt.Sprintf(" (worst: %s, %s against an RTO of %s)", describe(w.Scenario.Type, w.Scenario.CIs, w.Scenario.Site), w.RTOEstimate, *res.RTO)
	}
	return []Loss{{Points: 20, Reason: reason, Link: apiPrefix + "/services/" + key + "/resilience"}}, capRTO
}

// describe names a scenario in a reason.
func describe(typ string, cis []string, site string) string {
	switch {
	case site != "":
		return typ + " of " + site
	case len(cis) > 0:
		return typ + " of " + strings.Join(cis, ", ")
	}
	return typ
}

// rpoLoss: the newest verified backup of every data-bearing CI the service
// needs within its RPO is worth 20, shared among the CIs at fault; a
// breach caps the status. A CI with no target or no verified backup loses
// its share without capping (its data loss is unknown, not known bad).
func (in *inputs) rpoLoss(key string, hasBIA bool) ([]Loss, string) {
	if !hasBIA {
		return []Loss{{Points: 20, Reason: "no approved BIA, so no RPO to judge backups against", Link: biaLink(key)}}, ""
	}
	rpo := in.bias[key].RPO
	var reasons, links []string
	capped := ""
	for _, ci := range in.dataDeps[key] {
		newest, hasTarget := in.backups[ci]
		var age *time.Duration
		if newest != nil {
			a := max(0, in.now.Sub(*newest)).Truncate(time.Second)
			age = &a
		}
		state := backup.Classify(age, rpo)
		var why string
		switch {
		case state == orchestrator.RPOBreached:
			why = fmt.Sprintf("newest verified backup of %s is %s old, beyond the RPO of %s", ci, orchestrator.Duration(*age), rpo)
			capped = capRPO
		case !hasTarget:
			why = fmt.Sprintf("%s has no backup target", ci)
		case state == orchestrator.RPOUnknown:
			why = fmt.Sprintf("%s has no verified backup", ci)
		default:
			continue
		}
		reasons = append(reasons, why)
		links = append(links, apiPrefix+"/cis/"+ci+"/backup-status")
	}
	return share(20, reasons, links), capped
}

// share divides points among reasons, the remainder to the first.
func share(points int, reasons, links []string) []Loss {
	if len(reasons) == 0 {
		return nil
	}
	n := min(len(reasons), points)
	out := make([]Loss, n)
	for i := range n {
		out[i] = Loss{Points: points / n, Reason: reasons[i], Link: links[i]}
	}
	out[0].Points += points % n
	for i := n; i < len(reasons); i++ { // more reasons than points: named, worth nothing alone
		out = append(out, Loss{Points: 0, Reason: reasons[i], Link: links[i]})
	}
	return out
}

// drillLoss: a drill of the type the tier's policy asks for (or a more
// thorough one) completed within the policy's interval, and the last
// drill passed, is worth 20; a last drill passed partially is worth 10.
func (in *inputs) drillLoss(key string, tier *int) []Loss {
	t := 4
	if tier != nil {
		t = *tier
	}
	ds := in.drills[key]
	if p, interval, due := in.drillDue(key, t); due {
		return []Loss{{Points: 20, Link: apiPrefix + "/drills?service=" + key, Reason: fmt.Sprintf("no %s drill (or a more thorough one) completed in the last %d days, as the tier %d policy asks",
			p.Type, int(interval.Hours()/24), t)}}
	}
	if len(ds) == 0 {
		return nil // the policy asks for no drill
	}
	last := ds[0]
	report := fmt.Sprintf("%s/drills/%d/report", apiPrefix, last.ID)
	switch last.Result {
	case drills.ResultFail:
		return []Loss{{Points: 20, Reason: fmt.Sprintf("the last drill (%d) failed", last.ID), Link: report}}
	case drills.ResultPartial:
		return []Loss{{Points: 10, Reason: fmt.Sprintf("the last drill (%d) passed only partially", last.ID), Link: report}}
	}
	return nil
}

// drillDue reports whether service key of tier t lacks the drill its
// tier's policy asks for (of the policy's type or a more thorough one,
// completed within the policy's interval), with the policy and interval.
func (in *inputs) drillDue(key string, t int) (drills.Policy, time.Duration, bool) {
	p, ok := in.policies[t]
	if !ok || p.PerYear <= 0 {
		return p, 0, false
	}
	interval := 365 * 24 * time.Hour / time.Duration(p.PerYear)
	need := slices.Index(drills.Types, p.Type)
	within := slices.ContainsFunc(in.drills[key], func(d drillFact) bool {
		return slices.Index(drills.Types, d.Type) >= need && in.now.Sub(d.CompletedAt) <= interval
	})
	return p, interval, !within
}

// attention counts what needs attention among the scored services.
func (in *inputs) attention(scored []ServiceReadiness) Attention {
	var a Attention
	stale, overdue := map[int64]bool{}, map[int64]bool{}
	for _, r := range scored {
		for _, rb := range in.runbooks[r.Service] {
			if rb.Stale {
				stale[rb.ID] = true
			}
		}
		for _, f := range in.overdue[r.Service] {
			overdue[f.ID] = true
		}
		if strings.Contains(r.CappedBy, capRPO) {
			a.RPOBreached++
		}
		t := 4
		if r.Tier != nil {
			t = *r.Tier
		}
		if _, _, due := in.drillDue(r.Service, t); due {
			a.DrillsDue++
		}
	}
	a.StaleRunbooks, a.OverdueFindings = len(stale), len(overdue)
	return a
}

// findingLoss: no overdue finding is worth 10.
func (in *inputs) findingLoss(key string) []Loss {
	fs := in.overdue[key]
	if len(fs) == 0 {
		return nil
	}
	ids := make([]string, len(fs))
	for i, f := range fs {
		ids[i] = fmt.Sprintf("%d (%s)", f.ID, f.Title)
	}
	return []Loss{{Points: 10, Reason: fmt.Sprintf("%d overdue findings: %s", len(fs), strings.Join(ids, "; ")),
		Link: apiPrefix + "/findings?service=" + key + "&overdue=true"}}
}

// supplierLoss: supplier commitments within the service's requirements
// are worth 5, shared among the suppliers falling short.
func (in *inputs) supplierLoss(key string) []Loss {
	var reasons, links []string
	for _, g := range in.supplierGaps[key] {
		reasons = append(reasons, g.Message)
		links = append(links, apiPrefix+"/suppliers/"+g.Subject)
	}
	return share(5, reasons, links)
}
