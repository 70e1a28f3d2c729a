package main

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/mgmt"
)

// TestRevokeOneSessionEndToEnd: on the wired app and its embedded tenant, a staff member follows a
// session row's "Sign out" link, confirms, and lands on the Sessions tab with the confirmation; the
// tenant no longer has that session nor the refresh token bound to it, and the audit trail has the
// entry with the correlation id the tenant received.
func TestRevokeOneSessionEndToEnd(t *testing.T) {
	app, rec := startTestApp(t, nil)
	c := mgmtFor(t, app)
	var uid string
	var sess mgmt.Session
	for _, u := range customers(t, c, 20) {
		ss, err := c.Users.Sessions(t.Context(), u.UserID)
		if err != nil {
			t.Fatal(err)
		}
		toks, err := c.Users.RefreshTokens(t.Context(), u.UserID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ss) == 1 && len(toks) == 1 && toks[0].SessionID == ss[0].ID {
			uid, sess = u.UserID, ss[0]
			break
		}
	}
	if uid == "" {
		t.Fatal("no seeded customer with a session and a bound refresh token")
	}

	s := newSession(t, app)
	s.signIn(app.DemoEmail, demoPassword)
	esc := url.PathEscape(uid)
	_, tab := s.get("/users/" + esc + "/sessions")
	m := regexp.MustCompile(`href="([^"]*/sessions/revoke\?session=[^"]*)" data-testid="revoke-session"`).FindStringSubmatch(tab)
	if m == nil {
		t.Fatalf("no sign-out link on the Sessions tab:\n%s", tab)
	}
	_, confirm := s.get(html.UnescapeString(m[1]))
	if !strings.Contains(confirm, sess.Device.LastIP) || hiddenValue(t, confirm, "session") != sess.ID {
		t.Fatalf("confirmation page does not name the session:\n%s", confirm)
	}
	resp, body := s.post("/users/"+esc+"/sessions/revoke", url.Values{"session": {sess.ID}, "reason": {"INC-5"}})
	if resp.StatusCode != 200 || !strings.HasSuffix(resp.Request.URL.Path, "/sessions") ||
		!strings.Contains(body, "Session signed out; the refresh tokens bound to it were revoked.") {
		t.Fatalf("after revoking: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	if ss, err := c.Users.Sessions(t.Context(), uid); err != nil || len(ss) != 0 {
		t.Errorf("the tenant still has sessions: %+v %v", ss, err)
	}
	if toks, err := c.Users.RefreshTokens(t.Context(), uid); err != nil || len(toks) != 0 {
		t.Errorf("the tenant still has the bound refresh token: %+v %v", toks, err)
	}
	es, _, err := app.audit.Query(t.Context(), audit.Filter{Action: "user.session_revoke"})
	sent := rec.correlationOf("POST /api/v2/sessions/" + sess.ID + "/revoke")
	if err != nil || len(es) != 1 || es[0].TargetUserID != uid || es[0].Reason != "INC-5" || es[0].Outcome != audit.OutcomeSuccess ||
		es[0].UpstreamStatus != 202 || sent == "" || es[0].CorrelationID != sent {
		t.Errorf("audit = %+v %v; correlation id sent %q", es, err, sent)
	}
}
