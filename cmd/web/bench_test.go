package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/handlers"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/reqctx"
	"github.com/userdesk/userdesk/internal/users"
)

// benchUserID is the user the user-page benchmarks open.
const benchUserID = "auth0|63d17c4c5d69f3e86d515d1c"

// benchUser is a recorded-shape Auth0 user (testdata/auth0-recordings/TestUserManager_List.yaml) with
// a realistic amount of metadata, numbered so that 50 of them differ.
func benchUser(i int) map[string]any {
	id := benchUserID
	if i > 0 {
		id = fmt.Sprintf("auth0|63d17c4c5d69f3e86d5%05d", i)
	}
	return map[string]any{
		"user_id": id, "email": fmt.Sprintf("chuck%03d@example.com", i), "email_verified": i%3 != 0,
		"name": fmt.Sprintf("Chuck Sanchez %d", i), "given_name": "Chuck", "family_name": "Sanchez", "nickname": "Chucky",
		"username": fmt.Sprintf("test-user%03d", i), "picture": "https://example-picture-url.jpg",
		"created_at": "2023-01-25T19:00:28.395Z", "updated_at": "2023-01-25T19:00:28.395Z",
		"last_login": "2025-11-20T08:12:44.101Z", "logins_count": 17 + i, "blocked": i%17 == 0,
		"identities": []map[string]any{{"connection": "Username-Password-Authentication",
			"user_id": strings.TrimPrefix(id, "auth0|"), "provider": "auth0", "isSocial": false}},
		"user_metadata": map[string]any{"favourite_attack": "roundhouse_kick", "locale": "en-GB", "newsletter": true},
		"app_metadata":  map[string]any{"plan": "pro", "facts": []string{"count_to_infinity_twice", "kill_two_stones_with_one_bird"}},
	}
}

// instantAuth0 is an httptest stand-in for a tenant that answers every call the list page and the
// user page make with canned JSON, at once, and counts calls by endpoint. delay, when set, is added
// to every Management API answer (the round-trip benchmark).
type instantAuth0 struct {
	srv    *httptest.Server
	delay  time.Duration
	tokens atomic.Int64
	calls  atomic.Int64

	mu    sync.Mutex
	spans [][2]time.Time // start and end of each Management API call since the last rounds()

	list, user, conns []byte
}

func newInstantAuth0(tb testing.TB) *instantAuth0 {
	f := &instantAuth0{}
	var us []map[string]any
	for i := range 50 {
		us = append(us, benchUser(i))
	}
	f.list, _ = json.Marshal(map[string]any{"start": 0, "limit": 50, "length": 50, "total": 1234, "users": us})
	f.user, _ = json.Marshal(benchUser(0))
	f.conns, _ = json.Marshal(map[string]any{"start": 0, "limit": 100, "total": 2, "connections": []map[string]any{
		{"id": "con_1", "name": "Username-Password-Authentication", "strategy": "auth0"},
		{"id": "con_2", "name": "google-oauth2", "strategy": "google-oauth2"}}})
	scopes := "read:users update:users delete:users create:users read:connections read:logs read:roles " +
		"create:role_members delete:role_members read:authentication_methods delete:authentication_methods " +
		"update:authentication_methods read:sessions delete:sessions read:refresh_tokens delete:refresh_tokens " +
		"create:user_tickets update:guardian_factors"
	token := []byte(`{"access_token":"bench-token","expires_in":86400,"token_type":"Bearer","scope":"` + scopes + `"}`)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if r.URL.Path == "/oauth/token" {
			f.tokens.Add(1)
			w.Write(token)
			return
		}
		f.calls.Add(1)
		if f.delay > 0 {
			t0 := time.Now()
			time.Sleep(f.delay)
			defer func() {
				f.mu.Lock()
				f.spans = append(f.spans, [2]time.Time{t0, time.Now()})
				f.mu.Unlock()
			}()
		}
		p := r.URL.Path
		switch {
		case p == "/api/v2/users":
			w.Write(f.list)
		case p == "/api/v2/connections":
			w.Write(f.conns)
		case strings.HasPrefix(p, "/api/v2/user-blocks/"):
			io.WriteString(w, `{"blocked_for":[]}`)
		case strings.HasSuffix(p, "/authentication-methods"):
			io.WriteString(w, `{"authenticators":[{"id":"email|dev_f0O81fTcftc0kN2v","type":"email","confirmed":true,"name":"Test","email":"chuc****@exam*******","created_at":"2023-03-10T16:25:51.113Z"}],"total":1,"start":0,"limit":50}`)
		case strings.HasSuffix(p, "/logs"):
			io.WriteString(w, `[{"date":"2025-11-20T08:12:44.101Z","type":"s","description":"Successful login","connection":"Username-Password-Authentication","client_name":"Acme","ip":"203.0.113.9","user_id":"`+benchUserID+`","log_id":"90020251120081244"}]`)
		case strings.HasPrefix(p, "/api/v2/users/"):
			w.Write(f.user)
		default:
			http.Error(w, `{"statusCode":404,"error":"Not Found","message":"no route"}`, http.StatusNotFound)
		}
	}))
	tb.Cleanup(f.srv.Close)
	return f
}

