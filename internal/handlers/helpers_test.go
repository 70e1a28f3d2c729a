package handlers_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/html"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/auditlog"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/handlers"
	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/reqctx"
	"github.com/userdesk/userdesk/internal/sessionstore"
	"github.com/userdesk/userdesk/internal/staffsessions"
	"github.com/userdesk/userdesk/internal/users"
	"github.com/userdesk/userdesk/internal/users/userstest"
)

// staffHeader marks a test request as coming from a signed-in staff member; fakeAuth turns it into
// reqctx.Staff, and redirects to /signin without it.
const staffHeader = "X-Test-Staff"

// roleHeader sets the test staff member's role; without it they are an admin.
const roleHeader = "X-Test-Role"

// subjectHeader sets the test staff member's subject (default "s1"); their email is <subject>@corp.example.
const subjectHeader = "X-Test-Subject"

type fakeAuth struct {
	mu    sync.Mutex
	calls []string
}

func (a *fakeAuth) record(s string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, s)
}

func (a *fakeAuth) Calls() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.calls...)
}

func (a *fakeAuth) Login(c echo.Context) error {
	a.record("login")
	return c.Redirect(http.StatusFound, "https://idp.example/authorize")
}

func (a *fakeAuth) Callback(c echo.Context) error {
	a.record("callback")
	return c.Redirect(http.StatusFound, "/users")
}

func (a *fakeAuth) Logout(c echo.Context) error {
	a.record("logout")
	return c.Redirect(http.StatusSeeOther, "/signin")
}

func (a *fakeAuth) RequireStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := c.Request().Header.Get(staffHeader)
		if name == "" {
			return c.Redirect(http.StatusFound, "/signin")
		}
		r := c.Request()
		role := authz.Role(r.Header.Get(roleHeader))
		if role == "" {
			role = authz.Admin
		}
		sub := r.Header.Get(subjectHeader)
		if sub == "" {
			sub = "s1"
		}
		c.SetRequest(r.WithContext(reqctx.WithStaff(r.Context(), reqctx.Staff{Issuer: "https://idp.example/", Subject: sub,
			Email: sub + "@corp.example", Name: name, Role: role})))
		return next(c)
	}
}

type env struct {
	e        *echo.Echo
	api      *userstest.API
	auth     *fakeAuth
	logs     *bytes.Buffer
	trail    audit.Store               // the audit trail the handlers and the service write to
	sessions *sessionstore.MemoryStore // staff sessions behind /staff/sessions
	svc      *users.Service
}

// envOptions vary newEnvWith; the zero value is newEnv's setup.
type envOptions struct {
	dev            bool
	trail          audit.Store // default an in-memory store
	ip             echo.IPExtractor
	policy         string                // USERDESK_METADATA_POLICY
	reasonRequired string                // USERDESK_REASON_REQUIRED
	limits         *handlers.StaffLimits // nil: the defaults
}

func dbConns() []mgmt.Connection {
	return []mgmt.Connection{
		{ID: "con_1", Name: "Username-Password-Authentication", Strategy: "auth0"},
		{ID: "con_2", Name: "google-oauth2", Strategy: "google-oauth2"},
		{ID: "con_3", Name: "Staff-DB", Strategy: "auth0"},
	}
}

func newEnv(t *testing.T, dev bool, us ...mgmt.User) *env {
	t.Helper()
	return newEnvWith(t, envOptions{dev: dev}, us...)
}

