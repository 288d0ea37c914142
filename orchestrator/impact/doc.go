// Package impact is bcdr's impact model: business impact analysis
// (thresholds, MTPD, tiers, loss curves), the risk register and its
// quantification, and an in-memory dependency graph of the CMDB answering
// what-if, closure, recovery-order and requirement roll-down questions.
//
// It owns the tables bia_versions, bia_settings and risks (and their child
// rows); the CMDB's tables are read through the graph cache, kept current by
// the cmdb_version counter. The rules of DESIGN.md (validation, MTPD,
// roll-down, redundancy, ARO/SLE/ALE) are pure functions over plain values
// and the CSR graph, pinned by table tests and benchmarked at CMDB scale;
// Service stores and serves them over PostgreSQL, taking an
// orchestrator.Runtime for its clock.
package impact
