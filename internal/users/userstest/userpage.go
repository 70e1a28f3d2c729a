package userstest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/userdesk/userdesk/internal/mgmt"
)

// pageState is what the user page reads and changes besides the user object: the tenant's roles,
// each user's roles, log events, brute-force blocks, authentication methods, sessions and refresh
// tokens, and the service account's scopes. The zero value is usable (maps are made on first write).
type pageState struct {
	roles     []mgmt.Role
	userRoles map[string][]string
	logs      map[string][]mgmt.LogEvent
	blocks    map[string][]mgmt.BlockedFor
	methods   map[string][]mgmt.AuthenticationMethod
	sessions  map[string][]mgmt.Session
	orgs      map[string][]mgmt.Organization
	tokens    map[string][]mgmt.RefreshToken
	scopes    []string // nil: AllScopes
	scopesErr error
	tickets   int
	recovery  int // recovery codes handed out
}

// AllScopes is every scope the user page uses; the fake grants them unless SetScopes says otherwise.
func AllScopes() []string {
	return []string{"create:role_members", "create:user_tickets", "delete:authentication_methods", "delete:refresh_tokens",
		"delete:role_members", "delete:sessions", "delete:users", "read:authentication_methods", "read:logs",
		"read:refresh_tokens", "read:roles", "read:sessions", "read:users", "update:users"}
}

// PasswordChangedAt is the last_password_reset the fake stores when a password is set.
var PasswordChangedAt = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// SetScopes sets the scopes the service account has (sorted like the real client's list).
func (a *API) SetScopes(scopes ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.page.scopes = slices.Sorted(slices.Values(append([]string{}, scopes...)))
}

// SetScopesError makes Scopes fail (the token endpoint is down).
func (a *API) SetScopesError(err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.page.scopesErr = err
}

// SetTenantRoles sets the tenant's roles (the picker).
func (a *API) SetTenantRoles(roles ...mgmt.Role) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.page.roles = slices.Clone(roles)
}

// SetUserRoles sets the role ids assigned to the user.
func (a *API) SetUserRoles(id string, roleIDs ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	setIn(&a.page.userRoles, id, slices.Clone(roleIDs))
}

// UserRoleIDs returns the role ids assigned to the user, sorted.
func (a *API) UserRoleIDs(id string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Sorted(slices.Values(a.page.userRoles[id]))
}

// SetLogs sets the user's log events (newest first).
func (a *API) SetLogs(id string, events ...mgmt.LogEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	setIn(&a.page.logs, id, slices.Clone(events))
}

// SetBlocks sets the user's brute-force blocks.
func (a *API) SetBlocks(id string, blocks ...mgmt.BlockedFor) {
	a.mu.Lock()
	defer a.mu.Unlock()
	setIn(&a.page.blocks, id, slices.Clone(blocks))
}

// Blocks returns the user's brute-force blocks.
func (a *API) Blocks(id string) []mgmt.BlockedFor {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.page.blocks[id])
}

// SetMethods sets the user's authentication methods.
func (a *API) SetMethods(id string, methods ...mgmt.AuthenticationMethod) {
	a.mu.Lock()
	defer a.mu.Unlock()
	setIn(&a.page.methods, id, slices.Clone(methods))
}

// Methods returns the user's authentication methods.
func (a *API) Methods(id string) []mgmt.AuthenticationMethod {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.page.methods[id])
}

// SetSessions sets the user's sessions.
func (a *API) SetSessions(id string, sessions ...mgmt.Session) {
	a.mu.Lock()
	defer a.mu.Unlock()
	setIn(&a.page.sessions, id, slices.Clone(sessions))
}

// SetRefreshTokens sets the user's refresh tokens.
func (a *API) SetRefreshTokens(id string, tokens ...mgmt.RefreshToken) {
	a.mu.Lock()
	defer a.mu.Unlock()
	setIn(&a.page.tokens, id, slices.Clone(tokens))
}

