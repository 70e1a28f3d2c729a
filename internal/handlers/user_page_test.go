package handlers_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/users/userstest"
)

const janeURL = "/users/auth0%7Cabc"

// pageEnv is jane (a database user) with roles, a brute-force block, MFA, sessions and log events.
func pageEnv(t *testing.T) *env {
	t.Helper()
	u := jane()
	u.EmailVerified = ptr(false)
	u.Identities[0].Provider = "auth0"
	env := newEnvWith(t, envOptions{reasonRequired: users.DefaultReasonRequired}, u)
	a := env.api
	a.SetTenantRoles(mgmt.Role{ID: "rol_A", Name: "Customer"}, mgmt.Role{ID: "rol_B", Name: "Billing"})
	a.SetUserRoles("auth0|abc", "rol_A")
	a.SetBlocks("auth0|abc", mgmt.BlockedFor{Identifier: "jane@example.com", IP: "203.0.113.5"})
	a.SetMethods("auth0|abc", mgmt.AuthenticationMethod{ID: "totp|dev_1", Type: "totp", Confirmed: true})
	a.SetSessions("auth0|abc", mgmt.Session{ID: "ses_1", UserID: "auth0|abc", Device: &mgmt.SessionDevice{LastUserAgent: "Firefox", LastIP: "198.51.100.4"}})
	a.SetRefreshTokens("auth0|abc", mgmt.RefreshToken{ID: "tok_1", ClientID: "app1", SessionID: "ses_1"}, mgmt.RefreshToken{ID: "tok_2", ClientID: "app2"})
	d := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	a.SetLogs("auth0|abc",
		mgmt.LogEvent{Type: "limit_wc", Date: &d, IP: "203.0.113.5", ClientName: "Shop", Description: "An IP address is blocked."},
		mgmt.LogEvent{Type: "fp", Date: &d, IP: "203.0.113.5", ClientName: "Shop", Description: "Wrong email or password."},
		mgmt.LogEvent{Type: "s", Date: &d, IP: "198.51.100.4", ClientName: "Shop"})
	return env
}

func TestUserSections(t *testing.T) {
	env := pageEnv(t)
	p := parse(t, env.get(t, janeURL))
	findings := p.byAttr("data-testid", "finding-text")
	if len(findings) == 0 || text(findings[0]) != "Locked out after too many failed logins from 203.0.113.5 — clear the block." {
		t.Errorf("verdict = %v", textsOf(findings))
	}
	if got := p.href("id", "fix-0"); got != janeURL+"/blocks/clear" {
		t.Errorf("fix link = %q", got)
	}
	if got := p.textOf("data-testid", "blocks"); !strings.Contains(got, "jane@example.com 203.0.113.5") {
		t.Errorf("blocks = %q", got)
	}
	if cur := p.byAttr("aria-current", "page"); len(cur) != 1 || text(cur[0]) != "Profile" {
		t.Errorf("current tab = %v", textsOf(cur))
	}
	// One round of reads: the user, blocks, methods and logs, each once.
	for _, m := range []string{"GetUser", "UserBlocks", "AuthenticationMethods", "UserLogs"} {
		if n := len(env.api.CallsTo(m)); n != 1 {
			t.Errorf("%s called %d times", m, n)
		}
	}

	p = parse(t, env.get(t, janeURL+"/roles"))
	if got := p.textOf("data-testid", "roles"); !strings.Contains(got, "Customer") || strings.Contains(got, "Billing") {
		t.Errorf("roles = %q", got)
	}
	var picker []string
	for n := range p.one("id", "role").Descendants() {
		if v, ok := attr(n, "value"); ok && n.Data == "option" {
			picker = append(picker, v)
		}
	}
	if !slices.Equal(picker, []string{"", "rol_B"}) {
		t.Errorf("picker = %v, want the roles the user lacks", picker)
	}

	p = parse(t, env.get(t, janeURL+"/logs"))
	var types []string
	for _, n := range p.byAttr("data-testid", "log-type") {
		types = append(types, text(n))
	}
	if !slices.Equal(types, []string{"Blocked after too many failed logins", "Wrong password", "Successful login"}) {
		t.Errorf("log types = %v", types)
	}

	p = parse(t, env.get(t, janeURL+"/sessions"))
	if n := len(p.byAttr("data-testid", "session-row")); n != 1 {
		t.Errorf("sessions = %d", n)
	}
	if n := len(p.byAttr("data-testid", "token-row")); n != 2 {
		t.Errorf("tokens = %d", n)
	}
	if got := p.textOf("data-testid", "methods"); !strings.Contains(got, "totp") {
		t.Errorf("methods = %q", got)
	}

	p = parse(t, env.get(t, janeURL+"/raw"))
	if got := p.textOf("data-testid", "raw-json"); !strings.Contains(got, `"user_id": "auth0|abc"`) {
		t.Errorf("raw = %q", got)
	}
}

func textsOf(ns []*html.Node) []string {
	var out []string
	for _, n := range ns {
		out = append(out, text(n))
	}
	return out
}

