// Package impact is bcdr's impact model without a database: business impact
// analysis (thresholds, MTPD, tiers, loss curves), risk quantification, and
// an in-memory dependency graph of the CMDB answering what-if, closure,
// recovery-order and requirement roll-down questions. Storage and HTTP live
// elsewhere; everything here is pure so the rules in DESIGN.md can be pinned
// by fast tests and benchmarked at CMDB scale.
package impact
