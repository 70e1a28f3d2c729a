package tenant

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// browser is an HTTP client that does not follow redirects.
func browser() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type authTxn struct {
	verifier string
	params   url.Values
}

func newTxn(clientID string) authTxn {
	v := oauth2.GenerateVerifier()
	return authTxn{verifier: v, params: url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {testCallback},
		"scope": {"openid profile email"}, "state": {"st-" + v[:8]}, "nonce": {"n-" + v[8:16]},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(v)}, "code_challenge_method": {"S256"},
	}}
}

func send(t *testing.T, req *http.Request) response {
	t.Helper()
	res, err := browser().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

// signIn posts the sign-in form as a same-origin browser would.
func (e *env) signIn(t *testing.T, txn authTxn, email, password string) response {
	t.Helper()
	form := url.Values{}
	for k, v := range txn.params {
		form[k] = v
	}
	form.Set("email", email)
	form.Set("password", password)
	req, _ := http.NewRequest("POST", e.srv.URL+"/authorize", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", e.srv.URL)
	return send(t, req)
}

// codeFrom checks the redirect back to the callback and returns the code.
func codeFrom(t *testing.T, r response, txn authTxn) string {
	t.Helper()
	if r.status != http.StatusFound {
		t.Fatalf("status %d, body %s", r.status, r.body)
	}
	loc, err := url.Parse(r.header.Get("Location"))
	if err != nil || !strings.HasPrefix(loc.String(), testCallback+"?") {
		t.Fatalf("Location %q", r.header.Get("Location"))
	}
	if loc.Query().Get("state") != txn.params.Get("state") || loc.Query().Get("code") == "" {
		t.Fatalf("Location %q lacks code/state", loc)
	}
	return loc.Query().Get("code")
}

func (e *env) exchange(t *testing.T, code, redirectURI, verifier string) response {
	t.Helper()
	id, secret := e.tn.StaffApp()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}}
	return postToken(t, e.srv.URL, "application/x-www-form-urlencoded", form.Encode(), id, secret)
}

func TestAuthorizeCodeFlow(t *testing.T) {
	e := newEnv(t)
	staffID, _ := e.tn.StaffApp()
	email, password := e.tn.DemoStaff()
	if email != "admin@example.com" || password != "Staff-Password-1" {
		t.Fatalf("DemoStaff %q %q", email, password)
	}

	// The form: escaped, with the ids the browser tests use.
	txn := newTxn(staffID)
	txn.params.Set("state", `"><script>alert(1)</script>`)
	r := send(t, mustRequest(t, "GET", e.srv.URL+"/authorize?"+txn.params.Encode()))
	expect(t, r, 200, "")
	page := string(r.body)
	for _, want := range []string{"<title>Sign in to Userdesk</title>", `id="email"`, `id="password"`, `id="signin"`, `&#34;&gt;&lt;script&gt;`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Error("state rendered unescaped")
	}
	csp := r.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "form-action 'self' http://127.0.0.1:9999") {
		t.Errorf("CSP %q", csp)
	}

	// Wrong password: the form again, with the message and the email kept.
	txn = newTxn(staffID)
	r = e.signIn(t, txn, "Admin@Example.com", "wrong")
	expect(t, r, 401, "")
	if !strings.Contains(string(r.body), "Wrong email or password.") || !strings.Contains(string(r.body), `value="admin@example.com"`) {
		t.Errorf("wrong-password page: %s", r.body)
	}

	// Wrong verifier: rejected, and the code is burnt.
	code := codeFrom(t, e.signIn(t, txn, email, password), txn)
	invalid := `{"error":"invalid_grant","error_description":"Invalid authorization code"}`
	expect(t, e.exchange(t, code, testCallback, oauth2.GenerateVerifier()), 403, invalid)
	expect(t, e.exchange(t, code, testCallback, txn.verifier), 403, invalid)

	// Wrong redirect_uri: rejected.
	txn = newTxn(staffID)
	code = codeFrom(t, e.signIn(t, txn, email, password), txn)
	r = e.exchange(t, code, "http://127.0.0.1:9999/other", txn.verifier)
	expect(t, r, 403, "")
	if r.json(t)["error"] != "invalid_grant" {
		t.Errorf("wrong redirect_uri: %s", r.body)
	}

	// Success: ID token verified through discovery + JWKS by go-oidc.
	txn = newTxn(staffID)
	code = codeFrom(t, e.signIn(t, txn, email, password), txn)
	r = e.exchange(t, code, testCallback, txn.verifier)
	expect(t, r, 200, "")
	var tok struct {
		AccessToken string `json:"access_token"`
		IDToken     string `json:"id_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	mustUnmarshal(t, r.body, &tok)
	if tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.ExpiresIn <= 0 {
		t.Errorf("token response %s", r.body)
	}
	ctx := oidc.ClientContext(context.Background(), e.srv.Client())
	provider, err := oidc.NewProvider(ctx, e.tn.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	idt, err := provider.VerifierContext(ctx, &oidc.Config{ClientID: staffID, Now: e.clock.Now}).Verify(ctx, tok.IDToken)
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Nonce         string   `json:"nonce"`
		Email         string   `json:"email"`
		EmailVerified bool     `json:"email_verified"`
		Name          string   `json:"name"`
		Roles         []string `json:"https://userdesk.dev/roles"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims.Nonce != txn.params.Get("nonce") || claims.Email != email || !claims.EmailVerified || claims.Name != "Demo Admin" || strings.Join(claims.Roles, ",") != "admin" {
		t.Errorf("ID token claims %+v", claims)
	}
	if !strings.HasPrefix(idt.Subject, "auth0|") {
		t.Errorf("sub %q", idt.Subject)
	}
	// The access token reads /userinfo; it is not a Management API token.
	req := mustRequest(t, "GET", e.srv.URL+"/userinfo")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	expect(t, send(t, req), 200, "")
	expect(t, e.do("GET", "/api/v2/users", tok.AccessToken, nil), 401, "")

	// Reused code.
	expect(t, e.exchange(t, code, testCallback, txn.verifier), 403, invalid)

	// Three successful sign-ins were recorded (the wrong password is not one).
	u, err := e.st.GetUser(t.Context(), idt.Subject)
	if err != nil || u.LoginsCount != 3 || u.LastLogin == nil || u.LastIP != "127.0.0.1" {
		t.Errorf("login not recorded: count=%d last=%v ip=%q err=%v", u.LoginsCount, u.LastLogin, u.LastIP, err)
	}
}