func newEnvWith(t *testing.T, o envOptions, us ...mgmt.User) *env {
	t.Helper()
	api := userstest.New(dbConns(), us...)
	auth := &fakeAuth{}
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	trail := o.trail
	if trail == nil {
		trail = audit.NewMemory()
	}
	rec := auditlog.New(trail, log)
	policy, err := authz.ParseMetadataPolicy(o.policy)
	if err != nil {
		t.Fatal(err)
	}
	svc := &users.Service{API: api, Audit: rec, Policy: policy, ReasonRequired: users.ParseReasonRequired(o.reasonRequired)}
	sess := sessionstore.NewMemory()
	e := handlers.New(handlers.Deps{
		Users:       svc,
		Audit:       rec,
		Trail:       rec,
		Sessions:    &staffsessions.Service{Store: sess, Audit: rec, Roles: authz.Mapping{Claim: "groups"}},
		Auth:        auth,
		Logger:      log,
		Dev:         o.dev,
		IPExtractor: o.ip,
		StaffLimits: o.limits,
	})
	return &env{e: e, api: api, auth: auth, logs: logs, trail: trail, sessions: sess, svc: svc}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// req describes one request; staff is the signed-in name ("" = anonymous). POSTs are same-origin
// (Sec-Fetch-Site: same-origin) unless headers say otherwise.
type req struct {
	method, target string
	form           url.Values
	staff          string
	headers        map[string]string
	peer           string // RemoteAddr; default httptest's 192.0.2.1:1234
}

func (e *env) do(t *testing.T, r req) *httptest.ResponseRecorder {
	t.Helper()
	var body *strings.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	} else {
		body = strings.NewReader("")
	}
	hr := httptest.NewRequest(r.method, r.target, body)
	if r.form != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if r.method == http.MethodPost {
		hr.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	if r.peer != "" {
		hr.RemoteAddr = r.peer
	}
	if r.staff != "" {
		hr.Header.Set(staffHeader, r.staff)
	}
	for k, v := range r.headers {
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	rec := httptest.NewRecorder()
	e.e.ServeHTTP(rec, hr)
	return rec
}

func (e *env) get(t *testing.T, target string) *httptest.ResponseRecorder {
	t.Helper()
	return e.do(t, req{method: http.MethodGet, target: target, staff: "Sam Support"})
}

func (e *env) post(t *testing.T, target string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	return e.do(t, req{method: http.MethodPost, target: target, form: form, staff: "Sam Support"})
}

// page is a parsed HTML response.
type page struct {
	t    *testing.T
	root *html.Node
}

func parse(t *testing.T, rec *httptest.ResponseRecorder) *page {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("Content-Type = %q, want HTML; body: %s", ct, rec.Body.String())
	}
	root, err := html.Parse(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	return &page{t: t, root: root}
}

func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func (p *page) all(match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for n := range p.root.Descendants() {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
	}
	return out
}

func (p *page) byAttr(key, val string) []*html.Node {
	return p.all(func(n *html.Node) bool { v, ok := attr(n, key); return ok && v == val })
}

// one returns the only element with the attribute value, failing the test otherwise.
func (p *page) one(key, val string) *html.Node {
	p.t.Helper()
	ns := p.byAttr(key, val)
	if len(ns) != 1 {
		p.t.Fatalf("want exactly one element with %s=%q, got %d", key, val, len(ns))
	}
	return ns[0]
}

func (p *page) has(key, val string) bool { return len(p.byAttr(key, val)) > 0 }

// text is the element's text with whitespace collapsed; separate text nodes (cells, list items) are
// separated by one space.
func text(n *html.Node) string {
	var parts []string
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			parts = append(parts, d.Data)
		}
	}
	return strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
}

func (p *page) textOf(key, val string) string {
	p.t.Helper()
	return text(p.one(key, val))
}

func (p *page) value(id string) string {
	p.t.Helper()
	v, _ := attr(p.one("id", id), "value")
	return v
}

func (p *page) href(key, val string) string {
	p.t.Helper()
	v, _ := attr(p.one(key, val), "href")
	return v
}

func hasAttr(n *html.Node, key, val string) bool {
	v, ok := attr(n, key)
	return ok && v == val
}

// putSession stores a live staff session for subject in st.
func putSession(t *testing.T, st sessionstore.Store, id, subject string) {
	t.Helper()
	now := time.Now()
	err := st.Create(t.Context(), sessionstore.Session{ID: id, Staff: sessionstore.Staff{Issuer: "https://idp.example/", Subject: subject,
		Email: subject + "@corp.example", Roles: []string{"agent"}}, CreatedAt: now, SeenAt: now, ExpiresAt: now.Add(time.Hour),
		IP: "198.51.100.7", UserAgent: "Firefox/140"})
	if err != nil && !errors.Is(err, sessionstore.ErrAlreadyExists) {
		t.Fatal(err)
	}
}

// newIdleSession is a live session of subject last seen at seen (older than the idle timeout).
func newIdleSession(id, subject string, seen time.Time) sessionstore.Session {
	return sessionstore.Session{ID: id, Staff: sessionstore.Staff{Issuer: "https://idp.example/", Subject: subject,
		Email: subject + "@corp.example"}, CreatedAt: seen, SeenAt: seen, ExpiresAt: time.Now().Add(time.Hour)}
}
