package store

import (
	"context"
	"encoding/json"
	"time"
)

// This file holds the records behind the Management API endpoints a support console uses beyond users
// and connections (issue 3, part 2): roles and permissions, tenant logs, brute-force blocks,
// authentication methods, sessions and refresh tokens, tickets, jobs, and the client / client-grant
// administration. Records that belong to a user (role assignments, direct permissions, authentication
// methods, sessions, refresh tokens, tickets) disappear with the user; log events and blocks do not.

// Role is an RBAC role. ID is "rol_" + 16 characters; Name is unique.
type Role struct {
	ID          string
	Name        string
	Description string
}

// Permission names one scope of one API (resource server).
type Permission struct {
	ResourceServerIdentifier string
	PermissionName           string
}

// PermissionSource says why a user holds a permission: SourceType "DIRECT" (SourceID and SourceName
// empty) or "ROLE" (the role's id and name).
type PermissionSource struct {
	SourceID   string
	SourceName string
	SourceType string
}

// UserPermission is a permission a user holds directly or through roles, with the description of the
// scope and the name of the resource server.
type UserPermission struct {
	Permission
	Description        string
	ResourceServerName string
	Sources            []PermissionSource // DIRECT first, then roles by name
}

// ResourceServer is an API whose scopes can be granted as permissions. Identifier is unique.
type ResourceServer struct {
	ID         string
	Identifier string
	Name       string
	Scopes     []ResourceServerScope
}

// ResourceServerScope is one scope a resource server defines.
type ResourceServerScope struct {
	Value       string
	Description string
}

// RoleMembersQuery pages the members of a role, ordered by user id. After (a user id, exclusive) selects
// checkpoint paging; otherwise Offset applies. Limit 0 = no limit.
type RoleMembersQuery struct {
	After  string
	Offset int
	Limit  int
}

// LogEvent is one tenant log event (contract §5.3). ID is the 56-digit log_id; events are ordered by
// it. A nil string pointer is a key Auth0 sends as null; Details and LocationInfo are JSON objects or
// nil (null).
type LogEvent struct {
	ID               string
	Date             time.Time
	Type             string
	Description      *string
	ClientID         *string
	ClientName       *string
	Connection       *string
	ConnectionID     *string
	UserID           *string
	UserName         *string
	IP               *string
	Hostname         *string
	UserAgent        *string
	Audience         *string
	Scope            *string
	Strategy         *string
	StrategyType     *string
	OrganizationID   *string
	OrganizationName *string
	IsMobile         bool
	Details          json.RawMessage
	LocationInfo     json.RawMessage
	// CorrelationID is the caller's X-Correlation-ID (at most 64 characters), "" when none was sent.
	CorrelationID string
}

// LogQuery selects log events. Expr uses the log search fields: type, user_id, user_name, client_id,
// client_name, connection, connection_id, description, ip, hostname, user_agent, strategy,
// strategy_type, log_id, organization_id (Term, Exists; all case-sensitive) and date (Range). UserID,
// when set, restricts to that user's events.
//
// Checkpoint paging (Checkpoint true) returns events with an id greater than From (all when From is
// empty), ascending, at most Limit, and ignores Sort, Offset and the total. Otherwise events are sorted
// by Sort ("date" or "" for log_id) descending unless Asc, then Offset/Limit apply (Limit 0 = no limit).
type LogQuery struct {
	Expr       Expr
	UserID     string
	Sort       string
	Asc        bool
	Offset     int
	Limit      int
	NoTotal    bool
	Checkpoint bool
	From       string
}

// UserBlock is a brute-force block: Identifier (email, username or phone number) may not sign in from
// IP to Connection.
type UserBlock struct {
	Identifier string
	IP         string
	Connection string
	CreatedAt  time.Time
}

// RecoveryCodeType is the Type of the authentication method that stands for a user's MFA recovery
// code (Auth0's "recovery-code"). A user has at most one; PutRecoveryCode replaces it.
const RecoveryCodeType = "recovery-code"

// AuthMethod is an authentication method (MFA factor) of a user. ID looks like "totp|dev_<16>".
// TOTPSecret and SecretHash are write-only: the HTTP layer never returns them.
type AuthMethod struct {
	ID                            string
	UserID                        string
	Type                          string // "email", "phone", "totp", "push", "recovery-code", "webauthn-roaming", ...
	Name                          string
	Email                         string
	PhoneNumber                   string
	PreferredAuthenticationMethod string // "sms" or "voice" for phone
	TOTPSecret                    string
	// SecretHash is, for a recovery-code method, a hash of the code, never the code itself (the
	// caller hashes; the store keeps the string as given). Empty for other types.
	SecretHash string
	Confirmed  bool
	CreatedAt  time.Time
	LastAuthAt *time.Time
}

// Session is a sign-in session of a user (contract §5.7).
type Session struct {
	ID               string
	UserID           string
	ClientIDs        []string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	AuthenticatedAt  time.Time
	LastInteractedAt time.Time
	IdleExpiresAt    time.Time
	ExpiresAt        time.Time
	InitialUserAgent string
	InitialIP        string
	LastUserAgent    string
	LastIP           string
	AuthMethods      []SessionAuthMethod
}

