package mgmt

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"time"
)

// Session is one of a user's Auth0 sessions (a browser signed in to the tenant). Unknown keys are
// kept in Extra.
type Session struct {
	ID               string                 `json:"id,omitempty"`
	UserID           string                 `json:"user_id,omitempty"`
	CreatedAt        *time.Time             `json:"created_at,omitempty"`
	UpdatedAt        *time.Time             `json:"updated_at,omitempty"`
	AuthenticatedAt  *time.Time             `json:"authenticated_at,omitempty"`
	IdleExpiresAt    *time.Time             `json:"idle_expires_at,omitempty"`
	ExpiresAt        *time.Time             `json:"expires_at,omitempty"`
	LastInteractedAt *time.Time             `json:"last_interacted_at,omitempty"`
	Device           *SessionDevice         `json:"device,omitempty"`
	Clients          []SessionClient        `json:"clients,omitempty"`
	Authentication   *SessionAuthentication `json:"authentication,omitempty"`

	// Extra holds every other key of the response.
	Extra map[string]json.RawMessage `json:"-"`
	zero  map[string]json.RawMessage // known keys that came as null, "" or []: see decodeObject
}

// SessionDevice is where a session started and was last used.
type SessionDevice struct {
	InitialUserAgent string `json:"initial_user_agent"`
	InitialIP        string `json:"initial_ip"`
	InitialASN       string `json:"initial_asn,omitempty"`
	LastUserAgent    string `json:"last_user_agent"`
	LastIP           string `json:"last_ip"`
	LastASN          string `json:"last_asn,omitempty"`
}

// SessionClient is an application the session signed in to.
type SessionClient struct {
	ClientID string `json:"client_id"`
}

// SessionAuthentication lists how the session was authenticated.
type SessionAuthentication struct {
	Methods []SessionAuthMethod `json:"methods"`
}

// SessionAuthMethod is one authentication of a session, e.g. Name "pwd" or "mfa".
type SessionAuthMethod struct {
	Name      string     `json:"name"`
	Timestamp *time.Time `json:"timestamp,omitempty"`
	Type      string     `json:"type,omitempty"`
}

// sessionPage is GET /users/{id}/sessions: checkpoint paging, next absent on the last page.
type sessionPage struct {
	Sessions []Session `json:"sessions"`
	Next     string    `json:"next,omitempty"`
}

// Sessions returns every session of the user, following the checkpoint pages of 50.
//
// Scopes: read:sessions. See https://auth0.com/docs/api/management/v2/users/get-sessions-for-user
func (m *UserManager) Sessions(ctx context.Context, id string) ([]Session, error) {
	if err := checkID("user", id); err != nil {
		return nil, err
	}
	out := []Session{}
	from := ""
	for range maxListPages {
		q := url.Values{"take": {strconv.Itoa(DefaultPerPage)}}
		if from != "" {
			q.Set("from", from)
		}
		var pg sessionPage
		if err := m.c.call(ctx, http.MethodGet, routeUserSessions, m.c.endpoint("users", id, "sessions"), q, nil, &pg); err != nil {
			return nil, err
		}
		out = append(out, pg.Sessions...)
		if pg.Next == "" || pg.Next == from || len(pg.Sessions) == 0 {
			return out, nil
		}
		from = pg.Next
	}
	return nil, fmt.Errorf("mgmt: user %q has more than %d sessions", id, maxListPages*DefaultPerPage)
}

// DeleteSessions revokes every session of the user, signing them out of every browser, and the
// refresh tokens bound to those sessions (Auth0 answers 202: the revocation completes shortly
// after). Retried like a read.
//
// Scopes: delete:sessions. See https://auth0.com/docs/api/management/v2/users/delete-sessions-for-user
func (m *UserManager) DeleteSessions(ctx context.Context, id string) error {
	if err := checkID("user", id); err != nil {
		return err
	}
	return m.c.call(ctx, http.MethodDelete, routeUserSessions, m.c.endpoint("users", id, "sessions"), nil, nil, nil)
}

// RefreshToken is one refresh token of a user (never its value). Unknown keys are kept in Extra.
type RefreshToken struct {
	ID              string                       `json:"id,omitempty"`
	UserID          string                       `json:"user_id,omitempty"`
	CreatedAt       *time.Time                   `json:"created_at,omitempty"`
	IdleExpiresAt   *time.Time                   `json:"idle_expires_at,omitempty"` // nil: no idle expiry
	ExpiresAt       *time.Time                   `json:"expires_at,omitempty"`      // nil: no absolute expiry
	ClientID        string                       `json:"client_id,omitempty"`
	SessionID       string                       `json:"session_id,omitempty"` // "": not bound to a session
	Rotating        bool                         `json:"rotating,omitempty"`
	ResourceServers []RefreshTokenResourceServer `json:"resource_servers,omitempty"`

	// Extra holds every other key of the response.
	Extra map[string]json.RawMessage `json:"-"`
	zero  map[string]json.RawMessage // known keys that came as null, "", false or []: see decodeObject
}

