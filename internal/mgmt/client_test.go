package mgmt

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testClientID     = "m2m-client-id"
	testClientSecret = "SECRET-7f3c9a1e-never-show-me"
)

// fakeAuth0 is an httptest stand-in for a tenant: /oauth/token issues numbered tokens
// ("access-token-N-sentinel"), everything else goes to api.
type fakeAuth0 struct {
	t   *testing.T
	srv *httptest.Server

	expiresIn  int           // seconds; 0 = 86400
	tokenDelay time.Duration // simulated token endpoint latency
	tokenFail  func(w http.ResponseWriter, r *http.Request) bool
	api        http.Handler

	tokenCalls atomic.Int32
	mu         sync.Mutex
	tokenReqs  []tokenReq
}

type tokenReq struct {
	form      url.Values
	basicUser string
	basicPass string
	userAgent string
}

func newFake(t *testing.T, api http.Handler) *fakeAuth0 {
	t.Helper()
	f := &fakeAuth0{t: t, api: api}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAuth0) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/oauth/token" {
		f.api.ServeHTTP(w, r)
		return
	}
	n := f.tokenCalls.Add(1)
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	u, p, _ := r.BasicAuth()
	f.mu.Lock()
	f.tokenReqs = append(f.tokenReqs, tokenReq{form: r.PostForm, basicUser: u, basicPass: p, userAgent: r.UserAgent()})
	f.mu.Unlock()
	if f.tokenDelay > 0 {
		select {
		case <-time.After(f.tokenDelay):
		case <-r.Context().Done():
			return
		}
	}
	if f.tokenFail != nil && f.tokenFail(w, r) {
		return
	}
	exp := f.expiresIn
	if exp == 0 {
		exp = 86400
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":"access-token-%d-sentinel","expires_in":%d,"token_type":"Bearer"}`, n, exp)
}

