package staffauth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/labstack/echo/v4"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/auditlog"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/reqctx"
	"github.com/userdesk/userdesk/internal/sessionstore"
)

// fakeOP is a minimal OpenID provider whose ID tokens the test can spoil one claim at a time.
type fakeOP struct {
	srv    *httptest.Server
	key    *rsa.PrivateKey
	mu     sync.Mutex
	codes  map[string]string // code -> PKCE challenge
	nonce  string            // nonce to put in the next ID token
	mutate func(claims map[string]any)
	signer func(payload []byte) string // nil = RS256 with key
	// endSession makes discovery offer RP-initiated logout.
	endSession bool
}

func newFakeOP(t *testing.T) *fakeOP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	op := &fakeOP{key: key, codes: map[string]string{}}
	mux := http.NewServeMux()
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if op.endSession {
			json.NewEncoder(w).Encode(map[string]any{
				"issuer": op.srv.URL + "/", "authorization_endpoint": op.srv.URL + "/authorize", "token_endpoint": op.srv.URL + "/oauth/token",
				"jwks_uri": op.srv.URL + "/.well-known/jwks.json", "end_session_endpoint": op.srv.URL + "/oidc/logout",
			})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                op.srv.URL + "/",
			"authorization_endpoint":                op.srv.URL + "/authorize",
			"token_endpoint":                        op.srv.URL + "/oauth/token",
			"jwks_uri":                              op.srv.URL + "/.well-known/jwks.json",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		op.mu.Lock()
		challenge, ok := op.codes[r.Form.Get("code")]
		delete(op.codes, r.Form.Get("code")) // single use
		op.mu.Unlock()
		sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error":"invalid_grant","error_description":"Invalid authorization code"}`))
			return
		}
		now := time.Now()
		claims := map[string]any{
			"iss": op.srv.URL + "/", "sub": "auth0|staff1", "aud": "userdesk-app", "iat": now.Unix(),
			"exp": now.Add(time.Hour).Unix(), "nonce": op.nonce, "email": "admin@example.com", "name": "Ada Admin",
			"https://userdesk.dev/roles": []string{"admin"},
		}
		if op.mutate != nil {
			op.mutate(claims)
		}
		payload, _ := json.Marshal(claims)
		var idt string
		if op.signer != nil {
			idt = op.signer(payload)
		} else {
			sig, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
			jws, _ := sig.Sign(payload)
			idt, _ = jws.CompactSerialize()
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 3600, "id_token": idt})
	})
	return op
}

// authorize plays the provider's sign-in page: it accepts the authorize URL and returns the code.
func (op *fakeOP) authorize(t *testing.T, authURL string) (code, state string) {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
		t.Fatalf("authorize URL lacks PKCE S256, nonce or state: %s", authURL)
	}
	if q.Get("client_id") != "userdesk-app" || q.Get("response_type") != "code" || !strings.Contains(q.Get("scope"), "openid") {
		t.Fatalf("authorize URL has wrong client/response_type/scope: %s", authURL)
	}
	code = "code-" + q.Get("state")[:8]
	op.mu.Lock()
	op.codes[code] = q.Get("code_challenge")
	op.nonce = q.Get("nonce")
	op.mu.Unlock()
	return code, q.Get("state")
}

type harness struct {
	t     *testing.T
	op    *fakeOP
	auth  *Auth
	e     *echo.Echo
	now   time.Time
	audit *audit.MemoryStore // what the Audit hook recorded
}

