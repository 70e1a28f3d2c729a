package users

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/userdesk/userdesk/internal/auditlog"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/mgmt"
)

// UserPageAPI is what the user page (its sections and every action on it except metadata editing)
// needs from the Management API. *mgmt.Client satisfies it through NewMgmtAPI.
type UserPageAPI interface {
	DeleteUser(ctx context.Context, id string) error
	UserRoles(ctx context.Context, id string) ([]mgmt.Role, error)
	ListRoles(ctx context.Context) ([]mgmt.Role, error)
	AssignRoles(ctx context.Context, id string, roleIDs []string) error
	RemoveRoles(ctx context.Context, id string, roleIDs []string) error
	UserLogs(ctx context.Context, id string, p mgmt.UserLogsParams) ([]mgmt.LogEvent, error)
	UserBlocks(ctx context.Context, id string) ([]mgmt.BlockedFor, error)
	DeleteUserBlocks(ctx context.Context, id string) error
	AuthenticationMethods(ctx context.Context, id string) ([]mgmt.AuthenticationMethod, error)
	DeleteAuthenticationMethod(ctx context.Context, id, methodID string) error
	DeleteAuthenticationMethods(ctx context.Context, id string) error
	InvalidateRememberBrowser(ctx context.Context, id string) error
	Sessions(ctx context.Context, id string) ([]mgmt.Session, error)
	DeleteSessions(ctx context.Context, id string) error
	RefreshTokens(ctx context.Context, id string) ([]mgmt.RefreshToken, error)
	DeleteRefreshTokens(ctx context.Context, id string) error
	// Session reads one session by its id; RevokeSession ends it and revokes the refresh tokens
	// bound to it.
	Session(ctx context.Context, sessionID string) (*mgmt.Session, error)
	RevokeSession(ctx context.Context, sessionID string) error
	// UnlinkIdentity detaches a linked identity, which becomes a user of its own again.
	UnlinkIdentity(ctx context.Context, id, provider, identityUserID string) ([]mgmt.Identity, error)
	// LinkIdentity links another user into id as one of its identities.
	LinkIdentity(ctx context.Context, id string, l mgmt.LinkRequest) ([]mgmt.Identity, error)
	// UserOrganizations lists the organizations the user is a member of.
	UserOrganizations(ctx context.Context, id string) ([]mgmt.Organization, error)
	// RegenerateRecoveryCode replaces the user's MFA recovery code and returns the new one.
	RegenerateRecoveryCode(ctx context.Context, id string) (string, error)
	PasswordChangeTicket(ctx context.Context, t mgmt.PasswordChangeTicket) (string, error)
	VerificationEmail(ctx context.Context, j mgmt.VerificationEmailJob) (*mgmt.Job, error)
	// Scopes lists the scopes granted to the service account (mgmt.Client.Scopes): no Management
	// API call, the token's own list.
	Scopes(ctx context.Context) ([]string, error)
}

// Act is one action on the user page. Several acts share a role permission (authz.Action) or an
// audit action name; each has its own service-account scope requirement.
type Act string

// The user page's actions.
const (
	ActProfile     Act = "profile"      // edit name, nickname, picture, phone, username
	ActEmail       Act = "email"        // change the email address
	ActPassword    Act = "password"     // set a password
	ActTicket      Act = "ticket"       // password-change ticket
	ActVerify      Act = "verify"       // resend the verification email
	ActBlock       Act = "block"        // set blocked
	ActUnblock     Act = "unblock"      // clear blocked
	ActClearBlocks Act = "clear-blocks" // lift brute-force blocks
	ActMFA         Act = "mfa"          // remove authentication methods
	ActMFABrowsers Act = "mfa-browsers" // invalidate remembered browsers
	ActRevoke      Act = "revoke"       // revoke sessions and refresh tokens
	// ActRevokeSession signs one session out (and revokes the refresh tokens bound to it).
	ActRevokeSession Act = "revoke-session"
	// ActUnlink detaches a linked identity from the user.
	ActUnlink Act = "unlink"
	// ActLink links another account into the user.
	ActLink Act = "link"
	// ActRecoveryCode replaces the user's MFA recovery code.
	ActRecoveryCode Act = "recovery-code"
	ActRoleAssign   Act = "role-assign"
	ActRoleRemove   Act = "role-remove"
	ActDelete       Act = "delete"
)

