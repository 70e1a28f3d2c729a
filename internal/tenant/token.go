package tenant

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// maxTokenBody bounds /oauth/token request bodies; real requests are a few hundred bytes.
const maxTokenBody = 64 << 10

// oauthError is an OAuth 2.0 error response {"error","error_description"} (contract §1.4).
type oauthError struct {
	Status      int
	Code        string
	Description string
}

func (e *oauthError) Error() string { return e.Code + ": " + e.Description }

var (
	errUnauthorizedClient = &oauthError{http.StatusUnauthorized, "access_denied", "Unauthorized"}
	errInvalidCode        = &oauthError{http.StatusForbidden, "invalid_grant", "Invalid authorization code"}
)

func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	writeTokenJSON(w, e.Status, map[string]string{"error": e.Code, "error_description": e.Description})
}

// writeTokenJSON writes an Authentication API body: Content-Type application/json without charset, as
// recorded (contract §1.2).
func writeTokenJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// tokenParams reads the token request parameters from a JSON or form body (both are accepted, contract
// §1.1). Non-string JSON values are ignored.
func tokenParams(r *http.Request) (url.Values, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxTokenBody))
	if err != nil {
		return nil, &oauthError{http.StatusBadRequest, "invalid_request", "Request body too large or unreadable"}
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/json" {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, &oauthError{http.StatusBadRequest, "invalid_request", "Invalid JSON body"}
		}
		v := url.Values{}
		for k, x := range m {
			if s, ok := x.(string); ok {
				v.Set(k, s)
			}
		}
		return v, nil
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &oauthError{http.StatusBadRequest, "invalid_request", "Invalid form body"}
	}
	return v, nil
}

// authenticateClient checks client credentials from HTTP Basic (tried first by x/oauth2, contract §1.1;
// RFC 6749 §2.3.1 form-encodes both parts) or from the body. Unknown client or wrong secret: 401
// access_denied "Unauthorized".
func (t *Tenant) authenticateClient(r *http.Request, p url.Values) (store.Client, error) {
	id, secret := p.Get("client_id"), p.Get("client_secret")
	if u, pw, ok := r.BasicAuth(); ok {
		var err1, err2 error
		u, err1 = url.QueryUnescape(u)
		pw, err2 = url.QueryUnescape(pw)
		if err1 != nil || err2 != nil || (id != "" && id != u) {
			return store.Client{}, errUnauthorizedClient
		}
		id, secret = u, pw
	}
	if id == "" {
		return store.Client{}, &oauthError{http.StatusUnauthorized, "access_denied", "Unauthorized"}
	}
	c, err := t.store.GetClient(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Client{}, errUnauthorizedClient
	}
	if err != nil {
		return store.Client{}, err
	}
	if secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(c.ClientSecret)) != 1 {
		return store.Client{}, errUnauthorizedClient
	}
	return c, nil
}

// handleToken is POST /oauth/token.
func (t *Tenant) handleToken(w http.ResponseWriter, r *http.Request) {
	ex := t.beginTokenExchange(r) // seccft/feccft log events (tokenlog.go)
	resp, err := t.token(r)
	ex.done(resp, err)
	if err != nil {
		var oe *oauthError
		if !errors.As(err, &oe) {
			t.log.ErrorContext(r.Context(), "tenant: token endpoint", "err", err)
			oe = &oauthError{http.StatusInternalServerError, "server_error", "Internal error"}
		}
		writeOAuthError(w, oe)
		return
	}
	writeTokenJSON(w, http.StatusOK, resp)
}

// tokenResponse is the success body; scope is omitted when the grant has none (recorded, contract §1.2).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token,omitempty"`
	Scope       string `json:"scope,omitempty"`
	ExpiresIn   int    `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

func (t *Tenant) token(r *http.Request) (*tokenResponse, error) {
	p, err := tokenParams(r)
	if err != nil {
		return nil, err
	}
	gt := p.Get("grant_type")
	switch gt {
	case "client_credentials", "authorization_code":
	case "":
		return nil, &oauthError{http.StatusBadRequest, "invalid_request", "Missing required parameter: grant_type"}
	default: // 403, like Auth0's other grant errors [I]
		return nil, &oauthError{http.StatusForbidden, "unsupported_grant_type", "Unsupported grant type: " + gt}
	}
	c, err := t.authenticateClient(r, p)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(c.GrantTypes, gt) {
		return nil, &oauthError{http.StatusForbidden, "unauthorized_client",
			fmt.Sprintf("Grant type '%s' not allowed for the client.", gt)}
	}
	if gt == "client_credentials" {
		return t.clientCredentials(r, c, p)
	}
	return t.authorizationCode(r, c, p)
}

// clientCredentials issues a Management API access token to a machine client with a grant for it.
func (t *Tenant) clientCredentials(r *http.Request, c store.Client, p url.Values) (*tokenResponse, error) {
	aud := p.Get("audience")
	switch {
	case aud == "":
		return nil, &oauthError{http.StatusForbidden, "access_denied",
			"No audience parameter was provided, and no default audience has been configured"}
	case aud != t.audience:
		return nil, &oauthError{http.StatusForbidden, "access_denied", "Service not found: " + aud}
	}
	g, err := t.store.GetClientGrant(r.Context(), c.ClientID, aud)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &oauthError{http.StatusForbidden, "access_denied", fmt.Sprintf(
			`Client is not authorized to access "%s". You need to create a "client-grant" associated to this API. See: https://auth0.com/docs/api/v2#!/Client_Grants/post_client_grants`, aud)}
	}
	if err != nil {
		return nil, err
	}
	now := t.now()
	scope := strings.Join(g.Scope, " ")
	tok, err := t.keys.sign(accessClaims{
		Claims: jwt.Claims{
			Issuer: t.issuer, Subject: c.ClientID + "@clients", Audience: jwt.Audience{aud},
			IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(accessTokenTTL)),
		},
		Scope: scope, GTY: "client-credentials", AZP: c.ClientID,
	})
	if err != nil {
		return nil, err
	}
	t.log.InfoContext(r.Context(), "tenant: token issued", "grant", "client_credentials", "client_id", c.ClientID)
	return &tokenResponse{AccessToken: tok, Scope: scope, ExpiresIn: int(accessTokenTTL / time.Second), TokenType: "Bearer"}, nil
}

