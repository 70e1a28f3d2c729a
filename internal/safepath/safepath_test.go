package safepath

import (
	"net/url"
	"strings"
	"testing"
)

func TestReturnTo(t *testing.T) {
	ok := []string{"/", "/users", "/users?q=jane%40example.com&page=2", "/users/auth0%7Cabc", "/users/auth0%7Cabc/metadata"}
	for _, p := range ok {
		if got := ReturnTo(p); got != p {
			t.Errorf("ReturnTo(%q) = %q, want it kept", p, got)
		}
	}
	bad := []string{
		"", "users", "//evil.example", "/\\evil.example", "\\\\evil", "https://evil.example/", "http:/evil",
		"javascript:alert(1)", "/%09/evil.example", "/%2F/evil.example", "/%5Cevil.example", "/\t/evil",
		"/ok\r\nSet-Cookie: x=1", "/users%0d%0aX: y", "data:text/html,hi", "/" + strings.Repeat("a", 3000),
		" /users", "/users\x7f",
	}
	for _, p := range bad {
		if got := ReturnTo(p); got != "" {
			t.Errorf("ReturnTo(%q) = %q, want refused", p, got)
		}
	}
}

// FuzzReturnTo checks the property that matters: whatever is accepted resolves to this origin.
func FuzzReturnTo(f *testing.F) {
	for _, s := range []string{"/users", "//evil", "/\\evil", "/%09/evil", "https://x", "/a?b=c#d"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://desk.example/")
	f.Fuzz(func(t *testing.T, p string) {
		got := ReturnTo(p)
		if got == "" {
			return
		}
		u, err := base.Parse(got)
		if err != nil || u.Host != "desk.example" || u.Scheme != "https" {
			t.Fatalf("ReturnTo accepted %q which resolves to %v (%v)", p, u, err)
		}
		if dec, err := url.PathUnescape(got); err == nil {
			if v, err := base.Parse(dec); err == nil && v.Host != "desk.example" {
				t.Fatalf("ReturnTo accepted %q which after decoding resolves to %v", p, v)
			}
		}
	})
}