func newHarness(t *testing.T, secure bool) *harness {
	h := &harness{t: t, op: newFakeOP(t), now: time.Now().Truncate(time.Second), audit: audit.NewMemory()}
	a, err := New(t.Context(), Config{
		Audit:     auditlog.New(h.audit, nil).Record,
		IssuerURL: h.op.srv.URL + "/", ClientID: "userdesk-app", ClientSecret: "s3cret",
		RedirectURL: "http://127.0.0.1:8080/auth/callback", Roles: authz.Mapping{Claim: "https://userdesk.dev/roles", Groups: map[string]authz.Role{"support": authz.Agent}},
		Sessions: newSessions(t, secure, func() time.Time { return h.now }), HashKey: make32('h'), BlockKey: make32('b'), Secure: secure,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.auth = a
	e := echo.New()
	e.IPExtractor = echo.ExtractIPDirect() // as handlers.New does: X-Forwarded-For is not believed
	e.GET("/auth/login", a.Login)
	e.GET("/auth/callback", a.Callback)
	e.POST("/auth/logout", a.Logout)
	e.GET("/users", func(c echo.Context) error {
		s, _ := reqctx.StaffFrom(c.Request().Context())
		return c.String(200, s.Email+" "+s.Name+" "+strings.Join(s.Roles, ",")+" "+string(s.Role))
	}, a.RequireStaff)
	e.POST("/users", func(c echo.Context) error { return c.String(200, "written") }, a.RequireStaff)
	h.e = e
	return h
}

func make32(b byte) []byte { return []byte(strings.Repeat(string(b), 32)) }

// newSessions is the server-side session store the app uses, in memory, on the harness clock.
func newSessions(t *testing.T, secure bool, now func() time.Time) *sessionstore.GorillaStore {
	t.Helper()
	opts := sessionstore.DefaultCookieOptions()
	opts.Secure = secure
	gs, err := sessionstore.NewGorillaStore(sessionstore.NewMemory(sessionstore.WithClock(now)),
		sessionstore.GorillaConfig{Cookie: &opts, Now: now}, make32('s'), make32('e'))
	if err != nil {
		t.Fatal(err)
	}
	return gs
}

func (h *harness) do(method, target string, cookies []*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.e.ServeHTTP(rec, req)
	return rec
}

// signIn runs the whole flow and returns the session cookie.
func (h *harness) signIn() *http.Cookie {
	h.t.Helper()
	rec := h.do("GET", "/auth/login", nil)
	if rec.Code != http.StatusFound {
		h.t.Fatalf("login: status %d", rec.Code)
	}
	tx := cookieNamed(rec.Result().Cookies(), h.auth.txName())
	code, state := h.op.authorize(h.t, rec.Header().Get("Location"))
	rec = h.do("GET", "/auth/callback?code="+code+"&state="+state, []*http.Cookie{tx})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/users" {
		h.t.Fatalf("callback: status %d location %q", rec.Code, rec.Header().Get("Location"))
	}
	sc := cookieNamed(rec.Result().Cookies(), h.auth.sessionName())
	if sc == nil || sc.Value == "" {
		h.t.Fatal("callback set no session cookie")
	}
	return sc
}

func cookieNamed(cs []*http.Cookie, name string) *http.Cookie {
	var found *http.Cookie
	for _, c := range cs {
		if c.Name == name {
			found = c // the last Set-Cookie for a name is the one the browser keeps
		}
	}
	return found
}

func TestSignInFlowAndCookieAttributes(t *testing.T) {
	for _, secure := range []bool{false, true} {
		h := newHarness(t, secure)
		rec := h.do("GET", "/auth/login", nil)
		tx := cookieNamed(rec.Result().Cookies(), h.auth.txName())
		if tx == nil || !tx.HttpOnly || tx.SameSite != http.SameSiteLaxMode || tx.Secure != secure || tx.MaxAge != 600 {
			t.Fatalf("secure=%v: sign-in transaction cookie %+v", secure, tx)
		}
		sc := h.signIn()
		if !sc.HttpOnly || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" || sc.Domain != "" || sc.Secure != secure {
			t.Fatalf("secure=%v: session cookie attributes %+v", secure, sc)
		}
		if secure != strings.HasPrefix(sc.Name, "__Host-") {
			t.Fatalf("secure=%v: session cookie name %q", secure, sc.Name)
		}
		if len(sc.String()) > 4096 {
			t.Fatalf("session cookie is %d bytes", len(sc.String()))
		}
		rec = h.do("GET", "/users", []*http.Cookie{sc})
		if rec.Code != 200 || rec.Body.String() != "admin@example.com Ada Admin admin admin" {
			t.Fatalf("signed-in request: %d %q", rec.Code, rec.Body.String())
		}
	}
}

