package mgmt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable clock whose Sleep advances it instantly and records the wait.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
}

// newFakeClock starts on a whole second, so x-ratelimit-reset (Unix seconds) is exact.
func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.slept = append(c.slept, d)
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return nil
}

func (c *fakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.slept)
}

// recMetrics records every Metrics call as a line of text.
type recMetrics struct {
	mu    sync.Mutex
	lines []string
}

func (m *recMetrics) add(format string, args ...any) {
	m.mu.Lock()
	m.lines = append(m.lines, fmt.Sprintf(format, args...))
	m.mu.Unlock()
}

func (m *recMetrics) TokenFetch(ok bool, _ time.Duration) { m.add("token ok=%v", ok) }
func (m *recMetrics) Call(endpoint, method string, status int, _ time.Duration) {
	m.add("call %s %s %d", method, endpoint, status)
}
func (m *recMetrics) RateLimited(endpoint string)   { m.add("429 %s", endpoint) }
func (m *recMetrics) Retry(endpoint, reason string) { m.add("retry %s %s", endpoint, reason) }
func (m *recMetrics) BreakerState(s BreakerState)   { m.add("breaker %s", s) }
func (m *recMetrics) Wait(endpoint, reason string, d time.Duration) {
	m.add("wait %s %s", endpoint, reason)
}

func (m *recMetrics) Lines() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.lines)
}

func (m *recMetrics) Count(prefix string) int {
	n := 0
	for _, l := range m.Lines() {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// TestExpiredTokenOneRefresh: once the token has expired, 500 concurrent calls cause exactly one
// more POST /oauth/token, and every call uses the new token.
func TestExpiredTokenOneRefresh(t *testing.T) {
	var mu sync.Mutex
	auths := map[string]int{}
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths[r.Header.Get("Authorization")]++
		mu.Unlock()
		writeJSON(w, 200, userJSON)
	}))
	f.expiresIn = 3600
	clk := newFakeClock()
	c := f.client(t, WithClock(clk.Now))
	if _, err := c.Users.Get(context.Background(), "auth0|1"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour + time.Second)
	f.tokenDelay = 50 * time.Millisecond

	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 500 {
		wg.Go(func() {
			if _, err := c.Users.Get(context.Background(), "auth0|1"); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d calls failed", n)
	}
	if n := f.tokenCalls.Load(); n != 2 {
		t.Errorf("token fetches = %d, want 2 (the first and one refresh)", n)
	}
	if auths["Bearer access-token-2-sentinel"] != 500 {
		t.Errorf("Authorization headers seen: %v", auths)
	}
}

// TestEarlyRefresh: a token is refreshed min(window, 10% of its lifetime) before expiry, in the
// background: the call that notices uses the current token and does not wait, and the next call
// uses the new one. Before that point no fetch happens.
func TestEarlyRefresh(t *testing.T) {
	for _, tc := range []struct {
		name      string
		expiresIn int
		window    time.Duration
		before    time.Duration // age at which no refresh may happen
		after     time.Duration // age at which the refresh must start
	}{
		{"24h token, 5 min window", 86400, 5 * time.Minute, 86400*time.Second - 6*time.Minute, 86400*time.Second - 4*time.Minute},
		{"100 s token, 10% of lifetime", 100, 5 * time.Minute, 89 * time.Second, 91 * time.Second},
		{"24h token, 1 min window", 86400, time.Minute, 86400*time.Second - 2*time.Minute, 86400*time.Second - 50*time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var last atomic.Value
			f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				last.Store(r.Header.Get("Authorization"))
				writeJSON(w, 200, userJSON)
			}))
			f.expiresIn = tc.expiresIn
			clk := newFakeClock()
			start := clk.Now()
			c := f.client(t, WithClock(clk.Now), WithTokenRefreshWindow(tc.window))
			get := func() string {
				t.Helper()
				if _, err := c.Users.Get(context.Background(), "auth0|1"); err != nil {
					t.Fatal(err)
				}
				return last.Load().(string)
			}
			get()
			clk.Advance(tc.before - clk.Now().Sub(start))
			if got := get(); got != "Bearer access-token-1-sentinel" || f.tokenCalls.Load() != 1 {
				t.Fatalf("before the window: token %s, %d fetches", got, f.tokenCalls.Load())
			}
			clk.Advance(tc.after - clk.Now().Sub(start))
			f.tokenDelay = 100 * time.Millisecond
			began := time.Now()
			if got := get(); got != "Bearer access-token-1-sentinel" {
				t.Errorf("in the window the call should use the current token, used %s", got)
			}
			if waited := time.Since(began); waited > 80*time.Millisecond {
				t.Errorf("the call waited %s for the background refresh", waited)
			}
			waitFor(t, func() bool {
				return f.tokenCalls.Load() == 2 && c.core.tokens.cur.Load().AccessToken == "access-token-2-sentinel"
			})
			if got := get(); got != "Bearer access-token-2-sentinel" {
				t.Errorf("after the refresh: %s", got)
			}
			if n := f.tokenCalls.Load(); n != 2 {
				t.Errorf("token fetches = %d, want 2", n)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 3 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTokenEndpointFailureBackoff: a failing token endpoint is asked once by 500 concurrent
// callers, who all get a *TokenError at once; further calls get the remembered error (with
// RetryAfter) without a POST until the backoff (1 s, 2 s, 4 s …) has passed; a success resets it.
func TestTokenEndpointFailureBackoff(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, userJSON) }))
	f.tokenFail = func(w http.ResponseWriter, r *http.Request) bool {
		if !failing.Load() {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(503)
		io.WriteString(w, `{"error":"temporarily_unavailable","error_description":"try later"}`)
		return true
	}
	f.tokenDelay = 50 * time.Millisecond
	clk := newFakeClock()
	c := f.client(t, WithClock(clk.Now))
	call := func() error { _, err := c.Users.Get(context.Background(), "auth0|1"); return err }

	began := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 500)
	for range 500 {
		wg.Go(func() { errs <- call() })
	}
	wg.Wait()
	close(errs)
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("500 callers took %s to get their error", d)
	}
	for err := range errs {
		var te *TokenError
		if !errors.As(err, &te) || !errors.Is(err, ErrUnavailable) || te.StatusCode != 503 {
			t.Fatalf("err = %v, want *TokenError 503 matching ErrUnavailable", err)
		}
	}
	if n := f.tokenCalls.Load(); n != 1 {
		t.Fatalf("500 callers caused %d token requests, want 1", n)
	}

	f.tokenDelay = 0
	steps := []struct {
		advance    time.Duration
		wantCalls  int32
		retryAfter time.Duration // of the error the call gets
	}{
		{500 * time.Millisecond, 1, 500 * time.Millisecond}, // inside the 1 s backoff
		{500 * time.Millisecond, 2, 2 * time.Second},        // 1 s passed: one attempt, backoff now 2 s
		{1900 * time.Millisecond, 2, 100 * time.Millisecond},
		{100 * time.Millisecond, 3, 4 * time.Second},
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		err := call()
		var te *TokenError
		if !errors.As(err, &te) {
			t.Fatalf("step %d: err = %v", i, err)
		}
		if n := f.tokenCalls.Load(); n != s.wantCalls {
			t.Errorf("step %d: token requests = %d, want %d", i, n, s.wantCalls)
		}
		if te.RetryAfter != s.retryAfter || RetryAfter(err) != s.retryAfter {
			t.Errorf("step %d: RetryAfter = %s, want %s", i, te.RetryAfter, s.retryAfter)
		}
		if !strings.Contains(err.Error(), "[retry after") || strings.Contains(err.Error(), testClientSecret) {
			t.Errorf("step %d: Error() = %q", i, err.Error())
		}
	}

	failing.Store(false)
	clk.Advance(4 * time.Second)
	if err := call(); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	// The success reset the backoff: the next failure waits 1 s again.
	failing.Store(true)
	clk.Advance(25 * time.Hour) // the token (also in the store) has expired
	err := call()
	var te *TokenError
	if !errors.As(err, &te) || te.RetryAfter != time.Second {
		t.Errorf("after a success the backoff should restart at 1 s: %v", err)
	}
}