// client returns a client for the fake with millisecond retry backoff (tests about the backoff
// itself pass their own WithRetryBackoff, which comes later and wins).
func (f *fakeAuth0) client(t *testing.T, opts ...Option) *Client {
	t.Helper()
	opts = append([]Option{WithRetryBackoff(time.Millisecond, 4*time.Millisecond)}, opts...)
	c, err := New(f.srv.URL, testClientID, testClientSecret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

const userJSON = `{"user_id":"auth0|63d17c4a8869daf88ed7db97","email":"chuck@example.com","email_verified":false,` +
	`"identities":[{"connection":"Username-Password-Authentication","user_id":"63d17c4a8869daf88ed7db97","provider":"auth0","isSocial":false}],` +
	`"created_at":"2023-01-25T19:00:26.187Z","updated_at":"2023-01-25T19:00:26.100Z"}`

func TestBaseURL(t *testing.T) {
	ok := map[string]string{
		"acme.eu.auth0.com":          "https://acme.eu.auth0.com",
		" acme.eu.auth0.com\n":       "https://acme.eu.auth0.com",
		"acme.eu.auth0.com/":         "https://acme.eu.auth0.com",
		"https://acme.eu.auth0.com/": "https://acme.eu.auth0.com",
		"HTTPS://acme.eu.auth0.com":  "https://acme.eu.auth0.com",
		"http://127.0.0.1:8081":      "http://127.0.0.1:8081",
		"localhost:8081":             "https://localhost:8081",
		"http://[::1]:8081/":         "http://[::1]:8081",
	}
	for in, want := range ok {
		got, err := BaseURL(in)
		if err != nil || got != want {
			t.Errorf("BaseURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "   ", "ftp://acme.auth0.com", "javascript:alert(1)", "https://", "https:///api",
		"acme.auth0.com/api/v2", "https://acme.auth0.com/tenant", "https://acme.auth0.com?x=1",
		"https://acme.auth0.com/?", "https://acme.auth0.com#frag", "https://user:pw@acme.auth0.com",
		"https://acme auth0.com", "mailto:a@b.c",
	} {
		if got, err := BaseURL(in); err == nil {
			t.Errorf("BaseURL(%q) = %q, want an error", in, got)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	cases := []struct {
		name, domain, id, secret string
		opts                     []Option
	}{
		{"empty domain", "", "id", "secret", nil},
		{"empty client id", "acme.auth0.com", "", "secret", nil},
		{"empty secret", "acme.auth0.com", "id", "", nil},
		{"zero timeout", "acme.auth0.com", "id", "secret", []Option{WithTimeout(0)}},
		{"nil clock", "acme.auth0.com", "id", "secret", []Option{WithClock(nil)}},
		{"nil sleep", "acme.auth0.com", "id", "secret", []Option{WithSleep(nil)}},
		{"negative refresh window", "acme.auth0.com", "id", "secret", []Option{WithTokenRefreshWindow(-time.Second)}},
		{"negative retries", "acme.auth0.com", "id", "secret", []Option{WithMaxRetries(-1)}},
		{"zero backoff", "acme.auth0.com", "id", "secret", []Option{WithRetryBackoff(0, time.Second)}},
		{"backoff max below base", "acme.auth0.com", "id", "secret", []Option{WithRetryBackoff(time.Second, time.Millisecond)}},
		{"rate without burst", "acme.auth0.com", "id", "secret", []Option{WithRateLimit(2, 0)}},
		{"breaker without cooldown", "acme.auth0.com", "id", "secret", []Option{WithBreaker(5, 0)}},
	}
	for _, tc := range cases {
		if _, err := New(tc.domain, tc.id, tc.secret, tc.opts...); err == nil {
			t.Errorf("%s: New succeeded, want an error", tc.name)
		}
	}
}

// TestOneTokenForConcurrentCalls: 500 concurrent calls on a cold client cause exactly one
// POST /oauth/token; every call carries that token as Bearer; the token request carries the
// audience and the credentials in the form body (AuthStyleInParams, as Auth0 documents: no Basic
// header, so no second POST from x/oauth2's auto-detection); both kinds of request carry the
// User-Agent.
func TestOneTokenForConcurrentCalls(t *testing.T) {
	var (
		mu    sync.Mutex
		auths = map[string]int{}
		uas   = map[string]int{}
	)
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths[r.Header.Get("Authorization")]++
		uas[r.UserAgent()]++
		mu.Unlock()
		writeJSON(w, 200, userJSON)
	}))
	f.tokenDelay = 100 * time.Millisecond // every caller arrives while the fetch is in flight
	c := f.client(t, WithUserAgent("Userdesk/test-1.2.3"))

	const n = 500
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			u, err := c.Users.Get(context.Background(), "auth0|63d17c4a8869daf88ed7db97")
			if err == nil && u.Email != "chuck@example.com" {
				err = fmt.Errorf("decoded email %q", u.Email)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := f.tokenCalls.Load(); got != 1 {
		t.Fatalf("POST /oauth/token called %d times, want 1", got)
	}
	if !reflect.DeepEqual(auths, map[string]int{"Bearer access-token-1-sentinel": n}) {
		t.Errorf("Authorization headers seen: %v", auths)
	}
	if !reflect.DeepEqual(uas, map[string]int{"Userdesk/test-1.2.3": n}) {
		t.Errorf("User-Agent headers seen: %v", uas)
	}
	tr := f.tokenReqs[0]
	if got, want := tr.form.Get("audience"), f.srv.URL+"/api/v2/"; got != want {
		t.Errorf("audience = %q, want %q", got, want)
	}
	if got := tr.form.Get("grant_type"); got != "client_credentials" {
		t.Errorf("grant_type = %q", got)
	}
	if tr.form.Get("client_id") != testClientID || tr.form.Get("client_secret") != testClientSecret || tr.basicUser != "" {
		t.Errorf("token request credentials: form client_id %q (secret ok: %v), basic user %q",
			tr.form.Get("client_id"), tr.form.Get("client_secret") == testClientSecret, tr.basicUser)
	}
	if tr.userAgent != "Userdesk/test-1.2.3" {
		t.Errorf("token request User-Agent = %q", tr.userAgent)
	}
}

func TestDefaultUserAgent(t *testing.T) {
	var ua atomic.Value
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua.Store(r.UserAgent())
		w.WriteHeader(http.StatusNoContent)
	}))
	if err := f.client(t).Users.Delete(context.Background(), "auth0|x"); err != nil {
		t.Fatal(err)
	}
	if got, _ := ua.Load().(string); !strings.HasPrefix(got, "Userdesk/") || len(got) <= len("Userdesk/") {
		t.Errorf("User-Agent = %q, want Userdesk/<version>", got)
	}
}

// TestTokenRefresh: a long-lived token is fetched once for many sequential calls; a token that
// has expired by the next call (fake clock) is fetched again, and each call uses the newest.
func TestTokenRefresh(t *testing.T) {
	for _, tc := range []struct {
		expiresIn  int
		step       time.Duration
		wantCalls  int32
		wantTokens []string
	}{
		{3600, 10 * time.Minute, 1, []string{"access-token-1-sentinel", "access-token-1-sentinel", "access-token-1-sentinel"}},
		{5, 6 * time.Second, 3, []string{"access-token-1-sentinel", "access-token-2-sentinel", "access-token-3-sentinel"}},
	} {
		t.Run("expires_in="+strconv.Itoa(tc.expiresIn), func(t *testing.T) {
			var got []string
			f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = append(got, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
				writeJSON(w, 200, userJSON)
			}))
			f.expiresIn = tc.expiresIn
			clk := newFakeClock()
			c := f.client(t, WithClock(clk.Now))
			for range 3 {
				if _, err := c.Users.Get(context.Background(), "auth0|1"); err != nil {
					t.Fatal(err)
				}
				clk.Advance(tc.step)
			}
			if n := f.tokenCalls.Load(); n != tc.wantCalls {
				t.Errorf("token fetches = %d, want %d", n, tc.wantCalls)
			}
			if !reflect.DeepEqual(got, tc.wantTokens) {
				t.Errorf("tokens used = %v, want %v", got, tc.wantTokens)
			}
		})
	}
}

