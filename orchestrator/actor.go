package orchestrator

import (
	"context"
	"slices"
)

// Role is what a token may do. Roles are fixed; the RBAC table in the API
// says which routes each one reaches.
type Role string

// The roles of DESIGN.md.
const (
	RoleAdmin             Role = "admin"
	RoleContinuityManager Role = "continuity_manager"
	RoleOperator          Role = "operator"
	RoleExecutive         Role = "executive"
	RoleAuditor           Role = "auditor"
)

// Roles lists every role, in order of decreasing power.
var Roles = []Role{RoleAdmin, RoleContinuityManager, RoleOperator, RoleExecutive, RoleAuditor}

// Who may do what, shared by the API's route table and the web UI's pages
// and buttons.
var (
	// AdminRoles administer tokens and settings.
	AdminRoles = []Role{RoleAdmin}
	// AuditRoles read the audit log.
	AuditRoles = []Role{RoleAdmin, RoleAuditor}
	// RecordReaders read records (CMDB, ITSM, plans): everyone but
	// executives, who see reports and dashboards only.
	RecordReaders = []Role{RoleAdmin, RoleContinuityManager, RoleOperator, RoleAuditor}
	// RecordWriters write records.
	RecordWriters = []Role{RoleAdmin, RoleContinuityManager}
	// CheckRunners run checks (a backup check now): whoever writes records
	// and operators, who check during an invocation.
	CheckRunners = []Role{RoleAdmin, RoleContinuityManager, RoleOperator}
	// ReportReaders read reports and readiness, executives included; none
	// of them changes state.
	ReportReaders = []Role{RoleAdmin, RoleContinuityManager, RoleOperator, RoleAuditor, RoleExecutive}
)

// Allowed reports whether r is one of roles.
func (r Role) Allowed(roles []Role) bool { return slices.Contains(roles, r) }

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	for _, known := range Roles {
		if r == known {
			return true
		}
	}
	return false
}

// Actor is who performs a request: the token's name and role, and the
// request id that ties log lines and audit rows together.
type Actor struct {
	TokenID   int64
	Name      string
	Role      Role
	RequestID string
}

type actorKey struct{}

// WithActor returns a context carrying the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor of the context; the zero Actor names the
// system itself (start-up, scheduler, CLI without a token).
func ActorFrom(ctx context.Context) Actor {
	if a, ok := LookupActor(ctx); ok {
		return a
	}
	return Actor{Name: "system", Role: RoleAdmin}
}

// LookupActor returns the context's actor and whether there is one.
func LookupActor(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}