func setIn[T any](m *map[string]T, k string, v T) {
	if *m == nil {
		*m = map[string]T{}
	}
	(*m)[k] = v
}

// applyRoot applies a PATCH's root attributes to u as Auth0 does (replace); setting a password
// stamps last_password_reset.
func applyRoot(u *mgmt.User, in *mgmt.UserUpdate) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&u.Email, in.Email)
	set(&u.Username, in.Username)
	set(&u.PhoneNumber, in.PhoneNumber)
	set(&u.Name, in.Name)
	set(&u.GivenName, in.GivenName)
	set(&u.FamilyName, in.FamilyName)
	set(&u.Nickname, in.Nickname)
	set(&u.Picture, in.Picture)
	if in.EmailVerified != nil {
		u.EmailVerified = pagePtr(*in.EmailVerified)
	}
	if in.Blocked != nil {
		u.Blocked = pagePtr(*in.Blocked)
	}
	if in.Password != nil {
		u.LastPasswordReset = pagePtr(PasswordChangedAt)
	}
}

func pagePtr[T any](v T) *T { return &v }

func (a *API) userExists(id string) error {
	if _, ok := a.users[id]; !ok {
		return notFound()
	}
	return nil
}

// DeleteUser removes the user; like Auth0, an unknown user is not an error.
func (a *API) DeleteUser(ctx context.Context, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "DeleteUser", ID: id, CorrelationID: mgmt.CorrelationID(ctx)}); err != nil {
		return err
	}
	delete(a.users, id)
	a.order = slices.DeleteFunc(a.order, func(s string) bool { return s == id })
	return nil
}

// UserRoles returns the tenant roles assigned to the user.
func (a *API) UserRoles(_ context.Context, id string) ([]mgmt.Role, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "UserRoles", ID: id}); err != nil {
		return nil, err
	}
	out := []mgmt.Role{}
	for _, r := range a.page.roles {
		if slices.Contains(a.page.userRoles[id], r.ID) {
			out = append(out, r)
		}
	}
	return out, nil
}

// ListRoles returns the tenant's roles.
func (a *API) ListRoles(context.Context) ([]mgmt.Role, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "ListRoles"}); err != nil {
		return nil, err
	}
	return append([]mgmt.Role{}, a.page.roles...), nil
}

func (a *API) knownRoles(ids []string) error {
	for _, id := range ids {
		if !slices.ContainsFunc(a.page.roles, func(r mgmt.Role) bool { return r.ID == id }) {
			return &mgmt.Error{StatusCode: 404, Err: "Not Found", Message: "Role not found"}
		}
	}
	return nil
}

// AssignRoles adds the roles (which must exist) to the user. Params is the role id list.
func (a *API) AssignRoles(ctx context.Context, id string, roleIDs []string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "AssignRoles", ID: id, Params: slices.Clone(roleIDs), CorrelationID: mgmt.CorrelationID(ctx)}); err != nil {
		return err
	}
	if err := a.knownRoles(roleIDs); err != nil {
		return err
	}
	cur := a.page.userRoles[id]
	for _, r := range roleIDs {
		if !slices.Contains(cur, r) {
			cur = append(cur, r)
		}
	}
	setIn(&a.page.userRoles, id, cur)
	return nil
}

// RemoveRoles removes the roles from the user. Params is the role id list.
func (a *API) RemoveRoles(ctx context.Context, id string, roleIDs []string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "RemoveRoles", ID: id, Params: slices.Clone(roleIDs), CorrelationID: mgmt.CorrelationID(ctx)}); err != nil {
		return err
	}
	setIn(&a.page.userRoles, id, slices.DeleteFunc(slices.Clone(a.page.userRoles[id]), func(r string) bool { return slices.Contains(roleIDs, r) }))
	return nil
}

