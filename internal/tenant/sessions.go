package tenant

import (
	"encoding/base64"
	"net/http"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// Sessions and refresh tokens of a user, and single sessions by id (contract §5, §5.7).

type sessionDeviceJSON struct {
	InitialUserAgent string `json:"initial_user_agent"`
	InitialIP        string `json:"initial_ip"`
	LastUserAgent    string `json:"last_user_agent"`
	LastIP           string `json:"last_ip"`
}

type sessionClientJSON struct {
	ClientID string `json:"client_id"`
}

type sessionMethodJSON struct {
	Name      string `json:"name"`
	Timestamp string `json:"timestamp"`
	Type      string `json:"type,omitempty"`
}

type sessionJSON struct {
	ID               string              `json:"id"`
	UserID           string              `json:"user_id"`
	CreatedAt        string              `json:"created_at"`
	UpdatedAt        string              `json:"updated_at"`
	AuthenticatedAt  string              `json:"authenticated_at"`
	IdleExpiresAt    string              `json:"idle_expires_at"`
	ExpiresAt        string              `json:"expires_at"`
	LastInteractedAt string              `json:"last_interacted_at"`
	Device           sessionDeviceJSON   `json:"device"`
	Clients          []sessionClientJSON `json:"clients"`
	Authentication   struct {
		Methods []sessionMethodJSON `json:"methods"`
	} `json:"authentication"`
}

func toSessionJSON(s store.Session) sessionJSON {
	j := sessionJSON{ID: s.ID, UserID: s.UserID, CreatedAt: auth0Time(s.CreatedAt), UpdatedAt: auth0Time(s.UpdatedAt),
		AuthenticatedAt: auth0Time(s.AuthenticatedAt), IdleExpiresAt: auth0Time(s.IdleExpiresAt),
		ExpiresAt: auth0Time(s.ExpiresAt), LastInteractedAt: auth0Time(s.LastInteractedAt),
		Device:  sessionDeviceJSON{s.InitialUserAgent, s.InitialIP, s.LastUserAgent, s.LastIP},
		Clients: []sessionClientJSON{}}
	for _, c := range s.ClientIDs {
		j.Clients = append(j.Clients, sessionClientJSON{c})
	}
	j.Authentication.Methods = []sessionMethodJSON{}
	for _, m := range s.AuthMethods {
		j.Authentication.Methods = append(j.Authentication.Methods, sessionMethodJSON{m.Name, auth0Time(m.Timestamp), m.Type})
	}
	return j
}

// checkpoint reads from (base64 of the last id of the previous page) and take (1..100, default 50).
func checkpoint(r *http.Request) (after string, take int, err error) {
	v := r.URL.Query()
	take, err = intParam(v, "take", "Number of results per page. Defaults to 50.", 50, 1, 100)
	if err != nil {
		return "", 0, err
	}
	if f := v.Get("from"); f != "" {
		b, err := base64.RawURLEncoding.DecodeString(f)
		if err != nil || len(b) == 0 {
			return "", 0, queryError("'Invalid checkpoint' on property from (An optional cursor from which to start the selection (exclusive).).")
		}
		after = string(b)
	}
	return after, take, nil
}

// pageAfter returns at most take items after the one whose id is after ("" = from the start), and
// the next cursor ("" on the last page).
func pageAfter[T any](items []T, id func(T) string, after string, take int) ([]T, string) {
	start := 0
	if after != "" {
		start = len(items)
		for i, x := range items {
			if id(x) == after {
				start = i + 1
				break
			}
		}
	}
	end := min(start+take, len(items))
	next := ""
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(id(items[end-1])))
	}
	return items[start:end], next
}