// TestTokenFetchOutlivesCallerContext: the first caller gives up while the token is being fetched;
// the fetch is not bound to that caller's context, completes, and serves the next call without a
// second fetch.
func TestTokenFetchOutlivesCallerContext(t *testing.T) {
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, userJSON) }))
	f.tokenDelay = 300 * time.Millisecond
	c := f.client(t)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := c.Users.Get(ctx, "auth0|1")
	var te *TokenError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want *TokenError wrapping context.DeadlineExceeded", err)
	}
	if _, err := c.Users.Get(context.Background(), "auth0|1"); err != nil {
		t.Fatal(err)
	}
	if n := f.tokenCalls.Load(); n != 1 {
		t.Errorf("token fetches = %d, want 1 (the abandoned fetch should have been reused)", n)
	}
}

// TestAPIErrors maps Auth0 error answers to *Error fields and sentinels.
func TestAPIErrors(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	all := []error{ErrNotFound, ErrConflict, ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrInsufficientScope, ErrRateLimited, ErrUnavailable}
	cases := []struct {
		name    string
		status  int
		headers map[string]string
		body    string
		want    Error
		is      []error
		scope   string
		text    string // expected Error()
	}{
		{
			name: "404", status: 404,
			body: `{"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"}`,
			want: Error{StatusCode: 404, Err: "Not Found", Message: "The user does not exist.", ErrorCode: "inexistent_user"},
			is:   []error{ErrNotFound},
			text: "mgmt: 404 Not Found: The user does not exist. (inexistent_user)",
		},
		{
			name: "409", status: 409,
			body: `{"statusCode":409,"error":"Conflict","message":"The user already exists.","errorCode":"auth0_idp_error"}`,
			want: Error{StatusCode: 409, Err: "Conflict", Message: "The user already exists.", ErrorCode: "auth0_idp_error"},
			is:   []error{ErrConflict},
			text: "mgmt: 409 Conflict: The user already exists. (auth0_idp_error)",
		},
		{
			name: "400", status: 400,
			body: `{"statusCode":400,"error":"Bad Request","message":"PasswordStrengthError: Password is too weak"}`,
			want: Error{StatusCode: 400, Err: "Bad Request", Message: "PasswordStrengthError: Password is too weak"},
			is:   []error{ErrBadRequest},
			text: "mgmt: 400 Bad Request: PasswordStrengthError: Password is too weak",
		},
		{
			name: "401", status: 401,
			body: `{"statusCode":401,"error":"Unauthorized","message":"Expired token received for JSON Web Token validation","attributes":{"error":"Expired token received for JSON Web Token validation"}}`,
			want: Error{StatusCode: 401, Err: "Unauthorized", Message: "Expired token received for JSON Web Token validation"},
			is:   []error{ErrUnauthorized},
			text: "mgmt: 401 Unauthorized: Expired token received for JSON Web Token validation",
		},
		{
			name: "403 insufficient scope", status: 403,
			body:  `{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: read:users","errorCode":"insufficient_scope"}`,
			want:  Error{StatusCode: 403, Err: "Forbidden", Message: "Insufficient scope, expected any of: read:users", ErrorCode: "insufficient_scope"},
			is:    []error{ErrForbidden, ErrInsufficientScope},
			scope: "read:users",
			text:  "mgmt: 403 Forbidden: Insufficient scope, expected any of: read:users (insufficient_scope)",
		},
		{
			name: "403 scope without errorCode", status: 403,
			body:  `{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: update:users, update:users_app_metadata"}`,
			want:  Error{StatusCode: 403, Err: "Forbidden", Message: "Insufficient scope, expected any of: update:users, update:users_app_metadata"},
			is:    []error{ErrForbidden, ErrInsufficientScope},
			scope: "update:users, update:users_app_metadata",
			text:  "mgmt: 403 Forbidden: Insufficient scope, expected any of: update:users, update:users_app_metadata",
		},
		{
			name: "403 other", status: 403,
			body: `{"statusCode":403,"error":"Forbidden","message":"There must be a verified credit card on file to perform this operation","errorCode":"operation_not_supported"}`,
			want: Error{StatusCode: 403, Err: "Forbidden", Message: "There must be a verified credit card on file to perform this operation", ErrorCode: "operation_not_supported"},
			is:   []error{ErrForbidden},
			text: "mgmt: 403 Forbidden: There must be a verified credit card on file to perform this operation (operation_not_supported)",
		},
		{
			name: "429 x-ratelimit-reset", status: 429,
			headers: map[string]string{"X-Ratelimit-Limit": "10", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": strconv.FormatInt(now.Add(30*time.Second).Unix(), 10)},
			body:    `{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached","errorCode":"too_many_requests"}`,
			want:    Error{StatusCode: 429, Err: "Too Many Requests", Message: "Global limit has been reached", ErrorCode: "too_many_requests", RetryAfter: 30 * time.Second},
			is:      []error{ErrRateLimited},
			text:    "mgmt: 429 Too Many Requests: Global limit has been reached (too_many_requests) [retry after 30s]",
		},
		{
			name: "429 Retry-After seconds wins", status: 429,
			headers: map[string]string{"Retry-After": "7", "X-Ratelimit-Reset": strconv.FormatInt(now.Add(30*time.Second).Unix(), 10)},
			body:    `{"statusCode":429,"error":"Too Many Requests","message":"Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers."}`,
			want:    Error{StatusCode: 429, Err: "Too Many Requests", Message: "Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers.", RetryAfter: 7 * time.Second},
			is:      []error{ErrRateLimited},
			text:    "mgmt: 429 Too Many Requests: Too many requests. Check the X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset headers. [retry after 7s]",
		},
		{
			name: "429 Retry-After date", status: 429,
			headers: map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)},
			body:    `{"statusCode":429,"error":"Too Many Requests","message":"slow down"}`,
			want:    Error{StatusCode: 429, Err: "Too Many Requests", Message: "slow down", RetryAfter: 90 * time.Second},
			is:      []error{ErrRateLimited},
			text:    "mgmt: 429 Too Many Requests: slow down [retry after 1m30s]",
		},
		{
			name: "503 search timeout", status: 503,
			body: `{"statusCode":503,"error":"Service Unavailable","message":"The query exceeded the timeout. Please try refining your search criteria."}`,
			want: Error{StatusCode: 503, Err: "Service Unavailable", Message: "The query exceeded the timeout. Please try refining your search criteria."},
			is:   []error{ErrUnavailable},
			text: "mgmt: 503 Service Unavailable: The query exceeded the timeout. Please try refining your search criteria.",
		},
		{
			name: "502 non-JSON body", status: 502,
			body: "<html><body>Bad gateway from the proxy</body></html>",
			want: Error{StatusCode: 502, Err: "Bad Gateway"},
			is:   []error{ErrUnavailable},
			text: "mgmt: 502 Bad Gateway",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.headers {
					w.Header().Set(k, v)
				}
				if strings.HasPrefix(tc.body, "{") {
					writeJSON(w, tc.status, tc.body)
					return
				}
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			// No retries: this test is about how one answer maps to *Error (retries: resilience_test.go).
			c := f.client(t, WithClock(func() time.Time { return now }), WithMaxRetries(0))
			_, err := c.Users.List(context.Background(), ListUsersParams{})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if *e != tc.want {
				t.Errorf("Error = %+v, want %+v", *e, tc.want)
			}
			if e.Status() != tc.status {
				t.Errorf("Status() = %d", e.Status())
			}
			for _, s := range all {
				want := false
				for _, w := range tc.is {
					want = want || w == s
				}
				if errors.Is(err, s) != want {
					t.Errorf("errors.Is(err, %v) = %v, want %v", s, !want, want)
				}
			}
			if got := e.MissingScope(); got != tc.scope {
				t.Errorf("MissingScope() = %q, want %q", got, tc.scope)
			}
			if got := err.Error(); got != tc.text {
				t.Errorf("Error() = %q, want %q", got, tc.text)
			}
		})
	}
}