// TestTokenEndpointRetryAfter: a 429 from /oauth/token with Retry-After longer than the backoff is
// honoured.
func TestTokenEndpointRetryAfter(t *testing.T) {
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, userJSON) }))
	f.tokenFail = func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Retry-After", "20")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(429)
		io.WriteString(w, `{"error":"too_many_requests","error_description":"Client quota exceeded"}`)
		return true
	}
	clk := newFakeClock()
	c := f.client(t, WithClock(clk.Now))
	_, err := c.Users.Get(context.Background(), "auth0|1")
	if !errors.Is(err, ErrRateLimited) || RetryAfter(err) != 20*time.Second {
		t.Fatalf("err = %v (RetryAfter %s), want rate limited for 20 s", err, RetryAfter(err))
	}
	clk.Advance(19 * time.Second)
	c.Users.Get(context.Background(), "auth0|1")
	if n := f.tokenCalls.Load(); n != 1 {
		t.Errorf("token requests = %d within Retry-After, want 1", n)
	}
}

// TestScopes: the granted scopes come from the token response, sorted; HasScope answers from them;
// a response without "scope" grants nothing; Scopes fetches the token when there is none.
func TestScopes(t *testing.T) {
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, userJSON) }))
	var body atomic.Value
	body.Store(`{"access_token":"tok","expires_in":86400,"token_type":"Bearer","scope":"update:users read:users create:users read:users"}`)
	f.tokenFail = func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body.Load().(string))
		return true
	}
	c := f.client(t)
	got, err := c.Scopes(context.Background())
	if err != nil || !reflect.DeepEqual(got, []string{"create:users", "read:users", "update:users"}) {
		t.Fatalf("Scopes = %v, %v", got, err)
	}
	got[0] = "mutated"
	if !c.HasScope(context.Background(), "create:users") || c.HasScope(context.Background(), "delete:users") {
		t.Error("HasScope disagrees with the granted scopes (or Scopes returned the cache itself)")
	}

	body.Store(`{"access_token":"tok","expires_in":86400,"token_type":"Bearer"}`)
	c2 := f.client(t)
	if got, err := c2.Scopes(context.Background()); err != nil || len(got) != 0 {
		t.Errorf("no scope key: Scopes = %v, %v", got, err)
	}
	if c2.HasScope(context.Background(), "read:users") {
		t.Error("HasScope true without scopes")
	}
}

// TestTokenNeverPrinted: a Token formatted in any way does not show the access token.
func TestTokenNeverPrinted(t *testing.T) {
	tok := &Token{AccessToken: "access-token-1-sentinel", TokenType: "Bearer", Scopes: []string{"read:users"}}
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", *tok, tok, tok, tok), fmt.Sprintf("%+v", struct{ T *Token }{tok})} {
		if strings.Contains(s, "sentinel") {
			t.Errorf("token printed: %s", s)
		}
	}
}

// sharedStore counts Loads and Saves around a MemoryTokenStore.
type sharedStore struct {
	MemoryTokenStore
	loads, saves atomic.Int32
}

func (s *sharedStore) Load(ctx context.Context) (*Token, error) {
	s.loads.Add(1)
	return s.MemoryTokenStore.Load(ctx)
}

func (s *sharedStore) Save(ctx context.Context, t *Token) error {
	s.saves.Add(1)
	return s.MemoryTokenStore.Save(ctx, t)
}