// RefreshTokenResourceServer is an API a refresh token can get access tokens for, with the scopes
// (space-separated).
type RefreshTokenResourceServer struct {
	Audience string `json:"audience"`
	Scopes   string `json:"scopes"`
}

// refreshTokenPage is GET /users/{id}/refresh-tokens; total comes with include_totals.
type refreshTokenPage struct {
	Tokens []RefreshToken `json:"tokens"`
	Next   string         `json:"next,omitempty"`
	Total  *int           `json:"total,omitempty"`
}

// RefreshTokens returns every refresh token of the user, following the pages of 50 (Auth0 sends
// next even on the last page; the total says when to stop).
//
// Scopes: read:refresh_tokens. See
// https://auth0.com/docs/api/management/v2/users/get-refresh-tokens-for-user
func (m *UserManager) RefreshTokens(ctx context.Context, id string) ([]RefreshToken, error) {
	if err := checkID("user", id); err != nil {
		return nil, err
	}
	out := []RefreshToken{}
	from := ""
	for range maxListPages {
		q := ListParams{}.query()
		if from != "" {
			q.Set("from", from)
		}
		var pg refreshTokenPage
		if err := m.c.call(ctx, http.MethodGet, routeUserRefreshTokens, m.c.endpoint("users", id, "refresh-tokens"), q, nil, &pg); err != nil {
			return nil, err
		}
		out = append(out, pg.Tokens...)
		if pg.Next == "" || pg.Next == from || len(pg.Tokens) < DefaultPerPage || (pg.Total != nil && len(out) >= *pg.Total) {
			return out, nil
		}
		from = pg.Next
	}
	return nil, fmt.Errorf("mgmt: user %q has more than %d refresh tokens", id, maxListPages*DefaultPerPage)
}

// DeleteRefreshTokens revokes every refresh token of the user (202, completed shortly after), so no
// application can get new access tokens for them. Retried like a read.
//
// Scopes: delete:refresh_tokens. See
// https://auth0.com/docs/api/management/v2/users/delete-refresh-tokens-for-user
func (m *UserManager) DeleteRefreshTokens(ctx context.Context, id string) error {
	if err := checkID("user", id); err != nil {
		return err
	}
	return m.c.call(ctx, http.MethodDelete, routeUserRefreshTokens, m.c.endpoint("users", id, "refresh-tokens"), nil, nil, nil)
}

type sessionAlias Session

// UnmarshalJSON decodes a session, keeping unknown keys in Extra.
func (s *Session) UnmarshalJSON(data []byte) error {
	*s = Session{}
	var err error
	s.Extra, s.zero, err = decodeObject(data, (*sessionAlias)(s))
	return err
}

// MarshalJSON encodes the session as it came, timestamps in Auth0's layout.
func (s Session) MarshalJSON() ([]byte, error) {
	aux := struct {
		sessionAlias
		CreatedAt        *auth0Time `json:"created_at,omitempty"`
		UpdatedAt        *auth0Time `json:"updated_at,omitempty"`
		AuthenticatedAt  *auth0Time `json:"authenticated_at,omitempty"`
		IdleExpiresAt    *auth0Time `json:"idle_expires_at,omitempty"`
		ExpiresAt        *auth0Time `json:"expires_at,omitempty"`
		LastInteractedAt *auth0Time `json:"last_interacted_at,omitempty"`
	}{sessionAlias(s), (*auth0Time)(s.CreatedAt), (*auth0Time)(s.UpdatedAt), (*auth0Time)(s.AuthenticatedAt),
		(*auth0Time)(s.IdleExpiresAt), (*auth0Time)(s.ExpiresAt), (*auth0Time)(s.LastInteractedAt)}
	return encodeObject(aux, reflect.TypeFor[sessionAlias](), s.Extra, s.zero)
}

type sessionAuthMethodAlias SessionAuthMethod

// MarshalJSON encodes the timestamp in Auth0's layout.
func (a SessionAuthMethod) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		sessionAuthMethodAlias
		Timestamp *auth0Time `json:"timestamp,omitempty"`
	}{sessionAuthMethodAlias(a), (*auth0Time)(a.Timestamp)})
}

type refreshTokenAlias RefreshToken

// UnmarshalJSON decodes a refresh token, keeping unknown keys in Extra.
func (t *RefreshToken) UnmarshalJSON(data []byte) error {
	*t = RefreshToken{}
	var err error
	t.Extra, t.zero, err = decodeObject(data, (*refreshTokenAlias)(t))
	return err
}

// MarshalJSON encodes the token as it came (nulls included), timestamps in Auth0's layout.
func (t RefreshToken) MarshalJSON() ([]byte, error) {
	aux := struct {
		refreshTokenAlias
		CreatedAt     *auth0Time `json:"created_at,omitempty"`
		IdleExpiresAt *auth0Time `json:"idle_expires_at,omitempty"`
		ExpiresAt     *auth0Time `json:"expires_at,omitempty"`
	}{refreshTokenAlias(t), (*auth0Time)(t.CreatedAt), (*auth0Time)(t.IdleExpiresAt), (*auth0Time)(t.ExpiresAt)}
	return encodeObject(aux, reflect.TypeFor[refreshTokenAlias](), t.Extra, t.zero)
}
