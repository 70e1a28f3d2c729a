package handlers_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/userdesk/userdesk/internal/mgmt"
)

func TestHealthz(t *testing.T) {
	env := newEnv(t, false)
	rec := env.do(t, req{method: http.MethodGet, target: "/healthz"})
	if rec.Code != http.StatusOK || rec.Body.String() != "ok" {
		t.Errorf("status %d body %q", rec.Code, rec.Body)
	}
}

// Every staff route, GET and POST, sends anonymous requests to /signin and never reaches Auth0.
func TestUnauthenticatedRequestsRedirect(t *testing.T) {
	env := newEnv(t, false, jane())
	for _, r := range []req{
		{method: http.MethodGet, target: "/"},
		{method: http.MethodGet, target: "/users"},
		{method: http.MethodGet, target: "/users?q=jane"},
		{method: http.MethodGet, target: "/users/new"},
		{method: http.MethodGet, target: "/users/auth0%7Cabc"},
		{method: http.MethodGet, target: "/users/auth0%7Cabc/metadata"},
		{method: http.MethodPost, target: "/users", form: url.Values{"connection": {"Staff-DB"}, "email": {"a@example.com"}, "password": {"x"}}},
		{method: http.MethodPost, target: "/users/auth0%7Cabc/metadata", form: url.Values{"user_metadata": {"{}"}, "app_metadata": {"{}"}}},
		{method: http.MethodGet, target: "/audit"},
		{method: http.MethodGet, target: "/audit.csv"},
		{method: http.MethodGet, target: "/staff/sessions"},
		{method: http.MethodPost, target: "/staff/sessions/end", form: url.Values{"issuer": {"https://idp.example/"}, "subject": {"s1"}}},
	} {
		rec := env.do(t, r)
		if rec.Code != http.StatusFound || rec.Header().Get("Location") != "/signin" {
			t.Errorf("%s %s: status %d Location %q, want 302 /signin", r.method, r.target, rec.Code, rec.Header().Get("Location"))
		}
	}
	if c := env.api.Calls(); len(c) != 0 {
		t.Errorf("Auth0 calls without a session: %+v", c)
	}
}

func TestRootRedirectsToUsers(t *testing.T) {
	rec := newEnv(t, false).get(t, "/")
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "/users" {
		t.Errorf("status %d Location %q", rec.Code, rec.Header().Get("Location"))
	}
}

func TestAuthRoutesReachAuth(t *testing.T) {
	env := newEnv(t, false)
	env.do(t, req{method: http.MethodGet, target: "/auth/login"})
	env.do(t, req{method: http.MethodGet, target: "/auth/callback?code=x&state=y"})
	env.do(t, req{method: http.MethodPost, target: "/auth/logout", form: url.Values{}})
	if got := strings.Join(env.auth.Calls(), ","); got != "login,callback,logout" {
		t.Errorf("auth calls = %s", got)
	}
	if rec := env.do(t, req{method: http.MethodGet, target: "/auth/logout"}); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /auth/logout: status %d, want 405", rec.Code)
	}
}

func TestSignInPage(t *testing.T) {
	env := newEnv(t, false)
	tests := []struct{ query, want string }{
		{"", ""},
		{"?error=denied", "Sign-in was cancelled or refused by the identity provider."},
		{"?error=expired", "The sign-in took too long or was started in another tab. Please try again."},
		{"?error=failed", "Sign-in failed. Please try again."},
		{"?error=forbidden", "Your account is not allowed to use Userdesk."},
		{"?error=session", "Your session has ended. Please sign in again."},
		{"?error=%3Cscript%3Ealert(1)%3C/script%3E", ""},
		{"?error=Your+account+was+hacked", ""},
	}
	for _, tt := range tests {
		rec := env.do(t, req{method: http.MethodGet, target: "/signin" + tt.query})
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: status %d", tt.query, rec.Code)
		}
		p := parse(t, rec)
		got := ""
		if p.has("data-testid", "alert") {
			got = p.textOf("data-testid", "alert")
		}
		if got != tt.want {
			t.Errorf("%s: message %q, want %q", tt.query, got, tt.want)
		}
		if p.href("id", "signin-link") != "/auth/login" {
			t.Error("sign-in link must go to /auth/login")
		}
		if p.has("id", "signout") {
			t.Error("sign-out form on the public page")
		}
		if strings.Contains(rec.Body.String(), "hacked") {
			t.Error("error parameter echoed")
		}
	}
}

