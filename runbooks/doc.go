// Package runbooks writes, checks and keeps recovery runbooks (recovery
// plans): a draft generated from the impact model's dependency graph and
// BIA, edited by the continuity manager, approved under change control,
// flagged when the world it describes has moved on, and exported — alone or
// as the offline continuity kit — so it can be read when the normal site is
// unreachable. Executing a runbook is not this package's business.
//
// The pure parts (generation, the step DAG, feasibility, staleness, diff,
// rendering) take plain values so they can be tested and benchmarked
// without a database; Service wires them to PostgreSQL and to the other
// capability packages through the small interfaces in model.go.
package runbooks