// UserLogs returns the user's events, at most PerPage of them. Params is the mgmt.UserLogsParams.
func (a *API) UserLogs(_ context.Context, id string, p mgmt.UserLogsParams) ([]mgmt.LogEvent, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "UserLogs", ID: id, Params: p}); err != nil {
		return nil, err
	}
	ev := append([]mgmt.LogEvent{}, a.page.logs[id]...)
	if p.PerPage > 0 && len(ev) > p.PerPage {
		ev = ev[:p.PerPage]
	}
	return ev, nil
}

// UserBlocks returns the user's brute-force blocks; an unknown user is a 404.
func (a *API) UserBlocks(_ context.Context, id string) ([]mgmt.BlockedFor, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "UserBlocks", ID: id}); err != nil {
		return nil, err
	}
	if err := a.userExists(id); err != nil {
		return nil, err
	}
	return append([]mgmt.BlockedFor{}, a.page.blocks[id]...), nil
}

// DeleteUserBlocks lifts the user's brute-force blocks.
func (a *API) DeleteUserBlocks(ctx context.Context, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "DeleteUserBlocks", ID: id, CorrelationID: mgmt.CorrelationID(ctx)}); err != nil {
		return err
	}
	if err := a.userExists(id); err != nil {
		return err
	}
	delete(a.page.blocks, id)
	return nil
}

// AuthenticationMethods returns the user's authentication methods.
func (a *API) AuthenticationMethods(_ context.Context, id string) ([]mgmt.AuthenticationMethod, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "AuthenticationMethods", ID: id}); err != nil {
		return nil, err
	}
	if err := a.userExists(id); err != nil {
		return nil, err
	}
	return append([]mgmt.AuthenticationMethod{}, a.page.methods[id]...), nil
}

// DeleteAuthenticationMethod removes one method; a missing one is a 404. Params is the method id.
func (a *API) DeleteAuthenticationMethod(ctx context.Context, id, methodID string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "DeleteAuthenticationMethod", ID: id, Params: methodID, CorrelationID: mgmt.CorrelationID(ctx)}); err != nil {
		return err
	}
	ms := a.page.methods[id]
	i := slices.IndexFunc(ms, func(m mgmt.AuthenticationMethod) bool { return m.ID == methodID })
	if i < 0 {
		return &mgmt.Error{StatusCode: 404, Err: "Not Found", Message: "Authentication method not found"}
	}
	setIn(&a.page.methods, id, slices.Delete(slices.Clone(ms), i, i+1))
	return nil
}

// DeleteAuthenticationMethods removes every method of the user.
func (a *API) DeleteAuthenticationMethods(ctx context.Context, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "DeleteAuthenticationMethods", ID: id, CorrelationID: mgmt.CorrelationID(ctx)}); err != nil {
		return err
	}
	delete(a.page.methods, id)
	return nil
}

// InvalidateRememberBrowser records the call.
func (a *API) InvalidateRememberBrowser(ctx context.Context, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "InvalidateRememberBrowser", ID: id, CorrelationID: mgmt.CorrelationID(ctx)}); err != nil {
		return err
	}
	return a.userExists(id)
}

// Sessions returns the user's sessions.
func (a *API) Sessions(_ context.Context, id string) ([]mgmt.Session, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "Sessions", ID: id}); err != nil {
		return nil, err
	}
	return append([]mgmt.Session{}, a.page.sessions[id]...), nil
}

// DeleteSessions revokes the user's sessions and the refresh tokens bound to them.
func (a *API) DeleteSessions(ctx context.Context, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "DeleteSessions", ID: id, CorrelationID: mgmt.CorrelationID(ctx)}); err != nil {
		return err
	}
	delete(a.page.sessions, id)
	setIn(&a.page.tokens, id, slices.DeleteFunc(slices.Clone(a.page.tokens[id]), func(t mgmt.RefreshToken) bool { return t.SessionID != "" }))
	return nil
}

// Session returns the session with that id, whichever user it belongs to, or a 404 *mgmt.Error.
func (a *API) Session(_ context.Context, sessionID string) (*mgmt.Session, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "Session", ID: sessionID}); err != nil {
		return nil, err
	}
	for _, ss := range a.page.sessions {
		for _, x := range ss {
			if x.ID == sessionID {
				c := x
				return &c, nil
			}
		}
	}
	return nil, sessionNotFound()
}