// TestTokenStoreSharedByReplicas: two clients ("replicas") with one TokenStore fetch one token
// between them; the store is consulted only on a miss, not per call.
func TestTokenStoreSharedByReplicas(t *testing.T) {
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, userJSON) }))
	store := &sharedStore{}
	a := f.client(t, WithTokenStore(store))
	b := f.client(t, WithTokenStore(store))
	for range 5 {
		for _, c := range []*Client{a, b} {
			if _, err := c.Users.Get(context.Background(), "auth0|1"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := f.tokenCalls.Load(); n != 1 {
		t.Errorf("token fetches = %d, want 1 for both replicas", n)
	}
	if l, s := store.loads.Load(), store.saves.Load(); l != 2 || s != 1 {
		t.Errorf("store loads/saves = %d/%d, want 2/1", l, s)
	}
}

// rateLimited429 answers 429 with reset headers for the first n API requests, then 200.
func rateLimited429(n int32, reset func() time.Time, retryAfter string) (http.Handler, *atomic.Int32) {
	var calls atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := calls.Add(1)
		w.Header().Set("X-Ratelimit-Limit", "10")
		if k <= n {
			w.Header().Set("X-Ratelimit-Remaining", "0")
			w.Header().Set("X-Ratelimit-Reset", strconv.FormatInt(reset().Unix(), 10))
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			writeJSON(w, 429, `{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached","errorCode":"too_many_requests"}`)
			return
		}
		w.Header().Set("X-Ratelimit-Remaining", "9")
		w.Header().Set("X-Ratelimit-Reset", strconv.FormatInt(reset().Unix(), 10))
		writeJSON(w, 200, userJSON)
	}), &calls
}

// Test429WaitsUntilReset: a 429 with x-ratelimit-reset two seconds ahead → the client waits ≈2 s
// (fake clock) and the retry succeeds; the metrics and the RateLimit snapshot show it.
func Test429WaitsUntilReset(t *testing.T) {
	clk := newFakeClock()
	resetAt := clk.Now().Add(2 * time.Second)
	h, calls := rateLimited429(1, func() time.Time { return resetAt }, "")
	m := &recMetrics{}
	c := newFake(t, h).client(t, WithClock(clk.Now), WithSleep(clk.Sleep), WithMetrics(m))
	u, err := c.Users.Get(context.Background(), "auth0|63d17c4a8869daf88ed7db97")
	if err != nil || u.Email != "chuck@example.com" {
		t.Fatalf("Get = %v, %v", u, err)
	}
	slept := clk.Slept()
	if len(slept) != 1 || slept[0] < 2*time.Second || slept[0] > 2200*time.Millisecond {
		t.Errorf("slept %v, want one wait of ≈2 s", slept)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("API requests = %d, want 2", n)
	}
	for _, want := range []string{"429 /api/v2/users/{id}", "retry /api/v2/users/{id} 429", "wait /api/v2/users/{id} retry", "call GET /api/v2/users/{id} 200"} {
		if m.Count(want) != 1 {
			t.Errorf("metrics %q seen %d times; all: %v", want, m.Count(want), m.Lines())
		}
	}
	rl := c.RateLimit()
	if rl.Limit != 10 || rl.Remaining != 9 || !rl.Reset.Equal(resetAt) || rl.Endpoint != routeUser || rl.Observed.IsZero() {
		t.Errorf("RateLimit() = %+v", rl)
	}
}

// Test429RetryAfterHeader: Retry-After wins over x-ratelimit-reset.
func Test429RetryAfterHeader(t *testing.T) {
	clk := newFakeClock()
	h, _ := rateLimited429(1, func() time.Time { return clk.Now().Add(30 * time.Second) }, "3")
	c := newFake(t, h).client(t, WithClock(clk.Now), WithSleep(clk.Sleep))
	if _, err := c.Users.Get(context.Background(), "auth0|1"); err != nil {
		t.Fatal(err)
	}
	if s := clk.Slept(); len(s) != 1 || s[0] < 3*time.Second || s[0] > 3300*time.Millisecond {
		t.Errorf("slept %v, want ≈3 s", s)
	}
}

// Test429DeadlineNearerThanReset: when the reset is after the call's deadline the client does not
// wait: it returns the typed rate-limit error at once, carrying the wait.
func Test429DeadlineNearerThanReset(t *testing.T) {
	clk := newFakeClock()
	h, calls := rateLimited429(100, func() time.Time { return clk.Now().Add(2 * time.Second) }, "")
	c := newFake(t, h).client(t, WithClock(clk.Now), WithSleep(clk.Sleep))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := c.Users.Get(ctx, "auth0|1")
	var ae *Error
	if !errors.As(err, &ae) || !errors.Is(err, ErrRateLimited) || ae.RetryAfter != 2*time.Second || RetryAfter(err) != 2*time.Second {
		t.Fatalf("err = %v, want *Error 429 with RetryAfter 2s", err)
	}
	if d := time.Since(began); d > 300*time.Millisecond {
		t.Errorf("gave up after %s, want at once", d)
	}
	if n := calls.Load(); n != 1 || len(clk.Slept()) != 0 {
		t.Errorf("requests = %d, sleeps %v; want 1 and none", n, clk.Slept())
	}
}

// Test429BoundedRetries: a 429 that never clears is retried WithMaxRetries times, then returned.
func Test429BoundedRetries(t *testing.T) {
	clk := newFakeClock()
	h, calls := rateLimited429(100, func() time.Time { return clk.Now().Add(time.Second) }, "")
	c := newFake(t, h).client(t, WithClock(clk.Now), WithSleep(clk.Sleep))
	_, err := c.Users.Get(context.Background(), "auth0|1")
	// The reset is a whole Unix second, so after jittered waits it is up to 1 s away.
	if ra := RetryAfter(err); !errors.Is(err, ErrRateLimited) || ra <= 0 || ra > time.Second {
		t.Fatalf("err = %v, want rate limited with RetryAfter in (0, 1s]", err)
	}
	if n := calls.Load(); n != 1+DefaultMaxRetries {
		t.Errorf("requests = %d, want %d", n, 1+DefaultMaxRetries)
	}
	c0 := newFake(t, h).client(t, WithClock(clk.Now), WithSleep(clk.Sleep), WithMaxRetries(0))
	calls.Store(0)
	c0.Users.Get(context.Background(), "auth0|1")
	if n := calls.Load(); n != 1 {
		t.Errorf("WithMaxRetries(0): requests = %d, want 1", n)
	}
}

