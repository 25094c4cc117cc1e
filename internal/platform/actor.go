package platform

import "context"

// Role is what a user may do. Inside sales is a team, not a role.
type Role string

// The roles.
const (
	RoleAdmin     Role = "admin"
	RoleManager   Role = "manager"
	RoleMarketing Role = "marketing"
	RoleSales     Role = "sales"
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleAdmin, RoleManager, RoleMarketing, RoleSales}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// ActorKind says how an actor reached Ryorin.
type ActorKind string

// The actor kinds.
const (
	ActorUser   ActorKind = "user"   // a person in the UI (session cookie)
	ActorToken  ActorKind = "token"  // a script with an API token
	ActorSystem ActorKind = "system" // Ryorin itself (jobs, rules)
	ActorCLI    ActorKind = "cli"    // the ryorin command line
	ActorPublic ActorKind = "public" // an anonymous visitor (forms, tracking)
)

// Actor is who is doing something, in which workspace. Every write takes one,
// so audit, timeline and lifecycle history can say who did it.
type Actor struct {
	WorkspaceID int64
	UserID      int64 // 0 for system, CLI and public actors
	Role        Role
	TeamID      int64
	Kind        ActorKind
	IP          string
	// OwnRecordsOnly is set for sales users when the workspace limits sales
	// to their own records; list and read functions honour it.
	OwnRecordsOnly bool
}

// System returns the actor for Ryorin's own work in workspace ws.
func System(ws int64) Actor { return Actor{WorkspaceID: ws, Kind: ActorSystem, Role: RoleAdmin} }

// CLI returns the actor for the command line in workspace ws.
func CLI(ws int64) Actor { return Actor{WorkspaceID: ws, Kind: ActorCLI, Role: RoleAdmin} }

// Is reports whether the actor has one of the given roles.
func (a Actor) Is(roles ...Role) bool {
	for _, r := range roles {
		if a.Role == r {
			return true
		}
	}
	return false
}

// UserRef returns the actor's user id as a nullable column value.
func (a Actor) UserRef() any {
	if a.UserID == 0 {
		return nil
	}
	return a.UserID
}

type actorKey struct{}

// WithActor returns a context carrying the request's actor. Only request-scoped
// values travel in contexts; services are passed explicitly.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor stored by WithActor.
func ActorFrom(ctx context.Context) (Actor, bool) {
	a, ok := ctx.Value(actorKey{}).(Actor)
	return a, ok
}