// RevokeSession removes the session and the refresh tokens bound to it, as Auth0's
// POST /sessions/{id}/revoke does; an unknown id is a 404 *mgmt.Error.
func (a *API) RevokeSession(ctx context.Context, sessionID string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "RevokeSession", ID: sessionID, CorrelationID: mgmt.CorrelationID(ctx)}); err != nil {
		return err
	}
	for uid, ss := range a.page.sessions {
		i := slices.IndexFunc(ss, func(x mgmt.Session) bool { return x.ID == sessionID })
		if i < 0 {
			continue
		}
		setIn(&a.page.sessions, uid, slices.Delete(slices.Clone(ss), i, i+1))
		setIn(&a.page.tokens, uid, slices.DeleteFunc(slices.Clone(a.page.tokens[uid]), func(t mgmt.RefreshToken) bool { return t.SessionID == sessionID }))
		return nil
	}
	return sessionNotFound()
}

// SessionsOf returns the sessions the fake holds for the user (for assertions).
func (a *API) SessionsOf(id string) []mgmt.Session {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.page.sessions[id])
}

// RefreshTokensOf returns the refresh tokens the fake holds for the user (for assertions).
func (a *API) RefreshTokensOf(id string) []mgmt.RefreshToken {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.page.tokens[id])
}

func sessionNotFound() error {
	return &mgmt.Error{StatusCode: 404, Err: "Not Found", Message: "The session does not exist."}
}

// RefreshTokens returns the user's refresh tokens.
func (a *API) RefreshTokens(_ context.Context, id string) ([]mgmt.RefreshToken, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "RefreshTokens", ID: id}); err != nil {
		return nil, err
	}
	return append([]mgmt.RefreshToken{}, a.page.tokens[id]...), nil
}

// DeleteRefreshTokens revokes every refresh token of the user.
func (a *API) DeleteRefreshTokens(ctx context.Context, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "DeleteRefreshTokens", ID: id, CorrelationID: mgmt.CorrelationID(ctx)}); err != nil {
		return err
	}
	delete(a.page.tokens, id)
	return nil
}

// PasswordChangeTicket returns https://tenant.example/u/reset-password?ticket=N#. Params is the body.
func (a *API) PasswordChangeTicket(ctx context.Context, t mgmt.PasswordChangeTicket) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "PasswordChangeTicket", ID: t.UserID, Params: t, CorrelationID: mgmt.CorrelationID(ctx)}); err != nil {
		return "", err
	}
	if t.UserID != "" {
		if err := a.userExists(t.UserID); err != nil {
			return "", err
		}
	}
	a.page.tickets++
	return fmt.Sprintf("https://tenant.example/u/reset-password?ticket=T%04d#", a.page.tickets), nil
}

// VerificationEmail returns a pending verification job. Params is the body.
func (a *API) VerificationEmail(ctx context.Context, j mgmt.VerificationEmailJob) (*mgmt.Job, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "VerificationEmail", ID: j.UserID, Params: j, CorrelationID: mgmt.CorrelationID(ctx)}); err != nil {
		return nil, err
	}
	if err := a.userExists(j.UserID); err != nil {
		return nil, err
	}
	return &mgmt.Job{ID: "job_0000000000000099", Type: "verification_email", Status: mgmt.JobPending}, nil
}

// Scopes returns the granted scopes (AllScopes unless SetScopes was called). It is not a Management
// API call (the real client reads its token), so it is not recorded.
func (a *API) Scopes(context.Context) ([]string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.page.scopesErr != nil {
		return nil, a.page.scopesErr
	}
	if a.page.scopes == nil {
		return AllScopes(), nil
	}
	return slices.Clone(a.page.scopes), nil
}

