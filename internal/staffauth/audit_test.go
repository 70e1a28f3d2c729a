package staffauth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/auditlog"
)

func trail(t *testing.T, s *audit.MemoryStore) []audit.Entry {
	t.Helper()
	es, _, err := s.Query(context.Background(), audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return es // newest first
}

// TestSignInAndSignOutAreAudited: a sign-in and a sign-out each write one entry with the staff
// member, their role and the peer address (a spoofed X-Forwarded-For is not believed).
func TestSignInAndSignOutAreAudited(t *testing.T) {
	h := newHarness(t, false)
	sc := h.signIn()
	es := trail(t, h.audit)
	if len(es) != 1 {
		t.Fatalf("%d entries after sign-in, want 1", len(es))
	}
	login := es[0]
	iss := h.op.srv.URL + "/"
	if login.Action != auditlog.ActionLogin || login.Outcome != audit.OutcomeSuccess || login.ActorIssuer != iss ||
		login.ActorSubject != "auth0|staff1" || login.ActorEmail != "admin@example.com" || login.ActorRole != "admin" ||
		login.ClientIP != "192.0.2.1" {
		t.Errorf("sign-in entry = %+v", login)
	}

	req := httptest.NewRequest("POST", "/auth/logout", nil)
	req.AddCookie(sc)
	req.Header.Set("X-Forwarded-For", "6.6.6.6")
	rec := httptest.NewRecorder()
	h.e.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d", rec.Code)
	}
	es = trail(t, h.audit)
	if len(es) != 2 {
		t.Fatalf("%d entries after sign-out, want 2", len(es))
	}
	out := es[0]
	if out.Action != auditlog.ActionLogout || out.Outcome != audit.OutcomeSuccess || out.ActorIssuer != iss ||
		out.ActorSubject != "auth0|staff1" || out.ActorEmail != "admin@example.com" || out.ActorRole != "admin" ||
		out.ClientIP != "192.0.2.1" {
		t.Errorf("sign-out entry = %+v", out)
	}
	// Signing out again with the dead cookie records nothing more.
	h.do("POST", "/auth/logout", []*http.Cookie{sc})
	if n := len(trail(t, h.audit)); n != 2 {
		t.Errorf("%d entries after a second sign-out, want 2", n)
	}
}

// TestFailedSignInsAreAudited: a refused callback and a staff member without a role are recorded.
func TestFailedSignInsAreAudited(t *testing.T) {
	h := newHarness(t, false)
	rec := h.do("GET", "/auth/login", nil)
	tx := cookieNamed(rec.Result().Cookies(), h.auth.txName())
	code, _ := h.op.authorize(t, rec.Header().Get("Location"))
	h.do("GET", "/auth/callback?code="+code+"&state=attacker", []*http.Cookie{tx})
	es := trail(t, h.audit)
	if len(es) != 1 {
		t.Fatalf("%d entries", len(es))
	}
	if e := es[0]; e.Action != auditlog.ActionLoginFailed || e.Outcome != audit.OutcomeFailure || e.Detail != "failed: state mismatch" ||
		e.ClientIP != "192.0.2.1" || e.ActorSubject != "" {
		t.Errorf("entry = %+v", e)
	}

	h.op.mutate = func(c map[string]any) { c["https://userdesk.dev/roles"] = []string{"marketing"} }
	rec = h.do("GET", "/auth/login", nil)
	tx = cookieNamed(rec.Result().Cookies(), h.auth.txName())
	code, state := h.op.authorize(t, rec.Header().Get("Location"))
	h.do("GET", "/auth/callback?code="+code+"&state="+state, []*http.Cookie{tx})
	es = trail(t, h.audit)
	if len(es) != 2 {
		t.Fatalf("%d entries", len(es))
	}
	if e := es[0]; e.Action != auditlog.ActionLoginFailed || e.Outcome != audit.OutcomeDenied || e.ActorSubject != "auth0|staff1" ||
		e.ActorEmail != "admin@example.com" || e.ActorRole != "" || e.ClientIP != "192.0.2.1" {
		t.Errorf("no-role entry = %+v", e)
	}
}

// TestProxyRefusalsAreAudited: a rejected assertion and a role-less staff member are recorded; a
// request without any assertion is not (only logged).
func TestProxyRefusalsAreAudited(t *testing.T) {
	e, k, store := newAuditedProxyHarness(t)
	send := func(assertion string) {
		req := httptest.NewRequest("GET", "/users", nil)
		if assertion != "" {
			req.Header.Set(proxyHeader, assertion)
		}
		e.ServeHTTP(httptest.NewRecorder(), req)
	}
	send("")
	send(sign(t, jose.RS256, k.rsa, "rsa1", goodClaims()))
	if n := len(trail(t, store)); n != 0 {
		t.Fatalf("%d entries for a missing and a valid assertion, want 0", n)
	}
	send(sign(t, jose.RS256, k.foreign, "rsa1", goodClaims()))
	c := goodClaims()
	c["groups"] = []string{"marketing"}
	send(sign(t, jose.RS256, k.rsa, "rsa1", c))
	es := trail(t, store)
	if len(es) != 2 {
		t.Fatalf("%d entries, want 2", len(es))
	}
	if e := es[1]; e.Action != auditlog.ActionLoginFailed || e.Outcome != audit.OutcomeFailure || e.Detail != "proxy assertion rejected" || e.ClientIP != "192.0.2.1" {
		t.Errorf("rejected assertion entry = %+v", e)
	}
	if e := es[0]; e.Action != auditlog.ActionLoginFailed || e.Outcome != audit.OutcomeDenied || e.ActorSubject != "u-1" ||
		e.ActorEmail != "ada@corp.example" || e.ActorIssuer != proxyIssuer {
		t.Errorf("no-role entry = %+v", e)
	}
}
