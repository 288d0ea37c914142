package runbooks

import (
	"fmt"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// ownerRoles says who recovers a CI of each class; classes not listed go
// to the application team.
var ownerRoles = map[string]string{
	"site":              "facilities manager",
	"network":           "network engineer",
	"server":            "infrastructure engineer",
	"vm":                "infrastructure engineer",
	"storage":           "storage engineer",
	"database":          "database administrator",
	"middleware":        "middleware engineer",
	"application":       "application team",
	"backup_repository": "backup administrator",
	"supplier_service":  "supplier manager",
	"business_service":  "service owner",
}

func ownerRole(class string) string {
	if r, ok := ownerRoles[class]; ok {
		return r
	}
	return "application team"
}

func minutes(m int) orchestrator.Duration {
	return orchestrator.Duration(time.Duration(m) * time.Minute)
}

// defaultEstimates stand in for a CI without a recorded recovery estimate.
var defaultEstimates = map[string]orchestrator.Duration{
	"failover": minutes(30),
	"restore":  minutes(240),
	"rebuild":  minutes(480),
	"supplier": minutes(240),
	"manual":   minutes(240),
}

// Fixed estimates of the steps that are not a CI's own recovery.
var (
	siteCheckEstimate     = minutes(30)
	serviceVerifyEstimate = minutes(30)
	handbackEstimate      = minutes(15)
)

// recoveryEstimate is the CI's recorded estimate, else its strategy's
// default.
func recoveryEstimate(ci CIInfo) orchestrator.Duration {
	if ci.RecoveryEstimate > 0 {
		return ci.RecoveryEstimate
	}
	if d, ok := defaultEstimates[ci.RecoveryStrategy]; ok {
		return d
	}
	return defaultEstimates["manual"]
}

// verifyEstimate is a tenth of the recovery, between 5 and 30 minutes;
// data-bearing CIs get at least 15 for the consistency check.
func verifyEstimate(ci CIInfo, recovery orchestrator.Duration) orchestrator.Duration {
	d := min(max(recovery/10, minutes(5)), minutes(30))
	if ci.DataBearing {
		d = max(d, minutes(15))
	}
	return roundMinute(d)
}

func roundMinute(d orchestrator.Duration) orchestrator.Duration {
	return orchestrator.Duration(time.Duration(d).Round(time.Minute))
}

func label(ci CIInfo) string {
	if ci.Name == "" || ci.Name == ci.Key {
		return ci.Key
	}
	return ci.Name + " (" + ci.Key + ")"
}

// recoveryText writes a CI's recovery step from its class and strategy.
// standby names its replicates_to and fails_over_to targets, backups its
// backed_up_by ones.
func recoveryText(ci CIInfo, standby, backups []string) (title, text string) {
	name := label(ci)
	switch ci.RecoveryStrategy {
	case "failover":
		to := "its standby or redundant peer"
		if len(standby) > 0 {
			to = strings.Join(standby, ", ")
		}
		return "切换 Fail over " + name, fmt.Sprintf("Fail %s over to %s. Confirm the standby has taken the load and that clients have reconnected; note the time of the switch.", ci.Key, to)
	case "restore":
		from := "its latest verified backup"
		if len(backups) > 0 {
			from = "its latest verified backup in " + strings.Join(backups, ", ")
		}
		return "还原 Restore " + name, fmt.Sprintf("Restore %s from %s. Record the recovery point restored: the data lost since then counts against the RPO.", ci.Key, from)
	case "rebuild":
		return "重建 Rebuild " + name, fmt.Sprintf("Rebuild %s from its configuration baseline (build scripts or golden image), then reapply its configuration as recorded in the CMDB.", ci.Key)
	case "supplier":
		return "供应商 Escalate to the supplier of " + name, fmt.Sprintf("Invoke the supplier contract for %s: call the supplier's contacts, log their incident reference, and track their recovery against the contracted RTO.", ci.Key)
	}
	return "恢复 Recover " + name, fmt.Sprintf("Recover %s following its operating procedure.", ci.Key)
}

// siteText is a service runbook's step for a site in its scope: service
// runbooks assume their sites stand (losing a site is a scenario of its
// own), so the step confirms the facilities rather than rebuilding them.
func siteText(ci CIInfo) (title, text string) {
	return "场地 Confirm site " + label(ci), fmt.Sprintf("Confirm that site %s is usable: power, cooling, network entry and physical access. If the site is lost, invoke the site-loss scenario runbook instead.", ci.Key)
}

func verifyText(ci CIInfo) (title, text string) {
	text = fmt.Sprintf("Check that %s is healthy: monitoring is green and the CIs that depend on it can reach it.", ci.Key)
	if ci.DataBearing {
		text += " Check data consistency and note the recovery point actually reached."
	}
	return "验证 Verify " + label(ci), text
}

func serviceVerifyText(ci CIInfo, mbco *float64) (title, text string) {
	text = fmt.Sprintf("With the service owner, run the end-to-end checks of %s", ci.Key)
	if mbco != nil {
		text += fmt.Sprintf(" and confirm it delivers at least the minimum business continuity objective (MBCO %s%%)", formatPercent(*mbco))
	}
	return "业务验证 Verify business service " + label(ci), text + "."
}

func handbackText(services []string) (title, text string) {
	what := "the recovered services"
	if len(services) > 0 {
		what = strings.Join(services, ", ")
	}
	return "交还 Hand back to the business", fmt.Sprintf("The service owners confirm %s usable; record the time (the achieved recovery time) and hand back to business operations. Inform stakeholders as the communications section says.", what)
}

func cycleNote(others []string) string {
	return fmt.Sprintf(" Recovered together with %s (a dependency cycle): bring them up in this order and re-check each once all are up.", strings.Join(others, ", "))
}

func formatPercent(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}
