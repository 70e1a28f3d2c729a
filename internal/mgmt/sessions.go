package mgmt

import (
	"context"
	"net/http"
)

// SessionManager reads and ends single sessions by their id (the sid claim of the ID tokens they
// issued). A user's sessions are listed and ended all at once through UserManager.
type SessionManager struct{ c *core }

// Get returns one session. An unknown id is a 404 *Error (ErrNotFound).
//
// Scopes: read:sessions. See https://auth0.com/docs/api/management/v2/sessions/get-session
func (m *SessionManager) Get(ctx context.Context, id string) (*Session, error) {
	if err := checkID("session", id); err != nil {
		return nil, err
	}
	var s Session
	if err := m.c.call(ctx, http.MethodGet, routeSession, m.c.endpoint("sessions", id), nil, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Delete ends the session (Auth0 answers 202: it completes shortly after); the refresh tokens it
// issued stay valid. Retried like a read.
//
// Scopes: delete:sessions. See https://auth0.com/docs/api/management/v2/sessions/delete-session
func (m *SessionManager) Delete(ctx context.Context, id string) error {
	if err := checkID("session", id); err != nil {
		return err
	}
	return m.c.call(ctx, http.MethodDelete, routeSession, m.c.endpoint("sessions", id), nil, nil, nil)
}

// Revoke ends the session and revokes the refresh tokens bound to it (202), signing that one
// browser or device out everywhere it used the session. Sent again only after a 429.
//
// Scopes: delete:sessions and delete:refresh_tokens. See
// https://auth0.com/docs/api/management/v2/sessions/revoke-session
func (m *SessionManager) Revoke(ctx context.Context, id string) error {
	if err := checkID("session", id); err != nil {
		return err
	}
	return m.c.call(ctx, http.MethodPost, routeSessionRevoke, m.c.endpoint("sessions", id, "revoke"), nil, nil, nil)
}
