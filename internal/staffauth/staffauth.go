// Package staffauth signs staff members in with OpenID Connect (code flow with state, nonce and PKCE S256)
// or behind an identity-aware proxy, and keeps them signed in with a server-side gorilla session.
package staffauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/userdesk/userdesk/internal/audit"
	"github.com/userdesk/userdesk/internal/auditlog"
	"github.com/userdesk/userdesk/internal/authz"
	"github.com/userdesk/userdesk/internal/reqctx"
	"github.com/userdesk/userdesk/internal/safepath"
	"github.com/userdesk/userdesk/internal/sessionstore"
)

// Config configures staff sign-in. Zero durations take the documented defaults.
type Config struct {
	IssuerURL    string // OIDC issuer, e.g. "https://acme.eu.auth0.com/"
	ClientID     string
	ClientSecret string
	RedirectURL  string // this app's callback, e.g. "http://127.0.0.1:8080/auth/callback"
	// PostLogoutRedirectURL is where the provider sends the browser after RP-initiated logout, e.g.
	// "http://127.0.0.1:8080/signin?error=signed_out"; it must be registered at the provider. Empty
	// turns RP-initiated logout off.
	PostLogoutRedirectURL string
	// Roles maps the ID token claim named Roles.Claim (groups or roles) to a Userdesk role. A staff
	// member who maps to no role is refused at sign-in.
	Roles authz.Mapping

	// Sessions keeps sessions server-side (sessionstore.GorillaStore): the cookie holds only an id, the
	// store enforces the idle timeout and the absolute lifetime, and signing out deletes the record, so
	// a copied cookie stops working at once.
	Sessions sessions.Store
	// HashKey (32 or 64 bytes) signs and BlockKey (16, 24 or 32 bytes) encrypts the short-lived sign-in
	// transaction cookie.
	HashKey, BlockKey []byte
	// Secure gives cookies the __Host- prefix and the Secure attribute; false only for local http.
	Secure bool

	HTTPClient *http.Client // for discovery, JWKS and the code exchange; default 10 s timeout
	Logger     *slog.Logger

	// Audit, when set, records every sign-in ("session.login"), refused sign-in
	// ("session.login_failed") and sign-out ("session.logout") before the response is written.
	// *auditlog.Recorder's Record fits; it logs entries it could not write.
	Audit func(ctx context.Context, e audit.Entry)
}

// Auth implements the sign-in routes and the RequireStaff middleware.
type Auth struct {
	cfg      Config
	sessions sessions.Store
	tx       *sessions.CookieStore
	baseCtx  context.Context

	mu       sync.Mutex
	provider *oidc.Provider
}

const (
	txMaxAge    = 10 * 60 // seconds a sign-in may take
	keyState    = "state"
	keyNonce    = "nonce"
	keyVerifier = "verifier"
	keyReturn   = "return_to"
)