func TestMissingScopeWordings(t *testing.T) {
	for msg, want := range map[string]string{
		"Insufficient scope, expected any of: read:users":                            "read:users",
		"Insufficient scope; expected any of: `create:users`.":                       "create:users",
		"Insufficient scope, expected any of: read:users, read:user_idp_tokens":      "read:users, read:user_idp_tokens",
		"Insufficient scope, expected all of: delete:sessions,delete:refresh_tokens": "delete:sessions and delete:refresh_tokens",
		"Insufficient scope": "",
		"Client is not authorized to access this resource, expected any of: a:b": "",
	} {
		e := &Error{StatusCode: 403, Err: "Forbidden", Message: msg}
		if got := e.MissingScope(); got != want {
			t.Errorf("MissingScope(%q) = %q, want %q", msg, got, want)
		}
	}
	if got := (&Error{StatusCode: 400, Message: "Insufficient scope, expected any of: read:users"}).MissingScope(); got != "" {
		t.Errorf("MissingScope on a 400 = %q, want empty", got)
	}
}

// TestTokenEndpointErrors: a failing /oauth/token yields *TokenError with a safe message and the
// matching sentinel, and the API is never called.
func TestTokenEndpointErrors(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		is     error
		code   string
		desc   string
	}{
		{"wrong secret", 401, `{"error":"access_denied","error_description":"Unauthorized"}`, ErrUnauthorized, "access_denied", "Unauthorized"},
		{"no client grant", 403, `{"error":"access_denied","error_description":"Client is not authorized to access \"https://x/api/v2/\". You need to create a \"client-grant\" associated to this API."}`, ErrUnauthorized, "access_denied", `Client is not authorized to access "https://x/api/v2/". You need to create a "client-grant" associated to this API.`},
		{"rate limited", 429, `{"error":"too_many_requests","error_description":"Client quota exceeded"}`, ErrRateLimited, "too_many_requests", "Client quota exceeded"},
		{"down", 503, `upstream connect error`, ErrUnavailable, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var apiCalls atomic.Int32
			f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { apiCalls.Add(1) }))
			f.tokenFail = func(w http.ResponseWriter, r *http.Request) bool {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
				return true
			}
			_, err := f.client(t).Users.Get(context.Background(), "auth0|1")
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("err = %v (%T), want *TokenError", err, err)
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(err, %v) = false", tc.is)
			}
			var apiErr *Error
			if errors.As(err, &apiErr) {
				t.Errorf("token failure also matches *Error: %v", apiErr)
			}
			if te.StatusCode != tc.status || te.ErrorCode != tc.code || te.Description != tc.desc {
				t.Errorf("TokenError = {%d %q %q}, want {%d %q %q}", te.StatusCode, te.ErrorCode, te.Description, tc.status, tc.code, tc.desc)
			}
			if !strings.HasPrefix(err.Error(), "mgmt: fetching Management API token: "+strconv.Itoa(tc.status)) {
				t.Errorf("Error() = %q", err.Error())
			}
			if n := apiCalls.Load(); n != 0 {
				t.Errorf("API called %d times without a token", n)
			}
		})
	}
}