// rounds returns how many sequential round-trips the calls since the last rounds() took: the longest
// chain of calls each of which started after the previous one ended (1 = all concurrent).
func (f *instantAuth0) rounds() int {
	f.mu.Lock()
	spans := f.spans
	f.spans = nil
	f.mu.Unlock()
	depth := make([]int, len(spans))
	best := 0
	for { // relax until stable; a page makes a handful of calls
		changed := false
		for i, a := range spans {
			d := 1
			for j, p := range spans {
				if j != i && !a[0].Before(p[1]) && depth[j]+1 > d {
					d = depth[j] + 1
				}
			}
			if d != depth[i] {
				depth[i], changed = d, true
			}
			best = max(best, d)
		}
		if !changed {
			return best
		}
	}
}

// benchAuth signs every request in as an admin (the benchmarks measure pages, not sign-in).
type benchAuth struct{}

func (benchAuth) Login(c echo.Context) error    { return echo.ErrNotFound }
func (benchAuth) Callback(c echo.Context) error { return echo.ErrNotFound }
func (benchAuth) Logout(c echo.Context) error   { return echo.ErrNotFound }
func (benchAuth) RequireStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		c.SetRequest(r.WithContext(reqctx.WithStaff(r.Context(), reqctx.Staff{Issuer: "https://idp/", Subject: "bench", Role: authz.Admin})))
		return next(c)
	}
}

// benchConsole is the real route table and middleware over the real users service and mgmt client,
// pointed at f.
func benchConsole(tb testing.TB, f *instantAuth0) *echo.Echo {
	mc, err := mgmt.New(f.srv.URL, "bench-client", "bench-secret", mgmt.WithHTTPClient(&http.Client{Transport: upstreamTransport()}))
	if err != nil {
		tb.Fatal(err)
	}
	return handlers.New(handlers.Deps{
		Users:  &users.Service{API: users.NewMgmtAPI(mc)},
		Auth:   benchAuth{},
		Logger: slog.New(slog.DiscardHandler),
		// One staff member loads thousands of pages a second here: the per-staff limits still run
		// (their cost is part of the page), with budgets the benchmark cannot exhaust.
		StaffLimits: &handlers.StaffLimits{RequestRate: 1e9, RequestBurst: 1e9, WriteRate: 1e9, WriteBurst: 1e9},
	})
}

func serve(tb testing.TB, e *echo.Echo, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	if rec.Code != http.StatusOK {
		tb.Fatalf("GET %s: %d\n%s", target, rec.Code, rec.Body.String())
	}
	return rec
}

// benchPages are the two pages measured. bare lists the upstream calls each page makes (the same
// paths and queries the mgmt client sends), for the bare-net/http baseline.
var benchPages = []struct {
	name, target string
	check        string // text the page must show
	calls        int64  // Management API calls one page makes
	bare         []string
}{
	{"list", "/users", "chuck049@example.com", 1, []string{ // users; the connection filter's list is kept for users.ConnectionsTTL
		"/api/v2/users?include_totals=true&page=0&per_page=50&search_engine=v3"}},
	{"user", "/users/" + url.PathEscape(benchUserID), "chuck000@example.com", 4, []string{ // user, blocks, MFA methods, logs, concurrently
		"/api/v2/users/" + url.PathEscape(benchUserID),
		"/api/v2/user-blocks/" + url.PathEscape(benchUserID),
		"/api/v2/users/" + url.PathEscape(benchUserID) + "/authentication-methods?include_totals=true&page=0&per_page=50",
		"/api/v2/users/" + url.PathEscape(benchUserID) + "/logs?page=0&per_page=30&sort=date%3A-1"}},
}

// bareDecodeTarget is what the mgmt client decodes path's answer into.
func bareDecodeTarget(path string) any {
	switch {
	case strings.HasPrefix(path, "/api/v2/users?"):
		return &mgmt.UserList{}
	case strings.HasPrefix(path, "/api/v2/connections"):
		return &mgmt.ConnectionList{}
	case strings.HasPrefix(path, "/api/v2/user-blocks/"):
		return &struct {
			BlockedFor []mgmt.BlockedFor `json:"blocked_for"`
		}{}
	case strings.Contains(path, "/authentication-methods"):
		return &struct {
			Authenticators []mgmt.AuthenticationMethod `json:"authenticators"`
		}{}
	case strings.Contains(path, "/logs"):
		return &[]mgmt.LogEvent{}
	}
	return &mgmt.User{}
}

