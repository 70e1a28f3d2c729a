package tenant

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// authRequest is the validated transaction of an /authorize request; its fields travel as hidden
// inputs of the sign-in form and are validated again on submit.
type authRequest struct {
	ClientID            string
	RedirectURI         string
	State               string
	Nonce               string
	Scope               string
	CodeChallenge       string
	CodeChallengeMethod string
}

// pageError is an /authorize failure shown as an error page (never redirected, because the client or
// redirect_uri is not trusted).
type pageError struct{ msg string }

func (e *pageError) Error() string { return e.msg }

// redirectError is an OAuth error returned to the (validated) redirect_uri (RFC 6749 §4.1.2.1).
type redirectError struct{ code, desc string }

func (e *redirectError) Error() string { return e.code + ": " + e.desc }

// parseAuthRequest validates client and redirect_uri first (pageError), then the rest (redirectError).
func (t *Tenant) parseAuthRequest(ctx context.Context, v url.Values) (*authRequest, error) {
	ar := &authRequest{
		ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"), State: v.Get("state"),
		Nonce: v.Get("nonce"), Scope: v.Get("scope"), CodeChallenge: v.Get("code_challenge"),
		CodeChallengeMethod: v.Get("code_challenge_method"),
	}
	if ar.ClientID == "" {
		return nil, &pageError{"The request is missing the client_id parameter."}
	}
	c, err := t.store.GetClient(ctx, ar.ClientID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !slices.Contains(c.GrantTypes, "authorization_code")) {
		return nil, &pageError{"Unknown client."}
	}
	if err != nil {
		return nil, err
	}
	if ar.RedirectURI == "" || !slices.Contains(c.Callbacks, ar.RedirectURI) {
		return nil, &pageError{"The redirect_uri is not registered for this application."}
	}
	switch {
	case v.Get("response_type") != "code":
		return ar, &redirectError{"unsupported_response_type", "response_type must be code"}
	case !slices.Contains(strings.Fields(ar.Scope), "openid"):
		return ar, &redirectError{"invalid_scope", "scope must include openid"}
	case ar.CodeChallenge == "" || ar.CodeChallengeMethod != "S256":
		return ar, &redirectError{"invalid_request", "PKCE with code_challenge_method S256 is required"}
	case len(ar.CodeChallenge) != 43:
		return ar, &redirectError{"invalid_request", "code_challenge must be a base64url SHA-256 digest"}
	case ar.State == "" || ar.Nonce == "":
		return ar, &redirectError{"invalid_request", "state and nonce are required"}
	}
	return ar, nil
}

// redirectTo builds redirect_uri with the given query parameters added.
func redirectTo(redirectURI string, params url.Values) string {
	u, err := url.Parse(redirectURI)
	if err != nil { // registered URIs are parsed on registration; fail closed anyway
		return "/"
	}
	q := u.Query()
	for k, vs := range params {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// handleAuthorizeForm is GET /authorize: it validates the request and shows the sign-in form.
func (t *Tenant) handleAuthorizeForm(w http.ResponseWriter, r *http.Request) {
	ar, err := t.parseAuthRequest(r.Context(), r.URL.Query())
	if t.authorizeFailed(w, r, ar, err) {
		return
	}
	t.renderLogin(w, http.StatusOK, ar, "", "")
}

// handleAuthorizeSubmit is POST /authorize (and /u/login): it checks the password of a user in a
// connection enabled for the client and redirects back with a one-time code.
func (t *Tenant) handleAuthorizeSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		t.renderError(w, http.StatusBadRequest, "The sign-in form could not be read.")
		return
	}
	ar, err := t.parseAuthRequest(r.Context(), r.PostForm)
	if t.authorizeFailed(w, r, ar, err) {
		return
	}
	email := strings.ToLower(strings.TrimSpace(r.PostForm.Get("email")))
	// signIn (blocks.go) adds brute-force protection and the s/f/fp/fu/limit_wc log events.
	u, err := t.signIn(r, ar.ClientID, email, r.PostForm.Get("password"))
	switch {
	case errors.Is(err, errBruteForceBlocked):
		t.log.InfoContext(r.Context(), "tenant: sign-in refused, brute-force block", "client_id", ar.ClientID)
		t.renderLogin(w, http.StatusTooManyRequests, ar, email, "Your account has been blocked after multiple consecutive login attempts.")
		return
	case errors.Is(err, errWrongPassword):
		t.log.InfoContext(r.Context(), "tenant: sign-in failed", "client_id", ar.ClientID)
		t.renderLogin(w, http.StatusUnauthorized, ar, email, "Wrong email or password.")
		return
	case err != nil:
		t.log.ErrorContext(r.Context(), "tenant: sign-in", "err", err)
		t.renderError(w, http.StatusInternalServerError, "Something went wrong. Please try again.")
		return
	case u.Blocked != nil && *u.Blocked:
		t.log.InfoContext(r.Context(), "tenant: sign-in refused, user blocked", "user_id", u.ID)
		t.renderLogin(w, http.StatusForbidden, ar, email, "This account is blocked.")
		return
	}
	now := t.now()
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	if _, err := t.store.UpdateUser(r.Context(), u.ID, func(old store.User) (store.User, error) {
		ll := now.UTC()
		old.LastLogin, old.LoginsCount, old.LastIP = &ll, old.LoginsCount+1, ip
		return old, nil
	}); err != nil {
		t.log.ErrorContext(r.Context(), "tenant: record login", "err", err)
		t.renderError(w, http.StatusInternalServerError, "Something went wrong. Please try again.")
		return
	}
	code := randomToken(32)
	if err := t.store.CreateAuthCode(r.Context(), store.AuthCode{
		Code: code, ClientID: ar.ClientID, UserID: u.ID, RedirectURI: ar.RedirectURI, Scope: ar.Scope,
		Nonce: ar.Nonce, CodeChallenge: ar.CodeChallenge, CodeChallengeMethod: ar.CodeChallengeMethod,
		ExpiresAt: now.Add(authCodeTTL),
	}); err != nil {
		t.log.ErrorContext(r.Context(), "tenant: store code", "err", err)
		t.renderError(w, http.StatusInternalServerError, "Something went wrong. Please try again.")
		return
	}
	t.log.InfoContext(r.Context(), "tenant: sign-in", "client_id", ar.ClientID, "user_id", u.ID)
	t.recordSignIn(r, ar.ClientID, u) // "s" log event and session (blocks.go)
	http.Redirect(w, r, redirectTo(ar.RedirectURI, url.Values{"code": {code}, "state": {ar.State}}), http.StatusFound)
}

