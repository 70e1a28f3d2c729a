package mgmt

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkCachedToken measures a token-cache hit: what every API call pays once the token is
// fetched.
func BenchmarkCachedToken(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"bench-token","expires_in":86400,"token_type":"Bearer"}`)
	}))
	defer srv.Close()
	c, err := New(srv.URL, "bench-client", "bench-secret")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.core.tokens.token(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		tok, err := c.core.tokens.token(ctx)
		if err != nil || tok.AccessToken != "bench-token" {
			b.Fatal(tok, err)
		}
	}
}

// BenchmarkGetUser measures one Users.Get round trip against an instant local server: URL building,
// headers, HTTP over loopback and decoding a recorded-size user.
func BenchmarkGetUser(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/oauth/token" {
			io.WriteString(w, `{"access_token":"bench-token","expires_in":86400,"token_type":"Bearer"}`)
			return
		}
		io.WriteString(w, userJSON)
	}))
	defer srv.Close()
	c, err := New(srv.URL, "bench-client", "bench-secret")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		u, err := c.Users.Get(ctx, "auth0|63d17c4a8869daf88ed7db97")
		if err != nil || u.UserID != "auth0|63d17c4a8869daf88ed7db97" {
			b.Fatal(u, err)
		}
	}
}