func TestNoSessionRedirectsOrRefuses(t *testing.T) {
	h := newHarness(t, false)
	if rec := h.do("GET", "/users", nil); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/signin?return_to=%2Fusers" {
		t.Fatalf("GET without session: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := h.do("POST", "/users", nil); rec.Code != http.StatusUnauthorized {
		t.Fatalf("POST without session: %d", rec.Code)
	}
	forged := &http.Cookie{Name: h.auth.sessionName(), Value: "forged-value"}
	if rec := h.do("GET", "/users?q=a%20b", []*http.Cookie{forged}); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/signin?return_to=%2Fusers%3Fq%3Da%2520b" {
		t.Fatalf("forged cookie accepted: %d", rec.Code)
	}
}

func TestCallbackRejects(t *testing.T) {
	cases := []struct {
		name   string
		spoil  func(h *harness)
		state  func(real string) string
		reason string
	}{
		{name: "wrong state", state: func(string) string { return "attacker" }, reason: "failed"},
		{name: "wrong nonce", spoil: func(h *harness) { h.op.mutate = func(c map[string]any) { c["nonce"] = "other" } }, reason: "failed"},
		{name: "wrong audience", spoil: func(h *harness) { h.op.mutate = func(c map[string]any) { c["aud"] = "another-app" } }, reason: "failed"},
		{name: "wrong issuer", spoil: func(h *harness) { h.op.mutate = func(c map[string]any) { c["iss"] = "https://evil.example/" } }, reason: "failed"},
		{name: "expired", spoil: func(h *harness) {
			h.op.mutate = func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }
		}, reason: "failed"},
		{name: "alg none", spoil: func(h *harness) {
			h.op.signer = func(p []byte) string {
				return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + "." + base64.RawURLEncoding.EncodeToString(p) + "."
			}
		}, reason: "failed"},
		{name: "foreign key", spoil: func(h *harness) {
			other, _ := rsa.GenerateKey(rand.Reader, 2048)
			h.op.signer = func(p []byte) string {
				s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: other, KeyID: "k1"}}, nil)
				jws, _ := s.Sign(p)
				out, _ := jws.CompactSerialize()
				return out
			}
		}, reason: "failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, false)
			if tc.spoil != nil {
				tc.spoil(h)
			}
			rec := h.do("GET", "/auth/login", nil)
			tx := cookieNamed(rec.Result().Cookies(), h.auth.txName())
			code, state := h.op.authorize(t, rec.Header().Get("Location"))
			if tc.state != nil {
				state = tc.state(state)
			}
			rec = h.do("GET", "/auth/callback?code="+code+"&state="+state, []*http.Cookie{tx})
			if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/signin?error="+tc.reason {
				t.Fatalf("got %d %q", rec.Code, rec.Header().Get("Location"))
			}
			if sc := cookieNamed(rec.Result().Cookies(), h.auth.sessionName()); sc != nil && sc.Value != "" {
				t.Fatal("a session was started")
			}
		})
	}
}

func TestCallbackWithoutTransactionOrReplayed(t *testing.T) {
	h := newHarness(t, false)
	rec := h.do("GET", "/auth/callback?code=x&state=y", nil)
	if rec.Header().Get("Location") != "/signin?error=expired" {
		t.Fatalf("callback without transaction: %q", rec.Header().Get("Location"))
	}
	// Replaying a finished callback (same transaction cookie, same code) must not sign in again.
	rec = h.do("GET", "/auth/login", nil)
	tx := cookieNamed(rec.Result().Cookies(), h.auth.txName())
	code, state := h.op.authorize(t, rec.Header().Get("Location"))
	first := h.do("GET", "/auth/callback?code="+code+"&state="+state, []*http.Cookie{tx})
	if first.Header().Get("Location") != "/users" {
		t.Fatalf("first callback: %q", first.Header().Get("Location"))
	}
	if c := cookieNamed(first.Result().Cookies(), h.auth.txName()); c == nil || c.MaxAge >= 0 {
		t.Fatal("transaction cookie not deleted after use")
	}
	again := h.do("GET", "/auth/callback?code="+code+"&state="+state, []*http.Cookie{tx})
	if again.Header().Get("Location") != "/signin?error=failed" {
		t.Fatalf("replayed callback: %q", again.Header().Get("Location"))
	}
}

