package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/userdesk/userdesk/internal/mgmt"
	"github.com/userdesk/userdesk/internal/tenant"
)

// recorder wraps the dashboard's Management API transport and remembers every request it made.
type recorder struct {
	mu       sync.Mutex
	base     http.RoundTripper
	requests []string // "METHOD path"
	bearer   map[string]bool
	// correlation maps "METHOD path" of each write to the X-Correlation-ID it carried (the last one).
	correlation map[string]string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.requests = append(r.requests, req.Method+" "+req.URL.Path)
	if cid := req.Header.Get("X-Correlation-ID"); cid != "" {
		if r.correlation == nil {
			r.correlation = map[string]string{}
		}
		r.correlation[req.Method+" "+req.URL.Path] = cid
	}
	if a := req.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
		r.bearer[strings.TrimPrefix(a, "Bearer ")] = true
	}
	r.mu.Unlock()
	return r.base.RoundTrip(req)
}

// correlationOf returns the X-Correlation-ID the last write to "METHOD path" carried.
func (r *recorder) correlationOf(methodPath string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.correlation[methodPath]
}

func (r *recorder) count(prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.requests {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const demoPassword = "Demo-Password-42!"

// startTestApp starts the whole of Userdesk (dashboard + embedded tenant) on loopback ports.
func startTestApp(t *testing.T, logs io.Writer) (*App, *recorder) {
	t.Helper()
	rec := &recorder{base: http.DefaultTransport, bearer: map[string]bool{}}
	cfg, err := configFromEnv(func(k string) string {
		return map[string]string{
			"USERDESK_ADDR":          "127.0.0.1:0",
			"USERDESK_TENANT_ADDR":   "127.0.0.1:0",
			"USERDESK_DATA_DIR":      t.TempDir(),
			"USERDESK_DEMO_PASSWORD": demoPassword,
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if logs == nil {
		logs = io.Discard
	}
	app, err := start(t.Context(), cfg, options{
		Logger:        slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		MgmtTransport: rec,
		BcryptCost:    4,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := app.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return app, rec
}

// session is a cookie-keeping HTTP client that records everything the dashboard sent back.
type session struct {
	t      *testing.T
	c      *http.Client
	app    *App
	mu     sync.Mutex
	bodies []string
}

func newSession(t *testing.T, app *App) *session {
	jar, _ := cookiejar.New(nil)
	return &session{t: t, app: app, c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

func (s *session) do(req *http.Request) (*http.Response, string) {
	s.t.Helper()
	resp, err := s.c.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var hdr strings.Builder
	resp.Header.Write(&hdr)
	s.mu.Lock()
	s.bodies = append(s.bodies, hdr.String()+"\n"+string(b))
	s.mu.Unlock()
	return resp, string(b)
}

func (s *session) get(path string) (*http.Response, string) {
	req, _ := http.NewRequest("GET", s.app.URL+path, nil)
	return s.do(req)
}

func (s *session) post(target string, form url.Values) (*http.Response, string) {
	if strings.HasPrefix(target, "/") {
		target = s.app.URL + target
	}
	req, _ := http.NewRequest("POST", target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.do(req)
}

// signIn goes through the real OIDC flow: dashboard → tenant sign-in form → back to the dashboard.
func (s *session) signIn(email, password string) {
	s.t.Helper()
	resp, body := s.get("/auth/login")
	if !strings.HasPrefix(resp.Request.URL.String(), s.app.TenantURL) {
		s.t.Fatalf("sign-in did not land on the tenant: %s", resp.Request.URL)
	}
	action, form := parseForm(s.t, body, resp.Request.URL)
	form.Set(nameOf(s.t, body, "email"), email)
	form.Set(nameOf(s.t, body, "password"), password)
	resp, body = s.post(action, form)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Request.URL.String(), s.app.URL+"/users") {
		s.t.Fatalf("after sign-in: %d at %s\n%s", resp.StatusCode, resp.Request.URL, body)
	}
}

// parseForm returns the action and the current values of the page's first form.
func parseForm(t *testing.T, page string, base *url.URL) (string, url.Values) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	vals := url.Values{}
	action := ""
	var walk func(n *html.Node, inForm bool)
	walk = func(n *html.Node, inForm bool) {
		if n.Type == html.ElementNode && n.Data == "form" && action == "" {
			action = attr(n, "action")
			if action == "" {
				action = base.String()
			}
			inForm = true
		}
		if inForm && n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") != "" {
			vals.Set(attr(n, "name"), attr(n, "value"))
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inForm)
		}
	}
	walk(doc, false)
	if action == "" {
		t.Fatalf("no form on page:\n%s", page)
	}
	u, err := base.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	return u.String(), vals
}

// nameOf returns the name attribute of the element with that id.
func nameOf(t *testing.T, page, id string) string {
	t.Helper()
	doc, _ := html.Parse(strings.NewReader(page))
	var found string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && attr(n, "id") == id {
			found = attr(n, "name")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if found == "" {
		t.Fatalf("no element #%s with a name on page", id)
	}
	return found
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// firstCustomer returns a seeded user of the database connection, read straight from the tenant.
func firstCustomer(t *testing.T, app *App) mgmt.User {
	t.Helper()
	return customers(t, mgmtFor(t, app), 5)[0]
}

// customers returns up to n seeded users of the tenant's database connection (at least one).
func customers(t *testing.T, c *mgmt.Client, n int) []mgmt.User {
	t.Helper()
	l, err := c.Users.List(t.Context(), mgmt.ListUsersParams{Q: `identities.connection:"` + tenant.DatabaseConnection + `"`, PerPage: n})
	if err != nil || len(l.Users) == 0 {
		t.Fatalf("no seeded customer: %v", err)
	}
	return l.Users
}

// otherCustomer returns a seeded user of the database connection other than id.
func otherCustomer(t *testing.T, c *mgmt.Client, id string) mgmt.User {
	t.Helper()
	for _, u := range customers(t, c, 5) {
		if u.UserID != id {
			return u
		}
	}
	t.Fatal("no second seeded customer")
	return mgmt.User{}
}

func TestHealthzAndSignInRequired(t *testing.T) {
	app, rec := startTestApp(t, nil)
	resp, err := http.Get(app.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"/", "/users", "/users/new", "/users/auth0%7Cabc", "/users/auth0%7Cabc/metadata"} {
		resp, err := noRedirect.Get(app.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := "/signin"
		if p != "/" {
			want += "?return_to=" + url.QueryEscape(p)
		}
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("GET %s without a session: %d → %q", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if n := rec.count(""); n != 0 {
		t.Errorf("unauthenticated requests reached the Management API %d times", n)
	}
}

// TestServiceTokenNeverLeaves walks every screen and action as a signed-in staff member, then looks for
// the service account's access token and client secret in every response, cookie, printed line and log
// line. It also checks that one token served the whole walk.
func TestServiceTokenNeverLeaves(t *testing.T) {
	logs := &syncBuffer{}
	app, rec := startTestApp(t, logs)
	s := newSession(t, app)
	s.signIn(app.DemoEmail, demoPassword)

	cust := firstCustomer(t, app)
	esc := url.PathEscape(cust.UserID)
	s.get("/users")
	s.get("/users?q=" + url.QueryEscape(cust.Email))
	s.get("/users?page=1")
	s.get("/users/" + esc)
	s.get("/users/" + esc + "/metadata")
	s.post("/users/"+esc+"/metadata", url.Values{"user_metadata": {`{"leak_check": true}`}, "app_metadata": {`{}`}})
	s.post("/users/"+esc+"/metadata", url.Values{"user_metadata": {`{broken`}, "app_metadata": {`{}`}})
	s.get("/users/new")
	s.post("/users", url.Values{"connection": {"Username-Password-Authentication"}, "email": {cust.Email}, "username": {"dupcheck"},
		"password": {"Another-Passw0rd!"}})
	s.post("/users", url.Values{"connection": {"Username-Password-Authentication"}, "email": {"leak-check@example.org"},
		"username": {"leakcheck"}, "password": {"Another-Passw0rd!"}})
	s.get("/users/does-not-exist")

	if len(rec.bearer) != 1 {
		t.Fatalf("expected the whole walk to use one service token, saw %d", len(rec.bearer))
	}
	if n := rec.count("POST /oauth/token"); n != 1 {
		t.Errorf("token fetched %d times; want once for the whole walk", n)
	}
	_, secret := app.tenant.ServiceAccount()
	var token string
	for tok := range rec.bearer {
		token = tok
	}
	u, _ := url.Parse(app.URL)
	var cookies []string
	for _, c := range s.c.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	haystacks := map[string]string{
		"responses": strings.Join(s.bodies, "\n"),
		"cookies":   strings.Join(cookies, "\n"),
		"logs":      logs.String(),
	}
	for where, text := range haystacks {
		for what, needle := range map[string]string{"access token": token, "client secret": secret} {
			if strings.Contains(text, needle) {
				t.Errorf("the service account's %s appears in %s", what, where)
			}
		}
	}
	if !strings.Contains(logs.String(), "/users") {
		t.Error("request log is empty; the leak check would prove nothing")
	}
}