// TestRetryPolicy: which failures each method retries. Reads (GET) and DELETE retry 502/503/504 and
// transport errors; PATCH and POST retry only 429; nobody retries a 500 or a 4xx.
func TestRetryPolicy(t *testing.T) {
	type fail struct {
		name   string
		status int // 0 = drop the connection
	}
	fails := []fail{{"429", 429}, {"500", 500}, {"502", 502}, {"503", 503}, {"504", 504}, {"drop", 0}, {"404", 404}}
	retried := map[string][]string{
		http.MethodGet:    {"429", "502", "503", "504", "drop"},
		http.MethodDelete: {"429", "502", "503", "504", "drop"},
		http.MethodPatch:  {"429"},
	}
	for method, want := range retried {
		for _, fl := range fails {
			t.Run(method+" "+fl.name, func(t *testing.T) {
				var calls atomic.Int32
				f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if calls.Add(1) == 1 {
						if fl.status == 0 {
							dropConnection(w)
							return
						}
						writeJSON(w, fl.status, `{"statusCode":`+strconv.Itoa(fl.status)+`,"error":"x","message":"y"}`)
						return
					}
					if r.Method == http.MethodDelete {
						w.WriteHeader(204)
						return
					}
					writeJSON(w, 200, userJSON)
				}))
				c := f.client(t)
				var err error
				switch method {
				case http.MethodGet:
					_, err = c.Users.Get(context.Background(), "auth0|1")
				case http.MethodDelete:
					err = c.Users.Delete(context.Background(), "auth0|1")
				case http.MethodPatch:
					name := "n"
					_, err = c.Users.Update(context.Background(), "auth0|1", &UserUpdate{Name: &name})
				}
				shouldRetry := slices.Contains(want, fl.name)
				if shouldRetry && (err != nil || calls.Load() != 2) {
					t.Errorf("want a retry and success: err %v, requests %d", err, calls.Load())
				}
				if !shouldRetry && (err == nil || calls.Load() != 1) {
					t.Errorf("want no retry: err %v, requests %d", err, calls.Load())
				}
			})
		}
	}
}

// dropConnection closes the connection without an answer: the client sees a transport error.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

// userDB is a fake tenant's user table for create tests.
type userDB struct {
	mu    sync.Mutex
	users []User
	posts atomic.Int32
	cids  []string // X-Correlation-ID of each POST
}

func (d *userDB) add(in UserCreate, created time.Time) User {
	d.mu.Lock()
	defer d.mu.Unlock()
	local := in.UserID
	if local == "" {
		local = fmt.Sprintf("%024x", len(d.users)+1)
	}
	u := User{UserID: "auth0|" + local, Email: strings.ToLower(in.Email), CreatedAt: &created,
		Identities: []Identity{{Connection: in.Connection, UserID: local, Provider: "auth0"}}}
	d.users = append(d.users, u)
	return u
}

func (d *userDB) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.users)
}

// handler serves POST /api/v2/users through onPost (commit adds the user), and the lookups.
func (d *userDB) handler(t *testing.T, onPost func(w http.ResponseWriter, r *http.Request, commit func() User)) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/users", func(w http.ResponseWriter, r *http.Request) {
		d.posts.Add(1)
		d.mu.Lock()
		d.cids = append(d.cids, r.Header.Get("X-Correlation-ID"))
		d.mu.Unlock()
		var in UserCreate
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			t.Errorf("bad create body: %v", err)
		}
		onPost(w, r, func() User { return d.add(in, time.Now()) })
	})
	mux.HandleFunc("GET /api/v2/users-by-email", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Correlation-ID") != "" {
			t.Error("a read carried X-Correlation-ID")
		}
		d.mu.Lock()
		out := []User{}
		for _, u := range d.users {
			if u.Email == r.URL.Query().Get("email") {
				out = append(out, u)
			}
		}
		d.mu.Unlock()
		b, _ := json.Marshal(out)
		writeJSON(w, 200, string(b))
	})
	mux.HandleFunc("GET /api/v2/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		defer d.mu.Unlock()
		for _, u := range d.users {
			if u.UserID == r.PathValue("id") {
				b, _ := json.Marshal(u)
				writeJSON(w, 200, string(b))
				return
			}
		}
		writeJSON(w, 404, `{"statusCode":404,"error":"Not Found","message":"The user does not exist.","errorCode":"inexistent_user"}`)
	})
	return mux
}

