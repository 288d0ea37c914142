package orchestrator

// RPOState says whether a CI's verified backups meet its required RPO. The
// backup capability judges it and runbook feasibility reports it, so it is
// declared here, once, below both.
type RPOState string

// RPO states (DESIGN.md, runbook feasibility): compliant when the newest
// verified backup is no older than 80% of the RPO, at_risk up to the RPO,
// breached beyond it, unknown without a target or a verified backup.
const (
	RPOCompliant RPOState = "compliant"
	RPOAtRisk    RPOState = "at_risk"
	RPOBreached  RPOState = "breached"
	RPOUnknown   RPOState = "unknown"
)