// SessionAuthMethod is one way the user authenticated in a session, e.g. {"pwd", "", t}.
type SessionAuthMethod struct {
	Name      string
	Type      string
	Timestamp time.Time
}

// RefreshToken is a refresh token's metadata (never the token itself). SessionID "" means none.
type RefreshToken struct {
	ID              string
	UserID          string
	ClientID        string
	SessionID       string
	CreatedAt       time.Time
	IdleExpiresAt   *time.Time
	ExpiresAt       *time.Time
	Rotating        bool
	ResourceServers []RefreshTokenResource
}

// RefreshTokenResource is one audience a refresh token can mint access tokens for, with its scopes
// (space separated, as Auth0 reports them).
type RefreshTokenResource struct {
	Audience string
	Scopes   string
}

// Ticket is a one-time link (password change or email verification). ID is a hash of the secret in
// the link, never the secret itself.
type Ticket struct {
	ID                     string
	Type                   string // "password-change" or "email-verification"
	UserID                 string
	ClientID               string
	ResultURL              string
	MarkEmailAsVerified    bool
	IncludeEmailInRedirect bool
	CreatedAt              time.Time
	ExpiresAt              time.Time
}

// Job is a long-running Management API job (contract §5.8). Fields is the requested export field list
// (a JSON array) or nil; FileToken is the secret part of the download URL of a finished export.
type Job struct {
	ID           string // "job_" + 16 characters
	Type         string // "users_export", "verification_email"
	Status       string // "pending", "processing", "completed", "failed"
	UserID       string
	ClientID     string
	ConnectionID string
	Connection   string
	Format       string // "csv" or "json"
	Limit        int
	Fields       json.RawMessage
	CreatedAt    time.Time
	FileToken    string
	Exported     int // users written to a finished export
}

