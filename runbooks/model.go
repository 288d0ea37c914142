package runbooks

import (
	"context"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// Model is what runbooks need of the impact model: the dependency graph of
// the CMDB, the CIs' recovery attributes and the approved BIAs. PGModel
// implements it over the database.
type Model interface {
	// Graph returns the current dependency graph.
	Graph(ctx context.Context) (*impact.Graph, error)
	// CIs returns the recovery attributes of the CIs with the given keys;
	// unknown keys are left out.
	CIs(ctx context.Context, keys []string) (map[string]CIInfo, error)
	// ApprovedBIA returns a business service's approved BIA, or an
	// ENOTFOUND error when it has none.
	ApprovedBIA(ctx context.Context, service string) (BIA, error)
	// Relations returns the relations of every type whose From CI is one
	// of keys, with their redundancy groups.
	Relations(ctx context.Context, keys []string) ([]impact.Edge, error)
	// Requirements returns every CI's required RTO and RPO (the roll-down
	// of the approved BIAs over g), indexed by node of g.
	Requirements(ctx context.Context, g *impact.Graph) ([]impact.Requirement, error)
	// RecoveryPlan plans the recovery from the failure of the CIs with
	// keys failed: failover where a standby stands, else restore, rebuild,
	// supplier or manual.
	RecoveryPlan(ctx context.Context, failed []string) (impact.ScenarioPlan, error)
	// Resilience is every scenario that can take a business service down
	// and the recovery each allows.
	Resilience(ctx context.Context, service string) (impact.ServiceResilience, error)
}

// CIInfo is what generation and feasibility read of a CI.
type CIInfo struct {
	Key              string
	Name             string
	Class            string
	Site             string
	Owner            string
	Status           string
	DataBearing      bool
	RecoveryStrategy string
	RecoveryEstimate orchestrator.Duration
}

// BIA is an approved business impact analysis of a service.
type BIA struct {
	Version    int
	Assessment impact.Assessment
	// MTPD is derived from the thresholds; nil when no category reaches
	// the intolerable level.
	MTPD *orchestrator.Duration
}

// BackupStatus is the RPO status of one data-bearing CI.
type BackupStatus struct {
	Status         orchestrator.RPOState `json:"status"`
	LastVerifiedAt *time.Time            `json:"last_verified_at"`
	Message        string                `json:"message"`
}

// Backups reports the RPO status of data-bearing CIs against their
// required RPOs (nil when no service with an approved BIA needs the CI).
// PGBackups reads the backup capability's checks; NoBackups knows none.
type Backups interface {
	RPOStatus(ctx context.Context, required map[string]*orchestrator.Duration) (map[string]BackupStatus, error)
}

// NoBackups knows no backup target for any CI.
type NoBackups struct{}

// RPOStatus reports every CI as unknown.
func (NoBackups) RPOStatus(_ context.Context, required map[string]*orchestrator.Duration) (map[string]BackupStatus, error) {
	out := make(map[string]BackupStatus, len(required))
	for k := range required {
		out[k] = BackupStatus{Status: orchestrator.RPOUnknown, Message: "unknown: no backup target"}
	}
	return out, nil
}

// Measured tells how long each step of a runbook took when it was last
// performed (in a drill or an invocation), by step id. The execution
// engine implements it; without one, feasibility uses the estimates only.
type Measured interface {
	Measured(ctx context.Context, runbookID int64) (map[string]orchestrator.Duration, error)
}

// Drills tells when runbooks were last proven: by a passed drill or an
// admin's waiver, and whether a drill failed or passed partially since.
// The drills capability implements it; without one, staleness counts from
// the runbook's first approval.
type Drills interface {
	// Proofs returns the proofs of the runbooks runbookIDs, by id; a
	// runbook never proven by a drill or a waiver, nor put in doubt by a
	// drill, is left out.
	Proofs(ctx context.Context, runbookIDs []int64) (map[int64]Proof, error)
}

// Proof is how a runbook was last proven and what put that in doubt since.
type Proof struct {
	// At is when it was last proven; zero when never.
	At time.Time
	// By is ProvenByDrill or ProvenByWaiver.
	By string
	// Drill is the passed drill, or Waiver the waiver, that proved it.
	Drill  int64
	Waiver *Waiver
	// Failed is the latest drill since At that failed or passed partially.
	Failed *DrillRef
}

// How a runbook was last proven.
const (
	ProvenByApproval = "approval"
	ProvenByDrill    = "drill"
	ProvenByWaiver   = "waiver"
)