// TestCreateNeverDuplicates: a create whose answer is lost is never resent; the client looks the
// user up and reports the outcome.
func TestCreateNeverDuplicates(t *testing.T) {
	const conn = "Username-Password-Authentication"
	in := func() *UserCreate {
		return &UserCreate{Connection: conn, Email: "Jane@Example.com", Password: "Passw0rd!"}
	}
	var first429 atomic.Bool
	cases := []struct {
		name        string
		input       func() *UserCreate
		pre         bool // a user with this email exists from before
		lookupFails bool
		post        func(w http.ResponseWriter, r *http.Request, commit func() User)
		wantUsers   int
		check       func(t *testing.T, res *CreateResult, err error)
	}{
		{
			name: "committed, then the connection dropped", input: in, wantUsers: 1,
			post: func(w http.ResponseWriter, r *http.Request, commit func() User) { commit(); dropConnection(w) },
			check: func(t *testing.T, res *CreateResult, err error) {
				if err != nil || !res.Reconciled || res.User.Email != "jane@example.com" || !errors.Is(res.Cause, ErrUnavailable) {
					t.Errorf("want created (reconciled): %+v, %v", res, err)
				}
			},
		},
		{
			name: "committed, then a 502", input: in, wantUsers: 1,
			post: func(w http.ResponseWriter, r *http.Request, commit func() User) {
				commit()
				writeJSON(w, 502, `{"statusCode":502,"error":"Bad Gateway","message":"upstream"}`)
			},
			check: func(t *testing.T, res *CreateResult, err error) {
				if err != nil || !res.Reconciled || !strings.HasPrefix(res.User.UserID, "auth0|") {
					t.Errorf("want created (reconciled): %+v, %v", res, err)
				}
			},
		},
		{
			name: "committed with a chosen user_id, then a 500", wantUsers: 1,
			input: func() *UserCreate { u := in(); u.UserID = "chosen-1"; u.Email = ""; return u },
			post: func(w http.ResponseWriter, r *http.Request, commit func() User) {
				commit()
				writeJSON(w, 500, `{"statusCode":500,"error":"Internal Server Error","message":"oops"}`)
			},
			check: func(t *testing.T, res *CreateResult, err error) {
				if err != nil || !res.Reconciled || res.User.UserID != "auth0|chosen-1" {
					t.Errorf("want created (found by user_id): %+v, %v", res, err)
				}
			},
		},
		{
			name: "rejected before commit with a 502", input: in, wantUsers: 0,
			post: func(w http.ResponseWriter, r *http.Request, commit func() User) {
				writeJSON(w, 502, `{"statusCode":502,"error":"Bad Gateway","message":"upstream"}`)
			},
			check: func(t *testing.T, res *CreateResult, err error) {
				var ce *CreateError
				var ae *Error
				if !errors.As(err, &ce) || ce.Outcome != CreateNotCreated || !errors.Is(err, ErrNotCreated) ||
					errors.Is(err, ErrCreateUnknown) || !errors.As(err, &ae) || ae.StatusCode != 502 || res != nil {
					t.Errorf("want not created wrapping the 502: %v", err)
				}
			},
		},
		{
			name: "connection dropped before commit", input: in, wantUsers: 0,
			post: func(w http.ResponseWriter, r *http.Request, commit func() User) { dropConnection(w) },
			check: func(t *testing.T, res *CreateResult, err error) {
				var te *TransportError
				if !errors.Is(err, ErrNotCreated) || !errors.As(err, &te) {
					t.Errorf("want not created wrapping the transport error: %v", err)
				}
			},
		},
		{
			name: "answer lost and the lookup fails", input: in, wantUsers: 1, lookupFails: true,
			post: func(w http.ResponseWriter, r *http.Request, commit func() User) { commit(); dropConnection(w) },
			check: func(t *testing.T, res *CreateResult, err error) {
				var ce *CreateError
				if !errors.As(err, &ce) || ce.Outcome != CreateUnknown || !errors.Is(err, ErrCreateUnknown) || ce.LookupErr == nil {
					t.Errorf("want unknown: %v", err)
				}
			},
		},
		{
			name: "answer lost and the user existed before", input: in, pre: true, wantUsers: 1,
			post: func(w http.ResponseWriter, r *http.Request, commit func() User) {
				writeJSON(w, 503, `{"statusCode":503,"error":"Service Unavailable","message":"busy"}`)
			},
			check: func(t *testing.T, res *CreateResult, err error) {
				var ce *CreateError
				if !errors.As(err, &ce) || ce.Outcome != CreateNotCreated || ce.Existing == nil ||
					!errors.Is(err, ErrConflict) || !errors.Is(err, ErrNotCreated) {
					t.Errorf("want not created, already existed: %v", err)
				}
			},
		},
		{
			name: "definitive 409 is returned as is", input: in, wantUsers: 0,
			post: func(w http.ResponseWriter, r *http.Request, commit func() User) {
				writeJSON(w, 409, `{"statusCode":409,"error":"Conflict","message":"The user already exists.","errorCode":"auth0_idp_error"}`)
			},
			check: func(t *testing.T, res *CreateResult, err error) {
				var ce *CreateError
				var ae *Error
				if errors.As(err, &ce) || !errors.As(err, &ae) || !errors.Is(err, ErrConflict) || ae.CorrelationID == "" {
					t.Errorf("want the plain 409 *Error with its correlation id: %v", err)
				}
			},
		},
		{
			name: "a 429 is retried: nothing was applied", input: in, wantUsers: 1,
			post: func(w http.ResponseWriter, r *http.Request, commit func() User) {
				if !first429.Swap(true) {
					w.Header().Set("Retry-After", "1")
					writeJSON(w, 429, `{"statusCode":429,"error":"Too Many Requests","message":"slow"}`)
					return
				}
				b, _ := json.Marshal(commit())
				writeJSON(w, 201, string(b))
			},
			check: func(t *testing.T, res *CreateResult, err error) {
				if err != nil || res.Reconciled {
					t.Errorf("want a plain success after the 429: %+v, %v", res, err)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := &userDB{}
			if tc.pre {
				db.add(*in(), time.Now().Add(-24*time.Hour))
			}
			h := db.handler(t, tc.post)
			if tc.lookupFails {
				inner := h
				h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodGet {
						writeJSON(w, 500, `{"statusCode":500,"error":"Internal Server Error","message":"down"}`)
						return
					}
					inner.ServeHTTP(w, r)
				})
			}
			clk := newFakeClock()
			c := newFake(t, h).client(t, WithSleep(clk.Sleep))
			ctx := WithCorrelationID(context.Background(), "audit-"+strings.Repeat("x", 80))
			res, err := c.Users.CreateWithResult(ctx, tc.input())
			tc.check(t, res, err)
			wantPosts := int32(1)
			if tc.name == "a 429 is retried: nothing was applied" {
				wantPosts = 2
			}
			if n := db.posts.Load(); n != wantPosts {
				t.Errorf("POSTs = %d, want %d", n, wantPosts)
			}
			if n := db.count(); n != tc.wantUsers {
				t.Errorf("users in the tenant = %d, want %d", n, tc.wantUsers)
			}
			wantCID := ("audit-" + strings.Repeat("x", 80))[:64]
			for _, cid := range db.cids {
				if cid != wantCID {
					t.Errorf("X-Correlation-ID = %q, want the context's, cut to 64", cid)
				}
			}
			var ce *CreateError
			if errors.As(err, &ce) && ce.CorrelationID != wantCID {
				t.Errorf("CreateError.CorrelationID = %q", ce.CorrelationID)
			}
			if res != nil && res.CorrelationID != wantCID {
				t.Errorf("CreateResult.CorrelationID = %q", res.CorrelationID)
			}
		})
	}
}

