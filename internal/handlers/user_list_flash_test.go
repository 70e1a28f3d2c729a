package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/userdesk/userdesk/internal/users"
)

// A user deleted from their page lands on the list, which says so (with the list itself below it);
// a failed audit entry adds the warning.
func TestUserListShowsFixedFlashCodes(t *testing.T) {
	env := pageEnv(t)
	rec := env.post(t, janeURL+"/delete", url.Values{"confirm": {"jane@example.com"}, "reason": {"GDPR-1"}})
	to := rec.Header().Get("Location")
	if rec.Code != http.StatusSeeOther || to != "/users?msg=deleted" {
		t.Fatalf("after delete: %d → %q", rec.Code, to)
	}
	rec = env.get(t, to)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d", to, rec.Code)
	}
	p := parse(t, rec)
	if got := p.textOf("data-testid", "flash"); got != "User deleted." {
		t.Errorf("flash = %q", got)
	}
	if p.has("data-testid", "alert") {
		t.Errorf("a warning without a failed audit: %q", p.textOf("data-testid", "alert"))
	}
	if !p.has("id", "q") {
		t.Error("the list's search form is missing under the flash")
	}

	p = parse(t, env.get(t, "/users?msg=deleted&audit=failed"))
	if p.textOf("data-testid", "flash") != "User deleted." || p.textOf("data-testid", "alert") != users.MsgAuditFailed {
		t.Errorf("unaudited delete: flash %q, alert %q", p.textOf("data-testid", "flash"), p.textOf("data-testid", "alert"))
	}
}

// Only fixed codes become words; the canonical redirect keeps a known message and drops the rest;
// the list's own links (sort, pager, user rows) never carry the message.
func TestUserListFlashRedirects(t *testing.T) {
	env := newEnv(t, false, jane())
	for target, want := range map[string]string{
		"/users?msg=%3Cscript%3Ealert(1)%3C%2Fscript%3E":          "/users",
		"/users?msg=anything&audit=failed":                        "/users",
		"/users?audit=failed":                                     "/users",
		"/users?q=+jan+&mode=&msg=deleted":                        "/users?q=jan&msg=deleted",
		"/users?per_page=50&msg=deleted&audit=failed":             "/users?audit=failed&msg=deleted",
		"/users?q=jan&msg=deleted&audit=failed&connection=&sort=": "/users?q=jan&audit=failed&msg=deleted",
	} {
		rec := env.get(t, target)
		if rec.Code != http.StatusFound || rec.Header().Get("Location") != want {
			t.Errorf("GET %s: %d → %q, want 302 → %q", target, rec.Code, rec.Header().Get("Location"), want)
		}
	}
	for _, target := range []string{"/users?msg=deleted", "/users?q=jan&msg=deleted", "/users?audit=failed&msg=deleted"} {
		rec := env.get(t, target)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d, want the page", target, rec.Code)
			continue
		}
		p := parse(t, rec)
		if got := p.textOf("data-testid", "flash"); got != "User deleted." {
			t.Errorf("GET %s: flash %q", target, got)
		}
		if !p.has("data-testid", "user-row") {
			t.Errorf("GET %s: no rows under the flash", target)
		}
		links := 0
		for _, n := range p.all(func(n *html.Node) bool { return n.Data == "a" }) {
			h, _ := attr(n, "href")
			links++
			if strings.Contains(h, "msg=") || strings.Contains(h, "audit=") {
				t.Errorf("GET %s: a link carries the one-time message: %s", target, h)
			}
		}
		if links < 5 {
			t.Errorf("GET %s: only %d links checked", target, links)
		}
	}
}
