// Package runbooks writes, checks and keeps recovery runbooks (recovery
// plans): a draft generated from the impact model's dependency graph and
// BIA, edited by the continuity manager, approved under change control,
// flagged when the world it describes has moved on, and exported — alone or
// as the offline continuity kit — so it can be read when the normal site is
// unreachable. It owns the tables runbooks, runbook_versions and
// runbook_reviews. Executing a runbook (invocations and drills) is built on
// top of it, in a package above runbooks that imports it, never the reverse.
//
// The pure parts (generation, the step DAG, feasibility, staleness, diff,
// rendering) take plain values so they can be tested and benchmarked
// without a database; Service wires them to PostgreSQL and, through the
// small interfaces in model.go, to the impact model and the backup checks,
// which the composition root hands it.
package runbooks
