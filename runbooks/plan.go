package runbooks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// emitPlan writes a scenario runbook from the impact model's recovery plan:
// per CI the plan acts on, the failover to its standby (then the repoint of
// its dependents and the check of the standby) or its restore, rebuild,
// supplier or manual recovery and check, a restart check for a CI that only
// went down with what it needs, a verification per business service, and
// the hand-back. Each step waits for the steps of the CIs the plan says it
// waits for, so the runbook's critical path is the plan's.
func (gen *generator) emitPlan(plan impact.ScenarioPlan) {
	for _, a := range plan.Actions {
		n, ok := gen.g.Index(a.CI)
		if !ok {
			continue
		}
		gen.needed[n] = true
		var deps []string
		for _, k := range a.After {
			if m, ok := gen.g.Index(k); ok && gen.done[m] != "" {
				deps = append(deps, gen.done[m])
			}
		}
		gen.done[n] = gen.emitAction(gen.info(n), a, deps)
	}
	gen.handback()
}

// emitAction writes the steps of one planned action and returns the id of
// the step after which its CI counts as back.
func (gen *generator) emitAction(ci CIInfo, a impact.PlanAction, deps []string) string {
	role := ownerRole(ci.Class)
	step := func(kind, title, text string, est orchestrator.Duration, after []string) string {
		return gen.add(Step{Kind: kind, CI: ci.Key, Title: title, Text: text, OwnerRole: role, Owner: ci.Owner,
			Estimate: est, DependsOn: slices.Clone(after)})
	}
	switch a.Action {
	case impact.ActionVerifyService:
		title, text := serviceVerifyText(ci, gen.mbco(ci.Key))
		return step(KindServiceVerify, title, text, a.Estimate, deps)
	case impact.ActionRestart:
		return step(KindVerify, "重启验证 Restart and verify "+label(ci),
			fmt.Sprintf("Once what %s needs is back (%s), restart it where it is if it did not come back by itself, and check that it is healthy: monitoring is green and the CIs that depend on it can reach it.", ci.Key, strings.Join(a.After, ", ")),
			a.Verify, deps)
	case impact.ActionFailover:
		rec := step(KindRecover, "切换 Fail over "+label(ci)+" to "+a.Standby, failoverText(ci, a), a.Estimate, deps)
		last := rec
		if a.Repoint > 0 {
			last = step(KindRecover, "切换指向 Repoint the dependents of "+ci.Key+" to "+a.Standby,
				fmt.Sprintf("Point everything that reaches %s at %s: DNS or GSLB records, load-balancer pools, connection strings and firewall rules. Note when clients have reconnected.", ci.Key, a.Standby),
				a.Repoint, []string{rec})
		}
		return step(KindVerify, "验证 Verify "+a.Standby+" has taken over "+ci.Key,
			fmt.Sprintf("Check that %s serves in place of %s: monitoring is green, the CIs that depend on it reach it, and (for data) the recovery point reached is recorded.", a.Standby, ci.Key),
			a.Verify, []string{last})
	}
	c := ci
	c.RecoveryStrategy = a.Action
	title, text := recoveryText(c, nil, gen.targetsOf(ci.Key, impact.BackedUpBy))
	rec := step(KindRecover, title, text, a.Estimate, deps)
	vtitle, vtext := verifyText(ci)
	return step(KindVerify, vtitle, vtext, a.Verify, []string{rec})
}

func failoverText(ci CIInfo, a impact.PlanAction) string {
	text := fmt.Sprintf("Fail %s over to its standby %s", ci.Key, a.Standby)
	if len(a.Via) > 0 {
		text += fmt.Sprintf(" (its nearer standbys %s are lost too)", strings.Join(a.Via, ", "))
	}
	text += ": promote or activate the standby and confirm it has taken the load; note the time of the switch."
	if a.RPO != nil {
		text += fmt.Sprintf(" The data lost is expected to be at most %s (the replication lag).", *a.RPO)
	}
	return text
}

// planFailback lists every failover the plan makes, to reverse once the
// primaries are back.
func planFailback(plan impact.ScenarioPlan) []string {
	var out []string
	for _, a := range plan.Actions {
		if a.Action == impact.ActionFailover {
			out = append(out, fmt.Sprintf("Fail %s back from %s once %s is repaired and verified, in a window agreed with the service owner; resynchronise its data from %s first.",
				a.CI, a.Standby, a.CI, a.Standby))
		}
	}
	return out
}