func TestSignInPageReturnToAndNotice(t *testing.T) {
	env := newEnv(t, false)
	for query, wantLink := range map[string]string{
		"?return_to=%2Fusers%2Fauth0%257Cabc":   "/auth/login?return_to=%2Fusers%2Fauth0%257Cabc",
		"?return_to=%2F%2Fevil.example":         "/auth/login",
		"?return_to=https%3A%2F%2Fevil.example": "/auth/login",
		"?return_to=%2F%2509%2Fevil.example":    "/auth/login",
	} {
		p := parse(t, env.get(t, "/signin"+query))
		if got := p.href("id", "signin-link"); got != wantLink {
			t.Errorf("%s: sign-in link %q, want %q", query, got, wantLink)
		}
	}
	p := parse(t, env.get(t, "/signin?error=signed_out"))
	if p.has("data-testid", "alert") || p.textOf("data-testid", "flash") != "You have signed out." {
		t.Error("signing out must show a notice, not an error")
	}
}

func TestSignedInLayout(t *testing.T) {
	p := parse(t, newEnv(t, false).get(t, "/users"))
	if got := p.textOf("data-testid", "staff-name"); got != "Sam Support" {
		t.Errorf("staff name = %q", got)
	}
	btn := p.one("id", "signout")
	form := btn.Parent
	if form.Data != "form" || !hasAttr(form, "method", "post") || !hasAttr(form, "action", "/auth/logout") {
		t.Errorf("sign-out is not a POST form to /auth/logout")
	}
}

func TestStaticFiles(t *testing.T) {
	env := newEnv(t, false)
	p := parse(t, env.do(t, req{method: http.MethodGet, target: "/signin"}))
	var cssURL string
	for _, n := range p.all(func(n *html.Node) bool { return n.Data == "link" }) {
		cssURL, _ = attr(n, "href")
	}
	if !regexp.MustCompile(`^/static/app\.css\?v=[0-9a-f]{12}$`).MatchString(cssURL) {
		t.Fatalf("stylesheet URL %q is not content-hashed", cssURL)
	}
	rec := env.do(t, req{method: http.MethodGet, target: cssURL})
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") ||
		rec.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" || !strings.Contains(rec.Body.String(), "font-family") {
		t.Errorf("css: status %d type %q cache %q", rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"))
	}
	for _, bad := range []string{"/static/", "/static/missing.css", "/static/embed.go", "/static/..%2fhandlers.go", "/static/a/../app.css"} {
		rec := env.do(t, req{method: http.MethodGet, target: bad})
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", bad, rec.Code)
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", bad, rec.Header().Get("Cache-Control"))
		}
	}
}

var cspNonce = regexp.MustCompile(`script-src 'nonce-([A-Za-z0-9_-]+)' 'strict-dynamic'`)