// TestCreateTimeoutReconciled: the upstream commits but answers only after the call's deadline; the
// client waits the settle delay, looks the user up under a fresh deadline and reports it created.
// Create (not CreateWithResult) returns the user with no error.
func TestCreateTimeoutReconciled(t *testing.T) {
	db := &userDB{}
	h := db.handler(t, func(w http.ResponseWriter, r *http.Request, commit func() User) {
		commit()
		<-r.Context().Done()
	})
	clk := newFakeClock()
	c := newFake(t, h).client(t, WithSleep(clk.Sleep), WithTimeout(150*time.Millisecond))
	began := time.Now()
	u, err := c.Users.Create(context.Background(), &UserCreate{Connection: "db", Email: "late@example.com", Password: "Passw0rd!"})
	if err != nil || u == nil || u.Email != "late@example.com" {
		t.Fatalf("Create = %+v, %v; want the user", u, err)
	}
	if d := time.Since(began); d > time.Second {
		t.Errorf("took %s", d)
	}
	if s := clk.Slept(); !slices.Contains(s, createSettleDelay) {
		t.Errorf("sleeps %v, want the settle delay", s)
	}
	if db.posts.Load() != 1 || db.count() != 1 {
		t.Errorf("posts %d, users %d", db.posts.Load(), db.count())
	}
}

// TestCreateNotSent: a create that never left (token endpoint down) is "not created", with no POST.
func TestCreateNotSent(t *testing.T) {
	db := &userDB{}
	f := newFake(t, db.handler(t, func(w http.ResponseWriter, r *http.Request, commit func() User) { commit() }))
	f.tokenFail = func(w http.ResponseWriter, r *http.Request) bool { w.WriteHeader(503); return true }
	_, err := f.client(t).Users.Create(context.Background(), &UserCreate{Connection: "db", Email: "a@b.c"})
	var te *TokenError
	if !errors.Is(err, ErrNotCreated) || !errors.As(err, &te) {
		t.Errorf("err = %v, want not created wrapping *TokenError", err)
	}
	if db.posts.Load() != 0 {
		t.Error("POST sent without a token")
	}
}

// TestBreaker: a hanging upstream costs each call its deadline; after N failures calls fail at once
// with *UnavailableError (nothing sent); after the cooldown one probe goes out, and its success
// closes the breaker. A failed probe reopens it. 4xx and 429 answers never open it.
func TestBreaker(t *testing.T) {
	var hang atomic.Bool
	hang.Store(true)
	var calls atomic.Int32
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if hang.Load() {
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
			return
		}
		writeJSON(w, 200, userJSON)
	}))
	clk := newFakeClock()
	m := &recMetrics{}
	c := f.client(t, WithClock(clk.Now), WithTimeout(100*time.Millisecond), WithBreaker(3, 30*time.Second), WithMetrics(m))
	get := func() (time.Duration, error) {
		began := time.Now()
		_, err := c.Users.Get(context.Background(), "auth0|1")
		return time.Since(began), err
	}
	for i := range 3 {
		d, err := get()
		assertDeadline(t, err, d, 100*time.Millisecond)
		if !errors.Is(err, ErrUnavailable) {
			t.Errorf("call %d: a timeout should match ErrUnavailable: %v", i, err)
		}
	}
	if c.BreakerState() != BreakerOpen || calls.Load() != 3 {
		t.Fatalf("after 3 timeouts: state %s, %d requests", c.BreakerState(), calls.Load())
	}
	d, err := get()
	var ue *UnavailableError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUnavailable) || !errors.Is(err, ErrCircuitOpen) || ue.RetryAfter != 30*time.Second || d > 50*time.Millisecond {
		t.Fatalf("open breaker: err %v after %s, want *UnavailableError at once", err, d)
	}
	if calls.Load() != 3 {
		t.Error("a call went out while the breaker was open")
	}

	// Cooldown over, upstream still hanging: the probe fails and the breaker reopens.
	clk.Advance(30 * time.Second)
	if d, err := get(); !errors.Is(err, context.DeadlineExceeded) || d < 100*time.Millisecond {
		t.Fatalf("probe: %v after %s", err, d)
	}
	if c.BreakerState() != BreakerOpen || calls.Load() != 4 {
		t.Fatalf("after a failed probe: %s, %d requests", c.BreakerState(), calls.Load())
	}
	// Upstream back: the next probe closes the breaker.
	hang.Store(false)
	clk.Advance(30 * time.Second)
	if _, err := get(); err != nil {
		t.Fatalf("probe after recovery: %v", err)
	}
	if c.BreakerState() != BreakerClosed {
		t.Errorf("state %s after a good probe", c.BreakerState())
	}
	want := []string{"breaker open", "breaker half-open", "breaker open", "breaker half-open", "breaker closed"}
	var got []string
	for _, l := range m.Lines() {
		if strings.HasPrefix(l, "breaker") {
			got = append(got, l)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("breaker transitions %v, want %v", got, want)
	}

	// 404s and 429s are answers: they do not open the breaker.
	var status atomic.Int32
	g := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, int(status.Load()), `{"statusCode":404,"error":"Not Found","message":"The user does not exist."}`)
	}))
	c2 := g.client(t, WithClock(clk.Now), WithSleep(clk.Sleep), WithBreaker(2, time.Minute))
	for _, s := range []int32{404, 429, 404, 429, 404} {
		status.Store(s)
		c2.Users.Get(context.Background(), "auth0|1")
	}
	if c2.BreakerState() != BreakerClosed {
		t.Errorf("4xx/429 opened the breaker")
	}
}

