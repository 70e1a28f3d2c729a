package mgmt

import (
	"context"
	"net/http"
	"testing"
)

// TestWithAudience: the token request asks for the configured audience instead of the one derived
// from the domain (a custom domain in front of the tenant), and a malformed audience is refused by
// New before any request.
func TestWithAudience(t *testing.T) {
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, userJSON) }))
	c := f.client(t, WithAudience("https://acme.eu.auth0.com/api/v2/"))
	if _, err := c.Users.Get(context.Background(), "auth0|63d17c4a8869daf88ed7db97"); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.tokenReqs) != 1 {
		t.Fatalf("%d token requests, want 1", len(f.tokenReqs))
	}
	if got := f.tokenReqs[0].form.Get("audience"); got != "https://acme.eu.auth0.com/api/v2/" {
		t.Errorf("audience = %q, want the configured one", got)
	}
	for _, bad := range []string{"acme.eu.auth0.com/api/v2/", "ftp://acme/", "https://"} {
		if _, err := New(f.srv.URL, testClientID, testClientSecret, WithAudience(bad)); err == nil {
			t.Errorf("WithAudience(%q): New succeeded, want an error", bad)
		}
	}
}
