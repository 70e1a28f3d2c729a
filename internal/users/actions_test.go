package users_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/users/userstest"
)

func janeDB() mgmt.User {
	no := false
	return mgmt.User{UserID: "auth0|jane", Email: "jane@example.com", EmailVerified: &no, Name: "Jane", Nickname: "jj",
		Identities: []mgmt.Identity{{Connection: "Username-Password-Authentication", Provider: "auth0", UserID: "jane"}}}
}

func pageAPI() *userstest.API {
	cs := conns()
	cs[0].Options = map[string]any{"passwordPolicy": "good", "password_complexity_options": map[string]any{"min_length": 10.0}}
	api := userstest.New(cs, janeDB())
	api.SetTenantRoles(mgmt.Role{ID: "rol_A", Name: "Customer"}, mgmt.Role{ID: "rol_B", Name: "Billing"})
	api.SetUserRoles("auth0|jane", "rol_A")
	api.SetBlocks("auth0|jane", mgmt.BlockedFor{Identifier: "jane@example.com", IP: "203.0.113.5"})
	api.SetMethods("auth0|jane", mgmt.AuthenticationMethod{ID: "totp|dev_1", Type: "totp"}, mgmt.AuthenticationMethod{ID: "phone|dev_2", Type: "phone"})
	api.SetSessions("auth0|jane", mgmt.Session{ID: "s1"}, mgmt.Session{ID: "s2"})
	api.SetRefreshTokens("auth0|jane", mgmt.RefreshToken{ID: "t1", SessionID: "s1"}, mgmt.RefreshToken{ID: "t2"}, mgmt.RefreshToken{ID: "t3"})
	return api
}

// actionCase is one user-page action: how to call it, the write(s) it must send, and its audit entry.
type actionCase struct {
	name    string
	act     users.Act
	call    func(s *users.Service, ctx context.Context) error
	writes  []string // the write methods, in order
	check   func(t *testing.T, api *userstest.API, calls []userstest.Call)
	action  string
	changes []audit.Change
	status  int
}

