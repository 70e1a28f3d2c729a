package main

import (
	"errors"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/mgmt"
)

// TestLinkAndUnlinkEndToEnd: on the wired app and its embedded tenant, a staff member links one
// customer into another (the second stops being a user of its own), then follows the linked
// identity's Unlink link and confirms: the tenant again has two separate users, and the trail
// records both changes.
func TestLinkAndUnlinkEndToEnd(t *testing.T) {
	app, _ := startTestApp(t, nil)
	c := mgmtFor(t, app)
	primary := customers(t, c, 1)[0]
	secondary := otherCustomer(t, c, primary.UserID)
	secondaryID := strings.TrimPrefix(secondary.UserID, "auth0|")

	s := newSession(t, app)
	s.signIn(app.DemoEmail, demoPassword)
	esc := url.PathEscape(primary.UserID)
	s.get("/users/" + esc + "/identities/link")
	resp, body := s.post("/users/"+esc+"/identities/link", url.Values{"other": {secondary.UserID}, "confirm": {"true"}, "reason": {"INC-8"}})
	if resp.StatusCode != 200 || !strings.Contains(html.UnescapeString(body), "Account "+secondary.UserID+" linked: it is now one of this user's identities.") {
		t.Fatalf("after linking: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	if _, err := c.Users.Get(t.Context(), secondary.UserID); !errors.Is(err, mgmt.ErrNotFound) {
		t.Errorf("the linked account is still a user of its own: %v", err)
	}
	_, profile := s.get("/users/" + esc)
	m := regexp.MustCompile(`href="([^"]*/identities/unlink\?[^"]*)" data-testid="unlink-identity"`).FindStringSubmatch(profile)
	if m == nil {
		t.Fatalf("no unlink link on the profile:\n%s", profile)
	}
	_, confirm := s.get(html.UnescapeString(m[1]))
	if !strings.Contains(confirm, secondary.Email) || !strings.Contains(confirm, "auth0 identity "+secondaryID) {
		t.Fatalf("confirmation page does not name the identity:\n%s", confirm)
	}
	resp, body = s.post("/users/"+esc+"/identities/unlink", url.Values{"provider": {"auth0"}, "identity": {secondaryID}, "reason": {"INC-9"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "Identity unlinked: it is now a separate user, "+secondary.UserID+".") {
		t.Fatalf("after unlinking: %d %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
	got, err := c.Users.Get(t.Context(), primary.UserID)
	if err != nil || len(got.Identities) != 1 {
		t.Errorf("primary after unlink = %+v, %v; want its own identity only", got, err)
	}
	if back, err := c.Users.Get(t.Context(), secondary.UserID); err != nil || back.Email != secondary.Email {
		t.Errorf("the unlinked identity is not a user again: %+v, %v", back, err)
	}
	for action, want := range map[string]struct {
		reason string
		status int
	}{"user.identity_link": {"INC-8", 201}, "user.identity_unlink": {"INC-9", 200}} {
		es, _, err := app.audit.Query(t.Context(), audit.Filter{Action: action})
		if err != nil || len(es) != 1 || es[0].TargetUserID != primary.UserID || es[0].Reason != want.reason ||
			es[0].Outcome != audit.OutcomeSuccess || es[0].UpstreamStatus != want.status {
			t.Errorf("%s audit = %+v %v", action, es, err)
		}
	}
}
