package mgmt

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
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

// BenchmarkRawHTTPGet is the baseline for BenchmarkGetUser: the same request and decoding with bare
// net/http and encoding/json, so the difference is the client's own overhead (token, limiter,
// breaker, headers, rate-limit tracking, metrics, error handling).
func BenchmarkRawHTTPGet(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, userJSON)
	}))
	defer srv.Close()
	hc := &http.Client{}
	url := srv.URL + "/api/v2/users/auth0%7C63d17c4a8869daf88ed7db97"
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer bench-token")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var u User
		if err := json.Unmarshal(raw, &u); err != nil || u.UserID != "auth0|63d17c4a8869daf88ed7db97" {
			b.Fatal(u, err)
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

// instantTransport answers every request in memory with a canned user, so that a benchmark
// measures the client and not loopback networking.
type instantTransport struct{}

func (instantTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body := userJSON
	if r.URL.Path == "/oauth/token" {
		body = `{"access_token":"bench-token","expires_in":86400,"token_type":"Bearer"}`
	}
	return &http.Response{
		StatusCode: 200, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Request: r,
		Header: http.Header{"Content-Type": {"application/json"}, "X-Ratelimit-Limit": {"50"},
			"X-Ratelimit-Remaining": {"49"}, "X-Ratelimit-Reset": {"1764237600"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
	}, nil
}

// BenchmarkClientOverhead: Users.Get against an in-memory transport, with and without a
// client-side limiter; compare BenchmarkDecodeOnly for what is not the client's (JSON decoding).
func BenchmarkClientOverhead(b *testing.B) {
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"default", nil},
		{"with limiter", []Option{WithRateLimit(1e9, 1e6)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			c, err := New("http://auth0.invalid", "bench-client", "bench-secret",
				append([]Option{WithHTTPClient(&http.Client{Transport: instantTransport{}})}, tc.opts...)...)
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
		})
	}
}

// BenchmarkDecodeOnly is the JSON decoding share of BenchmarkClientOverhead.
func BenchmarkDecodeOnly(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var u User
		if err := json.Unmarshal([]byte(userJSON), &u); err != nil {
			b.Fatal(err)
		}
	}
}