// New validates cfg and prepares the stores. The identity provider is discovered on first use, so
// Userdesk starts even while the provider is briefly unreachable; ctx bounds that discovery and the
// key set's background fetches for the life of the process.
func New(ctx context.Context, cfg Config) (*Auth, error) {
	var problems []string
	if cfg.IssuerURL == "" {
		problems = append(problems, "OIDC issuer URL is empty")
	}
	if cfg.ClientID == "" {
		problems = append(problems, "OIDC client id is empty")
	}
	if cfg.RedirectURL == "" {
		problems = append(problems, "redirect URL is empty")
	}
	if len(cfg.HashKey) != 32 && len(cfg.HashKey) != 64 {
		problems = append(problems, "session hash key must be 32 or 64 bytes")
	}
	if n := len(cfg.BlockKey); n != 16 && n != 24 && n != 32 {
		problems = append(problems, "session block key must be 16, 24 or 32 bytes")
	}
	if cfg.Sessions == nil {
		problems = append(problems, "session store is missing")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("staffauth: %s", strings.Join(problems, "; "))
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	tx := sessions.NewCookieStore(cfg.HashKey, cfg.BlockKey)
	tx.MaxAge(txMaxAge)
	tx.Options = cookieOptions(cfg.Secure, txMaxAge)

	return &Auth{cfg: cfg, sessions: cfg.Sessions, tx: tx, baseCtx: oidc.ClientContext(ctx, cfg.HTTPClient)}, nil
}

func cookieOptions(secure bool, maxAge int) *sessions.Options {
	return &sessions.Options{Path: "/", MaxAge: maxAge, Secure: secure, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

func (a *Auth) sessionName() string { return SessionCookieName(a.cfg.Secure) }

// SessionCookieName is the session cookie's name: "__Host-" prefixed whenever cookies are Secure.
func SessionCookieName(secure bool) string {
	if secure {
		return "__Host-userdesk_session"
	}
	return "userdesk_session"
}

func (a *Auth) txName() string {
	if a.cfg.Secure {
		return "__Host-userdesk_signin"
	}
	return "userdesk_signin"
}

// oauth returns the OAuth2 config and ID token verifier, discovering the provider on first use.
func (a *Auth) oauth() (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.provider == nil {
		ctx, cancel := context.WithTimeout(a.baseCtx, 10*time.Second)
		p, err := oidc.NewProvider(ctx, a.cfg.IssuerURL)
		cancel()
		if err != nil {
			return nil, nil, fmt.Errorf("discover identity provider: %w", err)
		}
		a.provider = p
	}
	oc := &oauth2.Config{
		ClientID:     a.cfg.ClientID,
		ClientSecret: a.cfg.ClientSecret,
		Endpoint:     a.provider.Endpoint(),
		RedirectURL:  a.cfg.RedirectURL,
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}
	return oc, a.provider.Verifier(&oidc.Config{ClientID: a.cfg.ClientID}), nil
}

// Login starts a sign-in: it remembers state, nonce and the PKCE verifier in a short-lived cookie and
// redirects to the identity provider.
func (a *Auth) Login(c echo.Context) error {
	oc, _, err := a.oauth()
	if err != nil {
		a.cfg.Logger.Error("sign-in: identity provider unavailable", "err", err)
		return c.Redirect(http.StatusSeeOther, "/signin?error=idp_unavailable")
	}
	state, nonce := randomString(), randomString()
	verifier := oauth2.GenerateVerifier()
	r, w := c.Request(), c.Response()
	tx, _ := a.tx.New(r, a.txName()) // a stale or undecodable cookie is simply replaced
	tx.Values = map[any]any{keyState: state, keyNonce: nonce, keyVerifier: verifier,
		keyReturn: safepath.ReturnTo(c.QueryParam("return_to"))}
	if err := tx.Save(r, w); err != nil {
		return fmt.Errorf("save sign-in transaction: %w", err)
	}
	return c.Redirect(http.StatusFound, oc.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
}

// Callback finishes a sign-in: it checks state, exchanges the code with the PKCE verifier, verifies
// the ID token and its nonce, and starts a new session (a fresh id, so a planted one is never kept).
func (a *Auth) Callback(c echo.Context) error {
	r, w := c.Request(), c.Response()
	tx, err := a.tx.New(r, a.txName())
	state, _ := tx.Values[keyState].(string)
	nonce, _ := tx.Values[keyNonce].(string)
	verifier, _ := tx.Values[keyVerifier].(string)
	returnTo := safepath.ReturnTo(str(tx.Values[keyReturn]))
	// The transaction is single use, whatever happens next.
	tx.Options = cookieOptions(a.cfg.Secure, -1)
	_ = tx.Save(r, w)
	if err != nil || state == "" || nonce == "" || verifier == "" {
		return a.fail(c, "expired", "sign-in transaction missing or expired", err)
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return a.fail(c, "denied", "identity provider returned an error", errors.New(e))
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
		return a.fail(c, "failed", "state mismatch", nil)
	}
	oc, verify, err := a.oauth()
	if err != nil {
		return a.fail(c, "idp_unavailable", "identity provider unavailable", err)
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(r.Context(), a.cfg.HTTPClient), 15*time.Second)
	defer cancel()
	tok, err := oc.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return a.fail(c, "failed", "code exchange failed", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return a.fail(c, "failed", "token response has no id_token", nil)
	}
	idt, err := verify.Verify(ctx, raw)
	if err != nil {
		return a.fail(c, "failed", "ID token rejected", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return a.fail(c, "failed", "nonce mismatch", nil)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return a.fail(c, "failed", "ID token claims unreadable", err)
	}
	staff := reqctx.Staff{Issuer: idt.Issuer, Subject: idt.Subject, Email: str(claims["email"]), Name: str(claims["name"]),
		Roles: ClaimValues(claims[a.cfg.Roles.Claim])}
	staff.Role = a.cfg.Roles.Resolve(staff.Roles)
	if staff.Role == authz.None {
		a.cfg.Logger.Warn("authn_login_fail", "reason", "no role", "iss", staff.Issuer, "sub", staff.Subject)
		e := staffEntry(staff, auditlog.ActionLoginFailed, audit.OutcomeDenied)
		e.Detail = "no role: the identity provider's groups map to no Userdesk role"
		recordAudit(c, a.cfg.Audit, e)
		return c.Redirect(http.StatusSeeOther, "/signin?error=forbidden")
	}

	// Start the session under a new id: any id the browser had before (planted or stale) is retired
	// server-side by Rotate.
	sess, _ := a.sessions.New(r, a.sessionName()) // an undecodable cookie just yields a fresh session
	sess.Values = map[any]any{}
	sessionstore.SetStaff(sess, sessionstore.Staff{Issuer: staff.Issuer, Subject: staff.Subject, Email: staff.Email,
		Name: staff.Name, Roles: staff.Roles})
	sessionstore.Rotate(sess)
	if err := a.sessions.Save(r, w, sess); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	a.cfg.Logger.Info("authn_login_success", "iss", staff.Issuer, "sub", staff.Subject, "role", string(staff.Role))
	recordAudit(c, a.cfg.Audit, staffEntry(staff, auditlog.ActionLogin, audit.OutcomeSuccess))
	if returnTo == "" || returnTo == "/" {
		returnTo = "/users"
	}
	return c.Redirect(http.StatusSeeOther, returnTo)
}

func (a *Auth) fail(c echo.Context, code, msg string, err error) error {
	attrs := []any{"reason", msg}
	if err != nil {
		attrs = append(attrs, "err", err.Error())
	}
	a.cfg.Logger.Warn("authn_login_fail", attrs...)
	// Only our own sentence goes to the trail: an error's text may quote what the browser sent.
	recordAudit(c, a.cfg.Audit, audit.Entry{Action: auditlog.ActionLoginFailed, Outcome: audit.OutcomeFailure,
		Detail: code + ": " + msg})
	return c.Redirect(http.StatusSeeOther, "/signin?error="+url.QueryEscape(code))
}

// Logout ends the session server-side and tells the browser to forget it.
func (a *Auth) Logout(c echo.Context) error {
	r, w := c.Request(), c.Response()
	if sess, err := a.sessions.New(r, a.sessionName()); err == nil && !sess.IsNew {
		st, _ := sessionstore.StaffOf(sess)
		a.cfg.Logger.Info("session_logout", "sub", st.Subject)
		if st.Subject != "" {
			recordAudit(c, a.cfg.Audit, staffEntry(reqctx.Staff{Issuer: st.Issuer, Subject: st.Subject, Email: st.Email,
				Role: a.cfg.Roles.Resolve(st.Roles)}, auditlog.ActionLogout, audit.OutcomeSuccess))
		}
		sess.Options.MaxAge = -1
		_ = a.sessions.Save(r, w, sess)
	} else {
		http.SetCookie(w, sessions.NewCookie(a.sessionName(), "", cookieOptions(a.cfg.Secure, -1)))
	}
	w.Header().Set("Clear-Site-Data", `"cache", "cookies", "storage"`)
	if end := a.endSessionURL(); end != "" {
		return c.Redirect(http.StatusSeeOther, end)
	}
	return c.Redirect(http.StatusSeeOther, "/signin?error=signed_out")
}

// endSessionURL is the identity provider's RP-initiated logout URL (OpenID Connect RP-Initiated Logout
// 1.0) when its discovery document offers one and a post-logout URL is configured, so signing out of
// Userdesk also ends the staff member's session at the provider. "" otherwise.
func (a *Auth) endSessionURL() string {
	if a.cfg.PostLogoutRedirectURL == "" {
		return ""
	}
	if _, _, err := a.oauth(); err != nil {
		return ""
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := a.provider.Claims(&meta); err != nil || meta.EndSession == "" {
		return ""
	}
	u, err := url.Parse(meta.EndSession)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	q := u.Query()
	q.Set("client_id", a.cfg.ClientID)
	q.Set("post_logout_redirect_uri", a.cfg.PostLogoutRedirectURL)
	u.RawQuery = q.Encode()
	return u.String()
}

// RequireStaff lets a request through only with a live session, putting the staff member on the
// request context; otherwise it redirects to the sign-in page (or answers 401 to non-GET requests).
func (a *Auth) RequireStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		staff, ok, ended := a.current(c)
		if !ok {
			if c.Request().Method == http.MethodGet || c.Request().Method == http.MethodHead {
				target := "/signin"
				if ended {
					target += "?error=session"
				}
				if rt := safepath.ReturnTo(c.Request().URL.RequestURI()); rt != "" && rt != "/" {
					sep := "?"
					if ended {
						sep = "&"
					}
					target += sep + "return_to=" + url.QueryEscape(rt)
				}
				return c.Redirect(http.StatusSeeOther, target)
			}
			return echo.NewHTTPError(http.StatusUnauthorized, "Your session has ended. Sign in again.")
		}
		c.SetRequest(c.Request().WithContext(reqctx.WithStaff(c.Request().Context(), staff)))
		return next(c)
	}
}

// current loads the session; the store has already enforced the idle timeout and the absolute
// lifetime. ended reports a session cookie that no longer names a live session.
func (a *Auth) current(c echo.Context) (staff reqctx.Staff, ok, ended bool) {
	r := c.Request()
	_, hadCookie := r.Cookie(a.sessionName())
	sess, err := a.sessions.New(r, a.sessionName())
	if err != nil { // tampered, or signed with a key that was removed
		return reqctx.Staff{}, false, false
	}
	if sess.IsNew { // a valid cookie whose session timed out, was signed out or was ended by an admin
		return reqctx.Staff{}, false, hadCookie == nil
	}
	st, signedIn := sessionstore.StaffOf(sess)
	if !signedIn {
		return reqctx.Staff{}, false, false
	}
	// The role is worked out again on every request, so a changed mapping applies at once and a
	// staff member whose groups no longer map to a role is out.
	role := a.cfg.Roles.Resolve(st.Roles)
	if role == authz.None {
		return reqctx.Staff{}, false, true
	}
	return reqctx.Staff{Issuer: st.Issuer, Subject: st.Subject, Email: st.Email, Name: st.Name, Roles: st.Roles, Role: role}, true, false
}

// staffEntry is an audit entry about the staff member s themselves (sign-in, sign-out), where the
// request context has no signed-in staff member yet (or any more).
func staffEntry(s reqctx.Staff, action string, outcome audit.Outcome) audit.Entry {
	return audit.Entry{Action: action, Outcome: outcome, ActorIssuer: s.Issuer, ActorSubject: s.Subject,
		ActorEmail: s.Email, ActorRole: string(s.Role)}
}

// recordAudit hands e to the audit hook, with the client IP echo resolved (through trusted proxies
// only, as configured on the Echo instance).
func recordAudit(c echo.Context, hook func(context.Context, audit.Entry), e audit.Entry) {
	if hook == nil {
		return
	}
	if e.ClientIP == "" {
		e.ClientIP = c.RealIP()
	}
	hook(c.Request().Context(), e)
}

func str(v any) string { s, _ := v.(string); return s }

// ClaimValues reads a groups/roles claim that may be one string or a list of strings. Values with
// whitespace are dropped: they cannot name a group and would not survive storage.
func ClaimValues(v any) []string {
	var raw []any
	switch x := v.(type) {
	case string:
		raw = []any{x}
	case []any:
		raw = x
	case []string:
		for _, s := range x {
			raw = append(raw, s)
		}
	}
	var out []string
	for _, r := range raw {
		if s, ok := r.(string); ok && s != "" && !strings.ContainsAny(s, " \t\r\n") {
			out = append(out, s)
		}
	}
	return out
}

func randomString() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
