package orchestrator

import "context"

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