// TestBreakerHalfOpenOneProbe: while the probe is in flight, other calls fail fast.
func TestBreakerHalfOpenOneProbe(t *testing.T) {
	release := make(chan struct{})
	var calls atomic.Int32
	var mode atomic.Int32 // 0 = fail with 500, 1 = block then succeed
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if mode.Load() == 0 {
			writeJSON(w, 500, `{"statusCode":500,"error":"Internal Server Error","message":"x"}`)
			return
		}
		<-release
		writeJSON(w, 200, userJSON)
	}))
	clk := newFakeClock()
	c := f.client(t, WithClock(clk.Now), WithBreaker(2, time.Second))
	for range 2 {
		c.Users.Get(context.Background(), "auth0|1")
	}
	if c.BreakerState() != BreakerOpen {
		t.Fatal("two 500s did not open the breaker")
	}
	mode.Store(1)
	clk.Advance(time.Second)
	done := make(chan error)
	go func() { _, err := c.Users.Get(context.Background(), "auth0|1"); done <- err }()
	waitFor(t, func() bool { return calls.Load() == 3 })
	if _, err := c.Users.Get(context.Background(), "auth0|1"); !errors.Is(err, ErrCircuitOpen) {
		t.Errorf("second call during the probe: %v, want ErrCircuitOpen", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c.BreakerState() != BreakerClosed || calls.Load() != 3 {
		t.Errorf("state %s, requests %d", c.BreakerState(), calls.Load())
	}
}

// TestClientSideLimiter: with WithRateLimit(1, 2) the third and later calls wait one second each
// (fake clock); a call whose slot is after its deadline fails at once with *ThrottledError and is
// not sent.
func TestClientSideLimiter(t *testing.T) {
	var calls atomic.Int32
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1); writeJSON(w, 200, userJSON) }))
	clk := newFakeClock()
	m := &recMetrics{}
	c := f.client(t, WithClock(clk.Now), WithSleep(clk.Sleep), WithRateLimit(1, 2), WithMetrics(m))
	for range 5 {
		if _, err := c.Users.Get(context.Background(), "auth0|1"); err != nil {
			t.Fatal(err)
		}
	}
	if s := clk.Slept(); !reflect.DeepEqual(s, []time.Duration{time.Second, time.Second, time.Second}) {
		t.Errorf("limiter waits %v, want 3 × 1s", s)
	}
	if m.Count("wait /api/v2/users/{id} limiter") != 3 {
		t.Errorf("metrics: %v", m.Lines())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := c.Users.Get(ctx, "auth0|1")
	var th *ThrottledError
	if !errors.As(err, &th) || !errors.Is(err, ErrRateLimited) || th.RetryAfter != time.Second {
		t.Errorf("err = %v, want *ThrottledError after 1s", err)
	}
	if calls.Load() != 5 {
		t.Errorf("requests = %d, want 5", calls.Load())
	}
	// The refused call gave its slot back: the next one waits one second, not two.
	if _, err := c.Users.Get(context.Background(), "auth0|1"); err != nil {
		t.Fatal(err)
	}
	if s := clk.Slept(); s[len(s)-1] != time.Second {
		t.Errorf("last wait %s, want 1s", s[len(s)-1])
	}
}

// TestClientSideLimiterRealTime: 10 concurrent calls at 20 requests/s (burst 1) reach the server no
// faster than that.
func TestClientSideLimiterRealTime(t *testing.T) {
	var mu sync.Mutex
	var seen []time.Time
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, time.Now())
		mu.Unlock()
		writeJSON(w, 200, userJSON)
	}))
	c := f.client(t, WithRateLimit(20, 1))
	fns := make([]func(context.Context) error, 10)
	for i := range fns {
		fns[i] = func(ctx context.Context) error { _, err := c.Users.Get(ctx, "auth0|1"); return err }
	}
	if err := Parallel(context.Background(), fns...); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(seen, func(a, b time.Time) int { return a.Compare(b) })
	if span := seen[len(seen)-1].Sub(seen[0]); span < 400*time.Millisecond {
		t.Errorf("10 requests at 20/s spanned %s, want ≥ 450 ms", span)
	}
}

// TestCorrelationID: writes carry X-Correlation-ID (the context's, cleaned, or a random one) and
// the same id on a retry; reads carry none; an error of a write reports it.
func TestCorrelationID(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]string{}
	var patches atomic.Int32
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Method] = append(seen[r.Method], r.Header.Get("X-Correlation-ID"))
		mu.Unlock()
		switch r.Method {
		case http.MethodDelete:
			w.WriteHeader(204)
		case http.MethodPatch:
			if patches.Add(1) == 1 {
				writeJSON(w, 429, `{"statusCode":429,"error":"Too Many Requests","message":"slow"}`)
				return
			}
			writeJSON(w, 400, `{"statusCode":400,"error":"Bad Request","message":"Payload validation error: 'Object didn't pass validation for format email: x' on property email (The user's email).","errorCode":"invalid_body"}`)
		default:
			writeJSON(w, 200, userJSON)
		}
	}))
	clk := newFakeClock()
	c := f.client(t, WithSleep(clk.Sleep))
	ctx := context.Background()
	c.Users.Get(ctx, "auth0|1")
	c.Users.Delete(ctx, "auth0|1")
	c.Users.Delete(ctx, "auth0|1")
	email := "x"
	_, err := c.Users.Update(WithCorrelationID(ctx, " audit\r\n42\x00é "), "auth0|1", &UserUpdate{Email: &email})

	if got := seen[http.MethodGet]; len(got) != 1 || got[0] != "" {
		t.Errorf("GET carried %q", got)
	}
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	del := seen[http.MethodDelete]
	if len(del) != 2 || !hex32.MatchString(del[0]) || !hex32.MatchString(del[1]) || del[0] == del[1] {
		t.Errorf("DELETE ids %q, want two different random ids", del)
	}
	if got := seen[http.MethodPatch]; !reflect.DeepEqual(got, []string{"audit42", "audit42"}) {
		t.Errorf("PATCH ids %q, want the cleaned context id on both attempts", got)
	}
	var ae *Error
	if !errors.As(err, &ae) || ae.CorrelationID != "audit42" || ae.Field() != "email" || !errors.Is(err, ErrInvalidInput) {
		t.Errorf("err = %v (%+v), want the 400 with correlation id and field", err, ae)
	}
	if CorrelationID(WithCorrelationID(ctx, "a b")) != "ab" || CorrelationID(ctx) != "" {
		t.Error("CorrelationID does not return the cleaned id")
	}
}