func actionCases() []actionCase {
	const id = "auth0|jane"
	return []actionCase{
		{name: "profile", act: users.ActProfile,
			call: func(s *users.Service, ctx context.Context) error {
				_, err := s.UpdateProfile(ctx, id, users.ProfileForm{Name: "Jane Doe", Nickname: "jj", Picture: "https://img.example/j.png",
					Phone: "+14155550123", Reason: "T-1"})
				return err
			},
			writes: []string{"UpdateUser"},
			check: func(t *testing.T, api *userstest.API, calls []userstest.Call) {
				u := calls[0].Params.(*mgmt.UserUpdate)
				if *u.Name != "Jane Doe" || *u.Picture != "https://img.example/j.png" || *u.PhoneNumber != "+14155550123" ||
					u.Nickname != nil || u.GivenName != nil || u.Username != nil || u.Email != nil {
					t.Errorf("PATCH = %+v, want only the changed fields", u)
				}
			},
			action: "user.profile_update", status: 200,
			changes: []audit.Change{{Field: "name", Before: `"Jane"`, After: `"Jane Doe"`}, {Field: "picture", After: `"https://img.example/j.png"`},
				{Field: "phone_number", After: `"+14155550123"`}}},
		{name: "email, mark verified", act: users.ActEmail,
			call: func(s *users.Service, ctx context.Context) error {
				return s.ChangeEmail(ctx, id, users.EmailChange{Email: "new@example.com", Verify: "mark", Reason: "T-1"})
			},
			writes: []string{"UpdateUser"},
			check: func(t *testing.T, api *userstest.API, calls []userstest.Call) {
				u := calls[0].Params.(*mgmt.UserUpdate)
				if *u.Email != "new@example.com" || !*u.EmailVerified || u.VerifyEmail != nil {
					t.Errorf("PATCH = %+v", u)
				}
			},
			action: "user.email_change", status: 200,
			changes: []audit.Change{{Field: "email", Before: `"jane@example.com"`, After: `"new@example.com"`}, {Field: "email_verified", Before: "false", After: "true"}}},
		{name: "email, send verification", act: users.ActEmail,
			call: func(s *users.Service, ctx context.Context) error {
				return s.ChangeEmail(ctx, id, users.EmailChange{Email: "new@example.com", Verify: "send", Reason: "T-1"})
			},
			writes: []string{"UpdateUser"},
			check: func(t *testing.T, api *userstest.API, calls []userstest.Call) {
				u := calls[0].Params.(*mgmt.UserUpdate)
				if *u.Email != "new@example.com" || *u.EmailVerified || !*u.VerifyEmail {
					t.Errorf("PATCH = %+v", u)
				}
			},
			action: "user.email_change", status: 200,
			changes: []audit.Change{{Field: "email", Before: `"jane@example.com"`, After: `"new@example.com"`},
				{Field: "email_verified", Before: "false", After: "false"}, {Field: "verify_email", After: "true"}}},
		{name: "password", act: users.ActPassword,
			call: func(s *users.Service, ctx context.Context) error {
				return s.SetPassword(ctx, id, users.PasswordSet{Password: "Sup3r-secret-pw", Confirm: "Sup3r-secret-pw", Reason: "T-1"})
			},
			writes: []string{"UpdateUser"},
			check: func(t *testing.T, api *userstest.API, calls []userstest.Call) {
				u := calls[0].Params.(*mgmt.UserUpdate)
				if *u.Password != "Sup3r-secret-pw" || *u.Connection != "Username-Password-Authentication" {
					t.Errorf("PATCH = %+v", u)
				}
			},
			action: "user.password_set", status: 200, changes: []audit.Change{{Field: "password", After: `"(set)"`}}},
		{name: "ticket", act: users.ActTicket,
			call: func(s *users.Service, ctx context.Context) error {
				url, err := s.SendPasswordTicket(ctx, id, users.TicketRequest{MarkVerified: true, Reason: "T-1"})
				if err == nil && !strings.HasPrefix(url, "https://tenant.example/u/reset-password?ticket=") {
					return errors.New("ticket url " + url)
				}
				return err
			},
			writes: []string{"PasswordChangeTicket"},
			check: func(t *testing.T, api *userstest.API, calls []userstest.Call) {
				if b := calls[0].Params.(mgmt.PasswordChangeTicket); b.UserID != id || !b.MarkEmailAsVerified {
					t.Errorf("ticket body = %+v", b)
				}
			},
			action: "user.password_ticket", status: 201, changes: []audit.Change{{Field: "mark_email_as_verified", After: "true"}}},
		{name: "verification email", act: users.ActVerify,
			call:   func(s *users.Service, ctx context.Context) error { return s.ResendVerification(ctx, id, "T-1") },
			writes: []string{"VerificationEmail"},
			check: func(t *testing.T, api *userstest.API, calls []userstest.Call) {
				if b := calls[0].Params.(mgmt.VerificationEmailJob); b.UserID != id {
					t.Errorf("job body = %+v", b)
				}
			},
			action: "user.verification_email", status: 201, changes: []audit.Change{{Field: "verification_email", After: `"jane@example.com"`}}},
		{name: "block", act: users.ActBlock,
			call:   func(s *users.Service, ctx context.Context) error { return s.SetBlocked(ctx, id, true, "T-1") },
			writes: []string{"UpdateUser"},
			check: func(t *testing.T, api *userstest.API, calls []userstest.Call) {
				if u := calls[0].Params.(*mgmt.UserUpdate); !*u.Blocked || u.Email != nil {
					t.Errorf("PATCH = %+v", u)
				}
				if u, _ := api.User(id); !*u.Blocked {
					t.Error("not blocked")
				}
			},
			action: "user.block", status: 200, changes: []audit.Change{{Field: "blocked", Before: "false", After: "true"}}},
		{name: "unblock", act: users.ActUnblock,
			call:   func(s *users.Service, ctx context.Context) error { return s.SetBlocked(ctx, id, false, "T-1") },
			writes: []string{"UpdateUser"},
			check: func(t *testing.T, api *userstest.API, calls []userstest.Call) {
				if u := calls[0].Params.(*mgmt.UserUpdate); *u.Blocked {
					t.Errorf("PATCH = %+v", u)
				}
			},
			action: "user.unblock", status: 200, changes: []audit.Change{{Field: "blocked", Before: "false", After: "false"}}},
		{name: "clear brute-force blocks", act: users.ActClearBlocks,
			call: func(s *users.Service, ctx context.Context) error {
				n, err := s.ClearBruteForceBlocks(ctx, id, "T-1")
				if err == nil && n != 1 {
					return errors.New("count wrong")
				}
				return err
			},
			writes: []string{"DeleteUserBlocks"},
			check: func(t *testing.T, api *userstest.API, _ []userstest.Call) {
				if len(api.Blocks(id)) != 0 {
					t.Error("blocks remain")
				}
			},
			action: "user.unblock", status: 204, changes: []audit.Change{{Field: "brute_force_blocks", Before: `["jane@example.com from 203.0.113.5"]`, After: "[]"}}},
		{name: "MFA: one method and browsers", act: users.ActMFA,
			call: func(s *users.Service, ctx context.Context) error {
				r, err := s.ResetMFA(ctx, id, users.MFAReset{MethodID: "totp|dev_1", Browsers: true, Reason: "T-1"})
				if err == nil && r != (users.MFAResetResult{Removed: 1, Browsers: true}) {
					return errors.New("result wrong")
				}
				return err
			},
			writes: []string{"DeleteAuthenticationMethod", "InvalidateRememberBrowser"},
			check: func(t *testing.T, api *userstest.API, calls []userstest.Call) {
				if calls[0].Params.(string) != "totp|dev_1" || len(api.Methods(id)) != 1 {
					t.Errorf("removed %v, left %v", calls[0].Params, api.Methods(id))
				}
			},
			action: "user.mfa_reset", status: 204,
			changes: []audit.Change{{Field: "authentication_methods", Before: `["totp totp|dev_1"]`, After: "[]"}, {Field: "remembered_browsers", After: `"invalidated"`}}},
		{name: "MFA: all", act: users.ActMFA,
			call: func(s *users.Service, ctx context.Context) error {
				_, err := s.ResetMFA(ctx, id, users.MFAReset{All: true, Reason: "T-1"})
				return err
			},
			writes: []string{"DeleteAuthenticationMethods"},
			check: func(t *testing.T, api *userstest.API, _ []userstest.Call) {
				if len(api.Methods(id)) != 0 {
					t.Error("methods remain")
				}
			},
			action: "user.mfa_reset", status: 204,
			changes: []audit.Change{{Field: "authentication_methods", Before: `["totp totp|dev_1","phone phone|dev_2"]`, After: "[]"}}},
		{name: "revoke", act: users.ActRevoke,
			call: func(s *users.Service, ctx context.Context) error {
				r, err := s.RevokeSessions(ctx, id, "T-1")
				if err == nil && r.String() != "Revoked 2 sessions and 3 refresh tokens." {
					return errors.New("said " + r.String())
				}
				return err
			},
			writes: []string{"DeleteSessions", "DeleteRefreshTokens"},
			action: "user.sessions_revoke", status: 202,
			changes: []audit.Change{{Field: "sessions", Before: "2", After: "0"}, {Field: "refresh_tokens", Before: "3", After: "0"}}},
		{name: "assign role", act: users.ActRoleAssign,
			call: func(s *users.Service, ctx context.Context) error {
				return s.AssignRoles(ctx, id, []string{"rol_B"}, "T-1")
			},
			writes: []string{"AssignRoles"},
			check: func(t *testing.T, api *userstest.API, _ []userstest.Call) {
				if got := api.UserRoleIDs(id); !reflect.DeepEqual(got, []string{"rol_A", "rol_B"}) {
					t.Errorf("roles = %v", got)
				}
			},
			action: "user.roles_update", status: 204, changes: []audit.Change{{Field: "roles", Before: `["rol_A"]`, After: `["rol_A","rol_B"]`}}},
		{name: "remove role", act: users.ActRoleRemove,
			call: func(s *users.Service, ctx context.Context) error {
				return s.RemoveRoles(ctx, id, []string{"rol_A"}, "T-1")
			},
			writes: []string{"RemoveRoles"},
			action: "user.roles_update", status: 204, changes: []audit.Change{{Field: "roles", Before: `["rol_A"]`, After: `[]`}}},
		{name: "delete", act: users.ActDelete,
			call: func(s *users.Service, ctx context.Context) error {
				return s.DeleteUser(ctx, id, " JANE@example.com ", "T-1")
			},
			writes: []string{"DeleteUser"},
			check: func(t *testing.T, api *userstest.API, _ []userstest.Call) {
				if _, ok := api.User(id); ok {
					t.Error("user still there")
				}
			},
			action: "user.delete", status: 204, changes: []audit.Change{{Field: "user", Before: `"auth0|jane"`}}},
	}
}