func TestAuthorizeRejections(t *testing.T) {
	e := newEnv(t)
	staffID, _ := e.tn.StaffApp()
	svcID, _ := e.tn.ServiceAccount()

	// Untrusted client or redirect_uri: an error page, never a redirect.
	for name, mutate := range map[string]func(url.Values){
		"unknown client":        func(v url.Values) { v.Set("client_id", "nope") },
		"M2M client":            func(v url.Values) { v.Set("client_id", svcID) },
		"unregistered redirect": func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") },
		"redirect prefix only":  func(v url.Values) { v.Set("redirect_uri", testCallback+"/x") },
		"missing redirect":      func(v url.Values) { v.Del("redirect_uri") },
	} {
		txn := newTxn(staffID)
		mutate(txn.params)
		r := send(t, mustRequest(t, "GET", e.srv.URL+"/authorize?"+txn.params.Encode()))
		if r.status != 400 || r.header.Get("Location") != "" || !strings.Contains(string(r.body), "Sign-in error") {
			t.Errorf("%s: status %d Location %q", name, r.status, r.header.Get("Location"))
		}
	}

	// Missing PKCE: the error goes back to the registered redirect_uri.
	txn := newTxn(staffID)
	txn.params.Del("code_challenge")
	r := send(t, mustRequest(t, "GET", e.srv.URL+"/authorize?"+txn.params.Encode()))
	loc, _ := url.Parse(r.header.Get("Location"))
	if r.status != 302 || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != txn.params.Get("state") {
		t.Errorf("missing PKCE: %d %q", r.status, r.header.Get("Location"))
	}

	// Cross-site form post.
	txn = newTxn(staffID)
	form := txn.params
	form.Set("email", "admin@example.com")
	form.Set("password", "Staff-Password-1")
	req, _ := http.NewRequest("POST", e.srv.URL+"/authorize", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if r := send(t, req); r.status != http.StatusForbidden || r.header.Get("Location") != "" {
		t.Errorf("cross-site post: %d", r.status)
	}

	// A database-connection user cannot sign in to the staff app, even with the right password.
	hash, _ := bcrypt.GenerateFromPassword([]byte("Customer-Pass-1"), 4)
	cust := store.User{ID: "auth0|cust", Connection: DatabaseConnection, Provider: "auth0", Email: "cust@example.com",
		PasswordHash: string(hash), CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now()}
	if err := e.st.CreateUser(t.Context(), cust); err != nil {
		t.Fatal(err)
	}
	r = e.signIn(t, newTxn(staffID), "cust@example.com", "Customer-Pass-1")
	if r.status != 401 || !strings.Contains(string(r.body), "Wrong email or password.") {
		t.Errorf("customer sign-in: %d", r.status)
	}

	// A blocked staff member is refused.
	staff, _ := e.st.UsersByEmail(t.Context(), "admin@example.com")
	if _, err := e.st.UpdateUser(t.Context(), staff[0].ID, func(u store.User) (store.User, error) {
		b := true
		u.Blocked = &b
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	r = e.signIn(t, newTxn(staffID), "admin@example.com", "Staff-Password-1")
	if r.status != 403 || !strings.Contains(string(r.body), "This account is blocked.") {
		t.Errorf("blocked sign-in: %d %s", r.status, r.body)
	}
}

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	r := send(t, mustRequest(t, "GET", e.srv.URL+"/.well-known/openid-configuration"))
	expect(t, r, 200, "")
	d := r.json(t)
	want := map[string]string{
		"issuer": e.srv.URL + "/", "authorization_endpoint": e.srv.URL + "/authorize",
		"token_endpoint": e.srv.URL + "/oauth/token", "jwks_uri": e.srv.URL + "/.well-known/jwks.json",
	}
	for k, v := range want {
		if d[k] != v {
			t.Errorf("%s = %v, want %s", k, d[k], v)
		}
	}
	for k, v := range map[string]string{"response_types_supported": "code", "id_token_signing_alg_values_supported": "RS256", "code_challenge_methods_supported": "S256"} {
		if l, _ := d[k].([]any); len(l) != 1 || l[0] != v {
			t.Errorf("%s = %v", k, d[k])
		}
	}
}

func mustRequest(t *testing.T, method, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