// A failing secondary read degrades its part with a sentence; the page is still a 200.
func TestUserSectionDegrades(t *testing.T) {
	env := pageEnv(t)
	env.api.Fail = func(m string) error {
		if m == "Sessions" || m == "UserLogs" {
			return &mgmt.Error{StatusCode: 503}
		}
		return nil
	}
	rec := env.get(t, janeURL+"/sessions")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	p := parse(t, rec)
	if got := p.textOf("data-testid", "sessions-problem"); got != users.MsgReadFailed {
		t.Errorf("sessions problem = %q", got)
	}
	if n := len(p.byAttr("data-testid", "token-row")); n != 2 {
		t.Errorf("tokens still shown: %d", n)
	}
	p = parse(t, env.get(t, janeURL+"/logs"))
	if got := p.textOf("data-testid", "logs-problem"); got != users.MsgReadFailed {
		t.Errorf("logs problem = %q", got)
	}
}

// Each action: its form, the POST, the redirect with the success message, and the page re-read.
func TestUserActionsSucceed(t *testing.T) {
	tests := []struct {
		path   string
		form   url.Values
		write  string
		to     string
		flash  string
		reread func(p *page) bool
	}{
		{"profile", url.Values{"name": {"Jane Q"}, "nickname": {"jq"}, "picture": {"https://img.example/j.png"}}, "UpdateUser", janeURL + "?msg=profile-saved", "Profile saved.",
			func(p *page) bool { return strings.Contains(p.textOf("data-testid", "profile"), "Name Jane Q") }},
		{"email", url.Values{"email": {"jq@example.com"}, "verify": {"mark"}, "reason": {"T-9"}}, "UpdateUser", janeURL + "?msg=email-changed", "Email address changed.",
			func(p *page) bool {
				return strings.Contains(p.textOf("data-testid", "profile"), "Email jq@example.com Email verified yes")
			}},
		{"password", url.Values{"password": {"Str0ng-Passw0rd"}, "confirm": {"Str0ng-Passw0rd"}}, "UpdateUser", janeURL + "?msg=password-set", "Password set.",
			func(p *page) bool {
				return strings.Contains(p.textOf("data-testid", "profile"), "Last password reset 2026-11-27 12:00 UTC")
			}},
		{"verify", url.Values{}, "VerificationEmail", janeURL + "?msg=verification-sent", "Verification email requested; Auth0 is sending it.", nil},
		{"block", url.Values{}, "UpdateUser", janeURL + "?msg=blocked", "User blocked.", func(p *page) bool { return p.has("data-testid", "blocked") }},
		{"unblock", url.Values{}, "UpdateUser", janeURL + "?msg=unblocked", "User unblocked.", func(p *page) bool { return !p.has("data-testid", "blocked") }},
		{"blocks/clear", url.Values{}, "DeleteUserBlocks", janeURL + "?msg=blocks-cleared&n=1", "Cleared 1 brute-force block.",
			func(p *page) bool { return p.has("data-testid", "blocks-none") }},
		{"mfa", url.Values{"method": {"totp|dev_1"}, "browsers": {"true"}, "reason": {"lost phone"}}, "DeleteAuthenticationMethod",
			janeURL + "/sessions?browsers=1&msg=mfa-reset&removed=1", "Removed 1 authentication method. Remembered browsers will ask for MFA again.",
			func(p *page) bool { return p.has("data-testid", "methods-none") }},
		{"revoke", url.Values{}, "DeleteSessions", janeURL + "/sessions?msg=revoked&sessions=1&tokens=2", "Revoked 1 session and 2 refresh tokens.",
			func(p *page) bool {
				return p.has("data-testid", "sessions-none") && p.has("data-testid", "tokens-none")
			}},
		{"sessions/revoke?session=ses_1", url.Values{"session": {"ses_1"}}, "RevokeSession", janeURL + "/sessions?msg=session-revoked",
			"Session signed out; the refresh tokens bound to it were revoked.",
			func(p *page) bool {
				toks := p.textOf("data-testid", "tokens")
				return p.has("data-testid", "sessions-none") && strings.Contains(toks, "app2") && !strings.Contains(toks, "app1")
			}},
		{"roles", url.Values{"role": {"rol_B"}}, "AssignRoles", janeURL + "/roles?msg=role-assigned", "Role assigned.",
			func(p *page) bool { return strings.Contains(p.textOf("data-testid", "roles"), "Billing") }},
		{"roles/remove", url.Values{"role": {"rol_A"}}, "RemoveRoles", janeURL + "/roles?msg=role-removed&n=1", "Role removed.",
			func(p *page) bool { return p.has("data-testid", "roles-none") }},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			env := pageEnv(t)
			if tt.path == "unblock" {
				u, _ := env.api.User("auth0|abc")
				u.Blocked = ptr(true)
				env.api.Put(u)
			}
			if tt.path != "roles" {
				if rec := env.get(t, janeURL+"/"+tt.path); rec.Code != http.StatusOK {
					t.Fatalf("form: status %d: %s", rec.Code, rec.Body)
				}
			}
			rec := env.post(t, janeURL+"/"+tt.path, tt.form)
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != tt.to {
				t.Fatalf("status %d, Location %q, want %q: %s", rec.Code, rec.Header().Get("Location"), tt.to, rec.Body)
			}
			if n := len(env.api.CallsTo(tt.write)); n != 1 {
				t.Errorf("%s calls = %d", tt.write, n)
			}
			before := len(env.api.CallsTo("GetUser"))
			p := parse(t, env.get(t, tt.to))
			if got := p.textOf("data-testid", "flash"); got != tt.flash {
				t.Errorf("flash = %q, want %q", got, tt.flash)
			}
			if len(env.api.CallsTo("GetUser")) != before+1 {
				t.Error("the page after the write did not re-read the user")
			}
			if tt.reread != nil && !tt.reread(p) {
				t.Error("the re-read page does not show the change")
			}
			es, _, _ := env.trail.Query(t.Context(), audit.Filter{})
			if len(es) != 1 || es[0].Outcome != audit.OutcomeSuccess {
				t.Errorf("audit = %+v", es)
			}
		})
	}
}