// SupportStore is the part of Store behind the support-console endpoints. Every method returns
// ErrNotFound for a missing parent record (user, role, client, ...) unless documented otherwise.
type SupportStore interface {
	// --- roles and permissions ---

	// CreateRole stores r; ErrAlreadyExists when the id or the name is taken.
	CreateRole(ctx context.Context, r Role) error
	GetRole(ctx context.Context, id string) (Role, error)
	// UpdateRole applies fn in one transaction; the id cannot change; a taken name gives
	// ErrAlreadyExists.
	UpdateRole(ctx context.Context, id string, fn func(old Role) (Role, error)) (Role, error)
	// DeleteRole removes the role with its member list and permissions.
	DeleteRole(ctx context.Context, id string) error
	// ListRoles returns every role, ordered by name then id.
	ListRoles(ctx context.Context) ([]Role, error)
	// AssignRoles gives the user the roles (already held ones are ignored). ErrNotFound when the user or
	// any role is missing; nothing is assigned then.
	AssignRoles(ctx context.Context, userID string, roleIDs []string) error
	// UnassignRoles takes the roles from the user; roles it does not hold are ignored.
	UnassignRoles(ctx context.Context, userID string, roleIDs []string) error
	// UserRoles returns the user's roles ordered by name then id (ErrNotFound for an unknown user).
	UserRoles(ctx context.Context, userID string) ([]Role, error)
	// RoleMembers returns a page of the role's members ordered by user id, and the number of members.
	RoleMembers(ctx context.Context, roleID string, q RoleMembersQuery) ([]User, int, error)

	// PutResourceServer creates or replaces (by Identifier) a resource server.
	PutResourceServer(ctx context.Context, rs ResourceServer) error
	GetResourceServer(ctx context.Context, identifier string) (ResourceServer, error)
	// AddRolePermissions / AddUserPermissions grant permissions (duplicates ignored).
	AddRolePermissions(ctx context.Context, roleID string, ps []Permission) error
	RemoveRolePermissions(ctx context.Context, roleID string, ps []Permission) error
	AddUserPermissions(ctx context.Context, userID string, ps []Permission) error
	RemoveUserPermissions(ctx context.Context, userID string, ps []Permission) error
	// UserPermissions returns the direct and role-given permissions of the user, ordered by resource
	// server identifier then permission name, one entry per permission with all its sources.
	UserPermissions(ctx context.Context, userID string) ([]UserPermission, error)
	// RolePermissions returns the permissions of the role ordered by resource server identifier then
	// permission name, with descriptions and server names as UserPermissions gives them and no
	// Sources; an empty non-nil slice when it has none, ErrNotFound for an unknown role.
	RolePermissions(ctx context.Context, roleID string) ([]UserPermission, error)

	// --- logs ---

	// AppendLog stores an event; ErrAlreadyExists when its id is taken.
	AppendLog(ctx context.Context, e LogEvent) error
	GetLog(ctx context.Context, id string) (LogEvent, error)
	// ListLogs returns the events matching q and, unless q.NoTotal or q.Checkpoint, their number.
	// ErrUnsupportedQuery for fields or forms outside LogQuery's documentation.
	ListLogs(ctx context.Context, q LogQuery) ([]LogEvent, int, error)

	// --- brute-force protection ---

	// RecordLoginFailure counts one more consecutive failed sign-in of identifier from ip to connection
	// and returns the count.
	RecordLoginFailure(ctx context.Context, identifier, ip, connection string, at time.Time) (int, error)
	// ClearLoginFailures resets that count (after a successful sign-in).
	ClearLoginFailures(ctx context.Context, identifier, ip, connection string) error
	// CreateUserBlock stores b (an existing identical block is kept).
	CreateUserBlock(ctx context.Context, b UserBlock) error
	// UserBlocks returns the blocks of any of the identifiers, in connection when it is not "",
	// ordered by identifier then IP.
	UserBlocks(ctx context.Context, identifiers []string, connection string) ([]UserBlock, error)
	// DeleteUserBlocks removes those blocks and the failure counts behind them; it returns how many
	// blocks it removed.
	DeleteUserBlocks(ctx context.Context, identifiers []string, connection string) (int, error)

	// --- authentication methods ---

	// CreateAuthMethod stores m; ErrAlreadyExists when (user, id) is taken.
	CreateAuthMethod(ctx context.Context, m AuthMethod) error
	// AuthMethods returns the user's methods ordered by creation time then id.
	AuthMethods(ctx context.Context, userID string) ([]AuthMethod, error)
	GetAuthMethod(ctx context.Context, userID, id string) (AuthMethod, error)
	UpdateAuthMethod(ctx context.Context, userID, id string, fn func(old AuthMethod) (AuthMethod, error)) (AuthMethod, error)
	DeleteAuthMethod(ctx context.Context, userID, id string) error
	// ReplaceAuthMethods makes ms the user's only methods.
	ReplaceAuthMethods(ctx context.Context, userID string, ms []AuthMethod) error
	// DeleteAuthMethods removes every method of the user and returns how many there were.
	DeleteAuthMethods(ctx context.Context, userID string) (int, error)
	// PutRecoveryCode makes m (Type RecoveryCodeType) the only recovery-code method of m.UserID, in
	// one transaction: an earlier recovery-code method of that user is removed, whatever its id; the
	// user's other methods and other users' methods stay. It returns whether an earlier one was
	// replaced. ErrNotFound for an unknown user and ErrAlreadyExists when m.ID is another method's id
	// of the user (nothing changes then); an error for any other Type.
	PutRecoveryCode(ctx context.Context, m AuthMethod) (replaced bool, err error)

	// --- sessions and refresh tokens ---

	CreateSession(ctx context.Context, s Session) error
	// Sessions returns the user's sessions ordered by creation time then id.
	Sessions(ctx context.Context, userID string) ([]Session, error)
	// DeleteSessions removes the user's sessions and the refresh tokens bound to them.
	DeleteSessions(ctx context.Context, userID string) (int, error)
	// Session returns the session with that id (ErrNotFound when there is none).
	Session(ctx context.Context, id string) (Session, error)
	// DeleteSession removes one session (ErrNotFound when there is none). The refresh tokens bound to
	// it stay, as with Auth0's DELETE /api/v2/sessions/{id}, which only ends the session.
	DeleteSession(ctx context.Context, id string) error
	// RevokeSession removes, in one transaction, one session and the refresh tokens of its user whose
	// SessionID is that session, and returns how many tokens it removed. ErrNotFound when there is no
	// such session; nothing is removed then.
	RevokeSession(ctx context.Context, id string) (tokens int, err error)
	CreateRefreshToken(ctx context.Context, t RefreshToken) error
	// RefreshTokens returns the user's refresh tokens ordered by creation time then id.
	RefreshTokens(ctx context.Context, userID string) ([]RefreshToken, error)
	DeleteRefreshTokens(ctx context.Context, userID string) (int, error)

	// --- tickets ---

	CreateTicket(ctx context.Context, t Ticket) error
	// GetTicket returns the ticket without using it up (expired ones too).
	GetTicket(ctx context.Context, id string) (Ticket, error)
	// TakeTicket returns and deletes the ticket (single use); ErrNotFound when missing or taken.
	TakeTicket(ctx context.Context, id string) (Ticket, error)

	// --- jobs ---

	CreateJob(ctx context.Context, j Job) error
	GetJob(ctx context.Context, id string) (Job, error)
	UpdateJob(ctx context.Context, id string, fn func(old Job) (Job, error)) (Job, error)
	// PutJobFile stores the (gzipped) result file of a job, replacing an earlier one.
	PutJobFile(ctx context.Context, jobID string, data []byte) error
	GetJobFile(ctx context.Context, jobID string) ([]byte, error)

	// --- clients and grants (administration) ---

	// DeleteClient removes the client and its grants.
	DeleteClient(ctx context.Context, id string) error
	// ListClientGrants returns every grant ordered by client id then audience.
	ListClientGrants(ctx context.Context) ([]ClientGrant, error)
	DeleteClientGrant(ctx context.Context, id string) error
}
