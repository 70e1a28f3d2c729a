package tenant

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

func TestParseRateLimit(t *testing.T) {
	for _, c := range []struct {
		in   string
		want RateLimit
	}{
		{"", RateLimit{}},
		{"off", RateLimit{}},
		{"OFF", RateLimit{}},
		{"free", RateLimit{Rate: 2, Burst: 2}},
		{"self-service", RateLimit{Rate: 500.0 / 60, Burst: 40}},
		{" enterprise ", RateLimit{Rate: 16, Burst: 50}},
		{"5", RateLimit{Rate: 5, Burst: 5}},
		{"0.5", RateLimit{Rate: 0.5, Burst: 1}},
		{"2.5", RateLimit{Rate: 2.5, Burst: 3}},
	} {
		got, err := ParseRateLimit(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseRateLimit(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
		if back, err := ParseRateLimit(got.String()); err != nil || back != got {
			t.Errorf("%q: String %q does not parse back (%+v, %v)", c.in, got.String(), back, err)
		}
	}
	for _, bad := range []string{"0", "-1", "fast", "NaN", "Inf", "1e9", "10/s"} {
		if _, err := ParseRateLimit(bad); err == nil {
			t.Errorf("ParseRateLimit(%q) accepted", bad)
		}
	}
}

func TestRateLimitHeadersAnd429(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RateLimit = RateLimit{Rate: 2, Burst: 2} })
	tok := e.admin()
	start := e.clock.Now()
	// The bucket is full again one second after it was emptied: reset is that instant, rounded up to
	// whole Unix seconds.
	resetAfter := func(d time.Duration) string {
		ts := start.Add(d)
		s := ts.Unix()
		if ts.Nanosecond() > 0 {
			s++
		}
		return strconv.FormatInt(s, 10)
	}
	check := func(r response, limit, remaining, reset string) {
		t.Helper()
		for k, want := range map[string]string{"X-Ratelimit-Limit": limit, "X-Ratelimit-Remaining": remaining, "X-Ratelimit-Reset": reset} {
			if got := r.header.Get(k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
	}

	r := e.do("GET", "/api/v2/users?per_page=1", tok, nil)
	expect(t, r, 200, "")
	check(r, "2", "1", resetAfter(500*time.Millisecond))
	// Unauthenticated calls count too, and carry the headers.
	r = e.do("GET", "/api/v2/users?per_page=1", "", nil)
	expect(t, r, 401, "")
	check(r, "2", "0", resetAfter(time.Second))
	r = e.do("GET", "/api/v2/users?per_page=1", tok, nil)
	expect(t, r, 429, `{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached","errorCode":"too_many_requests"}`)
	check(r, "2", "0", resetAfter(time.Second))
	if r.header.Get("Retry-After") != "1" || r.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("429 headers %v", r.header)
	}
	// Outside /api/v2 nothing is limited or announced.
	r = e.do("GET", "/.well-known/jwks.json", "", nil)
	expect(t, r, 200, "")
	if r.header.Get("X-Ratelimit-Limit") != "" {
		t.Error("rate-limit headers outside /api/v2")
	}
	// Half a second refills one token: one more call passes, the next is refused.
	e.clock.Advance(500 * time.Millisecond)
	expect(t, e.do("GET", "/api/v2/users?per_page=1", tok, nil), 200, "")
	expect(t, e.do("GET", "/api/v2/users?per_page=1", tok, nil), 429, "")
	// A long pause refills the bucket only up to its burst.
	e.clock.Advance(50 * time.Minute) // the token lives an hour
	expect(t, e.do("GET", "/api/v2/users?per_page=1", tok, nil), 200, "")
	expect(t, e.do("GET", "/api/v2/users?per_page=1", tok, nil), 200, "")
	expect(t, e.do("GET", "/api/v2/users?per_page=1", tok, nil), 429, "")
}

func TestRateLimitOffStillSendsHeaders(t *testing.T) {
	e := newEnv(t) // Config.RateLimit zero = off
	tok := e.admin()
	for range 30 {
		r := e.do("GET", "/api/v2/users?per_page=1", tok, nil)
		expect(t, r, 200, "")
		if r.header.Get("X-Ratelimit-Limit") != "1000000" || r.header.Get("X-Ratelimit-Remaining") != "1000000" {
			t.Fatalf("headers with the limit off: %v", r.header)
		}
		reset, err := strconv.ParseInt(r.header.Get("X-Ratelimit-Reset"), 10, 64)
		if err != nil || reset < e.clock.Now().Unix() {
			t.Fatalf("x-ratelimit-reset %q", r.header.Get("X-Ratelimit-Reset"))
		}
	}
}

// TestRateLimitWritesAPILimitEvent: a 429 from the limiter leaves an "api_limit" event "Global limit
// has been reached" in the tenant log (contract §6.2), at most one per second however many calls are
// refused, and a later second's 429 writes another.
func TestRateLimitWritesAPILimitEvent(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RateLimit = RateLimit{Rate: 2, Burst: 2} })
	tok := e.admin()
	apiLimitEvents := func() []store.LogEvent {
		t.Helper()
		evs, _, err := e.st.ListLogs(t.Context(), store.LogQuery{Expr: store.Term{Field: "type", Value: "api_limit"}, NoTotal: true})
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	expect(t, e.do("GET", "/api/v2/users?per_page=1", tok, nil), 200, "")
	expect(t, e.do("GET", "/api/v2/users?per_page=1", tok, nil), 200, "")
	if n := len(apiLimitEvents()); n != 0 {
		t.Fatalf("%d api_limit events before any 429", n)
	}
	for range 5 {
		expect(t, e.do("GET", "/api/v2/roles", tok, nil), 429, "")
	}
	evs := apiLimitEvents()
	if len(evs) != 1 {
		t.Fatalf("%d api_limit events after five 429s within a second, want 1", len(evs))
	}
	ev := evs[0]
	if ev.Description == nil || *ev.Description != "Global limit has been reached" || ev.IP == nil || *ev.IP != "127.0.0.1" ||
		!ev.Date.Equal(e.clock.Now().UTC().Truncate(time.Millisecond)) || !strings.Contains(string(ev.Details), `"path":"/api/v2/roles"`) {
		t.Errorf("api_limit event = %+v, details %s", ev, ev.Details)
	}
	if ev.ClientID != nil {
		t.Errorf("api_limit event claims client %q from an unverified token", *ev.ClientID)
	}
	// A second later the bucket has two tokens again: spend them, and the next 429 is logged anew.
	e.clock.Advance(time.Second)
	expect(t, e.do("GET", "/api/v2/users?per_page=1", tok, nil), 200, "")
	expect(t, e.do("GET", "/api/v2/users?per_page=1", tok, nil), 200, "")
	expect(t, e.do("GET", "/api/v2/users?per_page=1", tok, nil), 429, "")
	if n := len(apiLimitEvents()); n != 2 {
		t.Errorf("%d api_limit events after a 429 in a later second, want 2", n)
	}
	// The event is readable through the Management API like any other.
	e.clock.Advance(time.Second)
	r := e.do("GET", "/api/v2/logs?q="+url.QueryEscape(`type:"api_limit"`), e.mintToken("read:logs"), nil)
	expect(t, r, 200, "")
	if !strings.Contains(string(r.body), `"type":"api_limit"`) || !strings.Contains(string(r.body), `"description":"Global limit has been reached"`) {
		t.Errorf("GET /api/v2/logs?q=type:api_limit = %s", r.body)
	}
}