// authorizeFailed writes the response for a failed parseAuthRequest and reports whether it did.
func (t *Tenant) authorizeFailed(w http.ResponseWriter, r *http.Request, ar *authRequest, err error) bool {
	var pe *pageError
	var re *redirectError
	switch {
	case err == nil:
		return false
	case errors.As(err, &pe):
		t.renderError(w, http.StatusBadRequest, pe.msg)
	case errors.As(err, &re):
		p := url.Values{"error": {re.code}, "error_description": {re.desc}}
		if ar.State != "" {
			p.Set("state", ar.State)
		}
		http.Redirect(w, r, redirectTo(ar.RedirectURI, p), http.StatusFound)
	default:
		t.log.ErrorContext(r.Context(), "tenant: authorize", "err", err)
		t.renderError(w, http.StatusInternalServerError, "Something went wrong. Please try again.")
	}
	return true
}

var errWrongPassword = errors.New("wrong email or password")

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// loginPage is the sign-in page. html/template escapes every value; the CSP allows only the nonce'd
// style, and form-action lets the post-login redirect reach the client's origin.
var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Error}}Error – {{end}}Sign in to Userdesk</title>
<style nonce="{{.Nonce}}">
body{font-family:system-ui,sans-serif;background:#f3f4f6;display:flex;justify-content:center;padding-top:8vh;margin:0}
main{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15);width:22rem}
h1{font-size:1.3rem;margin:0 0 1rem}
label{display:block;margin:.75rem 0 .25rem;font-size:.9rem}
input[type=email],input[type=password]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}
button{margin-top:1.25rem;width:100%;padding:.6rem;font-size:1rem;background:#4f46e5;color:#fff;border:0;border-radius:4px}
.error{color:#b91c1c;margin:.5rem 0}
</style>
</head>
<body>
<main>
{{if .Error}}
<h1>Sign-in error</h1>
<p class="error" role="alert" data-testid="page-error">{{.Error}}</p>
{{else}}
<h1>Sign in to Userdesk</h1>
{{if .Message}}<p class="error" role="alert" data-testid="login-error">{{.Message}}</p>{{end}}
<form method="post" action="/authorize">
<input type="hidden" name="response_type" value="code">
<input type="hidden" name="client_id" value="{{.Req.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.Req.RedirectURI}}">
<input type="hidden" name="state" value="{{.Req.State}}">
<input type="hidden" name="nonce" value="{{.Req.Nonce}}">
<input type="hidden" name="scope" value="{{.Req.Scope}}">
<input type="hidden" name="code_challenge" value="{{.Req.CodeChallenge}}">
<input type="hidden" name="code_challenge_method" value="{{.Req.CodeChallengeMethod}}">
<label for="email">Email</label>
<input type="email" id="email" name="email" value="{{.Email}}" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit" id="signin">Sign in</button>
</form>
{{end}}
</main>
</body>
</html>
`))

type loginView struct {
	Req     *authRequest
	Email   string
	Message string
	Error   string
	Nonce   string
}

func (t *Tenant) renderLogin(w http.ResponseWriter, status int, ar *authRequest, email, msg string) {
	formAction := "'self'"
	if u, err := url.Parse(ar.RedirectURI); err == nil && u.Scheme != "" && u.Host != "" {
		formAction += " " + u.Scheme + "://" + u.Host
	}
	t.renderPage(w, status, loginView{Req: ar, Email: email, Message: msg}, formAction)
}

func (t *Tenant) renderError(w http.ResponseWriter, status int, msg string) {
	t.renderPage(w, status, loginView{Req: &authRequest{}, Error: msg}, "'none'")
}

func (t *Tenant) renderPage(w http.ResponseWriter, status int, v loginView, formAction string) {
	v.Nonce = randomToken(18)
	t.writeHTML(w, status, loginPage, v, v.Nonce, formAction)
}

// writeHTML is the one render helper of the tenant's own pages (sign-in, tickets): it renders into a
// buffer, then writes with a strict CSP that allows only the page's nonced style and form posts to
// formAction.
func (t *Tenant) writeHTML(w http.ResponseWriter, status int, tmpl *template.Template, data any, nonce, formAction string) {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		t.log.Error("tenant: render page", "page", tmpl.Name(), "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; form-action "+
		formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