func TestSecurityHeaders(t *testing.T) {
	for _, dev := range []bool{false, true} {
		env := newEnv(t, dev, jane())
		seen := map[string]bool{}
		for _, r := range []req{
			{method: http.MethodGet, target: "/healthz"},
			{method: http.MethodGet, target: "/signin"},
			{method: http.MethodGet, target: "/signin"},
			{method: http.MethodGet, target: "/users", staff: "S"},
			{method: http.MethodGet, target: "/users/auth0%7Cabc", staff: "S"},
			{method: http.MethodGet, target: "/users/auth0%7Cnope", staff: "S"},
			{method: http.MethodGet, target: "/audit", staff: "S"},
			{method: http.MethodGet, target: "/audit.csv", staff: "S"},
			{method: http.MethodGet, target: "/staff/sessions", staff: "S"},
			{method: http.MethodGet, target: "/nowhere"},
			{method: http.MethodGet, target: "/users"}, // redirect to /signin
			{method: http.MethodPost, target: "/users", staff: "S", form: url.Values{}},
			{method: http.MethodPost, target: "/users", staff: "S", headers: map[string]string{"Sec-Fetch-Site": "cross-site"}},
		} {
			rec := env.do(t, r)
			h := rec.Header()
			name := r.method + " " + r.target
			csp := h.Get("Content-Security-Policy")
			m := cspNonce.FindStringSubmatch(csp)
			if m == nil {
				t.Fatalf("%s: CSP %q has no nonce", name, csp)
			}
			raw, err := base64.RawURLEncoding.DecodeString(m[1])
			if err != nil || len(raw) < 16 {
				t.Errorf("%s: nonce %q is not 128 random bits", name, m[1])
			}
			if seen[m[1]] {
				t.Errorf("%s: nonce %q reused", name, m[1])
			}
			seen[m[1]] = true
			for _, d := range []string{"default-src 'self'", "style-src 'self'", "img-src 'self' https: data:", "object-src 'none'",
				"base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("%s: CSP lacks %q", name, d)
				}
			}
			want := map[string]string{
				"X-Content-Type-Options":     "nosniff",
				"Referrer-Policy":            "no-referrer",
				"Cross-Origin-Opener-Policy": "same-origin",
				"Cache-Control":              "no-store",
				"Strict-Transport-Security":  "max-age=63072000; includeSubDomains",
				"X-Xss-Protection":           "",
			}
			if dev {
				want["Strict-Transport-Security"] = ""
			}
			for k, v := range want {
				if got := h.Get(k); got != v {
					t.Errorf("%s (dev=%v): %s = %q, want %q", name, dev, k, got, v)
				}
			}
			if strings.HasPrefix(h.Get("Content-Type"), "text/html") {
				// Every script on the page carries this response's nonce.
				for _, s := range parse(t, rec).all(func(n *html.Node) bool { return n.Data == "script" }) {
					if n, _ := attr(s, "nonce"); n != m[1] {
						t.Errorf("%s: script nonce %q, header nonce %q", name, n, m[1])
					}
				}
			}
		}
	}
}