// UnlinkIdentity detaches the identity from the user as Auth0 does: it leaves the user's identities
// and becomes a user of its own ("<provider>|<user_id>", profile from its profileData). An unknown
// user or identity is a 404 *mgmt.Error, the first identity a 400.
func (a *API) UnlinkIdentity(ctx context.Context, id, provider, identityUserID string) ([]mgmt.Identity, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "UnlinkIdentity", ID: id, Params: provider + "/" + identityUserID, CorrelationID: mgmt.CorrelationID(ctx)}); err != nil {
		return nil, err
	}
	u, ok := a.users[id]
	if !ok {
		return nil, notFound()
	}
	i := slices.IndexFunc(u.Identities, func(x mgmt.Identity) bool { return x.Provider == provider && x.UserID == identityUserID })
	switch {
	case i < 0:
		return nil, &mgmt.Error{StatusCode: 404, Err: "Not Found", Message: "The identity does not exist."}
	case i == 0:
		return nil, &mgmt.Error{StatusCode: 400, Err: "Bad Request", Message: "Main identity cannot be removed."}
	}
	x := u.Identities[i]
	u.Identities = slices.Delete(slices.Clone(u.Identities), i, i+1)
	email, _ := x.ProfileData["email"].(string)
	nu := &mgmt.User{UserID: provider + "|" + identityUserID, Email: email,
		Identities: []mgmt.Identity{{Connection: x.Connection, Provider: provider, UserID: identityUserID, IsSocial: x.IsSocial}}}
	a.users[nu.UserID] = nu
	a.order = append(a.order, nu.UserID)
	return slices.Clone(u.Identities), nil
}

// LinkIdentity links the other user into id as Auth0 does: the other user disappears and its
// identity, with its email as profileData, is appended to id's identities. Params is the request.
func (a *API) LinkIdentity(ctx context.Context, id string, l mgmt.LinkRequest) ([]mgmt.Identity, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "LinkIdentity", ID: id, Params: l, CorrelationID: mgmt.CorrelationID(ctx)}); err != nil {
		return nil, err
	}
	u, ok := a.users[id]
	if !ok {
		return nil, notFound()
	}
	secID := l.UserID
	if !strings.Contains(secID, "|") {
		secID = l.Provider + "|" + secID
	}
	sec, ok := a.users[secID]
	if !ok || secID == id {
		return nil, &mgmt.Error{StatusCode: 400, Err: "Bad Request", Message: "The secondary user does not exist."}
	}
	x := sec.Identities[0]
	x.ProfileData = map[string]any{"email": sec.Email}
	u.Identities = append(slices.Clone(u.Identities), x)
	delete(a.users, secID)
	a.order = slices.DeleteFunc(a.order, func(o string) bool { return o == secID })
	return slices.Clone(u.Identities), nil
}

// SetUserOrganizations sets the organizations the user is a member of.
func (a *API) SetUserOrganizations(id string, orgs ...mgmt.Organization) {
	a.mu.Lock()
	defer a.mu.Unlock()
	setIn(&a.page.orgs, id, slices.Clone(orgs))
}

// UserOrganizations returns the user's organizations, or a 404 *mgmt.Error for an unknown user.
func (a *API) UserOrganizations(_ context.Context, id string) ([]mgmt.Organization, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "UserOrganizations", ID: id}); err != nil {
		return nil, err
	}
	if err := a.userExists(id); err != nil {
		return nil, err
	}
	return append([]mgmt.Organization{}, a.page.orgs[id]...), nil
}

// RegenerateRecoveryCode returns a new code per call ("RECOVERY" and a number, 24 characters), or a
// 404 *mgmt.Error for an unknown user.
func (a *API) RegenerateRecoveryCode(ctx context.Context, id string) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record(Call{Method: "RegenerateRecoveryCode", ID: id, CorrelationID: mgmt.CorrelationID(ctx)}); err != nil {
		return "", err
	}
	if err := a.userExists(id); err != nil {
		return "", err
	}
	a.page.recovery++
	return fmt.Sprintf("RECOVERY%016d", a.page.recovery), nil
}