// TestIDsArePathEscaped: user IDs reach the server escaped (as Auth0 expects) and a Go 1.22 pattern
// on the server recovers the exact ID.
func TestIDsArePathEscaped(t *testing.T) {
	type seen struct{ method, escaped, id string }
	var (
		mu  sync.Mutex
		got []seen
	)
	mux := http.NewServeMux()
	h := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, seen{r.Method, r.URL.EscapedPath(), r.PathValue("id")})
		mu.Unlock()
		if r.Method == http.MethodDelete {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, 200, userJSON)
	}
	mux.HandleFunc("GET /api/v2/users/{id}", h)
	mux.HandleFunc("PATCH /api/v2/users/{id}", h)
	mux.HandleFunc("DELETE /api/v2/users/{id}", h)
	c := newFake(t, mux).client(t)
	ctx := context.Background()

	for id, wire := range map[string]string{
		"auth0|abc":              "/api/v2/users/auth0%7Cabc",
		"oauth2|a/b":             "/api/v2/users/oauth2%7Ca%2Fb",
		"samlp|conn|user@x.com":  "/api/v2/users/samlp%7Cconn%7Cuser@x.com",
		"sms|+15551234567":       "/api/v2/users/sms%7C+15551234567",
		"weird id?x=1#frag%2F..": "/api/v2/users/weird%20id%3Fx=1%23frag%252F..",
		"../connections":         "/api/v2/users/..%2Fconnections",
	} {
		got = nil
		if _, err := c.Users.Get(ctx, id); err != nil {
			t.Fatalf("Get(%q): %v", id, err)
		}
		name := "x"
		if _, err := c.Users.Update(ctx, id, &UserUpdate{Name: &name}); err != nil {
			t.Fatalf("Update(%q): %v", id, err)
		}
		if err := c.Users.Delete(ctx, id); err != nil {
			t.Fatalf("Delete(%q): %v", id, err)
		}
		want := []seen{{"GET", wire, id}, {"PATCH", wire, id}, {"DELETE", wire, id}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("id %q: server saw %+v, want %+v", id, got, want)
		}
	}

	got = nil
	for _, id := range []string{"", ".", ".."} {
		if _, err := c.Users.Get(ctx, id); err == nil {
			t.Errorf("Get(%q) succeeded", id)
		}
		if _, err := c.Users.Update(ctx, id, &UserUpdate{}); err == nil {
			t.Errorf("Update(%q) succeeded", id)
		}
		if err := c.Users.Delete(ctx, id); err == nil {
			t.Errorf("Delete(%q) succeeded", id)
		}
	}
	if len(got) != 0 {
		t.Errorf("invalid IDs reached the server: %+v", got)
	}
}