func TestSessionRotatedAtSignIn(t *testing.T) {
	h := newHarness(t, false)
	first := h.signIn()
	// Sign in again carrying the first session: it must be retired server-side.
	rec := h.do("GET", "/auth/login", []*http.Cookie{first})
	tx := cookieNamed(rec.Result().Cookies(), h.auth.txName())
	code, state := h.op.authorize(t, rec.Header().Get("Location"))
	rec = h.do("GET", "/auth/callback?code="+code+"&state="+state, []*http.Cookie{tx, first})
	second := cookieNamed(rec.Result().Cookies(), h.auth.sessionName())
	if second == nil || second.Value == first.Value {
		t.Fatal("session id not rotated")
	}
	if r := h.do("GET", "/users", []*http.Cookie{first}); r.Code != http.StatusSeeOther {
		t.Fatalf("pre-sign-in session still valid: %d", r.Code)
	}
	if r := h.do("GET", "/users", []*http.Cookie{second}); r.Code != 200 {
		t.Fatalf("new session rejected: %d", r.Code)
	}
}

func TestLogoutEndsSessionServerSide(t *testing.T) {
	h := newHarness(t, false)
	sc := h.signIn()
	rec := h.do("POST", "/auth/logout", []*http.Cookie{sc})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Clear-Site-Data") == "" {
		t.Fatalf("logout: %d, Clear-Site-Data %q", rec.Code, rec.Header().Get("Clear-Site-Data"))
	}
	if r := h.do("GET", "/users", []*http.Cookie{sc}); r.Code != http.StatusSeeOther {
		t.Fatalf("copied cookie still works after logout: %d", r.Code)
	}
}

