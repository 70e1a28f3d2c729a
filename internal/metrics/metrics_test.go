package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/mgmt"
)

// scrape returns the text exposition of m.
func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics answered %d", rec.Code)
	}
	return rec.Body.String()
}

func wantLines(t *testing.T, text string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(text, "\n"+l+"\n") {
			t.Errorf("metrics lack the line %q", l)
		}
	}
}

// TestHTTPRequestsByRouteTemplate: requests are counted by route template and the status the client
// got (a handler's error included); unknown paths share one "unmatched" label, so a scanner cannot
// grow the label set.
func TestHTTPRequestsByRouteTemplate(t *testing.T) {
	m := New(nil)
	e := echo.New()
	e.GET("/users/:id", func(c echo.Context) error {
		if c.Param("id") == "missing" {
			return echo.NewHTTPError(http.StatusNotFound, "no such user")
		}
		return c.String(200, "ok")
	})
	e.Use(m.Middleware(e.Routes()))
	for _, p := range []string{"/users/a", "/users/b", "/users/missing", "/nope/1", "/nope/2"} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest("BREW", "/users/a", nil))
	out := scrape(t, m)
	wantLines(t, out,
		`userdesk_http_requests_total{method="GET",route="/users/:id",status="200"} 2`,
		`userdesk_http_requests_total{method="GET",route="/users/:id",status="404"} 1`,
		`userdesk_http_requests_total{method="GET",route="unmatched",status="404"} 2`,
		`userdesk_http_requests_total{method="other",route="unmatched",status="`+strconv.Itoa(rec.Code)+`"} 1`,
		`userdesk_http_request_duration_seconds_count{method="GET",route="/users/:id"} 3`,
	)
	if strings.Contains(out, "/users/a") || strings.Contains(out, "/nope") {
		t.Error("a raw path leaked into a label")
	}
}

// TestManagementClientMetrics wires Metrics into a real mgmt.Client: a 429 followed by a 200 shows up
// as two attempts, one rate-limited answer, one retry and one wait; the token fetch is counted; the
// endpoint label is the route template, never the user id; the last upstream status is remembered.
func TestManagementClientMetrics(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/oauth/token" {
			io.WriteString(w, `{"access_token":"tok","expires_in":86400,"token_type":"Bearer"}`)
			return
		}
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"statusCode":429,"error":"Too Many Requests","message":"Global limit has been reached"}`)
			return
		}
		io.WriteString(w, `{"user_id":"auth0|secret-id-123","email":"a@example.com"}`)
	}))
	defer srv.Close()
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	m := New(func() time.Time { return at })
	if _, ok := m.LastUpstream(); ok {
		t.Fatal("LastUpstream reports a call before any")
	}
	c, err := mgmt.New(srv.URL, "id", "secret", mgmt.WithMetrics(m),
		mgmt.WithSleep(func(ctx context.Context, d time.Duration) error { return ctx.Err() }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Users.Get(context.Background(), "auth0|secret-id-123"); err != nil {
		t.Fatal(err)
	}
	out := scrape(t, m)
	wantLines(t, out,
		`userdesk_auth0_requests_total{endpoint="/api/v2/users/{id}",method="GET",status="429"} 1`,
		`userdesk_auth0_requests_total{endpoint="/api/v2/users/{id}",method="GET",status="200"} 1`,
		`userdesk_auth0_rate_limited_total{endpoint="/api/v2/users/{id}"} 1`,
		`userdesk_auth0_retries_total{endpoint="/api/v2/users/{id}",reason="429"} 1`,
		`userdesk_auth0_waits_total{endpoint="/api/v2/users/{id}",reason="retry"} 1`,
		`userdesk_auth0_token_fetches_total{result="ok"} 1`,
		`userdesk_auth0_token_fetches_total{result="error"} 0`,
		`userdesk_auth0_breaker_state{state="closed"} 1`,
		`userdesk_auth0_breaker_state{state="open"} 0`,
	)
	if strings.Contains(out, "secret-id-123") {
		t.Error("a user id leaked into a label")
	}
	last, ok := m.LastUpstream()
	if !ok || last.Status != 200 || last.Endpoint != "/api/v2/users/{id}" || !last.At.Equal(at) {
		t.Errorf("LastUpstream = %+v, %v", last, ok)
	}
	m.BreakerState(mgmt.BreakerOpen)
	wantLines(t, scrape(t, m), `userdesk_auth0_breaker_state{state="closed"} 0`, `userdesk_auth0_breaker_state{state="open"} 1`)
}

type failingAudit struct{ audit.Store }

func (failingAudit) Append(context.Context, audit.Entry) (audit.Entry, error) {
	return audit.Entry{}, errors.New("disk full")
}

// TestAuditWritesAndSessions: audit appends are counted by result through the wrapper, which passes
// entries and errors through unchanged; the session gauge reads the count at scrape time and reports
// NaN when it cannot.
func TestAuditWritesAndSessions(t *testing.T) {
	m := New(nil)
	ok := m.AuditStore(audit.NewMemory())
	if _, err := ok.Append(context.Background(), audit.Entry{Action: "user.create", Outcome: audit.OutcomeSuccess}); err != nil {
		t.Fatal(err)
	}
	if _, n, err := ok.Query(context.Background(), audit.Filter{}); err != nil || n != 1 {
		t.Fatalf("wrapped store lost the entry: %d, %v", n, err)
	}
	if _, err := m.AuditStore(failingAudit{}).Append(context.Background(), audit.Entry{}); err == nil || err.Error() != "disk full" {
		t.Fatalf("error not passed through: %v", err)
	}
	sessions, fail := 3, false
	m.ActiveSessions(func(context.Context) (int, error) {
		if fail {
			return 0, errors.New("db down")
		}
		return sessions, nil
	})
	wantLines(t, scrape(t, m),
		`userdesk_audit_writes_total{result="ok"} 1`,
		`userdesk_audit_writes_total{result="error"} 1`,
		`userdesk_staff_sessions_active 3`,
	)
	fail = true
	wantLines(t, scrape(t, m), `userdesk_staff_sessions_active NaN`)
}
