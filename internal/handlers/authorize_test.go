package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/mgmt"
)

// routeActions is the permission every staff route needs, written out here independently of the route
// table so that a route added without a decision fails TestRouteRoleMatrix.
var routeActions = map[string]authz.Action{
	"GET /":                   authz.ReadUsers,
	"GET /users":              authz.ReadUsers,
	"GET /users/new":          authz.CreateUser,
	"POST /users":             authz.CreateUser,
	"GET /users/:id":          authz.ReadUsers,
	"GET /users/:id/metadata": authz.EditMetadata,
	// The user page (user_show.go, user_actions.go).
	"GET /users/:id/roles":              authz.ReadUsers,
	"GET /users/:id/logs":               authz.ReadLogs,
	"GET /users/:id/sessions":           authz.ReadUsers,
	"GET /users/:id/raw":                authz.ReadUsers,
	"POST /users/:id/roles":             authz.AssignRoles,
	"GET /users/:id/profile":            authz.EditProfile,
	"POST /users/:id/profile":           authz.EditProfile,
	"GET /users/:id/email":              authz.EditProfile,
	"POST /users/:id/email":             authz.EditProfile,
	"GET /users/:id/password":           authz.EditProfile,
	"POST /users/:id/password":          authz.EditProfile,
	"GET /users/:id/ticket":             authz.SendTicket,
	"POST /users/:id/ticket":            authz.SendTicket,
	"GET /users/:id/verify":             authz.SendVerify,
	"POST /users/:id/verify":            authz.SendVerify,
	"GET /users/:id/block":              authz.Block,
	"POST /users/:id/block":             authz.Block,
	"GET /users/:id/unblock":            authz.Unblock,
	"POST /users/:id/unblock":           authz.Unblock,
	"GET /users/:id/blocks/clear":       authz.Unblock,
	"POST /users/:id/blocks/clear":      authz.Unblock,
	"GET /users/:id/mfa":                authz.ResetMFA,
	"POST /users/:id/mfa":               authz.ResetMFA,
	"GET /users/:id/revoke":             authz.RevokeSessions,
	"POST /users/:id/revoke":            authz.RevokeSessions,
	"GET /users/:id/mfa/recovery-code":  authz.ResetMFA,
	"POST /users/:id/mfa/recovery-code": authz.ResetMFA,
	"GET /users/:id/identities/link":    authz.EditProfile,
	"POST /users/:id/identities/link":   authz.EditProfile,
	"GET /users/:id/identities/unlink":  authz.EditProfile,
	"POST /users/:id/identities/unlink": authz.EditProfile,
	"GET /users/:id/sessions/revoke":    authz.RevokeSessions,
	"POST /users/:id/sessions/revoke":   authz.RevokeSessions,
	"GET /users/:id/roles/remove":       authz.AssignRoles,
	"POST /users/:id/roles/remove":      authz.AssignRoles,
	"GET /users/:id/delete":             authz.DeleteUser,
	"POST /users/:id/delete":            authz.DeleteUser,
	"POST /users/:id/metadata":          authz.EditMetadata,
	"GET /audit":                        authz.ReadAudit,
	"GET /audit.csv":                    authz.ExportAudit,
	"GET /staff/sessions":               authz.StaffSessions,
	"POST /staff/sessions/end":          authz.StaffSessions,

	// Finding users: exports (ReadUsers, audited as users.export).
	"GET /users/exports":               authz.ReadUsers,
	"POST /users/exports":              authz.ReadUsers,
	"GET /users/exports/:job":          authz.ReadUsers,
	"GET /users/exports/:job/download": authz.ReadUsers,
}

var publicRoutes = map[string]bool{
	"GET /healthz": true, "GET /static/*": true, "GET /signin": true,
	"GET /auth/login": true, "GET /auth/callback": true, "POST /auth/logout": true,
}