// idClaims are the ID-token claims beyond the registered ones.
type idClaims struct {
	Nonce         string   `json:"nonce,omitempty"`
	Email         string   `json:"email,omitempty"`
	EmailVerified bool     `json:"email_verified"`
	Name          string   `json:"name,omitempty"`
	Nickname      string   `json:"nickname,omitempty"`
	Picture       string   `json:"picture,omitempty"`
	Roles         []string `json:"https://userdesk.dev/roles"`
}

// authorizationCode redeems a code of the sign-in flow. The code is consumed before any check, so a
// failed attempt (wrong verifier, wrong redirect_uri) also burns it.
func (t *Tenant) authorizationCode(r *http.Request, c store.Client, p url.Values) (*tokenResponse, error) {
	code := p.Get("code")
	if code == "" {
		return nil, &oauthError{http.StatusBadRequest, "invalid_request", "Missing required parameter: code"}
	}
	ac, err := t.store.TakeAuthCode(r.Context(), code)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errInvalidCode
	}
	if err != nil {
		return nil, err
	}
	now := t.now()
	if ac.ClientID != c.ClientID || !now.Before(ac.ExpiresAt) {
		return nil, errInvalidCode
	}
	if p.Get("redirect_uri") != ac.RedirectURI {
		return nil, &oauthError{http.StatusForbidden, "invalid_grant", "The redirect_uri does not match the one used in the authorization request"}
	}
	if !pkceMatches(ac.CodeChallenge, p.Get("code_verifier")) {
		return nil, errInvalidCode
	}
	u, err := t.store.GetUser(r.Context(), ac.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errInvalidCode
	}
	if err != nil {
		return nil, err
	}
	if u.Blocked != nil && *u.Blocked {
		return nil, &oauthError{http.StatusUnauthorized, "unauthorized", "user is blocked"}
	}
	reg := jwt.Claims{Issuer: t.issuer, Subject: u.ID, IssuedAt: jwt.NewNumericDate(now)}
	idReg := reg
	idReg.Audience = jwt.Audience{c.ClientID}
	idReg.Expiry = jwt.NewNumericDate(now.Add(idTokenTTL))
	idTok, err := t.keys.sign(idReg, idClaims{
		Nonce: ac.Nonce, Email: u.Email, EmailVerified: u.EmailVerified, Name: u.Name,
		Nickname: u.Nickname, Picture: u.Picture, Roles: rolesOf(u),
	})
	if err != nil {
		return nil, err
	}
	// The access token is only good for /userinfo, like Auth0's when no API audience is requested.
	atReg := reg
	atReg.Audience = jwt.Audience{t.issuer + "userinfo"}
	atReg.Expiry = jwt.NewNumericDate(now.Add(accessTokenTTL))
	at, err := t.keys.sign(accessClaims{Claims: atReg, Scope: ac.Scope, AZP: c.ClientID})
	if err != nil {
		return nil, err
	}
	t.log.InfoContext(r.Context(), "tenant: token issued", "grant", "authorization_code", "client_id", c.ClientID, "user_id", u.ID)
	return &tokenResponse{AccessToken: at, IDToken: idTok, Scope: ac.Scope,
		ExpiresIn: int(accessTokenTTL / time.Second), TokenType: "Bearer"}, nil
}

// pkceMatches checks an S256 code_verifier (RFC 7636 §4.6) in constant time.
func pkceMatches(challenge, verifier string) bool {
	if challenge == "" || len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// rolesOf reads the string elements of app_metadata.roles; anything else yields no roles.
func rolesOf(u store.User) []string {
	roles := []string{}
	var md struct {
		Roles []any `json:"roles"`
	}
	if len(u.AppMetadata) == 0 || json.Unmarshal(u.AppMetadata, &md) != nil {
		return roles
	}
	for _, r := range md.Roles {
		if s, ok := r.(string); ok {
			roles = append(roles, s)
		}
	}
	return roles
}

// handleUserinfo is GET /userinfo for access tokens from the sign-in flow.
func (t *Tenant) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	scheme, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	var c accessClaims
	err := errTokenInvalid
	if strings.EqualFold(scheme, "Bearer") {
		c, err = t.keys.verify(strings.TrimSpace(raw), t.issuer, t.issuer+"userinfo", t.now())
	}
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	u, err := t.store.GetUser(r.Context(), c.Subject)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	writeTokenJSON(w, http.StatusOK, map[string]any{
		"sub": u.ID, "email": u.Email, "email_verified": u.EmailVerified, "name": u.Name,
		"nickname": u.Nickname, "picture": u.Picture, RolesClaim: rolesOf(u),
	})
}
