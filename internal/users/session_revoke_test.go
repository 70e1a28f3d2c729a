package users_test

import (
	"errors"
	"net/http"
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

// sessionsFixture: jane (auth0|abc) has two sessions, s1 with a bound refresh token, s2 with
// another, plus an unbound token; bob (auth0|bob) has s9.
func sessionsFixture() *userstest.API {
	api := userstest.New(nil, metaUser(), mgmt.User{UserID: "auth0|bob", Email: "bob@example.com"})
	t0 := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	api.SetSessions("auth0|abc",
		mgmt.Session{ID: "s1", UserID: "auth0|abc", CreatedAt: &t0, LastInteractedAt: &t0,
			Device:  &mgmt.SessionDevice{LastIP: "198.51.100.7", LastUserAgent: "Firefox on a laptop"},
			Clients: []mgmt.SessionClient{{ClientID: "cl_web"}}},
		mgmt.Session{ID: "s2", UserID: "auth0|abc"})
	api.SetSessions("auth0|bob", mgmt.Session{ID: "s9", UserID: "auth0|bob"})
	api.SetRefreshTokens("auth0|abc",
		mgmt.RefreshToken{ID: "t1", UserID: "auth0|abc", SessionID: "s1"},
		mgmt.RefreshToken{ID: "t2", UserID: "auth0|abc", SessionID: "s2"},
		mgmt.RefreshToken{ID: "t3", UserID: "auth0|abc"})
	return api
}

func ids[T any](xs []T, id func(T) string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
}

// Signing one session out ends it and its refresh token only, and is audited with the session's
// device and applications, the reason, 202 and the correlation id the call carried.
func TestRevokeSessionEndsOnlyThatSession(t *testing.T) {
	api := sessionsFixture()
	svc, store := auditedService(api)
	if err := svc.RevokeSession(staffCtx(authz.Helpdesk), "auth0|abc", "s1", " T-77 "); err != nil {
		t.Fatal(err)
	}
	if got := ids(api.SessionsOf("auth0|abc"), func(s mgmt.Session) string { return s.ID }); !slices.Equal(got, []string{"s2"}) {
		t.Errorf("sessions left = %v, want [s2]", got)
	}
	if got := ids(api.RefreshTokensOf("auth0|abc"), func(t mgmt.RefreshToken) string { return t.ID }); !slices.Equal(got, []string{"t2", "t3"}) {
		t.Errorf("refresh tokens left = %v, want [t2 t3]", got)
	}
	if got := ids(api.SessionsOf("auth0|bob"), func(s mgmt.Session) string { return s.ID }); !slices.Equal(got, []string{"s9"}) {
		t.Errorf("bob's sessions = %v", got)
	}
	es := entries(t, store)
	if len(es) != 1 {
		t.Fatalf("%d audit entries, want 1: %+v", len(es), es)
	}
	e := es[0]
	assertActor(t, e, authz.Helpdesk)
	calls := api.CallsTo("RevokeSession")
	if e.Action != "user.session_revoke" || e.TargetUserID != "auth0|abc" || e.TargetEmail != "jane@example.com" ||
		e.Reason != "T-77" || e.Outcome != audit.OutcomeSuccess || e.UpstreamStatus != http.StatusAccepted ||
		len(calls) != 1 || e.CorrelationID == "" || e.CorrelationID != calls[0].CorrelationID {
		t.Errorf("entry = %+v; revoke calls %+v", e, calls)
	}
	if len(e.Changes) != 1 || e.Changes[0].Field != "session" || e.Changes[0].After != "null" ||
		!strings.Contains(e.Changes[0].Before, `"id":"s1"`) || !strings.Contains(e.Changes[0].Before, "198.51.100.7") ||
		!strings.Contains(e.Changes[0].Before, "Firefox on a laptop") || !strings.Contains(e.Changes[0].Before, "cl_web") {
		t.Errorf("changes = %+v", e.Changes)
	}
}

// Nothing is sent, and the staff member reads why, when the session is not the user's to sign out.
func TestRevokeSessionRefusals(t *testing.T) {
	for _, tc := range []struct {
		name      string
		user, sid string
		status    int
		message   string
	}{
		{"another user's session", "auth0|abc", "s9", http.StatusNotFound, users.MsgSessionGone},
		{"unknown session", "auth0|abc", "s404", http.StatusNotFound, users.MsgSessionGone},
		{"no session chosen", "auth0|abc", " ", http.StatusBadRequest, users.MsgNoSessionChosen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := sessionsFixture()
			svc, store := auditedService(api)
			err := svc.RevokeSession(staffCtx(authz.Agent), tc.user, tc.sid, "")
			var p *users.Problem
			if !errors.As(err, &p) || p.Status != tc.status || p.Message != tc.message {
				t.Fatalf("err = %v, want %d %q", err, tc.status, tc.message)
			}
			if n := len(api.CallsTo("RevokeSession")); n != 0 {
				t.Errorf("%d revocations sent", n)
			}
			if n := len(api.SessionsOf("auth0|bob")) + len(api.SessionsOf("auth0|abc")); n != 3 {
				t.Errorf("%d sessions left, want all 3", n)
			}
			if es := entries(t, store); len(es) != 0 {
				t.Errorf("audit entries for a request that sent nothing: %+v", es)
			}
		})
	}

	t.Run("unknown user", func(t *testing.T) {
		api := sessionsFixture()
		svc, _ := auditedService(api)
		if err := svc.RevokeSession(staffCtx(authz.Agent), "auth0|gone", "s1", ""); !errors.Is(err, users.ErrNoUser) {
			t.Fatalf("err = %v, want ErrNoUser", err)
		}
		if n := len(api.CallsTo("RevokeSession")); n != 0 {
			t.Errorf("%d revocations sent", n)
		}
	})

	t.Run("reason required", func(t *testing.T) {
		api := sessionsFixture()
		svc := &users.Service{API: api, ReasonRequired: map[authz.Action]bool{users.ActionSessionRevoke: true}}
		err := svc.RevokeSession(staffCtx(authz.Agent), "auth0|abc", "s1", "  ")
		var p *users.Problem
		if !errors.As(err, &p) || p.Status != http.StatusUnprocessableEntity || p.Fields["reason"] == "" {
			t.Fatalf("err = %v, want 422 with the reason field", err)
		}
		if c := api.Calls(); len(c) != 0 {
			t.Errorf("calls = %+v, want none", c)
		}
	})

	t.Run("missing scope", func(t *testing.T) {
		api := sessionsFixture()
		api.SetScopes("read:users", "read:sessions", "delete:sessions")
		svc, store := auditedService(api)
		err := svc.RevokeSession(staffCtx(authz.Agent), "auth0|abc", "s1", "")
		var p *users.Problem
		if !errors.As(err, &p) || p.Status != http.StatusForbidden || !strings.Contains(p.Message, "delete:refresh_tokens") {
			t.Fatalf("err = %v, want 403 naming delete:refresh_tokens", err)
		}
		if n := len(api.CallsTo("Session")) + len(api.CallsTo("RevokeSession")); n != 0 {
			t.Errorf("%d session calls sent", n)
		}
		es := entries(t, store)
		if len(es) != 1 || es[0].Outcome != audit.OutcomeDenied || es[0].TargetUserID != "auth0|abc" {
			t.Errorf("entries = %+v, want one denial", es)
		}
	})
}

// A session that ends between the read and the revocation (Auth0 answers 404) is reported as gone,
// not as a missing user, and the failed attempt is audited.
func TestRevokeSessionThatEndsMeanwhile(t *testing.T) {
	api := sessionsFixture()
	api.Fail = func(m string) error {
		if m == "RevokeSession" {
			return &mgmt.Error{StatusCode: 404, Err: "Not Found", Message: "The session does not exist."}
		}
		return nil
	}
	svc, store := auditedService(api)
	err := svc.RevokeSession(staffCtx(authz.Agent), "auth0|abc", "s1", "")
	var p *users.Problem
	if errors.Is(err, users.ErrNoUser) || !errors.As(err, &p) || p.Status != http.StatusNotFound || p.Message != users.MsgSessionGone {
		t.Fatalf("err = %v, want the session-gone problem", err)
	}
	es := entries(t, store)
	if len(es) != 1 || es[0].Outcome != audit.OutcomeFailure || es[0].UpstreamStatus != 404 {
		t.Errorf("entries = %+v, want one failure with Auth0's 404", es)
	}
}