// BenchmarkPages measures the dashboard's overhead. Per page: "page" is the whole request served
// through Echo (middleware, authorization, the users service, the mgmt client's HTTP calls to an
// instant local upstream, decoding, templ rendering), "bare" is the same upstream calls made with bare
// net/http and decoded with encoding/json into the same types, concurrently as the page makes them,
// in the same run: page minus bare is what the dashboard adds. calls/page and token-fetches come from the upstream's counters.
//
//	go test -run '^$' -bench BenchmarkPages -benchmem ./cmd/web/
func BenchmarkPages(b *testing.B) {
	for _, pg := range benchPages {
		b.Run(pg.name+"/page", func(b *testing.B) {
			f := newInstantAuth0(b)
			e := benchConsole(b, f)
			if body := serve(b, e, pg.target).Body.String(); !strings.Contains(body, pg.check) {
				b.Fatalf("%s does not show %s", pg.target, pg.check)
			}
			f.calls.Store(0)
			b.ReportAllocs()
			for b.Loop() {
				serve(b, e, pg.target)
			}
			b.ReportMetric(float64(f.calls.Load())/float64(b.N), "calls/page")
			b.ReportMetric(float64(f.tokens.Load()), "token-fetches")
		})
		b.Run(pg.name+"/bare", func(b *testing.B) {
			f := newInstantAuth0(b)
			hc := &http.Client{Transport: upstreamTransport()} // the transport cmd/web uses
			get := func(path string) {
				req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
				req.Header.Set("Authorization", "Bearer bench-token")
				resp, err := hc.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				raw, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 {
					b.Fatalf("%s: %d %v", path, resp.StatusCode, err)
				}
				if err := json.Unmarshal(raw, bareDecodeTarget(path)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if len(pg.bare) == 1 {
					get(pg.bare[0])
					continue
				}
				var wg sync.WaitGroup
				for _, p := range pg.bare {
					wg.Go(func() { get(p) })
				}
				wg.Wait()
			}
		})
	}
}

// BenchmarkUpstreamEconomy loads each page against an upstream that takes 5 ms per call and reports
// what a page costs the tenant: Management API calls per page, sequential round-trips per page (the
// longest chain of calls that waited for one another: 1 means every call of the page ran
// concurrently) and token fetches for the whole run (1: the token is cached and shared).
//
//	go test -run '^$' -bench BenchmarkUpstreamEconomy ./cmd/web/
func BenchmarkUpstreamEconomy(b *testing.B) {
	for _, pg := range benchPages {
		b.Run(pg.name, func(b *testing.B) {
			f := newInstantAuth0(b)
			f.delay = 5 * time.Millisecond
			e := benchConsole(b, f)
			serve(b, e, pg.target) // the first page also fetches the token
			f.calls.Store(0)
			f.rounds()
			rounds := 0
			for b.Loop() {
				serve(b, e, pg.target)
				rounds += f.rounds()
			}
			b.ReportMetric(float64(f.calls.Load())/float64(b.N), "calls/page")
			b.ReportMetric(float64(rounds)/float64(b.N), "round-trips/page")
			b.ReportMetric(float64(f.tokens.Load()), "token-fetches")
		})
	}
}

// TestBenchConsoleServesPages keeps the benchmark's set-up honest in the normal test run: both pages
// render from the instant upstream with the calls the economy benchmark reports, in one concurrent
// round-trip, and one token fetch.
func TestBenchConsoleServesPages(t *testing.T) {
	f := newInstantAuth0(t)
	e := benchConsole(t, f)
	for _, pg := range benchPages {
		serve(t, e, pg.target) // the benchmarks measure a warm console: token fetched, connection list kept
		before := f.calls.Load()
		if body := serve(t, e, pg.target).Body.String(); !strings.Contains(body, pg.check) {
			t.Errorf("%s does not show %s", pg.target, pg.check)
		}
		if n := f.calls.Load() - before; n != pg.calls {
			t.Errorf("%s: %d upstream calls, want %d", pg.name, n, pg.calls)
		}
	}
	// With a slow upstream, each page's calls overlap: one round-trip per page.
	f.delay = 20 * time.Millisecond
	f.rounds()
	for _, pg := range benchPages {
		serve(t, e, pg.target)
		if r := f.rounds(); r != 1 {
			t.Errorf("%s: %d sequential round-trips, want 1", pg.name, r)
		}
	}
	if n := f.tokens.Load(); n != 1 {
		t.Errorf("%d token fetches for two pages, want 1", n)
	}
}