// TestRequestShapes: query parameters, bodies and Content-Type of each method.
func TestRequestShapes(t *testing.T) {
	type req struct {
		method, path, query, ctype, body string
	}
	var last req
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		last = req{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Content-Type"), string(b)}
		switch {
		case r.URL.Path == "/api/v2/users" && r.Method == http.MethodGet:
			writeJSON(w, 200, `{"start":0,"limit":50,"length":1,"total":1,"users":[`+userJSON+`]}`)
		case r.URL.Path == "/api/v2/users" && r.Method == http.MethodPost:
			writeJSON(w, 201, userJSON)
		case r.URL.Path == "/api/v2/users-by-email":
			writeJSON(w, 200, `[`+userJSON+`]`)
		case r.URL.Path == "/api/v2/connections":
			writeJSON(w, 200, `{"total":1,"start":0,"limit":50,"connections":[{"id":"con_1","name":"db","strategy":"auth0","is_domain_connection":false}]}`)
		default:
			writeJSON(w, 200, userJSON)
		}
	}))
	c := f.client(t)
	ctx := context.Background()
	check := func(what string, want req) {
		t.Helper()
		if want.body != "" {
			var g, w any
			if json.Unmarshal([]byte(last.body), &g) != nil || json.Unmarshal([]byte(want.body), &w) != nil || !reflect.DeepEqual(g, w) {
				t.Errorf("%s: body %s, want %s", what, last.body, want.body)
			}
			last.body, want.body = "", ""
		}
		if last != want {
			t.Errorf("%s: sent %+v, want %+v", what, last, want)
		}
	}

	list, err := c.Users.List(ctx, ListUsersParams{})
	if err != nil || list.Total != 1 || len(list.Users) != 1 || list.Users[0].UserID != "auth0|63d17c4a8869daf88ed7db97" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	check("List defaults", req{"GET", "/api/v2/users", "include_totals=true&per_page=50", "", ""})

	if _, err := c.Users.List(ctx, ListUsersParams{Q: `email:"jane@example.com"`, Page: 2, PerPage: 100, Sort: "created_at:-1"}); err != nil {
		t.Fatal(err)
	}
	check("List search", req{"GET", "/api/v2/users",
		"include_totals=true&page=2&per_page=100&q=email%3A%22jane%40example.com%22&search_engine=v3&sort=created_at%3A-1", "", ""})

	users, err := c.Users.ListByEmail(ctx, "jane+tag@example.com")
	if err != nil || len(users) != 1 {
		t.Fatalf("ListByEmail = %v, %v", users, err)
	}
	check("ListByEmail", req{"GET", "/api/v2/users-by-email", "email=jane%2Btag%40example.com", "", ""})

	verified := false
	u, err := c.Users.Create(ctx, &UserCreate{Connection: "Username-Password-Authentication", Email: "chuck@example.com", Password: "pw", EmailVerified: &verified})
	if err != nil || u.UserID != "auth0|63d17c4a8869daf88ed7db97" {
		t.Fatalf("Create = %+v, %v", u, err)
	}
	check("Create", req{"POST", "/api/v2/users", "", "application/json",
		`{"connection":"Username-Password-Authentication","email":"chuck@example.com","password":"pw","email_verified":false}`})

	blocked := true
	if _, err := c.Users.Update(ctx, "auth0|1", &UserUpdate{Blocked: &blocked, AppMetadata: map[string]any{"plan": "gold", "old": nil}}); err != nil {
		t.Fatal(err)
	}
	check("Update", req{"PATCH", "/api/v2/users/auth0%7C1", "", "application/json", `{"blocked":true,"app_metadata":{"plan":"gold","old":null}}`})

	if _, err := c.Users.Get(ctx, "auth0|1"); err != nil {
		t.Fatal(err)
	}
	check("Get", req{"GET", "/api/v2/users/auth0%7C1", "", "", ""})

	conns, err := c.Connections.List(ctx, ListConnectionsParams{Strategy: []string{"auth0", "google-oauth2"}, Name: "db", Fields: []string{"id", "name"}, Page: 1, PerPage: 10})
	if err != nil || conns.Total != 1 || conns.Connections[0].Name != "db" {
		t.Fatalf("Connections.List = %+v, %v", conns, err)
	}
	check("Connections.List", req{"GET", "/api/v2/connections",
		"fields=id%2Cname&include_fields=true&include_totals=true&name=db&page=1&per_page=10&strategy=auth0&strategy=google-oauth2", "", ""})
}