// listSessions is GET /api/v2/users/{id}/sessions: {"sessions":[…],"next"?} with checkpoint paging
// (recorded: {"sessions":[]} for a new user).
func (t *Tenant) listSessions(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if err := checkParams(r.URL.Query(), "from", "take"); err != nil {
		return err
	}
	after, take, err := checkpoint(r)
	if err != nil {
		return err
	}
	all, err := t.store.Sessions(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFoundAs(err, errUserNotFound)
	}
	page, next := pageAfter(all, func(s store.Session) string { return s.ID }, after, take)
	body := struct {
		Sessions []sessionJSON `json:"sessions"`
		Next     string        `json:"next,omitempty"`
	}{Sessions: []sessionJSON{}, Next: next}
	for _, s := range page {
		body.Sessions = append(body.Sessions, toSessionJSON(s))
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// deleteSessions is DELETE /api/v2/users/{id}/sessions: 202 {} (recorded); the refresh tokens bound
// to those sessions go too.
func (t *Tenant) deleteSessions(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if _, err := t.store.DeleteSessions(r.Context(), r.PathValue("id")); err != nil {
		return notFoundAs(err, errUserNotFound)
	}
	writeJSON(w, http.StatusAccepted, struct{}{})
	return nil
}

// errSessionNotFound answers a session id that does not exist. Auth0's message here is not recorded;
// the wording follows its other "does not exist" 404s, without an errorCode [I].
var errSessionNotFound = &apiError{Status: http.StatusNotFound, Message: "The session does not exist."}

// getSession is GET /api/v2/sessions/{id}: 200 with the session, shaped like an element of
// GET /api/v2/users/{id}/sessions.
func (t *Tenant) getSession(w http.ResponseWriter, r *http.Request, _ *principal) error {
	s, err := t.store.Session(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFoundAs(err, errSessionNotFound)
	}
	writeJSON(w, http.StatusOK, toSessionJSON(s))
	return nil
}

// deleteSession is DELETE /api/v2/sessions/{id}: 202 {} ("Session deletion request accepted"). It only
// ends the session: refresh tokens bound to it stay (revokeSession removes them too).
func (t *Tenant) deleteSession(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if err := t.store.DeleteSession(r.Context(), r.PathValue("id")); err != nil {
		return notFoundAs(err, errSessionNotFound)
	}
	writeJSON(w, http.StatusAccepted, struct{}{})
	return nil
}

// revokeSession is POST /api/v2/sessions/{id}/revoke: 202 {}; the session and every refresh token
// bound to it go, in one store transaction. The body is optional ({} or none).
func (t *Tenant) revokeSession(w http.ResponseWriter, r *http.Request, _ *principal) error {
	var body struct{}
	if err := decodeOptionalBody(r, &body); err != nil {
		return err
	}
	if _, err := t.store.RevokeSession(r.Context(), r.PathValue("id")); err != nil {
		return notFoundAs(err, errSessionNotFound)
	}
	writeJSON(w, http.StatusAccepted, struct{}{})
	return nil
}

type refreshResourceJSON struct {
	Audience string `json:"audience"`
	Scopes   string `json:"scopes"`
}

type refreshTokenJSON struct {
	ID              string                `json:"id"`
	UserID          string                `json:"user_id"`
	CreatedAt       string                `json:"created_at"`
	IdleExpiresAt   *string               `json:"idle_expires_at"`
	ExpiresAt       *string               `json:"expires_at"`
	ClientID        string                `json:"client_id"`
	SessionID       *string               `json:"session_id"`
	Rotating        bool                  `json:"rotating"`
	ResourceServers []refreshResourceJSON `json:"resource_servers"`
}

func toRefreshTokenJSON(t store.RefreshToken) refreshTokenJSON {
	j := refreshTokenJSON{ID: t.ID, UserID: t.UserID, CreatedAt: auth0Time(t.CreatedAt), ClientID: t.ClientID,
		Rotating: t.Rotating, ResourceServers: []refreshResourceJSON{}}
	if t.IdleExpiresAt != nil {
		j.IdleExpiresAt = strp(auth0Time(*t.IdleExpiresAt))
	}
	if t.ExpiresAt != nil {
		j.ExpiresAt = strp(auth0Time(*t.ExpiresAt))
	}
	if t.SessionID != "" {
		j.SessionID = strp(t.SessionID)
	}
	for _, rs := range t.ResourceServers {
		j.ResourceServers = append(j.ResourceServers, refreshResourceJSON(rs))
	}
	return j
}

// listRefreshTokens is GET /api/v2/users/{id}/refresh-tokens: {"tokens":[…],"next"?,"total"?}
// (recorded). Paging: take (or go-auth0 v1's per_page) and from; next is the id of the last token
// returned whenever the page is not empty (recorded even for a short page) and total comes with
// include_totals=true.
func (t *Tenant) listRefreshTokens(w http.ResponseWriter, r *http.Request, _ *principal) error {
	v := r.URL.Query()
	if err := checkParams(v, "from", "take", "include_totals", "per_page", "page"); err != nil {
		return err
	}
	pg, err := readPage(r, 50, 100)
	if err != nil {
		return err
	}
	take, err := intParam(v, "take", "Number of results per page. Defaults to 50.", pg.perPage, 1, 100)
	if err != nil {
		return err
	}
	all, err := t.store.RefreshTokens(r.Context(), r.PathValue("id"))
	if err != nil {
		return notFoundAs(err, errUserNotFound)
	}
	from := v.Get("from")
	start := 0
	if from != "" {
		start = len(all)
		for i, x := range all {
			if x.ID == from {
				start = i + 1
				break
			}
		}
	}
	page := all[start:min(start+take, len(all))]
	body := struct {
		Tokens []refreshTokenJSON `json:"tokens"`
		Next   string             `json:"next,omitempty"`
		Total  *int               `json:"total,omitempty"`
	}{Tokens: []refreshTokenJSON{}}
	for _, x := range page {
		body.Tokens = append(body.Tokens, toRefreshTokenJSON(x))
	}
	if len(page) > 0 {
		body.Next = page[len(page)-1].ID
	}
	if pg.totals {
		n := len(all)
		body.Total = &n
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// deleteRefreshTokens is DELETE /api/v2/users/{id}/refresh-tokens: 202 {} (recorded).
func (t *Tenant) deleteRefreshTokens(w http.ResponseWriter, r *http.Request, _ *principal) error {
	if _, err := t.store.DeleteRefreshTokens(r.Context(), r.PathValue("id")); err != nil {
		return notFoundAs(err, errUserNotFound)
	}
	writeJSON(w, http.StatusAccepted, struct{}{})
	return nil
}