// TestMetricsEndpointsNormalised: every metric names the route, never a raw user id or email.
func TestMetricsEndpointsNormalised(t *testing.T) {
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/v2/users-by-email":
			writeJSON(w, 200, "[]")
		case r.URL.Path == "/api/v2/connections":
			writeJSON(w, 200, `{"total":0,"start":0,"limit":50,"connections":[]}`)
		case r.URL.Path == "/api/v2/users" && r.Method == http.MethodGet:
			writeJSON(w, 200, `{"start":0,"limit":50,"length":0,"total":0,"users":[]}`)
		default:
			writeJSON(w, 200, userJSON)
		}
	}))
	m := &recMetrics{}
	c := f.client(t, WithMetrics(m))
	ctx := context.Background()
	c.Users.Get(ctx, "auth0|secret-id-123")
	c.Users.ListByEmail(ctx, "who@example.com")
	c.Users.List(ctx, ListUsersParams{Q: "x"})
	c.Connections.List(ctx, ListConnectionsParams{})
	want := []string{"token ok=true", "call GET /api/v2/users/{id} 200", "call GET /api/v2/users-by-email 200",
		"call GET /api/v2/users 200", "call GET /api/v2/connections 200"}
	if got := m.Lines(); !reflect.DeepEqual(got, want) {
		t.Errorf("metrics %v, want %v", got, want)
	}
}

// TestErrorField: the field a 400 is about, from Auth0's wordings.
func TestErrorField(t *testing.T) {
	for msg, want := range map[string]string{
		"Payload validation error: 'Object didn't pass validation for format email: x' on property email (The user's email).":                       "email",
		"Query validation error: 'Value 1000 is greater than maximum 100' on property per_page (Number of results per page. Defaults to 50).":       "per_page",
		"Payload validation error: 'Additional properties not allowed: requires_username' on property options.validation (Options for validation).": "options.validation",
		"PasswordStrengthError: Password is too weak":             "password",
		"PasswordHistoryError: Password has previously been used": "password",
		"The connection does not exist.":                          "connection",
		"Connection must be enabled for this client to perform single user creation and signup operations (client_id: x - connection: y)": "connection",
		"Payload validation error: 'Object didn't pass validation for format email: x'":                                                   "email",
		"Something else entirely": "",
	} {
		if got := (&Error{StatusCode: 400, Message: msg}).Field(); got != want {
			t.Errorf("Field(%q) = %q, want %q", msg, got, want)
		}
	}
	if got := (&Error{StatusCode: 409, Message: "x on property email (y)"}).Field(); got != "" {
		t.Errorf("Field on a 409 = %q", got)
	}
}

// TestErrorClasses: each error class matches its sentinels, and RetryAfter reads every typed wait.
func TestErrorClasses(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		is    []error
		isnt  []error
		after time.Duration
	}{
		{"breaker", &UnavailableError{Failures: 5, RetryAfter: time.Second}, []error{ErrUnavailable, ErrCircuitOpen}, []error{ErrRateLimited}, time.Second},
		{"throttled", &ThrottledError{RetryAfter: 2 * time.Second}, []error{ErrRateLimited}, []error{ErrUnavailable}, 2 * time.Second},
		{"transport", &TransportError{Method: "GET", Endpoint: routeUser, Err: context.DeadlineExceeded}, []error{ErrUnavailable, context.DeadlineExceeded}, []error{ErrNotFound}, 0},
		{"cancelled", &TransportError{Method: "GET", Endpoint: routeUser, Err: context.Canceled}, []error{context.Canceled}, []error{ErrUnavailable}, 0},
		{"token no answer", &TokenError{cause: errors.New("dial tcp: refused"), msg: "m"}, []error{ErrUnavailable}, []error{ErrUnauthorized}, 0},
		{"token 401", &TokenError{StatusCode: 401, msg: "m"}, []error{ErrUnauthorized}, []error{ErrUnavailable}, 0},
		{"429", &Error{StatusCode: 429, RetryAfter: 3 * time.Second}, []error{ErrRateLimited}, []error{ErrUnavailable}, 3 * time.Second},
		{"create unknown", &CreateError{Outcome: CreateUnknown, Err: &Error{StatusCode: 502}}, []error{ErrCreateUnknown, ErrUnavailable}, []error{ErrNotCreated, ErrConflict}, 0},
		{"create existed", &CreateError{Outcome: CreateNotCreated, Existing: &User{}, Err: &Error{StatusCode: 503}}, []error{ErrNotCreated, ErrConflict}, []error{ErrCreateUnknown}, 0},
	}
	for _, tc := range cases {
		for _, s := range tc.is {
			if !errors.Is(tc.err, s) {
				t.Errorf("%s: does not match %v", tc.name, s)
			}
		}
		for _, s := range tc.isnt {
			if errors.Is(tc.err, s) {
				t.Errorf("%s: matches %v", tc.name, s)
			}
		}
		if got := RetryAfter(fmt.Errorf("wrapped: %w", tc.err)); got != tc.after {
			t.Errorf("%s: RetryAfter = %s, want %s", tc.name, got, tc.after)
		}
		if tc.err.Error() == "" {
			t.Errorf("%s: empty message", tc.name)
		}
	}
}

// TestParallel: independent calls overlap (two 200 ms calls take ≈200 ms, not 400), and the first
// failure cancels the others and is returned.
func TestParallel(t *testing.T) {
	f := newFake(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v2/connections" {
			writeJSON(w, 503, `{"statusCode":503,"error":"Service Unavailable","message":"x"}`)
			return
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		writeJSON(w, 200, userJSON)
	}))
	c := f.client(t, WithMaxRetries(0))
	c.Scopes(context.Background()) // warm the token
	began := time.Now()
	var a, b *User
	err := Parallel(context.Background(),
		func(ctx context.Context) (err error) { a, err = c.Users.Get(ctx, "auth0|1"); return err },
		func(ctx context.Context) (err error) { b, err = c.Users.Get(ctx, "auth0|2"); return err },
	)
	if err != nil || a == nil || b == nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > 350*time.Millisecond {
		t.Errorf("two 200 ms calls took %s", d)
	}
	began = time.Now()
	err = Parallel(context.Background(),
		func(ctx context.Context) error { _, err := c.Users.Get(ctx, "auth0|1"); return err },
		func(ctx context.Context) error {
			_, err := c.Connections.List(ctx, ListConnectionsParams{})
			return err
		},
	)
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("err = %v, want the 503", err)
	}
	if d := time.Since(began); d > 150*time.Millisecond {
		t.Errorf("the failure did not cancel the slow call: %s", d)
	}
}