// Audit action names besides authz.Action values: an email change and a password set are profile
// updates that need their own reason rule (USERDESK_REASON_REQUIRED lists user.email_change by
// default).
const (
	ActionEmailChange authz.Action = auditlog.ActionEmailChange
	ActionPasswordSet authz.Action = auditlog.ActionPasswordSet
	// ActionSessionRevoke names the revocation of one session (authz.RevokeSessions permits it).
	ActionSessionRevoke authz.Action = auditlog.ActionSessionRevoke
	// ActionIdentityUnlink names detaching a linked identity (authz.EditProfile permits it).
	ActionIdentityUnlink authz.Action = auditlog.ActionIdentityUnlink
	// ActionIdentityLink names linking another account into a user (authz.EditProfile permits it).
	ActionIdentityLink authz.Action = auditlog.ActionIdentityLink
	// ActionRecoveryCode names replacing a user's MFA recovery code (authz.ResetMFA permits it).
	ActionRecoveryCode authz.Action = auditlog.ActionRecoveryCode
)

// actSpec is one act's audit name, role permission and scope requirement: every entry of scopes
// must be granted, each by any of its alternatives (Auth0's "expected any of").
type actSpec struct {
	name   authz.Action // the audit entry's action and the ReasonRequiredFor key
	perm   authz.Action // the role permission the route checks
	scopes [][]string
}

var acts = map[Act]actSpec{
	ActProfile:     {authz.EditProfile, authz.EditProfile, [][]string{{"update:users"}}},
	ActEmail:       {ActionEmailChange, authz.EditProfile, [][]string{{"update:users"}}},
	ActPassword:    {ActionPasswordSet, authz.EditProfile, [][]string{{"update:users"}}},
	ActTicket:      {authz.SendTicket, authz.SendTicket, [][]string{{"create:user_tickets"}}},
	ActVerify:      {authz.SendVerify, authz.SendVerify, [][]string{{"update:users"}}},
	ActBlock:       {authz.Block, authz.Block, [][]string{{"update:users"}}},
	ActUnblock:     {authz.Unblock, authz.Unblock, [][]string{{"update:users"}}},
	ActClearBlocks: {authz.Unblock, authz.Unblock, [][]string{{"update:users"}}},
	ActMFA:         {authz.ResetMFA, authz.ResetMFA, [][]string{{"delete:authentication_methods"}}},
	ActMFABrowsers: {authz.ResetMFA, authz.ResetMFA, [][]string{{"update:users"}}},
	ActRevoke:      {authz.RevokeSessions, authz.RevokeSessions, [][]string{{"delete:sessions"}, {"delete:refresh_tokens"}}},
	ActRevokeSession: {ActionSessionRevoke, authz.RevokeSessions,
		[][]string{{"read:sessions"}, {"delete:sessions"}, {"delete:refresh_tokens"}}},
	ActUnlink:       {ActionIdentityUnlink, authz.EditProfile, [][]string{{"update:users"}}},
	ActLink:         {ActionIdentityLink, authz.EditProfile, [][]string{{"update:users"}}},
	ActRecoveryCode: {ActionRecoveryCode, authz.ResetMFA, [][]string{{"update:users"}}},
	ActRoleAssign:   {authz.AssignRoles, authz.AssignRoles, [][]string{{"update:users", "create:role_members"}}},
	ActRoleRemove:   {authz.AssignRoles, authz.AssignRoles, [][]string{{"update:users", "delete:role_members"}}},
	ActDelete:       {authz.DeleteUser, authz.DeleteUser, [][]string{{"delete:users"}}},
}

