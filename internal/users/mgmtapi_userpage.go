package users

import (
	"context"
	"fmt"

	"github.com/userdesk/userdesk/internal/mgmt"
)

// maxRolePages bounds the pages of roles read for the picker and the user's roles (100 each).
const maxRolePages = 10

func (a mgmtAPI) DeleteUser(ctx context.Context, id string) error { return a.c.Users.Delete(ctx, id) }

func (a mgmtAPI) UserRoles(ctx context.Context, id string) ([]mgmt.Role, error) {
	return allRoles(func(page int) (*mgmt.RoleList, error) {
		return a.c.Users.Roles(ctx, id, mgmt.ListParams{Page: page, PerPage: 100})
	})
}

func (a mgmtAPI) ListRoles(ctx context.Context) ([]mgmt.Role, error) {
	return allRoles(func(page int) (*mgmt.RoleList, error) {
		return a.c.Roles.List(ctx, mgmt.RoleListParams{Page: page, PerPage: 100})
	})
}

// allRoles follows the pages of a role list until its total is reached.
func allRoles(list func(page int) (*mgmt.RoleList, error)) ([]mgmt.Role, error) {
	out := []mgmt.Role{}
	for page := range maxRolePages {
		l, err := list(page)
		if err != nil {
			return nil, err
		}
		out = append(out, l.Roles...)
		if len(l.Roles) == 0 || len(out) >= l.Total {
			return out, nil
		}
	}
	return nil, fmt.Errorf("users: more than %d roles", maxRolePages*100)
}

func (a mgmtAPI) AssignRoles(ctx context.Context, id string, roleIDs []string) error {
	return a.c.Users.AssignRoles(ctx, id, roleIDs)
}

func (a mgmtAPI) RemoveRoles(ctx context.Context, id string, roleIDs []string) error {
	return a.c.Users.RemoveRoles(ctx, id, roleIDs)
}

func (a mgmtAPI) UserLogs(ctx context.Context, id string, p mgmt.UserLogsParams) ([]mgmt.LogEvent, error) {
	return a.c.Users.Logs(ctx, id, p)
}

func (a mgmtAPI) UserBlocks(ctx context.Context, id string) ([]mgmt.BlockedFor, error) {
	return a.c.UserBlocks.Get(ctx, id)
}

func (a mgmtAPI) DeleteUserBlocks(ctx context.Context, id string) error {
	return a.c.UserBlocks.Delete(ctx, id)
}

func (a mgmtAPI) AuthenticationMethods(ctx context.Context, id string) ([]mgmt.AuthenticationMethod, error) {
	return a.c.Users.AuthenticationMethods(ctx, id)
}

func (a mgmtAPI) DeleteAuthenticationMethod(ctx context.Context, id, methodID string) error {
	return a.c.Users.DeleteAuthenticationMethod(ctx, id, methodID)
}

func (a mgmtAPI) DeleteAuthenticationMethods(ctx context.Context, id string) error {
	return a.c.Users.DeleteAuthenticationMethods(ctx, id)
}

func (a mgmtAPI) InvalidateRememberBrowser(ctx context.Context, id string) error {
	return a.c.Users.InvalidateRememberBrowser(ctx, id)
}

func (a mgmtAPI) Sessions(ctx context.Context, id string) ([]mgmt.Session, error) {
	return a.c.Users.Sessions(ctx, id)
}

func (a mgmtAPI) DeleteSessions(ctx context.Context, id string) error {
	return a.c.Users.DeleteSessions(ctx, id)
}

func (a mgmtAPI) RefreshTokens(ctx context.Context, id string) ([]mgmt.RefreshToken, error) {
	return a.c.Users.RefreshTokens(ctx, id)
}

func (a mgmtAPI) DeleteRefreshTokens(ctx context.Context, id string) error {
	return a.c.Users.DeleteRefreshTokens(ctx, id)
}

func (a mgmtAPI) Session(ctx context.Context, sessionID string) (*mgmt.Session, error) {
	return a.c.Sessions.Get(ctx, sessionID)
}

func (a mgmtAPI) RevokeSession(ctx context.Context, sessionID string) error {
	return a.c.Sessions.Revoke(ctx, sessionID)
}

// UserOrganizations follows the pages (100 each) of the user's organizations to their total, at
// most maxRolePages of them.
func (a mgmtAPI) UserOrganizations(ctx context.Context, id string) ([]mgmt.Organization, error) {
	out := []mgmt.Organization{}
	for page := range maxRolePages {
		l, err := a.c.Users.Organizations(ctx, id, mgmt.ListParams{Page: page, PerPage: 100})
		if err != nil {
			return nil, err
		}
		out = append(out, l.Organizations...)
		if len(l.Organizations) == 0 || len(out) >= l.Total {
			break
		}
	}
	return out, nil
}

func (a mgmtAPI) RegenerateRecoveryCode(ctx context.Context, id string) (string, error) {
	return a.c.Users.RegenerateRecoveryCode(ctx, id)
}

func (a mgmtAPI) LinkIdentity(ctx context.Context, id string, l mgmt.LinkRequest) ([]mgmt.Identity, error) {
	return a.c.Users.Link(ctx, id, l)
}

func (a mgmtAPI) UnlinkIdentity(ctx context.Context, id, provider, identityUserID string) ([]mgmt.Identity, error) {
	return a.c.Users.Unlink(ctx, id, provider, identityUserID)
}

func (a mgmtAPI) PasswordChangeTicket(ctx context.Context, t mgmt.PasswordChangeTicket) (string, error) {
	return a.c.Tickets.PasswordChange(ctx, t)
}

func (a mgmtAPI) VerificationEmail(ctx context.Context, j mgmt.VerificationEmailJob) (*mgmt.Job, error) {
	return a.c.Jobs.VerificationEmail(ctx, j)
}

func (a mgmtAPI) Scopes(ctx context.Context) ([]string, error) { return a.c.Scopes(ctx) }