var writeMethods = []string{"UpdateUser", "DeleteUser", "AssignRoles", "RemoveRoles", "DeleteUserBlocks", "DeleteAuthenticationMethod",
	"DeleteAuthenticationMethods", "InvalidateRememberBrowser", "DeleteSessions", "DeleteRefreshTokens", "PasswordChangeTicket", "VerificationEmail"}

func writesOf(api *userstest.API) []userstest.Call {
	var out []userstest.Call
	for _, c := range api.Calls() {
		if slices.Contains(writeMethods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// Every action sends exactly its write(s), with one correlation id, and records one audit entry
// with the action name, the changed fields, the reason, success, Auth0's status and that id.
func TestActionsRequestAndAudit(t *testing.T) {
	for _, tc := range actionCases() {
		t.Run(tc.name, func(t *testing.T) {
			api := pageAPI()
			svc, store := auditedService(api)
			if err := tc.call(svc, staffCtx(authz.Admin)); err != nil {
				t.Fatal(err)
			}
			ws := writesOf(api)
			var names []string
			for _, w := range ws {
				names = append(names, w.Method)
			}
			if !reflect.DeepEqual(names, tc.writes) {
				t.Fatalf("writes = %v, want %v", names, tc.writes)
			}
			if tc.check != nil {
				tc.check(t, api, ws)
			}
			es := entries(t, store)
			if len(es) != 1 {
				t.Fatalf("audit entries = %+v", es)
			}
			e := es[0]
			assertActor(t, e, authz.Admin)
			if e.Action != tc.action || e.TargetUserID != "auth0|jane" || e.TargetEmail != "jane@example.com" || e.Reason != "T-1" ||
				e.Outcome != audit.OutcomeSuccess || e.UpstreamStatus != tc.status || !hex32.MatchString(e.CorrelationID) {
				t.Errorf("entry = %+v", e)
			}
			if !reflect.DeepEqual(e.Changes, tc.changes) {
				t.Errorf("changes = %+v, want %+v", e.Changes, tc.changes)
			}
			for _, w := range ws {
				if w.CorrelationID != e.CorrelationID {
					t.Errorf("%s carried correlation id %q, audit has %q", w.Method, w.CorrelationID, e.CorrelationID)
				}
			}
			if strings.Contains(e.Detail+strings.Join(changeText(e.Changes), ""), "Sup3r") {
				t.Error("password in the audit entry")
			}
		})
	}
}

func changeText(cs []audit.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Field, c.Before, c.After)
	}
	return out
}

// Every action is refused before any Management API call when the service account lacks its scope;
// the refusal names the scope and is audited as denied.
func TestActionsRefusedWithoutScope(t *testing.T) {
	for _, tc := range actionCases() {
		t.Run(tc.name, func(t *testing.T) {
			api := pageAPI()
			// Every scope except those the act's requirement names.
			needed := strings.Fields(users.MissingScopes(nil, tc.act))
			var granted []string
			for _, s := range userstest.AllScopes() {
				if !slices.Contains(needed, s) {
					granted = append(granted, s)
				}
			}
			api.SetScopes(granted...)
			missing := users.MissingScopes(granted, tc.act)
			if missing == "" {
				t.Fatal("test setup: nothing missing")
			}
			svc, store := auditedService(api)
			err := tc.call(svc, staffCtx(authz.Admin))
			var p *users.Problem
			if !errors.As(err, &p) || p.Status != http.StatusForbidden || !strings.HasPrefix(p.Message, "The service account lacks "+missing+".") {
				t.Fatalf("err = %v", err)
			}
			if c := api.Calls(); len(c) != 0 {
				t.Errorf("upstream calls = %+v", c)
			}
			es := entries(t, store)
			if len(es) != 1 || es[0].Outcome != audit.OutcomeDenied || es[0].Action != tc.action || es[0].Detail != "service account lacks "+missing {
				t.Errorf("audit = %+v", es)
			}
		})
	}
}

// Every action explains a failed write and audits it as a failure with Auth0's status.
func TestActionsRateLimitedWrite(t *testing.T) {
	for _, tc := range actionCases() {
		t.Run(tc.name, func(t *testing.T) {
			api := pageAPI()
			api.Fail = func(m string) error {
				if m == tc.writes[0] {
					return &mgmt.Error{StatusCode: 429, RetryAfter: 2 * time.Second}
				}
				return nil
			}
			svc, store := auditedService(api)
			err := tc.call(svc, staffCtx(authz.Admin))
			var p *users.Problem
			if !errors.As(err, &p) || p.Status != http.StatusServiceUnavailable || p.Message != "Auth0 is rate limiting requests; try again in 2 s." {
				t.Fatalf("err = %v", err)
			}
			es := entries(t, store)
			if len(es) != 1 || es[0].Outcome != audit.OutcomeFailure || es[0].UpstreamStatus != 429 || es[0].Action != tc.action {
				t.Errorf("audit = %+v", es)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

// The error classes of one write (blocking), as staff read them and as the audit records them.
func TestActionErrorMapping(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		status  int
		message string
		field   string
		outcome audit.Outcome
	}{
		{"400", &mgmt.Error{StatusCode: 400, Message: "Payload validation error: bad"}, 422, "Payload validation error: bad", "", audit.OutcomeFailure},
		{"403 scope", &mgmt.Error{StatusCode: 403, Message: "Insufficient scope, expected any of: update:users", ErrorCode: "insufficient_scope"},
			502, "The service account is missing the update:users permission.", "", audit.OutcomeFailure},
		{"429", &mgmt.Error{StatusCode: 429}, 503, users.MsgRateLimited, "", audit.OutcomeFailure},
		{"500", &mgmt.Error{StatusCode: 500, Message: "SENTINEL"}, 502, users.MsgUpdateUnknown, "", audit.OutcomeFailure},
		{"503", &mgmt.Error{StatusCode: 503}, 502, users.MsgUnavailable, "", audit.OutcomeFailure},
		{"timeout", &mgmt.TransportError{Method: "PATCH", Err: timeoutErr{}}, 504, users.MsgUpdateUnknown, "", audit.OutcomeUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := pageAPI()
			api.Fail = func(m string) error {
				if m == "UpdateUser" {
					return tt.err
				}
				return nil
			}
			svc, store := auditedService(api)
			err := svc.SetBlocked(staffCtx(authz.Agent), "auth0|jane", true, "")
			var p *users.Problem
			if !errors.As(err, &p) || p.Status != tt.status || p.Message != tt.message {
				t.Fatalf("err = %#v", err)
			}
			if es := entries(t, store); len(es) != 1 || es[0].Outcome != tt.outcome {
				t.Errorf("audit = %+v", es)
			}
		})
	}
	// 409 or "already exists" on an email change is a duplicate next to the email field.
	for _, e := range []error{&mgmt.Error{StatusCode: 409}, &mgmt.Error{StatusCode: 400, Message: "The specified new email already exists"}} {
		api := pageAPI()
		api.Fail = func(m string) error {
			if m == "UpdateUser" {
				return e
			}
			return nil
		}
		svc, _ := auditedService(api)
		err := svc.ChangeEmail(staffCtx(authz.Agent), "auth0|jane", users.EmailChange{Email: "b@example.com", Verify: "mark", Reason: "r"})
		var p *users.Problem
		if !errors.As(err, &p) || p.Status != http.StatusConflict || p.Fields["email"] != users.MsgDuplicateEmail {
			t.Errorf("%v: err = %#v", e, err)
		}
	}
	// A user gone meanwhile is ErrNoUser.
	api := pageAPI()
	api.Fail = func(m string) error {
		if m == "DeleteSessions" {
			return &mgmt.Error{StatusCode: 404, Message: "The user does not exist."}
		}
		return nil
	}
	svc, _ := auditedService(api)
	if _, err := svc.RevokeSessions(staffCtx(authz.Agent), "auth0|jane", ""); !errors.Is(err, users.ErrNoUser) {
		t.Errorf("404: err = %v", err)
	}
}

// Invalid input is refused in the form with a sentence per field, before any upstream call.
func TestActionValidation(t *testing.T) {
	ctx := staffCtx(authz.Admin)
	tests := []struct {
		name   string
		call   func(s *users.Service) error
		fields map[string]string
	}{
		{"picture javascript:", func(s *users.Service) error {
			_, err := s.UpdateProfile(ctx, "auth0|jane", users.ProfileForm{Name: "Jane", Picture: "javascript:alert(1)"})
			return err
		}, map[string]string{"picture": users.MsgPictureHTTPS}},
		{"picture http", func(s *users.Service) error {
			_, err := s.UpdateProfile(ctx, "auth0|jane", users.ProfileForm{Name: "Jane", Picture: "http://x.example/a.png"})
			return err
		}, map[string]string{"picture": users.MsgPictureHTTPS}},
		{"phone not E.164, username with space", func(s *users.Service) error {
			_, err := s.UpdateProfile(ctx, "auth0|jane", users.ProfileForm{Name: "Jane", Phone: "555 0123", Username: "a b"})
			return err
		}, map[string]string{"phone_number": users.MsgPhoneE164, "username": users.MsgUsernameInvalid}},
		{"email change needs a reason and a mode", func(s *users.Service) error {
			return s.ChangeEmail(ctx, "auth0|jane", users.EmailChange{Email: "not-an-email"})
		}, map[string]string{"email": users.MsgEmailInvalid, "verify": users.MsgEmailVerifyMode, "reason": users.MsgReasonRequired}},
		{"passwords differ", func(s *users.Service) error {
			return s.SetPassword(ctx, "auth0|jane", users.PasswordSet{Password: "a", Confirm: "b"})
		}, map[string]string{"confirm": users.MsgPasswordMismatch}},
		{"MFA reset needs a reason and a choice", func(s *users.Service) error {
			_, err := s.ResetMFA(ctx, "auth0|jane", users.MFAReset{})
			return err
		}, map[string]string{"method": users.MsgNoMethodChosen, "reason": users.MsgReasonRequired}},
		{"delete needs a reason and a confirmation", func(s *users.Service) error {
			return s.DeleteUser(ctx, "auth0|jane", "", "")
		}, map[string]string{"confirm": users.MsgConfirmEmail, "reason": users.MsgReasonRequired}},
		{"no role chosen", func(s *users.Service) error {
			return s.AssignRoles(ctx, "auth0|jane", []string{" "}, "")
		}, map[string]string{"role": users.MsgNoRoleChosen}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := pageAPI()
			svc, store := auditedService(api)
			svc.ReasonRequired = users.ParseReasonRequired(users.DefaultReasonRequired)
			err := tt.call(svc)
			var p *users.Problem
			if !errors.As(err, &p) || p.Status != http.StatusUnprocessableEntity || !reflect.DeepEqual(p.Fields, tt.fields) {
				t.Fatalf("err = %#v", err)
			}
			if c := api.Calls(); len(c) != 0 {
				t.Errorf("upstream calls = %+v", c)
			}
			if es := entries(t, store); len(es) != 0 {
				t.Errorf("audit = %+v", es)
			}
		})
	}
}

// Checks that need the stored user: a wrong delete confirmation, a weak password, nothing changed.
func TestActionChecksAgainstTheUser(t *testing.T) {
	ctx := staffCtx(authz.Admin)
	api := pageAPI()
	svc, store := auditedService(api)
	err := svc.DeleteUser(ctx, "auth0|jane", "someone@example.com", "r")
	var p *users.Problem
	if !errors.As(err, &p) || p.Fields["confirm"] != users.MsgConfirmEmail {
		t.Errorf("wrong confirmation: %v", err)
	}
	// A wrong confirmation is reported with a missing reason, not only once the reason is given.
	svc.ReasonRequired = users.ParseReasonRequired(users.DefaultReasonRequired)
	err = svc.DeleteUser(ctx, "auth0|jane", "someone@example.com", "")
	want := map[string]string{"confirm": users.MsgConfirmEmail, "reason": users.MsgReasonRequired}
	if !errors.As(err, &p) || p.Status != http.StatusUnprocessableEntity || !reflect.DeepEqual(p.Fields, want) {
		t.Errorf("wrong confirmation, no reason: %#v", err)
	}
	err = svc.DeleteUser(ctx, "auth0|jane", " JANE@example.com ", "")
	if !errors.As(err, &p) || !reflect.DeepEqual(p.Fields, map[string]string{"reason": users.MsgReasonRequired}) {
		t.Errorf("right confirmation, no reason: %#v", err)
	}
	err = svc.SetPassword(ctx, "auth0|jane", users.PasswordSet{Password: "short1A", Confirm: "short1A"})
	if !errors.As(err, &p) || p.Fields["password"] != "Use at least 10 characters." {
		t.Errorf("weak password: %#v", err)
	}
	out, err := svc.UpdateProfile(ctx, "auth0|jane", users.ProfileForm{Name: " Jane ", Nickname: "jj"})
	if err != nil || out != users.NoChange {
		t.Errorf("unchanged profile: %v %v", out, err)
	}
	_, err = svc.UpdateProfile(ctx, "auth0|jane", users.ProfileForm{Name: "", Nickname: "jj"})
	if !errors.As(err, &p) || p.Fields["name"] != users.MsgCannotClear {
		t.Errorf("cleared name: %#v", err)
	}
	if w := writesOf(api); len(w) != 0 {
		t.Errorf("writes = %+v", w)
	}
	if es := entries(t, store); len(es) != 0 {
		t.Errorf("audit = %+v", es)
	}
}

// The page's reads run together; a failing secondary read becomes a sentence, not a failed page.
func TestOverviewDegrades(t *testing.T) {
	api := pageAPI()
	api.SetScopes("read:users")
	api.Fail = func(m string) error {
		if m == "UserBlocks" {
			return &mgmt.Error{StatusCode: 403, Message: "Insufficient scope, expected any of: read:users", ErrorCode: "insufficient_scope"}
		}
		if m == "UserLogs" {
			return &mgmt.Error{StatusCode: 503}
		}
		return nil
	}
	svc, _ := auditedService(api)
	o, err := svc.Overview(staffCtx(authz.Viewer), "auth0|jane", users.SectionProfile)
	if err != nil {
		t.Fatal(err)
	}
	if o.User.Email != "jane@example.com" || o.BlocksProblem != "The service account is missing the read:users permission." ||
		o.LogsProblem != users.MsgReadFailed || o.MethodsProblem != "" || len(o.Methods) != 2 {
		t.Errorf("overview = %+v", o)
	}
	if o.Missing[users.ActDelete] != "delete:users" || o.Missing[users.ActRevoke] != "delete:sessions and delete:refresh_tokens" ||
		o.Missing[users.ActRoleAssign] != "update:users or create:role_members" {
		t.Errorf("missing = %v", o.Missing)
	}
	if o.Verdict == nil || !slices.Contains(o.Verdict.Findings, users.Finding{Sentence: "Brute-force blocks could not be read."}) {
		t.Errorf("verdict = %+v", o.Verdict)
	}
	if _, err := svc.Overview(staffCtx(authz.Viewer), "auth0|nope", users.SectionRoles); !errors.Is(err, users.ErrNoUser) {
		t.Errorf("unknown user: %v", err)
	}
}