// Every POST route refuses cross-site requests with 403 before any handler or Auth0 call runs.
func TestCrossSitePostsRejected(t *testing.T) {
	env := newEnv(t, false, jane())
	var posts []string
	for _, r := range env.e.Routes() {
		if r.Method == http.MethodPost {
			posts = append(posts, strings.ReplaceAll(r.Path, ":id", "auth0%7Cabc"))
		}
	}
	// Logout, create, metadata save, staff sessions end, users export, and the user page's 17 actions.
	if len(posts) != 5+17 {
		t.Fatalf("POST routes = %v, want logout, create, metadata save, staff sessions end, users export and the user page's actions", posts)
	}
	form := url.Values{
		"connection": {"Staff-DB"}, "email": {"evil@example.com"}, "password": {"x"},
		"user_metadata": {`{"pwned": true}`}, "app_metadata": {`{}`},
		"issuer": {"https://idp.example/"}, "subject": {"victim"},
	}
	putSession(t, env.sessions, "victim-session", "victim")
	for _, path := range posts {
		for _, hdr := range []map[string]string{
			{"Sec-Fetch-Site": "cross-site"},
			{"Sec-Fetch-Site": "same-site"},
			{"Sec-Fetch-Site": "", "Origin": "https://evil.example"},
			{"Sec-Fetch-Site": "", "Origin": "null"},
			{"Sec-Fetch-Site": "cross-site", "X-HTTP-Method-Override": "GET"},
		} {
			rec := env.do(t, req{method: http.MethodPost, target: path + "?_method=GET", form: form, staff: "S", headers: hdr})
			if rec.Code != http.StatusForbidden {
				t.Errorf("POST %s %v: status %d, want 403", path, hdr, rec.Code)
			}
			if got := parse(t, rec).textOf("data-testid", "error-message"); !strings.Contains(got, "came from another site") {
				t.Errorf("403 page message %q", got)
			}
		}
	}
	if c := env.api.Calls(); len(c) != 0 {
		t.Errorf("Auth0 saw cross-site requests: %+v", c)
	}
	if c := env.auth.Calls(); len(c) != 0 {
		t.Errorf("Auth saw cross-site requests: %v", c)
	}
	if _, err := env.sessions.Get(t.Context(), "victim-session"); err != nil {
		t.Errorf("a cross-site POST ended a staff session: %v", err)
	}
	if !strings.Contains(env.logs.String(), "event=malicious_csrf") {
		t.Error("refusal not logged")
	}
	// Same-origin still works.
	if rec := env.post(t, "/users/auth0%7Cabc/metadata", url.Values{"user_metadata": {`{"x": 1}`}, "app_metadata": {`{}`},
		"base": {janeBase()}, "confirm": {"1"}}); rec.Code != http.StatusSeeOther {
		t.Errorf("same-origin POST: status %d", rec.Code)
	}
}

func TestErrorPages(t *testing.T) {
	env := newEnv(t, false, jane())
	tests := []struct {
		name   string
		r      req
		status int
		msg    string
	}{
		{"unknown path", req{method: http.MethodGet, target: "/nowhere", staff: "S"}, 404, "There is no page at this address."},
		{"wrong method", req{method: http.MethodPut, target: "/users", staff: "S"}, 405, "This page does not accept that kind of request."},
		{"body too large", req{method: http.MethodPost, target: "/users", staff: "S", form: url.Values{"email": {strings.Repeat("x", 600<<10)}}}, 413, "The form was too large to accept."},
	}
	for _, tt := range tests {
		rec := env.do(t, tt.r)
		if rec.Code != tt.status {
			t.Errorf("%s: status %d, want %d", tt.name, rec.Code, tt.status)
			continue
		}
		if got := parse(t, rec).textOf("data-testid", "error-message"); got != tt.msg {
			t.Errorf("%s: message %q", tt.name, got)
		}
	}
	if n := len(env.api.Writes()); n != 0 {
		t.Errorf("writes = %d", n)
	}
}

func TestPanicBecomesGeneric500(t *testing.T) {
	env := newEnv(t, false, jane())
	env.api.Fail = func(string) error { panic("SENTINEL-panic-detail") }
	rec := env.get(t, "/users/auth0%7Cabc")
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", rec.Code)
	}
	body := rec.Body.String()
	if strings.Contains(body, "SENTINEL") || strings.Contains(body, "goroutine") || strings.Contains(body, ".go:") {
		t.Error("panic detail or stack shown")
	}
	if got := parse(t, rec).textOf("data-testid", "error-message"); !strings.HasPrefix(got, "Something went wrong") {
		t.Errorf("message %q", got)
	}
	if !strings.Contains(env.logs.String(), "SENTINEL-panic-detail") {
		t.Error("panic not logged")
	}
}

func TestRequestLogOmitsHeadersCookiesAndQuery(t *testing.T) {
	env := newEnv(t, false, jane())
	env.do(t, req{method: http.MethodGet, target: "/users?q=secret-search-term", staff: "S",
		headers: map[string]string{"Cookie": "__Host-session=SENTINEL-cookie", "Authorization": "Bearer SENTINEL-token"}})
	logs := env.logs.String()
	if !regexp.MustCompile(`msg=request method=GET path=/users status=200 latency=\S+`).MatchString(logs) {
		t.Errorf("request line missing: %s", logs)
	}
	for _, s := range []string{"SENTINEL", "secret-search-term"} {
		if strings.Contains(logs, s) {
			t.Errorf("log contains %q: %s", s, logs)
		}
	}
}

