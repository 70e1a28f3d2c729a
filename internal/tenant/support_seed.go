package tenant

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// managementAPIName is the resource server name of the tenant's own Management API.
const managementAPIName = "Auth0 Management API"

// ensureManagementAPI registers the Management API as a resource server whose scopes are every scope
// the tenant implements (implementedScopes), so client grants (and permissions) can be checked against
// it. Runs on every start.
func (t *Tenant) ensureManagementAPI(ctx context.Context) error {
	all := implementedScopes()
	scopes := make([]store.ResourceServerScope, len(all))
	for i, s := range all {
		scopes[i] = store.ResourceServerScope{Value: s, Description: scopeDescription(s)}
	}
	// The id follows the audience, which changes with the base URL (a new port on every test start).
	sum := sha256.Sum256([]byte(t.audience))
	return t.store.PutResourceServer(ctx, store.ResourceServer{ID: "mgmt_" + hex.EncodeToString(sum[:8]), Identifier: t.audience,
		Name: managementAPIName, Scopes: scopes})
}

// scopeDescription turns "read:client_keys" into "Read Client Keys", Auth0's wording for these scopes.
func scopeDescription(scope string) string {
	var words []string
	for _, w := range strings.FieldsFunc(scope, func(r rune) bool { return r == ':' || r == '_' }) {
		words = append(words, strings.ToUpper(w[:1])+w[1:])
	}
	return strings.Join(words, " ")
}

// Demo support data (first start with Config.Seed): an example API with permissions, three roles,
// and for the first database users role assignments, MFA factors (with a recovery code beside each
// TOTP factor), sessions, refresh tokens and a sign-in history in the log, so every support screen has
// something to show.
const demoAPI = "https://api.example.com/"

func (t *Tenant) seedSupport(ctx context.Context) error {
	t.initSupport()
	if err := t.store.PutResourceServer(ctx, store.ResourceServer{ID: "demo-api", Identifier: demoAPI, Name: "Example API",
		Scopes: []store.ResourceServerScope{
			{Value: "read:orders", Description: "Read orders"}, {Value: "write:orders", Description: "Create and change orders"},
			{Value: "read:invoices", Description: "Read invoices"}, {Value: "refund:orders", Description: "Refund orders"},
		}}); err != nil {
		return err
	}
	roles := []store.Role{
		{ID: "rol_DemoCustomer0001", Name: "Customer", Description: "Places and tracks orders"},
		{ID: "rol_DemoBilling00001", Name: "Billing Admin", Description: "Sees invoices and issues refunds"},
		{ID: "rol_DemoViewer000001", Name: "Read-only", Description: "Can look but not touch"},
	}
	perms := [][]string{{"read:orders", "write:orders"}, {"read:invoices", "refund:orders"}, {"read:orders", "read:invoices"}}
	for i, r := range roles {
		if err := t.store.CreateRole(ctx, r); err != nil {
			return err
		}
		var ps []store.Permission
		for _, p := range perms[i] {
			ps = append(ps, store.Permission{ResourceServerIdentifier: demoAPI, PermissionName: p})
		}
		if err := t.store.AddRolePermissions(ctx, r.ID, ps); err != nil {
			return err
		}
	}
	users, _, err := t.store.ListUsers(ctx, store.Query{Expr: store.Term{Field: "identities.connection", Value: DatabaseConnection},
		Limit: 12, NoTotal: true})
	if err != nil {
		return err
	}
	now := t.now().UTC().Truncate(time.Millisecond)
	for i, u := range users {
		at := now.Add(-time.Duration(i+1) * 26 * time.Hour)
		if err := t.store.AssignRoles(ctx, u.ID, []string{roles[i%len(roles)].ID}); err != nil {
			return err
		}
		if i%4 == 1 {
			if err := t.store.AddUserPermissions(ctx, u.ID, []store.Permission{{ResourceServerIdentifier: demoAPI, PermissionName: "refund:orders"}}); err != nil {
				return err
			}
		}
		if i < 6 {
			methods := []store.AuthMethod{{ID: "totp|dev_" + randomString(16, alnum), UserID: u.ID, Type: "totp",
				Name: "Authenticator app", TOTPSecret: randomString(32, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), Confirmed: true,
				CreatedAt: at, LastAuthAt: &at}}
			// Enrolling the first factor gives a recovery code, as in Auth0. Nobody is shown this one (the
			// code is random and dropped, only its hash is kept): a support agent generates a new one.
			code, _ := newRecoveryCode(u.ID, at.Add(time.Second))
			methods = append(methods, code)
			if i%2 == 0 {
				methods = append(methods, store.AuthMethod{ID: "phone|dev_" + randomString(16, alnum), UserID: u.ID,
					Type: "phone", PhoneNumber: fmt.Sprintf("+1555010%04d", i), PreferredAuthenticationMethod: "sms",
					Confirmed: true, CreatedAt: at.Add(time.Minute)})
			}
			if err := t.store.ReplaceAuthMethods(ctx, u.ID, methods); err != nil {
				return err
			}
		}
		if i < 8 {
			sess := store.Session{ID: randomString(32, alnum), UserID: u.ID, ClientIDs: []string{t.staffID}, CreatedAt: at,
				UpdatedAt: at, AuthenticatedAt: at, LastInteractedAt: at.Add(10 * time.Minute),
				IdleExpiresAt: at.Add(10*time.Minute + sessionIdleTTL), ExpiresAt: at.Add(sessionAbsoluteTTL),
				InitialUserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
				InitialIP:        fmt.Sprintf("203.0.113.%d", 10+i), LastUserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
				LastIP: fmt.Sprintf("203.0.113.%d", 10+i), AuthMethods: []store.SessionAuthMethod{{Name: "pwd", Timestamp: at}}}
			if err := t.store.CreateSession(ctx, sess); err != nil {
				return err
			}
			if i < 4 {
				if err := t.store.CreateRefreshToken(ctx, store.RefreshToken{ID: randomString(24, alnum), UserID: u.ID,
					ClientID: t.staffID, SessionID: sess.ID, CreatedAt: at, ResourceServers: []store.RefreshTokenResource{
						{Audience: demoAPI, Scopes: "openid profile offline_access read:orders"}}}); err != nil {
					return err
				}
			}
			ev := store.LogEvent{ID: t.newLogID(at), Date: at, Type: "s", Description: strp(""),
				Connection: strp(DatabaseConnection), UserID: strp(u.ID), UserName: strp(u.Email),
				IP: strp(sess.InitialIP), UserAgent: strp(sess.InitialUserAgent), Strategy: strp("auth0"), StrategyType: strp("database")}
			ev.Details, _ = marshal(map[string]any{"session_id": sess.ID})
			if err := t.store.AppendLog(ctx, ev); err != nil {
				return err
			}
			if i%3 == 2 {
				bad := ev
				bad.ID, bad.Date, bad.Type, bad.Description, bad.Details = t.newLogID(at.Add(-time.Minute)), at.Add(-time.Minute), "fp", strp("Wrong email or password."), nil
				if err := t.store.AppendLog(ctx, bad); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
