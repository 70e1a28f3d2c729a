package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/tenant"
)

// trailEntries reads the whole audit trail of the running app, newest first.
func trailEntries(t *testing.T, app *App) []audit.Entry {
	t.Helper()
	es, _, err := app.audit.Query(t.Context(), audit.Filter{Limit: audit.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func findEntry(es []audit.Entry, action string) (audit.Entry, bool) {
	for _, e := range es {
		if e.Action == action {
			return e, true
		}
	}
	return audit.Entry{}, false
}

// TestAuditTrailEndToEnd: the wired app records sign-in, a metadata save (with the X-Correlation-ID
// the tenant really received) and sign-out in its database, and shows them on /audit.
func TestAuditTrailEndToEnd(t *testing.T) {
	app, rec := startTestApp(t, nil)
	s := newSession(t, app)
	s.signIn(app.DemoEmail, demoPassword)
	cust := firstCustomer(t, app)
	esc := url.PathEscape(cust.UserID)
	_, editor := s.get("/users/" + esc + "/metadata")
	resp, body := s.post("/users/"+esc+"/metadata", url.Values{"user_metadata": {`{"audit_probe": "yes"}`}, "app_metadata": {`{}`},
		"reason": {"E2E-1"}, "base": {hiddenValue(t, editor, "base")}, "confirm": {"1"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "Metadata saved.") {
		t.Fatalf("save: %d\n%s", resp.StatusCode, body)
	}
	es := trailEntries(t, app)
	login, ok := findEntry(es, "session.login")
	if !ok || login.ActorEmail != app.DemoEmail || login.ActorRole != "admin" || login.ActorSubject == "" ||
		login.ActorIssuer == "" || login.ClientIP != "127.0.0.1" || login.Outcome != audit.OutcomeSuccess {
		t.Errorf("sign-in entry = %+v", login)
	}
	save, ok := findEntry(es, "user.metadata_update")
	sent := rec.correlationOf("PATCH /api/v2/users/" + cust.UserID)
	if !ok || save.ActorSubject != login.ActorSubject || save.ActorRole != "admin" || save.ClientIP != "127.0.0.1" ||
		save.TargetUserID != cust.UserID || save.Reason != "E2E-1" || save.Outcome != audit.OutcomeSuccess ||
		save.UpstreamStatus != 200 || sent == "" || save.CorrelationID != sent {
		t.Errorf("save entry = %+v; X-Correlation-ID sent %q", save, sent)
	}
	// The audit page lists it and links the entry to the user.
	_, page := s.get("/audit?action=user.metadata_update")
	if !strings.Contains(page, `href="/users/`+esc+`"`) || !strings.Contains(page, sent) {
		t.Errorf("/audit does not show the save with a link to the user")
	}
	s.post("/auth/logout", url.Values{})
	out, ok := findEntry(trailEntries(t, app), "session.logout")
	if !ok || out.ActorSubject != login.ActorSubject || out.ActorRole != "admin" || out.Outcome != audit.OutcomeSuccess {
		t.Errorf("sign-out entry = %+v", out)
	}
}

// hiddenValue returns the value of the first input named name.
func hiddenValue(t *testing.T, page, name string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") == name {
			return attr(n, "value")
		}
	}
	t.Fatalf("no input %q on page:\n%s", name, page)
	return ""
}

// TestEndedStaffSessionsSignOut: an admin ends an agent's sessions; the agent's next request is
// signed out, the admin's is not, and the trail says who did it to whom.
func TestEndedStaffSessionsSignOut(t *testing.T) {
	app, _ := startTestApp(t, nil)
	c := mgmtFor(t, app)
	const agentEmail, agentPassword = "agent@example.com", "Agent-Passw0rd-42!"
	if _, err := c.Users.Create(t.Context(), &mgmt.UserCreate{Connection: tenant.StaffConnection, Email: agentEmail,
		Password: agentPassword, AppMetadata: map[string]any{"roles": []string{"agent"}}}); err != nil {
		t.Fatal(err)
	}
	admin, agent := newSession(t, app), newSession(t, app)
	admin.signIn(app.DemoEmail, demoPassword)
	agent.signIn(agentEmail, agentPassword)

	// The agent may not see staff sessions.
	if resp, _ := agent.get("/staff/sessions"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("agent on /staff/sessions: %d", resp.StatusCode)
	}
	_, page := admin.get("/staff/sessions")
	if !strings.Contains(page, agentEmail) || !strings.Contains(page, app.DemoEmail) {
		t.Fatalf("staff sessions page lacks a signed-in staff member:\n%s", page)
	}
	// Find the agent's row: the row whose form follows the agent's email.
	row := page[strings.Index(page, agentEmail):]
	issuer, subject := hiddenValue(t, row, "issuer"), hiddenValue(t, row, "subject")
	resp, body := admin.post("/staff/sessions/end", url.Values{"issuer": {issuer}, "subject": {subject}})
	if resp.StatusCode != 200 || !strings.Contains(body, "sessions were ended") || strings.Contains(body, agentEmail) {
		t.Fatalf("after ending: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = agent.get("/users")
	if resp.Request.URL.Path != "/signin" || resp.Request.URL.Query().Get("error") != "session" {
		t.Errorf("the agent's next request landed on %s, want the sign-in page", resp.Request.URL)
	}
	if resp, _ := admin.get("/users"); resp.Request.URL.Path != "/users" {
		t.Errorf("the admin was signed out too: %s", resp.Request.URL)
	}
	es := trailEntries(t, app)
	end, ok := findEntry(es, "staff.sessions_end")
	if !ok || end.ActorEmail != app.DemoEmail || end.ActorRole != "admin" || end.TargetUserID != subject ||
		end.TargetEmail != agentEmail || end.Outcome != audit.OutcomeSuccess || end.ClientIP != "127.0.0.1" {
		t.Errorf("entry = %+v", end)
	}
	denied, ok := findEntry(es, "authz.denied")
	if !ok || denied.ActorEmail != agentEmail || denied.ActorRole != "agent" || denied.Detail != "staff.sessions needs role admin" {
		t.Errorf("denial entry = %+v", denied)
	}
}