// payloads are classic script-injection strings (blns "Script Injection" style).
var payloads = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`'><svg onload=alert(1)>`,
	`javascript:alert(1)`,
	`</textarea><script>alert(1)</script>`,
	`</pre><iframe src=javascript:alert(1)>`,
}

func TestNoXSSFromAuth0Data(t *testing.T) {
	var us []mgmt.User
	meta := map[string]any{}
	for i, p := range payloads {
		meta["k"+string(rune('a'+i))] = p
		meta[p[:min(len(p), 20)]+"_key"] = map[string]any{"v": p}
	}
	for i, p := range payloads {
		us = append(us, mgmt.User{
			UserID:       "auth0|" + string(rune('a'+i)) + p,
			Email:        p + "@example.com",
			Name:         p,
			Nickname:     p,
			Picture:      p,
			LastIP:       p,
			Identities:   []mgmt.Identity{{Connection: p, Provider: p, UserID: p}},
			UserMetadata: meta,
			AppMetadata:  meta,
		})
	}
	env := newEnv(t, false, us...)
	pages := map[string]int{
		"/users": 200, "/users?q=" + url.QueryEscape(payloads[0]): 200, "/users?q=" + url.QueryEscape(payloads[1]) + "&page=2": 200,
		"/users/" + url.PathEscape(payloads[1]): 404, // the 404 page repeats the id
	}
	for _, u := range us {
		esc := "/users/" + url.PathEscape(u.UserID)
		pages[esc] = 200
		pages[esc+"/metadata"] = 200
		pages[esc+"?msg="+url.QueryEscape(payloads[0])] = 200
	}
	for path, status := range pages {
		rec := env.get(t, path)
		if rec.Code != status {
			t.Fatalf("%s: status %d, want %d", path, rec.Code, status)
		}
		assertNoForeignScript(t, path, rec.Header().Get("Content-Security-Policy"), parse(t, rec))
	}
	// The payloads did reach the pages, as text.
	list := parse(t, env.get(t, "/users"))
	if rows := list.byAttr("data-testid", "user-row"); len(rows) != len(payloads) || !strings.Contains(text(rows[1]), payloads[1]) {
		t.Errorf("payload users not listed as text")
	}

	// A rejected metadata form echoes the staff member's text back, still escaped.
	rec := env.post(t, "/users/"+url.PathEscape(us[0].UserID)+"/metadata", url.Values{
		"user_metadata": {payloads[4]}, "app_metadata": {payloads[1]},
	})
	if rec.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d", rec.Code)
	}
	p := parse(t, rec)
	assertNoForeignScript(t, "metadata POST", rec.Header().Get("Content-Security-Policy"), p)
	if got := p.one("id", "user_metadata").FirstChild.Data; got != payloads[4] {
		t.Errorf("textarea text = %q, want the payload as text", got)
	}
	// Same for the create form.
	rec = env.post(t, "/users", url.Values{"connection": {payloads[0]}, "email": {payloads[1]}, "password": {"x"}})
	assertNoForeignScript(t, "create POST", rec.Header().Get("Content-Security-Policy"), parse(t, rec))
}

func assertNoForeignScript(t *testing.T, name, csp string, p *page) {
	t.Helper()
	for _, problem := range foreignScript(csp, p.root) {
		t.Errorf("%s: %s", name, problem)
	}
}