// TestRouteRoleMatrix calls every route of the real router as every role. A refusal must be a 403 that
// reached neither the handler nor Auth0; an allowed call must not be refused.
func TestRouteRoleMatrix(t *testing.T) {
	user := mgmt.User{UserID: "auth0|abc", Email: "jane@example.com", UserMetadata: map[string]any{"a": 1.0}}
	seen := map[string]bool{}
	for _, rt := range newEnv(t, false).e.Routes() {
		key := rt.Method + " " + rt.Path
		if publicRoutes[key] || strings.HasPrefix(rt.Name, "github.com/labstack/echo") {
			continue
		}
		seen[key] = true
		action, ok := routeActions[key]
		if !ok {
			t.Errorf("route %s has no permission decision in routeActions", key)
			continue
		}
		for _, role := range []authz.Role{authz.Viewer, authz.Helpdesk, authz.Agent, authz.Admin} {
			env := newEnv(t, false, user)
			target := strings.Replace(rt.Path, ":id", url.PathEscape(user.UserID), 1)
			var form url.Values
			if rt.Method == http.MethodPost {
				form = url.Values{"connection": {"Username-Password-Authentication"}, "email": {"new@example.com"},
					"password": {"Str0ng-Passw0rd!"}, "user_metadata": {`{"a":2}`}, "app_metadata": {`{}`},
					"issuer": {"https://idp.example/"}, "subject": {"victim"}}
			}
			putSession(t, env.sessions, "victim-session", "victim")
			rec := env.do(t, req{method: rt.Method, target: target, form: form, staff: "Sam", headers: map[string]string{"X-Test-Role": string(role)}})
			if role.Allows(action) {
				if rec.Code == http.StatusForbidden {
					t.Errorf("%s as %s: refused, but the role allows %s", key, role, action)
				}
				continue
			}
			if rec.Code != http.StatusForbidden {
				t.Errorf("%s as %s: status %d, want 403", key, role, rec.Code)
			}
			if calls := env.api.Calls(); len(calls) != 0 {
				t.Errorf("%s as %s: refused request still called Auth0: %v", key, role, calls)
			}
			if !strings.Contains(rec.Body.String(), "needs "+string(authz.MinimumRole(action))) {
				t.Errorf("%s as %s: the page does not name the role needed", key, role)
			}
			if !strings.Contains(env.logs.String(), "authz_fail") {
				t.Errorf("%s as %s: refusal not logged", key, role)
			}
			if _, err := env.sessions.Get(t.Context(), "victim-session"); err != nil {
				t.Errorf("%s as %s: a refused request ended a staff session", key, role)
			}
			// The refusal is in the audit trail: who, with which role, what, about whom.
			es, _, _ := env.trail.Query(t.Context(), audit.Filter{})
			wantTarget := ""
			if strings.Contains(rt.Path, ":id") {
				wantTarget = user.UserID
			}
			if len(es) != 1 || es[0].Action != "authz.denied" || es[0].Outcome != audit.OutcomeDenied ||
				es[0].ActorSubject != "s1" || es[0].ActorIssuer != "https://idp.example/" || es[0].ActorEmail != "s1@corp.example" ||
				es[0].ActorRole != string(role) || es[0].TargetUserID != wantTarget || es[0].ClientIP != "192.0.2.1" ||
				es[0].Detail != string(action)+" needs role "+string(authz.MinimumRole(action)) || es[0].RequestID == "" {
				t.Errorf("%s as %s: audit trail = %+v", key, role, es)
			}
		}
	}
	for key := range routeActions {
		if !seen[key] {
			t.Errorf("routeActions lists %s, which the router does not have", key)
		}
	}
}

// TestUIHidesWhatTheRoleCannotDo: the links are there for an agent and absent for a viewer.
func TestUIHidesWhatTheRoleCannotDo(t *testing.T) {
	user := mgmt.User{UserID: "auth0|abc", Email: "jane@example.com"}
	for role, want := range map[authz.Role]bool{authz.Viewer: false, authz.Helpdesk: false, authz.Agent: true, authz.Admin: true} {
		env := newEnv(t, false, user)
		h := map[string]string{"X-Test-Role": string(role)}
		list := parse(t, env.do(t, req{method: http.MethodGet, target: "/users", staff: "Sam", headers: h}))
		show := parse(t, env.do(t, req{method: http.MethodGet, target: "/users/auth0%7Cabc", staff: "Sam", headers: h}))
		if got := list.has("id", "new-user") && list.has("id", "nav-new-user"); got != want {
			t.Errorf("%s: New user links shown = %v, want %v", role, got, want)
		}
		if got := show.has("id", "edit-metadata"); got != want {
			t.Errorf("%s: Edit metadata link shown = %v, want %v", role, got, want)
		}
		if got := list.textOf("data-testid", "staff-role"); got != string(role) {
			t.Errorf("header shows role %q, want %q", got, role)
		}
	}
}
