package views_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/a-h/templ"
	"golang.org/x/net/html"

	"github.com/userdesk/userdesk/internal/views"
)

// linkTexts renders c and returns the text of each link with the given data-testid, as a screen
// reader reads it (visible and visually hidden parts together).
func linkTexts(t *testing.T, c templ.Component, testid string) []string {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode || n.Data != "a" {
			continue
		}
		for _, a := range n.Attr {
			if a.Key == "data-testid" && a.Val == testid {
				var b strings.Builder
				for d := range n.Descendants() {
					if d.Type == html.TextNode {
						b.WriteString(d.Data)
					}
				}
				out = append(out, b.String())
			}
		}
	}
	return out
}

// Row links say what they act on, with the words apart ("Remove Billing", not "RemoveBilling"):
// templ fmt once dropped the space before the visually hidden part.
func TestRowLinksReadAsSentences(t *testing.T) {
	roles := views.RolesBody(views.RolesSection{Rows: []views.RoleRow{{ID: "rol_B", Name: "Billing", RemoveURL: "/x"}}})
	if got := linkTexts(t, roles, "remove-role"); len(got) != 1 || got[0] != "Remove Billing" {
		t.Errorf("remove link reads %q", got)
	}
	sessions := views.SessionsBody(views.SessionsSection{CanRevoke: true, Sessions: []views.SessionRow{{ID: "s1", IP: "198.51.100.4", RevokeURL: "/y"}}})
	if got := linkTexts(t, sessions, "revoke-session"); len(got) != 1 || got[0] != "Sign out the session last used from 198.51.100.4" {
		t.Errorf("sign-out link reads %q", got)
	}
	profile := views.ProfileBody(views.ProfileSection{Detail: views.UserDetail{Identities: []views.Identity{
		{Provider: "auth0", UserID: "abc"}, {Provider: "google-oauth2", UserID: "g1", UnlinkURL: "/z"}}}})
	if got := linkTexts(t, profile, "unlink-identity"); len(got) != 1 || got[0] != "Unlink the google-oauth2 identity g1" {
		t.Errorf("unlink link reads %q", got)
	}
}