// The oracle itself must catch what it is for.
func TestForeignScriptOracle(t *testing.T) {
	csp := "script-src 'nonce-abc' 'strict-dynamic'"
	for _, doc := range []string{
		`<script>alert(1)</script>`,
		`<script nonce="abc">alert(1)</script>`,
		`<script nonce="zzz" src="/static/app.js?v=1"></script>`,
		`<img src=x onerror=alert(1)>`,
		`<a href="javascript:alert(1)">x</a>`,
		`<div ONMOUSEOVER="x">`,
		`<svg><g/></svg>`,
	} {
		root, err := html.Parse(strings.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		if len(foreignScript(csp, root)) == 0 {
			t.Errorf("oracle missed %s", doc)
		}
	}
	ok, _ := html.Parse(strings.NewReader(`<script src="/static/app.js?v=1" nonce="abc"></script><img src="https://x/y.png"><p>&lt;script&gt;</p>`))
	if got := foreignScript(csp, ok); len(got) != 0 {
		t.Errorf("oracle flagged a clean page: %v", got)
	}
}

// foreignScript lists what in the document could run script: a <script> that is not our nonce'd
// file, an on* attribute, a javascript:/data: URL, or an element only an injection would add.
func foreignScript(csp string, root *html.Node) []string {
	var out []string
	m := cspNonce.FindStringSubmatch(csp)
	if m == nil {
		return []string{"no CSP nonce"}
	}
	for n := range root.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.Data {
		case "script":
			src, _ := attr(n, "src")
			if nonce, _ := attr(n, "nonce"); nonce != m[1] || !strings.HasPrefix(src, "/static/app.js?v=") || n.FirstChild != nil {
				out = append(out, fmt.Sprintf("foreign script element %v", n.Attr))
			}
		case "iframe", "svg", "object", "embed", "base":
			out = append(out, "injected <"+n.Data+">")
		case "img":
			if src, _ := attr(n, "src"); !strings.HasPrefix(src, "https://") {
				out = append(out, fmt.Sprintf("img with src %q", src))
			}
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(strings.ToLower(a.Key), "on") {
				out = append(out, fmt.Sprintf("event handler attribute %s=%q on <%s>", a.Key, a.Val, n.Data))
			}
			v := strings.ToLower(strings.TrimSpace(a.Val))
			if (a.Key == "href" || a.Key == "src" || a.Key == "action") && (strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "data:")) {
				out = append(out, fmt.Sprintf("%s=%q on <%s>", a.Key, a.Val, n.Data))
			}
		}
	}
	return out
}

// TestNoCORSHeaders: no route answers a foreign Origin with Access-Control-Allow-* (security.md row 20).
func TestNoCORSHeaders(t *testing.T) {
	env := newEnv(t, false)
	for _, target := range []string{"/healthz", "/signin", "/users", "/users/auth0%7Cabc"} {
		for _, method := range []string{http.MethodGet, http.MethodOptions} {
			rec := env.do(t, req{method: method, target: target, staff: "Sam", headers: map[string]string{
				"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}})
			for k := range rec.Header() {
				if strings.HasPrefix(strings.ToLower(k), "access-control-") {
					t.Errorf("%s %s answered a foreign origin with %s", method, target, k)
				}
			}
		}
	}
}

// TestLogLinesCannotBeForged: CR/LF in anything a user sends stays inside one log line (row 39).
func TestLogLinesCannotBeForged(t *testing.T) {
	env := newEnv(t, false)
	env.do(t, req{method: http.MethodGet, target: "/users/x%0d%0atime=2026-01-01%20level=ERROR%20msg=forged", staff: "Sam"})
	env.do(t, req{method: http.MethodGet, target: "/users?q=a%0Alevel%3DERROR", staff: "Sam"})
	logs := env.logs.String()
	if !strings.Contains(logs, "forged") {
		t.Fatal("the hostile path was not logged; the check would prove nothing")
	}
	for _, line := range strings.Split(strings.TrimRight(logs, "\n"), "\n") {
		if !strings.HasPrefix(line, "time=") || strings.Contains(line, "msg=forged") && !strings.Contains(line, `\n`) {
			t.Errorf("forged or broken log line: %q", line)
		}
	}
}