func TestIdleAndAbsoluteTimeouts(t *testing.T) {
	h := newHarness(t, false)
	sc := h.signIn()
	h.now = h.now.Add(29 * time.Minute)
	if r := h.do("GET", "/users", []*http.Cookie{sc}); r.Code != 200 {
		t.Fatalf("29 min idle: %d", r.Code)
	}
	h.now = h.now.Add(31 * time.Minute)
	if r := h.do("GET", "/users", []*http.Cookie{sc}); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/signin?error=session&return_to=%2Fusers" {
		t.Fatalf("31 min idle still signed in: %d", r.Code)
	}

	h = newHarness(t, false)
	sc = h.signIn()
	for i := 0; i < 71; i++ { // active every 10 minutes for almost 12 hours
		h.now = h.now.Add(10 * time.Minute)
		if r := h.do("GET", "/users", []*http.Cookie{sc}); r.Code != 200 {
			t.Fatalf("active session dropped after %v", time.Duration(i+1)*10*time.Minute)
		}
	}
	h.now = h.now.Add(11 * time.Minute) // 12 h 01 min after sign-in
	if r := h.do("GET", "/users", []*http.Cookie{sc}); r.Code != http.StatusSeeOther {
		t.Fatalf("session outlived the 12 h absolute lifetime: %d", r.Code)
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := New(t.Context(), Config{})
	if err == nil {
		t.Fatal("empty config accepted")
	}
	for _, want := range []string{"issuer", "client id", "redirect", "hash key", "block key", "session store"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestRolesAtSignIn(t *testing.T) {
	cases := []struct {
		claim any
		want  string // role, or "" for refused
	}{
		{[]string{"admin"}, "admin"},
		{[]string{"support", "viewer"}, "agent"},
		{"support", "agent"},
		{[]string{"marketing"}, ""},
		{nil, ""},
		{[]string{"has space"}, ""},
	}
	for _, tc := range cases {
		h := newHarness(t, false)
		h.op.mutate = func(c map[string]any) { c["https://userdesk.dev/roles"] = tc.claim }
		rec := h.do("GET", "/auth/login", nil)
		tx := cookieNamed(rec.Result().Cookies(), h.auth.txName())
		code, state := h.op.authorize(t, rec.Header().Get("Location"))
		rec = h.do("GET", "/auth/callback?code="+code+"&state="+state, []*http.Cookie{tx})
		sc := cookieNamed(rec.Result().Cookies(), h.auth.sessionName())
		if tc.want == "" {
			if rec.Header().Get("Location") != "/signin?error=forbidden" || (sc != nil && sc.Value != "") {
				t.Errorf("claim %v: not refused (%q)", tc.claim, rec.Header().Get("Location"))
			}
			continue
		}
		r := h.do("GET", "/users", []*http.Cookie{sc})
		if r.Code != 200 || !strings.HasSuffix(r.Body.String(), " "+tc.want) {
			t.Errorf("claim %v: %d %q, want role %s", tc.claim, r.Code, r.Body.String(), tc.want)
		}
	}
}

func TestRoleMappingChangeAppliesNextRequest(t *testing.T) {
	h := newHarness(t, false)
	h.op.mutate = func(c map[string]any) { c["https://userdesk.dev/roles"] = []string{"support"} }
	sc := h.signIn()
	if r := h.do("GET", "/users", []*http.Cookie{sc}); !strings.HasSuffix(r.Body.String(), " agent") {
		t.Fatalf("before: %q", r.Body.String())
	}
	h.auth.cfg.Roles.Groups = map[string]authz.Role{"support": authz.Viewer}
	if r := h.do("GET", "/users", []*http.Cookie{sc}); !strings.HasSuffix(r.Body.String(), " viewer") {
		t.Fatalf("after demotion: %q", r.Body.String())
	}
	h.auth.cfg.Roles.Groups = map[string]authz.Role{}
	if r := h.do("GET", "/users", []*http.Cookie{sc}); r.Code != http.StatusSeeOther {
		t.Fatalf("after losing every role: %d", r.Code)
	}
}

func TestReturnToAfterSignIn(t *testing.T) {
	for target, want := range map[string]string{
		"/users/auth0%7Cabc":   "/users/auth0%7Cabc",
		"//evil.example/x":     "/users",
		"https://evil.example": "/users",
		"/%09/evil.example":    "/users",
	} {
		h := newHarness(t, false)
		rec := h.do("GET", "/auth/login?return_to="+url.QueryEscape(target), nil)
		tx := cookieNamed(rec.Result().Cookies(), h.auth.txName())
		code, state := h.op.authorize(t, rec.Header().Get("Location"))
		rec = h.do("GET", "/auth/callback?code="+code+"&state="+state, []*http.Cookie{tx})
		if got := rec.Header().Get("Location"); got != want {
			t.Errorf("return_to %q: redirected to %q, want %q", target, got, want)
		}
	}
}

func TestLogoutEndsTheProviderSessionWhenOffered(t *testing.T) {
	// Without end_session_endpoint: back to the sign-in page.
	h := newHarness(t, false)
	h.auth.cfg.PostLogoutRedirectURL = "http://127.0.0.1:8080/signin?error=signed_out"
	sc := h.signIn()
	if rec := h.do("POST", "/auth/logout", []*http.Cookie{sc}); rec.Header().Get("Location") != "/signin?error=signed_out" {
		t.Fatalf("logout without RP-initiated logout went to %q", rec.Header().Get("Location"))
	}

	// With it: to the provider, naming the client and where to come back.
	h = newHarness(t, false)
	h.op.endSession = true
	h.auth.cfg.PostLogoutRedirectURL = "http://127.0.0.1:8080/signin?error=signed_out"
	sc = h.signIn()
	rec := h.do("POST", "/auth/logout", []*http.Cookie{sc})
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || loc.Scheme+"://"+loc.Host+loc.Path != h.op.srv.URL+"/oidc/logout" {
		t.Fatalf("logout went to %q, want the provider's end_session_endpoint", rec.Header().Get("Location"))
	}
	if q := loc.Query(); q.Get("client_id") != "userdesk-app" || q.Get("post_logout_redirect_uri") != "http://127.0.0.1:8080/signin?error=signed_out" {
		t.Fatalf("end-session query %v", q)
	}
	if r := h.do("GET", "/users", []*http.Cookie{sc}); r.Code != http.StatusSeeOther {
		t.Fatalf("session still valid after logout: %d", r.Code)
	}
}