// TestPerCallDeadline: a hanging Auth0 costs a caller no more than the call timeout (or its own,
// shorter deadline), and the error wraps context.DeadlineExceeded.
func TestPerCallDeadline(t *testing.T) {
	// Bounded, so that a client without a deadline fails the elapsed-time check instead of hanging.
	hang := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
	})

	t.Run("client timeout", func(t *testing.T) {
		c := newFake(t, hang).client(t, WithTimeout(200*time.Millisecond))
		start := time.Now()
		_, err := c.Users.Get(context.Background(), "auth0|1")
		assertDeadline(t, err, time.Since(start), 200*time.Millisecond)
		var apiErr *Error
		if errors.As(err, &apiErr) {
			t.Errorf("a timeout must not look like an API answer: %v", apiErr)
		}
	})
	t.Run("caller deadline sooner than default", func(t *testing.T) {
		c := newFake(t, hang).client(t) // default 10 s
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Users.List(ctx, ListUsersParams{})
		assertDeadline(t, err, time.Since(start), 100*time.Millisecond)
	})
	t.Run("hanging token endpoint", func(t *testing.T) {
		f := newFake(t, hang)
		f.tokenDelay = time.Minute
		c := f.client(t, WithTimeout(150*time.Millisecond))
		start := time.Now()
		_, err := c.Users.Get(context.Background(), "auth0|1")
		assertDeadline(t, err, time.Since(start), 150*time.Millisecond)
		var te *TokenError
		if !errors.As(err, &te) {
			t.Errorf("err = %T, want *TokenError", err)
		}
	})
}

func assertDeadline(t *testing.T, err error, elapsed, deadline time.Duration) {
	t.Helper()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want it to wrap context.DeadlineExceeded", err)
	}
	if elapsed < deadline || elapsed > deadline+time.Second {
		t.Errorf("returned after %s, want about %s", elapsed, deadline)
	}
}

// TestSecretsNeverInErrors: even when a server echoes the credentials it received, no error string
// (nor %+v / %#v rendering) carries the access token, the client secret or the Basic credential.
func TestSecretsNeverInErrors(t *testing.T) {
	basic := base64.StdEncoding.EncodeToString([]byte(testClientID + ":" + testClientSecret))
	echoAPI := func(status int, jsonBody bool) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			auth := r.Header.Get("Authorization")
			tok := strings.TrimPrefix(auth, "Bearer ")
			if jsonBody {
				b, _ := json.Marshal(map[string]any{"statusCode": status, "error": "Echo " + tok, "message": "you sent " + auth, "errorCode": "code_" + tok})
				writeJSON(w, status, string(b))
				return
			}
			w.WriteHeader(status)
			io.WriteString(w, "proxy error for "+auth)
		})
	}
	run := func(t *testing.T, f *fakeAuth0) {
		t.Helper()
		c := f.client(t)
		ctx := context.Background()
		calls := []func() error{
			func() error { _, err := c.Users.Get(ctx, "auth0|1"); return err },
			func() error { _, err := c.Users.List(ctx, ListUsersParams{Q: "x"}); return err },
			func() error { _, err := c.Users.Create(ctx, &UserCreate{Connection: "c"}); return err },
			func() error { return c.Users.Delete(ctx, "auth0|1") },
		}
		for i, call := range calls {
			err := call()
			if err == nil {
				t.Fatalf("call %d: no error", i)
			}
			for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				for _, secret := range []string{"access-token-1-sentinel", testClientSecret, basic} {
					if strings.Contains(s, secret) {
						t.Errorf("call %d: error text contains a secret: %s", i, s)
					}
				}
			}
		}
	}
	t.Run("API echoes bearer in JSON error", func(t *testing.T) { run(t, newFake(t, echoAPI(400, true))) })
	t.Run("API echoes bearer in 403", func(t *testing.T) { run(t, newFake(t, echoAPI(403, true))) })
	t.Run("proxy echoes bearer in HTML", func(t *testing.T) { run(t, newFake(t, echoAPI(502, false))) })
	t.Run("token endpoint echoes credentials", func(t *testing.T) {
		f := newFake(t, echoAPI(200, true))
		f.tokenFail = func(w http.ResponseWriter, r *http.Request) bool {
			b, _ := json.Marshal(map[string]string{
				"error":             "invalid_client " + r.PostForm.Get("client_secret"),
				"error_description": "bad credentials: " + r.Header.Get("Authorization") + " / " + r.PostForm.Get("client_secret"),
			})
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(401)
			w.Write(b)
			return true
		}
		run(t, f)
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.tokenReqs) == 0 {
			t.Fatal("token endpoint never called")
		}
	})
}

func TestEmptySuccessBodyIsAnError(t *testing.T) {
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	u, err := f.client(t).Users.Get(context.Background(), "auth0|1")
	if err == nil {
		t.Fatalf("Get on an empty 200 returned %+v and no error", u)
	}
}

