// Package itsm keeps the ITSM records the impact model learns from —
// incidents, problems, changes and releases, each linked to the CIs it
// affects — and derives the operational figures from them: incident counts,
// outage minutes, MTBF/MTTR, incident rates per cause, achieved availability
// and change failure rate.
//
// Each record type has an input struct (IncidentInput, ...) shared by the
// API and bulk import: Normalize fills defaults, Validate checks everything
// that needs no database, and the Store checks references to CIs and other
// records inside the transaction that writes.
package itsm

import (
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store reads and writes ITSM records. Every mutation is audited in its own
// transaction.
type Store struct {
	pool *pgxpool.Pool
	keys ciKeys // CI keys of listed incidents
}

// NewStore returns a store over pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// DefaultSource is the source of records created through the API.
const DefaultSource = "manual"

// Incident priorities, most urgent first.
var Priorities = []string{"P1", "P2", "P3", "P4"}

// Causes are the incident cause categories; they are the threat list of the
// risk register, so incident history can be matched to a threat.
var Causes = []string{"hardware", "software", "network", "power", "fire", "natural_disaster",
	"cyber_attack", "ransomware", "human_error", "supplier", "other"}

// IncidentStatuses are derived from an incident's timestamps: closed when it
// has closed_at, else restored when it has restored_at, else open.
var IncidentStatuses = []string{"open", "restored", "closed"}

// ProblemStatuses are the states of a problem.
var ProblemStatuses = []string{"open", "known_error", "resolved", "closed"}

// Change types, risks and statuses.
var (
	ChangeTypes    = []string{"standard", "normal", "emergency"}
	ChangeRisks    = []string{"low", "medium", "high"}
	ChangeStatuses = []string{"requested", "approved", "implemented", "failed", "rolled_back"}
)

// ReleaseStatuses are the states of a release.
var ReleaseStatuses = []string{"planned", "deployed", "failed", "rolled_back"}

// classBusinessService is the CI class of business services.
const classBusinessService = "business_service"