// The ticket URL is shown in the POST's answer with the re-read profile, never in a URL, not cached.
func TestTicketShownOnce(t *testing.T) {
	env := pageEnv(t)
	rec := env.post(t, janeURL+"/ticket", url.Values{"mark_verified": {"true"}})
	if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Location") != "" {
		t.Fatalf("status %d, headers %v", rec.Code, rec.Header())
	}
	p := parse(t, rec)
	if got := p.value("ticket-url"); got != "https://tenant.example/u/reset-password?ticket=T0001#" {
		t.Errorf("ticket = %q", got)
	}
	if !p.has("data-testid", "profile") || p.textOf("data-testid", "flash") == "" {
		t.Error("no re-read profile or message")
	}
	if strings.Contains(env.logs.String(), "ticket=T0001") {
		t.Error("ticket URL logged")
	}
}

// Delete: a wrong confirmation sends nothing; the right one deletes and goes back to the list.
func TestDeleteConfirmation(t *testing.T) {
	env := pageEnv(t)
	p := parse(t, env.get(t, janeURL+"/delete"))
	if !p.has("id", "confirm") || !p.has("id", "submit-delete") {
		t.Fatal("confirmation form missing")
	}
	rec := env.post(t, janeURL+"/delete", url.Values{"confirm": {"jane@example.org"}, "reason": {"GDPR-1"}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", rec.Code)
	}
	p = parse(t, rec)
	if got := p.textOf("data-testid", "error-confirm"); got != users.MsgConfirmEmail {
		t.Errorf("message = %q", got)
	}
	if !strings.Contains(p.textOf("data-testid", "error-summary"), users.MsgConfirmEmail) {
		t.Error("error summary lacks the message")
	}
	if p.value("confirm") != "jane@example.org" || p.value("reason") != "GDPR-1" {
		t.Error("input not kept")
	}
	if n := len(env.api.CallsTo("DeleteUser")); n != 0 {
		t.Fatalf("DeleteUser sent %d times", n)
	}
	rec = env.post(t, janeURL+"/delete", url.Values{"confirm": {"jane@example.com"}})
	if rec.Code != http.StatusUnprocessableEntity || parse(t, rec).textOf("data-testid", "error-reason") != users.MsgReasonRequired {
		t.Errorf("missing reason: %d", rec.Code)
	}
	rec = env.post(t, janeURL+"/delete", url.Values{"confirm": {"jane@example.com"}, "reason": {"GDPR-1"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/users?msg=deleted" {
		t.Fatalf("status %d, Location %q", rec.Code, rec.Header().Get("Location"))
	}
	if _, ok := env.api.User("auth0|abc"); ok {
		t.Error("user not deleted")
	}
}

// Delete: a wrong typed email and a missing reason are both reported on the first try, next to their
// fields and in the summary; the right email without a reason is only the reason's problem.
func TestDeleteReportsEveryMistake(t *testing.T) {
	env := pageEnv(t)
	rec := env.post(t, janeURL+"/delete", url.Values{"confirm": {"jane@example.org"}, "reason": {""}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", rec.Code)
	}
	p := parse(t, rec)
	if got := p.textOf("data-testid", "error-confirm"); got != users.MsgConfirmEmail {
		t.Errorf("confirmation message = %q", got)
	}
	if got := p.textOf("data-testid", "error-reason"); got != users.MsgReasonRequired {
		t.Errorf("reason message = %q", got)
	}
	summary := p.textOf("data-testid", "error-summary")
	for _, msg := range []string{users.MsgConfirmEmail, users.MsgReasonRequired} {
		if !strings.Contains(summary, msg) {
			t.Errorf("error summary %q lacks %q", summary, msg)
		}
	}
	if p.value("confirm") != "jane@example.org" {
		t.Error("typed confirmation not kept")
	}

	rec = env.post(t, janeURL+"/delete", url.Values{"confirm": {"jane@example.com"}, "reason": {""}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("right email, no reason: status %d", rec.Code)
	}
	p = parse(t, rec)
	if got := p.textOf("data-testid", "error-reason"); got != users.MsgReasonRequired {
		t.Errorf("right email, no reason: reason message = %q", got)
	}
	if p.has("data-testid", "error-confirm") {
		t.Error("right email reported as wrong")
	}
	if n := len(env.api.CallsTo("DeleteUser")); n != 0 {
		t.Fatalf("DeleteUser sent %d times", n)
	}
	if _, ok := env.api.User("auth0|abc"); !ok {
		t.Error("user gone")
	}
}

// An action the service account lacks the scope for is disabled with the scope named, and its POST is
// refused with no write sent.
func TestActionDisabledWithoutScope(t *testing.T) {
	env := pageEnv(t)
	var granted []string
	for _, s := range userstest.AllScopes() {
		if s != "delete:users" && s != "delete:sessions" {
			granted = append(granted, s)
		}
	}
	env.api.SetScopes(granted...)
	p := parse(t, env.get(t, janeURL))
	if v, ok := attr(p.one("id", "action-delete"), "disabled"); !ok || v != "" && v != "disabled" {
		t.Error("delete button not disabled")
	}
	if got := p.textOf("data-testid", "action-delete-why"); got != "The service account lacks delete:users." {
		t.Errorf("why = %q", got)
	}
	if got := p.textOf("data-testid", "action-revoke-why"); got != "The service account lacks delete:sessions." {
		t.Errorf("revoke why = %q", got)
	}
	if _, ok := attr(p.one("id", "action-block"), "href"); !ok {
		t.Error("block is not a link although its scope is granted")
	}
	form := parse(t, env.get(t, janeURL+"/delete"))
	if _, ok := attr(form.one("id", "submit-delete"), "disabled"); !ok {
		t.Error("submit enabled")
	}
	rec := env.post(t, janeURL+"/delete", url.Values{"confirm": {"jane@example.com"}, "reason": {"x"}})
	if rec.Code != http.StatusForbidden {
		t.Fatalf("status %d", rec.Code)
	}
	if got := parse(t, rec).textOf("data-testid", "alert"); got != "The service account lacks delete:users. Nothing was sent to Auth0." {
		t.Errorf("alert = %q", got)
	}
	if n := len(env.api.CallsTo("DeleteUser")); n != 0 {
		t.Error("DeleteUser sent")
	}
}

// Every upstream error of an action is a sentence on the form (status, summary, Retry-After).
func TestActionErrorPages(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		msg    string
		field  string
		retry  string
	}{
		{"409 duplicate email", &mgmt.Error{StatusCode: 409, Message: "The user already exists."}, 409, "", users.MsgDuplicateEmail, ""},
		{"400", &mgmt.Error{StatusCode: 400, Message: "Payload validation error: 'String is too long' on property email (The user's email)."}, 422, "", "Payload validation error: 'String is too long' on property email (The user's email).", ""},
		{"403 scope", &mgmt.Error{StatusCode: 403, Message: "Insufficient scope, expected any of: update:users", ErrorCode: "insufficient_scope"}, 502, "The service account is missing the update:users permission.", "", ""},
		{"429", &mgmt.Error{StatusCode: 429, RetryAfter: 4 * time.Second}, 503, "Auth0 is rate limiting requests; try again in 4 s.", "", "4"},
		{"500", &mgmt.Error{StatusCode: 500, Message: "SENTINEL"}, 502, users.MsgUpdateUnknown, "", ""},
		{"timeout", &mgmt.TransportError{Method: "PATCH", Err: timeoutError{}}, 504, users.MsgUpdateUnknown, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := pageEnv(t)
			env.api.Fail = func(m string) error {
				if m == "UpdateUser" {
					return tt.err
				}
				return nil
			}
			rec := env.post(t, janeURL+"/email", url.Values{"email": {"new@example.com"}, "verify": {"send"}, "reason": {"T-1"}})
			if rec.Code != tt.status || rec.Header().Get("Retry-After") != tt.retry {
				t.Fatalf("status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
			}
			if strings.Contains(rec.Body.String(), "SENTINEL") {
				t.Error("5xx detail shown")
			}
			p := parse(t, rec)
			if tt.msg != "" && p.textOf("data-testid", "alert") != tt.msg {
				t.Errorf("alert = %q", p.textOf("data-testid", "alert"))
			}
			if tt.field != "" && p.textOf("data-testid", "error-email") != tt.field {
				t.Errorf("email error = %q", p.textOf("data-testid", "error-email"))
			}
			if !p.has("id", "error-summary") || p.value("email") != "new@example.com" {
				t.Error("no summary or input lost")
			}
		})
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// Hostile values in every field are escaped on every section and form; a javascript: picture is
// never rendered.
func TestUserPageEscapesHostileValues(t *testing.T) {
	const evil = `<script>alert("x")</script>'"`
	u := mgmt.User{UserID: "auth0|evil", Email: evil + "@example.com", Name: evil, GivenName: evil, FamilyName: evil, Nickname: evil,
		Username: evil, PhoneNumber: evil, Picture: `javascript:alert(1)`, LastIP: evil,
		Identities: []mgmt.Identity{{Connection: evil, Provider: "auth0", UserID: evil},
			{Connection: evil, Provider: evil, UserID: evil, ProfileData: map[string]any{"email": evil}}},
		UserMetadata: map[string]any{evil: evil}, AppMetadata: map[string]any{"k": evil}}
	env := newEnv(t, false, u)
	env.api.SetTenantRoles(mgmt.Role{ID: "rol_E", Name: evil, Description: evil})
	env.api.SetUserRoles("auth0|evil", "rol_E")
	env.api.SetBlocks("auth0|evil", mgmt.BlockedFor{Identifier: evil, IP: evil})
	env.api.SetLogs("auth0|evil", mgmt.LogEvent{Type: evil, Description: evil, ClientName: evil, IP: evil})
	env.api.SetSessions("auth0|evil", mgmt.Session{ID: evil, Device: &mgmt.SessionDevice{LastUserAgent: evil, LastIP: evil}})
	env.api.SetMethods("auth0|evil", mgmt.AuthenticationMethod{ID: evil, Type: evil, Name: evil})
	base := "/users/auth0%7Cevil"
	for _, path := range []string{"", "/roles", "/logs", "/sessions", "/raw", "/profile", "/email", "/password", "/ticket", "/verify",
		"/block", "/blocks/clear", "/mfa", "/revoke", "/roles/remove?role=rol_E", "/delete",
		"/sessions/revoke?session=" + url.QueryEscape(evil), "/identities/unlink?provider=" + url.QueryEscape(evil) + "&identity=" + url.QueryEscape(evil)} {
		rec := env.get(t, base+path)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: status %d", path, rec.Code)
			continue
		}
		body := rec.Body.String()
		if strings.Contains(body, "<script>alert") {
			t.Errorf("%s: hostile value not escaped", path)
		}
		// A javascript: URL may appear as text (the raw JSON, the form's value) but never as a link.
		for _, n := range parse(t, rec).all(func(*html.Node) bool { return true }) {
			for _, a := range []string{"href", "src", "action", "formaction"} {
				if v, _ := attr(n, a); strings.Contains(strings.ToLower(v), "javascript:") {
					t.Errorf("%s: %s=%q", path, a, v)
				}
			}
		}
	}
	p := parse(t, env.get(t, base))
	if p.has("data-testid", "picture") {
		t.Error("javascript: picture rendered")
	}
	if !strings.Contains(p.textOf("data-testid", "profile"), evil) {
		t.Error("the value is not shown as text")
	}
	// Saving a javascript: picture is refused next to the field.
	rec := env.post(t, base+"/profile", url.Values{"name": {"Jane"}, "picture": {"javascript:alert(1)"}})
	if rec.Code != http.StatusUnprocessableEntity || parse(t, rec).textOf("data-testid", "error-picture") != users.MsgPictureHTTPS {
		t.Errorf("javascript: picture: status %d", rec.Code)
	}
}

// The invite path: a create without a password gets a random one and shows a password-change ticket.
func TestCreateInvite(t *testing.T) {
	env := newEnv(t, false)
	rec := env.post(t, "/users", url.Values{"connection": {"Staff-DB"}, "email": {"invitee@example.com"}, "invite": {"true"}})
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	created := env.api.CallsTo("CreateUser")
	if len(created) != 1 {
		t.Fatalf("creates = %d", len(created))
	}
	pw := created[0].Params.(*mgmt.UserCreate).Password
	if len(users.PasswordPolicy{Level: "excellent", MinLength: 16}.Check(pw)) != 0 || strings.Contains(rec.Body.String(), pw) {
		t.Errorf("invite password %q weak or shown", pw)
	}
	tk := env.api.CallsTo("PasswordChangeTicket")
	if len(tk) != 1 || !tk[0].Params.(mgmt.PasswordChangeTicket).MarkEmailAsVerified {
		t.Fatalf("ticket calls = %+v", tk)
	}
	p := parse(t, rec)
	if !strings.HasPrefix(p.value("ticket-url"), "https://tenant.example/u/reset-password?ticket=") ||
		!strings.Contains(p.textOf("data-testid", "profile"), "invitee@example.com") {
		t.Error("no ticket or profile shown")
	}
	es, _, _ := env.trail.Query(t.Context(), audit.Filter{})
	var actions []string
	for _, e := range es {
		actions = append(actions, e.Action)
	}
	if !slices.Contains(actions, "user.create") || !slices.Contains(actions, "user.password_ticket") {
		t.Errorf("audit actions = %v", actions)
	}
}

// Each session row links to a confirmation page that names the session's device, address and
// bound refresh tokens; a session id that is not the user's is refused with nothing sent; without
// the scopes the rows say which one is missing instead of linking.
func TestRevokeOneSession(t *testing.T) {
	env := pageEnv(t)
	p := parse(t, env.get(t, janeURL+"/sessions"))
	link := p.one("data-testid", "revoke-session")
	if href, _ := attr(link, "href"); href != janeURL+"/sessions/revoke?session=ses_1" {
		t.Errorf("sign-out link = %q", href)
	}
	form := parse(t, env.get(t, janeURL+"/sessions/revoke?session=ses_1"))
	var intro string
	for _, n := range form.all(func(n *html.Node) bool { v, _ := attr(n, "data-testid"); return v == "intro" }) {
		intro += text(n) + " "
	}
	for _, want := range []string{"198.51.100.4", "Firefox", "1 refresh token now", "other sessions stay signed in"} {
		if !strings.Contains(intro, want) {
			t.Errorf("confirmation intro lacks %q: %q", want, intro)
		}
	}
	if v, _ := attr(form.one("name", "session"), "value"); v != "ses_1" {
		t.Errorf("hidden session field = %q", v)
	}

	env.api.SetSessions("auth0|other", mgmt.Session{ID: "ses_9", UserID: "auth0|other"})
	rec := env.post(t, janeURL+"/sessions/revoke", url.Values{"session": {"ses_9"}})
	if rec.Code != http.StatusNotFound || parse(t, rec).textOf("data-testid", "alert") != users.MsgSessionGone {
		t.Errorf("another user's session: status %d, alert %q", rec.Code, parse(t, rec).textOf("data-testid", "alert"))
	}
	if n := len(env.api.CallsTo("RevokeSession")); n != 0 {
		t.Errorf("%d revocations sent for another user's session", n)
	}

	var granted []string
	for _, s := range userstest.AllScopes() {
		if s != "delete:refresh_tokens" {
			granted = append(granted, s)
		}
	}
	env.api.SetScopes(granted...)
	p = parse(t, env.get(t, janeURL+"/sessions"))
	if p.has("data-testid", "revoke-session") {
		t.Error("sign-out link offered without delete:refresh_tokens")
	}
	if got := p.textOf("data-testid", "revoke-session-why"); got != "The service account lacks delete:refresh_tokens." {
		t.Errorf("why = %q", got)
	}
}

// Several roles are removed at once: ticked in the Roles section (a GET form, no JavaScript), named
// on the confirmation page, removed with one call, and counted in the confirmation.
func TestRemoveSeveralRoles(t *testing.T) {
	env := pageEnv(t)
	env.api.SetUserRoles("auth0|abc", "rol_A", "rol_B")
	p := parse(t, env.get(t, janeURL+"/roles"))
	form := p.one("data-testid", "remove-roles-form")
	if action, _ := attr(form, "action"); action != janeURL+"/roles/remove" {
		t.Errorf("form action = %q", action)
	}
	if method, _ := attr(form, "method"); method != "get" {
		t.Errorf("form method = %q, want get (the confirmation page comes first)", method)
	}
	var ticks []string
	for _, n := range p.all(func(n *html.Node) bool { v, _ := attr(n, "data-testid"); return v == "pick-role" }) {
		v, _ := attr(n, "value")
		ticks = append(ticks, v)
	}
	if !slices.Equal(ticks, []string{"rol_A", "rol_B"}) {
		t.Errorf("checkboxes = %v", ticks)
	}

	confirm := parse(t, env.get(t, janeURL+"/roles/remove?role=rol_A&role=rol_B"))
	var intro string
	for _, n := range confirm.all(func(n *html.Node) bool { v, _ := attr(n, "data-testid"); return v == "intro" }) {
		intro += text(n) + " "
	}
	if !strings.Contains(intro, "Removes Customer (rol_A), Billing (rol_B).") {
		t.Errorf("intro = %q", intro)
	}
	var hidden []string
	for _, n := range confirm.all(func(n *html.Node) bool { v, _ := attr(n, "name"); return v == "role" }) {
		v, _ := attr(n, "value")
		hidden = append(hidden, v)
	}
	if !slices.Equal(hidden, []string{"rol_A", "rol_B"}) {
		t.Errorf("hidden role fields = %v", hidden)
	}

	rec := env.post(t, janeURL+"/roles/remove", url.Values{"role": {"rol_A", "rol_B"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != janeURL+"/roles?msg=role-removed&n=2" {
		t.Fatalf("status %d, Location %q", rec.Code, rec.Header().Get("Location"))
	}
	calls := env.api.CallsTo("RemoveRoles")
	if len(calls) != 1 || !slices.Equal(calls[0].Params.([]string), []string{"rol_A", "rol_B"}) {
		t.Fatalf("RemoveRoles calls = %+v, want one for both", calls)
	}
	p = parse(t, env.get(t, rec.Header().Get("Location")))
	if got := p.textOf("data-testid", "flash"); got != "2 roles removed." {
		t.Errorf("flash = %q", got)
	}
	if !p.has("data-testid", "roles-none") {
		t.Error("the roles are still shown")
	}

	// Nothing ticked: the confirmation page says so and the POST is refused next to the field.
	none := parse(t, env.get(t, janeURL+"/roles/remove"))
	if !strings.Contains(text(none.all(func(n *html.Node) bool { v, _ := attr(n, "data-testid"); return v == "intro" })[0]), "No role was chosen") {
		t.Error("empty confirmation page does not say no role was chosen")
	}
	if rec := env.post(t, janeURL+"/roles/remove", url.Values{}); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("POST without roles: status %d", rec.Code)
	}
}

// The profile offers Unlink for linked identities only; the confirmation page names the identity
// and what happens to it; the POST detaches it and the profile says which user it became.
func TestUnlinkIdentityPages(t *testing.T) {
	env := pageEnv(t)
	u, _ := env.api.User("auth0|abc")
	u.Identities = append(u.Identities, mgmt.Identity{Connection: "google-oauth2", Provider: "google-oauth2", UserID: "g1", IsSocial: true,
		ProfileData: map[string]any{"email": "jane@gmail.example"}})
	env.api.Put(u)

	p := parse(t, env.get(t, janeURL))
	links := p.all(func(n *html.Node) bool { v, _ := attr(n, "data-testid"); return v == "unlink-identity" })
	if len(links) != 1 {
		t.Fatalf("%d unlink links, want one (the linked identity only)", len(links))
	}
	href, _ := attr(links[0], "href")
	if href != janeURL+"/identities/unlink?identity=g1&provider=google-oauth2" {
		t.Errorf("unlink link = %q", href)
	}
	confirm := parse(t, env.get(t, href))
	var intro string
	for _, n := range confirm.all(func(n *html.Node) bool { v, _ := attr(n, "data-testid"); return v == "intro" }) {
		intro += text(n) + " "
	}
	for _, want := range []string{"google-oauth2 identity g1", "jane@gmail.example", "separate user again, google-oauth2|g1"} {
		if !strings.Contains(intro, want) {
			t.Errorf("intro lacks %q: %q", want, intro)
		}
	}

	// The account's own identity cannot be unlinked, even by a forged form.
	rec := env.post(t, janeURL+"/identities/unlink", url.Values{"provider": {"auth0"}, "identity": {"abc"}})
	if rec.Code != http.StatusBadRequest || parse(t, rec).textOf("data-testid", "alert") != users.MsgPrimaryIdentity {
		t.Errorf("unlinking the primary identity: status %d", rec.Code)
	}

	rec = env.post(t, janeURL+"/identities/unlink", url.Values{"provider": {"google-oauth2"}, "identity": {"g1"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != janeURL+"?msg=identity-unlinked&user=google-oauth2%7Cg1" {
		t.Fatalf("status %d, Location %q: %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	p = parse(t, env.get(t, rec.Header().Get("Location")))
	if got := p.textOf("data-testid", "flash"); got != "Identity unlinked: it is now a separate user, google-oauth2|g1." {
		t.Errorf("flash = %q", got)
	}
	if p.has("data-testid", "unlink-identity") {
		t.Error("the unlinked identity is still listed")
	}
	if n := len(env.api.CallsTo("UnlinkIdentity")); n != 1 {
		t.Errorf("%d unlinks sent, want 1", n)
	}

	// Without update:users the link becomes the reason.
	u.Identities = append(u.Identities[:1], mgmt.Identity{Connection: "github", Provider: "github", UserID: "7", IsSocial: true})
	env.api.Put(u)
	var granted []string
	for _, s := range userstest.AllScopes() {
		if s != "update:users" {
			granted = append(granted, s)
		}
	}
	env.api.SetScopes(granted...)
	p = parse(t, env.get(t, janeURL))
	if p.has("data-testid", "unlink-identity") || p.textOf("data-testid", "unlink-identity-why") != "The service account lacks update:users." {
		t.Error("unlink offered without update:users, or no reason given")
	}
}

// Linking another account: a form with the account and a confirmation; mistakes come back next to
// their fields with the input kept; a link lands on the profile, which lists the new identity.
func TestLinkAccountPages(t *testing.T) {
	env := pageEnv(t)
	env.api.Put(mgmt.User{UserID: "auth0|bob", Email: "bob@example.com",
		Identities: []mgmt.Identity{{Connection: "Username-Password-Authentication", Provider: "auth0", UserID: "bob"}}})
	if href := parse(t, env.get(t, janeURL)).href("id", "action-link"); href != janeURL+"/identities/link" {
		t.Errorf("action bar link = %q", href)
	}
	form := parse(t, env.get(t, janeURL+"/identities/link"))
	if !form.has("id", "other") || !form.has("id", "confirm") {
		t.Fatal("the form lacks the account or the confirmation")
	}

	rec := env.post(t, janeURL+"/identities/link", url.Values{"other": {"bob@example.com"}})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("unconfirmed: status %d", rec.Code)
	}
	p := parse(t, rec)
	if p.textOf("data-testid", "error-confirm") != users.MsgLinkConfirm || p.value("other") != "bob@example.com" {
		t.Errorf("unconfirmed: confirm error %q, other kept %q", p.textOf("data-testid", "error-confirm"), p.value("other"))
	}

	rec = env.post(t, janeURL+"/identities/link", url.Values{"other": {"bob@example.com"}, "confirm": {"true"}})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != janeURL+"?msg=identity-linked&user=auth0%7Cbob" {
		t.Fatalf("status %d, Location %q: %s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	p = parse(t, env.get(t, rec.Header().Get("Location")))
	if got := p.textOf("data-testid", "flash"); got != "Account auth0|bob linked: it is now one of this user's identities." {
		t.Errorf("flash = %q", got)
	}
	if !p.has("data-testid", "unlink-identity") {
		t.Error("the linked identity is not listed with its Unlink link")
	}
}

// The Roles & organizations section lists the user's organizations; when they cannot be read (the
// service account lacks read:organizations) it says so and the roles still show.
func TestRolesSectionShowsOrganizations(t *testing.T) {
	env := pageEnv(t)
	env.api.SetUserOrganizations("auth0|abc", mgmt.Organization{ID: "org_1", Name: "acme", DisplayName: "Acme Corp"},
		mgmt.Organization{ID: "org_2", Name: "globex"})
	p := parse(t, env.get(t, janeURL+"/roles"))
	if got := p.textOf("data-testid", "orgs"); !strings.Contains(got, "Acme Corp acme org_1") || !strings.Contains(got, "globex globex org_2") {
		t.Errorf("organizations table = %q", got)
	}
	if !strings.Contains(p.textOf("id", "tab-roles"), "Roles & organizations") {
		t.Errorf("tab = %q", p.textOf("id", "tab-roles"))
	}

	env.api.Fail = func(m string) error {
		if m == "UserOrganizations" {
			return &mgmt.Error{StatusCode: 403, Err: "Forbidden", Message: "Insufficient scope, expected any of: read:organizations", ErrorCode: "insufficient_scope"}
		}
		return nil
	}
	p = parse(t, env.get(t, janeURL+"/roles"))
	if got := p.textOf("data-testid", "orgs-problem"); !strings.Contains(got, "read:organizations") {
		t.Errorf("organizations problem = %q", got)
	}
	if !strings.Contains(p.textOf("data-testid", "roles"), "Customer") {
		t.Error("the roles are not shown when the organizations cannot be read")
	}
}

// A new recovery code: linked from Sessions & devices, confirmed on its own page, shown once in the
// POST's own answer (never in a URL, not cached, not logged).
func TestRecoveryCodeShownOnce(t *testing.T) {
	env := pageEnv(t)
	if href := parse(t, env.get(t, janeURL+"/sessions")).href("data-testid", "new-recovery-code"); href != janeURL+"/mfa/recovery-code" {
		t.Errorf("link = %q", href)
	}
	if rec := env.get(t, janeURL+"/mfa/recovery-code"); rec.Code != http.StatusOK {
		t.Fatalf("form: status %d", rec.Code)
	}
	rec := env.post(t, janeURL+"/mfa/recovery-code", url.Values{})
	if rec.Code != http.StatusOK || rec.Header().Get("Location") != "" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, Location %q, Cache-Control %q", rec.Code, rec.Header().Get("Location"), rec.Header().Get("Cache-Control"))
	}
	p := parse(t, rec)
	code, _ := attr(p.one("id", "recovery-code-value"), "value")
	if len(code) != 24 || p.textOf("data-testid", "flash") != "New recovery code created." {
		t.Fatalf("code %q, flash %q", code, p.textOf("data-testid", "flash"))
	}
	if !p.has("data-testid", "methods") && !p.has("data-testid", "methods-none") {
		t.Error("the answer is not the Sessions & devices section")
	}
	if strings.Contains(env.logs.String(), code) {
		t.Error("the recovery code was logged")
	}
	es, _, _ := env.trail.Query(t.Context(), audit.Filter{})
	for _, e := range es {
		for _, c := range e.Changes {
			if strings.Contains(c.Before+c.After, code) {
				t.Error("the recovery code is in the audit trail")
			}
		}
	}

	var granted []string
	for _, s := range userstest.AllScopes() {
		if s != "update:users" {
			granted = append(granted, s)
		}
	}
	env.api.SetScopes(granted...)
	p = parse(t, env.get(t, janeURL+"/sessions"))
	if p.has("data-testid", "new-recovery-code") || !strings.Contains(p.textOf("data-testid", "new-recovery-code-why"), "update:users") {
		t.Error("offered without update:users, or no reason given")
	}
}

// The role-removal confirmation reads the user's roles only: not the tenant's roles for the picker,
// nor the organizations.
func TestRoleRemovalConfirmationReadsOnlyTheUsersRoles(t *testing.T) {
	env := pageEnv(t)
	before := map[string]int{}
	for _, m := range []string{"UserRoles", "ListRoles", "UserOrganizations"} {
		before[m] = len(env.api.CallsTo(m))
	}
	if rec := env.get(t, janeURL+"/roles/remove?role=rol_A"); rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	for m, want := range map[string]int{"UserRoles": 1, "ListRoles": 0, "UserOrganizations": 0} {
		if n := len(env.api.CallsTo(m)) - before[m]; n != want {
			t.Errorf("%s called %d times, want %d", m, n, want)
		}
	}
}