func TestDeleteAnswers204(t *testing.T) {
	var method string
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method = r.Method
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusNoContent)
	}))
	if err := f.client(t).Users.Delete(context.Background(), "auth0|gone"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if method != http.MethodDelete {
		t.Errorf("method = %s", method)
	}
}

func TestUserJSON(t *testing.T) {
	in := `{"user_id":"github|1","email_verified":"true","phone_verified":"false",` +
		`"created_at":"2023-04-18T19:25:53.100Z","last_login":"2025-01-08T06:16:17.000Z",` +
		`"identities":[{"connection":"github","user_id":12345,"provider":"github","isSocial":true,` +
		`"access_token":"gho_idp_secret","access_token_secret":"s","refresh_token":"r","profileData":{"login":"octo"},"expires_in":3600}],` +
		`"locale":"en","emails":["a@b.c"],"multifactor_last_modified":"2024-01-01T00:00:00.000Z"}`
	var u User
	if err := json.Unmarshal([]byte(in), &u); err != nil {
		t.Fatal(err)
	}
	if u.EmailVerified == nil || !*u.EmailVerified || u.PhoneVerified == nil || *u.PhoneVerified {
		t.Errorf("verified flags = %v %v", u.EmailVerified, u.PhoneVerified)
	}
	if got := u.Identities[0].UserID; got != "12345" {
		t.Errorf("numeric identity user_id = %q", got)
	}
	if len(u.Extra) != 3 || string(u.Extra["locale"]) != `"en"` {
		t.Errorf("Extra = %v", u.Extra)
	}
	if _, ok := u.Identities[0].Extra["expires_in"]; !ok || len(u.Identities[0].Extra) != 1 {
		t.Errorf("identity Extra = %v, want only expires_in", u.Identities[0].Extra)
	}
	out, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "gho_idp_secret") || strings.Contains(string(out), "refresh_token") {
		t.Errorf("IdP tokens survived: %s", out)
	}
	// Booleans come back as booleans; everything else as received, minus the IdP tokens.
	want := `{"user_id":"github|1","email_verified":true,"phone_verified":false,` +
		`"created_at":"2023-04-18T19:25:53.100Z","last_login":"2025-01-08T06:16:17.000Z",` +
		`"identities":[{"connection":"github","user_id":12345,"provider":"github","isSocial":true,"profileData":{"login":"octo"},"expires_in":3600}],` +
		`"locale":"en","emails":["a@b.c"],"multifactor_last_modified":"2024-01-01T00:00:00.000Z"}`
	requireSameJSON(t, "user", []byte(want), out)
	if !strings.Contains(string(out), `"created_at":"2023-04-18T19:25:53.100Z"`) {
		t.Errorf("timestamp not in Auth0's layout: %s", out)
	}

	// An Extra key that collides with a field does not produce a duplicate key.
	u2 := User{Email: "a@b.c", Extra: map[string]json.RawMessage{"email": json.RawMessage(`"evil@x"`), "z": nil}}
	out, err = json.Marshal(u2)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"email":"a@b.c","z":null}` {
		t.Errorf("Marshal = %s", out)
	}
	// A bad boolean is an error, not a silent false.
	if err := json.Unmarshal([]byte(`{"email_verified":"yes please"}`), &u); err == nil {
		t.Error("email_verified \"yes please\" accepted")
	}
}

// TestKnownKeysMatchTags keeps the hand-written key lists of json.go in step with the struct tags.
func TestKnownKeysMatchTags(t *testing.T) {
	for _, tc := range []struct {
		typ   any
		known func(string) bool
	}{{User{}, isUserKey}, {Identity{}, isIdentityKey}, {Connection{}, isConnectionKey}} {
		rt := reflect.TypeOf(tc.typ)
		tags := map[string]bool{}
		for i := range rt.NumField() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			tags[name] = true
			if !tc.known(name) {
				t.Errorf("%s: tag %q not in the known-key list", rt.Name(), name)
			}
		}
		// The reverse direction: every key the list accepts is a tag.
		probe := []string{"user_id", "email", "email_verified", "username", "phone_number", "phone_verified", "name",
			"given_name", "family_name", "nickname", "picture", "blocked", "identities", "user_metadata",
			"app_metadata", "created_at", "updated_at", "last_login", "last_ip", "logins_count",
			"last_password_reset", "multifactor", "connection", "provider", "isSocial", "profileData", "id",
			"display_name", "strategy", "options", "enabled_clients", "realms", "is_domain_connection", "metadata"}
		for _, k := range probe {
			if tc.known(k) && !tags[k] {
				t.Errorf("%s: known key %q has no field", rt.Name(), k)
			}
		}
	}
}
