package runbooks

import (
	"fmt"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// checkScenarios judges a service runbook per scenario: every disruption
// that can take its service down, with the recovery the impact model plans
// for it. When there are any, the RTO check is the worst of them instead
// of the rebuild of every CI the steps describe.
func (f *Feasibility) checkScenarios(ev evidence) {
	r := ev.Resilience
	if r == nil || len(r.Scenarios) == 0 {
		return
	}
	var worst *impact.ScenarioResilience
	for i, sr := range r.Scenarios {
		f.Scenarios = append(f.Scenarios, ScenarioCheck{Scenario: sr.Scenario, Standbys: sr.Standbys,
			RTOEstimate: sr.RTOEstimate, RPOEstimate: sr.RPOEstimate, RTOMet: sr.RTOMet, RPOMet: sr.RPOMet})
		if worst == nil || sr.RTOEstimate > worst.RTOEstimate {
			worst = &r.Scenarios[i]
		}
	}
	if f.RTO == nil || r.RTO == nil {
		return
	}
	// The gap the step estimate raised gives way to the scenarios'.
	kept := f.Gaps[:0]
	for _, g := range f.Gaps {
		if g.Kind != GapRTO {
			kept = append(kept, g)
		}
	}
	f.Gaps = kept
	c := f.RTO
	c.Estimate = worst.RTOEstimate
	c.Feasible = c.Estimate <= c.RTO
	c.Margin, c.Excess = 0, 0
	what := scenarioName(worst.Scenario)
	if c.Feasible {
		c.Margin = c.RTO - c.Estimate
		c.Message = fmt.Sprintf("in every scenario that can take %s down, the recovery fits the RTO %s of %s; the slowest, %s, takes %s, with %s to spare",
			r.Service, c.RTO, c.Service, what, c.Estimate, c.Margin)
		return
	}
	c.Excess = c.Estimate - c.RTO
	c.Message = fmt.Sprintf("estimated recovery %s exceeds the RTO %s of %s by %s in scenario %s", c.Estimate, c.RTO, c.Service, c.Excess, what)
	var missed []string
	for _, sr := range r.Scenarios {
		if sr.RTOMet != nil && !*sr.RTOMet {
			missed = append(missed, scenarioName(sr.Scenario))
		}
	}
	f.gap(GapRTO, c.Service, "%s; %d scenario(s) miss the RTO: %s", c.Message, len(missed), strings.Join(firstN(missed, 5), "; "))
}

// Name says what the scenario fails.
func (c ScenarioCheck) Name() string { return scenarioName(c.Scenario) }

// scenarioName says what a scenario fails, for messages.
func scenarioName(d impact.Disruption) string {
	switch d.Type {
	case impact.DisruptionSite:
		return "loss of site " + d.Site
	case impact.DisruptionSupplier:
		return "loss of supplier " + d.Supplier
	case impact.DisruptionRegion:
		return "loss of region " + d.Region
	case impact.DisruptionCorruption:
		return "corruption of " + strings.Join(d.CIs, ", ")
	}
	return "failure of " + strings.Join(firstN(d.CIs, 3), ", ")
}

// failoversOf indexes the plan's failovers by the CI failed over.
func failoversOf(plan *impact.ScenarioPlan) map[string]impact.PlanAction {
	out := map[string]impact.PlanAction{}
	if plan == nil {
		return out
	}
	for _, a := range plan.Actions {
		if a.Action == impact.ActionFailover {
			out[a.CI] = a
		}
	}
	return out
}

// lagStatus judges the data a failover loses against the CI's required
// RPO: the standby's lag, not the age of a backup nobody restores.
func lagStatus(a impact.PlanAction, required *orchestrator.Duration) (orchestrator.RPOState, *time.Time, string) {
	switch {
	case a.RPO == nil:
		return orchestrator.RPOUnknown, nil, fmt.Sprintf("unknown: fails over to %s, whose replication lag is not recorded", a.Standby)
	case required == nil:
		return orchestrator.RPOUnknown, nil, fmt.Sprintf("unknown: fails over to %s losing at most %s; no service with an approved BIA requires an RPO of it", a.Standby, *a.RPO)
	case *a.RPO > *required:
		return orchestrator.RPOBreached, nil, fmt.Sprintf("fails over to %s losing up to %s, beyond the required RPO of %s", a.Standby, *a.RPO, *required)
	}
	return orchestrator.RPOCompliant, nil, fmt.Sprintf("fails over to %s losing at most %s, within the required RPO of %s", a.Standby, *a.RPO, *required)
}
