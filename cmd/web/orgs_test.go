package main

import (
	"html"
	"net/url"
	"strings"
	"testing"

	"github.com/userdesk/userdesk/internal/mgmt"
)

// TestOrganizationsOnTheRolesSection: against the embedded tenant's demo data, the Roles &
// organizations section of a member shows the organizations the tenant has for them.
func TestOrganizationsOnTheRolesSection(t *testing.T) {
	app, _ := startTestApp(t, nil)
	c := mgmtFor(t, app)
	var member mgmt.User
	var orgs *mgmt.OrganizationList
	var err error
	for _, u := range customers(t, c, 50) {
		if orgs, err = c.Users.Organizations(t.Context(), u.UserID, mgmt.ListParams{}); err != nil {
			t.Fatal(err)
		}
		if orgs.Total > 0 {
			member = u
			break
		}
	}
	if member.UserID == "" {
		t.Fatal("no seeded member of an organization")
	}
	s := newSession(t, app)
	s.signIn(app.DemoEmail, demoPassword)
	_, page := s.get("/users/" + url.PathEscape(member.UserID) + "/roles")
	page = html.UnescapeString(page)
	for _, o := range orgs.Organizations {
		if !strings.Contains(page, o.DisplayName) || !strings.Contains(page, o.ID) {
			t.Errorf("the section does not show %s (%s):\n%s", o.DisplayName, o.ID, page)
		}
	}
}