// Acts lists every act, sorted.
func Acts() []Act {
	out := make([]Act, 0, len(acts))
	for a := range acts {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Permission is the role permission act needs (the route's authz check).
func (a Act) Permission() authz.Action { return acts[a].perm }

// AuditName is the action name act's audit entries carry.
func (a Act) AuditName() authz.Action { return acts[a].name }

// MissingScopes returns what granted lacks for act, as staff read it ("delete:users", "update:users
// or create:role_members"; several requirements joined with " and "), or "" when nothing is missing.
func MissingScopes(granted []string, act Act) string {
	var missing []string
	for _, anyOf := range acts[act].scopes {
		if !slices.ContainsFunc(anyOf, func(s string) bool { return slices.Contains(granted, s) }) {
			missing = append(missing, strings.Join(anyOf, " or "))
		}
	}
	return strings.Join(missing, " and ")
}

// MsgLacksScope is the sentence for an action the service account cannot perform.
func MsgLacksScope(missing string) string { return "The service account lacks " + missing + "." }

// missingScope asks the API for the granted scopes and returns what act lacks. When the scopes
// cannot be read, nothing is refused here: the call itself will fail with the real reason.
func (s *Service) missingScope(ctx context.Context, act Act) string {
	granted, err := s.API.Scopes(ctx)
	if err != nil {
		return ""
	}
	return MissingScopes(granted, act)
}

// Section is one tab of the user page.
type Section string

// The user page's sections (the metadata section is the metadata editor's).
const (
	SectionProfile  Section = "profile"
	SectionRoles    Section = "roles"
	SectionLogs     Section = "logs"
	SectionSessions Section = "sessions"
	SectionRaw      Section = "raw"
	// SectionUserRoles is no tab: the user's roles alone, for pages about them (the role-removal
	// confirmation) that need neither the role picker nor the organizations.
	SectionUserRoles Section = "user-roles"
)

// Log page sizes: the Logs section shows the latest events; the sign-in panel reads fewer.
const (
	LogsPerPage   = 50
	PanelLogCount = 30
)

// Overview is everything one section of the user page shows, read in one concurrent round of
// calls. User is always set. Each secondary part has a Problem sentence instead when its call
// failed ("" when it succeeded or was not needed for the section).
type Overview struct {
	User *mgmt.User
	// Missing maps each act to the scopes the service account lacks for it (absent: nothing missing).
	Missing        map[Act]string
	ScopesProblem  string
	Roles          []mgmt.Role
	RolesProblem   string
	AllRoles       []mgmt.Role // the role picker
	AllRoleProblem string
	Orgs           []mgmt.Organization // the organizations the user is a member of (Roles section)
	OrgsProblem    string
	Logs           []mgmt.LogEvent
	LogsProblem    string
	Blocks         []mgmt.BlockedFor
	BlocksProblem  string
	Methods        []mgmt.AuthenticationMethod
	MethodsProblem string
	Sessions       []mgmt.Session
	SessionProblem string
	Tokens         []mgmt.RefreshToken
	TokensProblem  string
	// Verdict is the "Why can't this user sign in?" panel (Profile section only).
	Verdict *Verdict
}

// Overview reads the user and what section sec shows, concurrently (parallel). Only the user
// read can fail the page: ErrNoUser for an unknown id, a *Problem otherwise. Every other failure
// becomes that part's Problem sentence.
func (s *Service) Overview(ctx context.Context, id string, sec Section) (*Overview, error) {
	o := &Overview{Missing: map[Act]string{}}
	var user *mgmt.User
	var rolesErr, allErr, orgsErr, logsErr, blocksErr, methodsErr, sessErr, tokErr error
	// The granted scopes come with the service account's token, which every call below needs
	// first anyway: reading them before the fan-out costs no latency and no goroutine.
	scopes, scopesErr := s.API.Scopes(ctx)
	fns := []func(context.Context) error{
		func(ctx context.Context) (err error) { user, err = s.Get(ctx, id); return err },
	}
	add := func(f func(ctx context.Context)) {
		fns = append(fns, func(ctx context.Context) error { f(ctx); return nil })
	}
	switch sec {
	case SectionProfile:
		add(func(ctx context.Context) { o.Blocks, blocksErr = s.API.UserBlocks(ctx, id) })
		add(func(ctx context.Context) { o.Methods, methodsErr = s.API.AuthenticationMethods(ctx, id) })
		add(func(ctx context.Context) {
			o.Logs, logsErr = s.API.UserLogs(ctx, id, mgmt.UserLogsParams{PerPage: PanelLogCount, Sort: "date:-1"})
		})
	case SectionRoles:
		add(func(ctx context.Context) { o.Roles, rolesErr = s.API.UserRoles(ctx, id) })
		add(func(ctx context.Context) { o.AllRoles, allErr = s.API.ListRoles(ctx) })
		add(func(ctx context.Context) { o.Orgs, orgsErr = s.API.UserOrganizations(ctx, id) })
	case SectionUserRoles:
		add(func(ctx context.Context) { o.Roles, rolesErr = s.API.UserRoles(ctx, id) })
	case SectionLogs:
		add(func(ctx context.Context) {
			o.Logs, logsErr = s.API.UserLogs(ctx, id, mgmt.UserLogsParams{PerPage: LogsPerPage, Sort: "date:-1"})
		})
	case SectionSessions:
		add(func(ctx context.Context) { o.Sessions, sessErr = s.API.Sessions(ctx, id) })
		add(func(ctx context.Context) { o.Tokens, tokErr = s.API.RefreshTokens(ctx, id) })
		add(func(ctx context.Context) { o.Methods, methodsErr = s.API.AuthenticationMethods(ctx, id) })
	}
	if err := parallel(ctx, fns...); err != nil {
		return nil, err
	}
	o.User = user
	if scopesErr != nil {
		o.ScopesProblem = "Userdesk could not read the service account's permissions, so no action is disabled in advance: " + problemSentence(scopesErr)
	} else {
		for _, a := range Acts() {
			if m := MissingScopes(scopes, a); m != "" {
				o.Missing[a] = m
			}
		}
	}
	o.RolesProblem = problemSentence(rolesErr)
	o.AllRoleProblem = problemSentence(allErr)
	o.OrgsProblem = problemSentence(orgsErr)
	o.LogsProblem = problemSentence(logsErr)
	o.BlocksProblem = problemSentence(blocksErr)
	o.MethodsProblem = problemSentence(methodsErr)
	o.SessionProblem = problemSentence(sessErr)
	o.TokensProblem = problemSentence(tokErr)
	if sec == SectionProfile {
		v := Diagnose(SignInFacts{
			User: user, Blocks: o.Blocks, BlocksKnown: blocksErr == nil, Methods: o.Methods, MethodsKnown: methodsErr == nil,
			Logs: o.Logs, LogsKnown: logsErr == nil,
		})
		o.Verdict = &v
	}
	return o, nil
}

// problemSentence is the staff sentence for a failed secondary read, "" for nil.
func problemSentence(err error) string {
	if err == nil {
		return ""
	}
	var p *Problem
	if errors.As(Explain(OpRead, err), &p) {
		if p.Message != "" {
			return p.Message
		}
		for _, m := range p.Fields {
			return m
		}
	}
	return MsgReadFailed
}

// DatabaseIdentity returns the user's identity in an Auth0 database connection (provider "auth0"),
// the one a password belongs to; ok is false for users who only sign in elsewhere.
func DatabaseIdentity(u *mgmt.User) (mgmt.Identity, bool) {
	for _, i := range u.Identities {
		if i.Provider == DatabaseStrategy {
			return i, true
		}
	}
	return mgmt.Identity{}, false
}

// PasswordPolicyFor returns the password policy of the user's database connection and that
// connection's name; a *Problem (422) when the user has no database identity.
func (s *Service) PasswordPolicyFor(ctx context.Context, u *mgmt.User) (PasswordPolicy, string, error) {
	idn, ok := DatabaseIdentity(u)
	if !ok {
		return PasswordPolicy{}, "", &Problem{Status: 422, Message: MsgNoDatabaseIdentity}
	}
	list, err := s.API.ListConnections(ctx, mgmt.ListConnectionsParams{Strategy: []string{DatabaseStrategy}, Name: idn.Connection})
	if err != nil {
		return PasswordPolicy{}, idn.Connection, Explain(OpRead, err)
	}
	for _, c := range list.Connections {
		if c.Name == idn.Connection {
			return PolicyFromOptions(c.Options), c.Name, nil
		}
	}
	return PasswordPolicy{}, idn.Connection, &Problem{Status: 422, Message: "The user's connection " + idn.Connection + " is no longer there."}
}

// MsgNoDatabaseIdentity: a password can only be set for a database user.
const MsgNoDatabaseIdentity = "This user does not sign in with a password in an Auth0 database connection, so there is no password to set."

// parallel is mgmt.Parallel for calls that may panic (a bug, or a test's fake): a panic in one of
// the goroutines would end the process, beyond the reach of the HTTP server's recovery, so it is
// caught there and raised again in the caller's goroutine once every call has returned, whichever
// call failed first. Every fan-out of this package goes through it.
func parallel(ctx context.Context, fns ...func(context.Context) error) error {
	var mu sync.Mutex
	var caught *panicked
	guarded := make([]func(context.Context) error, len(fns))
	for i, fn := range fns {
		guarded[i] = func(ctx context.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					p := &panicked{value: r}
					mu.Lock()
					if caught == nil {
						caught = p
					}
					mu.Unlock()
					err = p // cancels the other calls
				}
			}()
			return fn(ctx)
		}
	}
	err := mgmt.Parallel(ctx, guarded...)
	if caught != nil {
		panic(caught.value)
	}
	return err
}

// panicked carries a recovered panic value out of a goroutine.
type panicked struct{ value any }

func (p *panicked) Error() string { return "users: a concurrent call panicked" }
