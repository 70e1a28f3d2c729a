package tenant

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// sessionIDsOf lists the ids of GET /api/v2/users/{id}/sessions.
func (e *env) sessionIDsOf(t *testing.T, uid, token string) []string {
	t.Helper()
	r := e.do("GET", "/api/v2/users/"+url.PathEscape(uid)+"/sessions", token, nil)
	expect(t, r, http.StatusOK, "")
	var page struct {
		Sessions []struct {
			ID string `json:"id"`
		} `json:"sessions"`
	}
	mustUnmarshal(t, r.body, &page)
	ids := []string{}
	for _, s := range page.Sessions {
		ids = append(ids, s.ID)
	}
	return ids
}

// refreshTokenIDsOf lists the ids of GET /api/v2/users/{id}/refresh-tokens.
func (e *env) refreshTokenIDsOf(t *testing.T, uid, token string) []string {
	t.Helper()
	r := e.do("GET", "/api/v2/users/"+url.PathEscape(uid)+"/refresh-tokens", token, nil)
	expect(t, r, http.StatusOK, "")
	var page struct {
		Tokens []struct {
			ID string `json:"id"`
		} `json:"tokens"`
	}
	mustUnmarshal(t, r.body, &page)
	ids := []string{}
	for _, x := range page.Tokens {
		ids = append(ids, x.ID)
	}
	return ids
}

// TestSingleSessionEndpoints drives GET/DELETE /api/v2/sessions/{id} and POST …/revoke over HTTP:
// the session reads as in the user's list; DELETE ends only that session and keeps its refresh
// token; revoke ends the session and removes exactly the refresh tokens bound to it; unknown ids
// answer Auth0's 404 body; the scopes are enforced.
func TestSingleSessionEndpoints(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Seed = false })
	staffID, _ := e.tn.StaffApp()
	email, password := e.tn.DemoStaff()
	staff, _ := e.st.UsersByEmail(t.Context(), email)
	uid := staff[0].ID
	admin := e.mintToken(AllScopes()...)

	// Three sessions of the staff user from real sign-ins, one of another user.
	for range 3 {
		e.mustSignIn(t, email, password)
		e.clock.Advance(time.Minute)
	}
	ids := e.sessionIDsOf(t, uid, admin)
	if len(ids) != 3 {
		t.Fatalf("sessions after three sign-ins: %v", ids)
	}
	keep, del, rev := ids[0], ids[1], ids[2]
	other := e.createUser(t, "other", "other@example.com")
	at := e.clock.Now().UTC().Truncate(time.Millisecond)
	if err := e.st.CreateSession(t.Context(), store.Session{ID: "sess_other", UserID: other.ID, ClientIDs: []string{staffID},
		CreatedAt: at, UpdatedAt: at, AuthenticatedAt: at, LastInteractedAt: at, IdleExpiresAt: at.Add(time.Hour),
		ExpiresAt: at.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, rt := range []store.RefreshToken{
		{ID: "rt_keep", UserID: uid, SessionID: keep},
		{ID: "rt_del", UserID: uid, SessionID: del},
		{ID: "rt_rev", UserID: uid, SessionID: rev},
		{ID: "rt_unbound", UserID: uid},
		{ID: "rt_other", UserID: other.ID, SessionID: "sess_other"},
	} {
		rt.ClientID, rt.CreatedAt = staffID, at
		if err := e.st.CreateRefreshToken(t.Context(), rt); err != nil {
			t.Fatal(err)
		}
		at = at.Add(time.Second)
	}

	// GET: the same object the user's list holds for it.
	r := e.do("GET", "/api/v2/sessions/"+del, e.mintToken("read:sessions"), nil)
	expect(t, r, http.StatusOK, "")
	lr := e.do("GET", "/api/v2/users/"+url.PathEscape(uid)+"/sessions", admin, nil)
	var list struct {
		Sessions []json.RawMessage `json:"sessions"`
	}
	mustUnmarshal(t, lr.body, &list)
	if string(list.Sessions[1]) != string(r.body) {
		t.Errorf("GET /sessions/{id}\n got %s\nwant the list element %s", r.body, list.Sessions[1])
	}
	got := r.json(t)
	if got["id"] != del || got["user_id"] != uid || got["created_at"] != "2025-03-14T09:27:53.589Z" ||
		got["device"].(map[string]any)["initial_ip"] != "127.0.0.1" ||
		!jsonEqual(got["clients"], []any{map[string]any{"client_id": staffID}}) ||
		!jsonEqual(got["authentication"], map[string]any{"methods": []any{map[string]any{"name": "pwd", "timestamp": "2025-03-14T09:27:53.589Z"}}}) {
		t.Errorf("session = %s", r.body)
	}
	if r.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
	}

	// DELETE: 202 {}; the session is gone, its refresh token stays.
	expect(t, e.do("DELETE", "/api/v2/sessions/"+del, e.mintToken("delete:sessions"), nil), http.StatusAccepted, "{}")
	expect(t, e.do("GET", "/api/v2/sessions/"+del, admin, nil), http.StatusNotFound,
		`{"statusCode":404,"error":"Not Found","message":"The session does not exist."}`)
	if ids := e.sessionIDsOf(t, uid, admin); !slices.Equal(ids, []string{keep, rev}) {
		t.Errorf("sessions after DELETE = %v; want %v", ids, []string{keep, rev})
	}
	if ids := e.refreshTokenIDsOf(t, uid, admin); !slices.Equal(ids, []string{"rt_keep", "rt_del", "rt_rev", "rt_unbound"}) {
		t.Errorf("refresh tokens after DELETE = %v; DELETE must keep them all", ids)
	}

	// Revoke (no body, then {} on an already revoked session): 202 {}; the session and its bound
	// refresh token are gone; the unbound token, the other session and the other user stay.
	both := e.mintToken("delete:sessions", "delete:refresh_tokens")
	expect(t, e.do("POST", "/api/v2/sessions/"+rev+"/revoke", both, nil), http.StatusAccepted, "{}")
	expect(t, e.do("GET", "/api/v2/sessions/"+rev, admin, nil), http.StatusNotFound, "")
	if ids := e.sessionIDsOf(t, uid, admin); !slices.Equal(ids, []string{keep}) {
		t.Errorf("sessions after revoke = %v; want [%s]", ids, keep)
	}
	if ids := e.refreshTokenIDsOf(t, uid, admin); !slices.Equal(ids, []string{"rt_keep", "rt_del", "rt_unbound"}) {
		t.Errorf("refresh tokens after revoke = %v; want rt_keep, rt_del, rt_unbound", ids)
	}
	if ids := e.sessionIDsOf(t, other.ID, admin); !slices.Equal(ids, []string{"sess_other"}) {
		t.Errorf("other user's sessions = %v", ids)
	}
	if ids := e.refreshTokenIDsOf(t, other.ID, admin); !slices.Equal(ids, []string{"rt_other"}) {
		t.Errorf("other user's refresh tokens = %v", ids)
	}
	expect(t, e.do("POST", "/api/v2/sessions/"+keep+"/revoke", both, "{}"), http.StatusAccepted, "{}")
	if ids := e.refreshTokenIDsOf(t, uid, admin); !slices.Equal(ids, []string{"rt_del", "rt_unbound"}) {
		t.Errorf("refresh tokens after revoking with {} = %v; want rt_del, rt_unbound", ids)
	}
	expect(t, e.do("POST", "/api/v2/sessions/sess_other/revoke", both, `{"everything":true}`), http.StatusBadRequest,
		`{"statusCode":400,"error":"Bad Request","message":"Payload validation error: 'Additional properties not allowed: everything'.","errorCode":"invalid_body"}`)
	if ids := e.sessionIDsOf(t, other.ID, admin); !slices.Equal(ids, []string{"sess_other"}) {
		t.Errorf("a rejected revoke removed the session: %v", ids)
	}

	// The writes are in the tenant log.
	for _, want := range []string{"Delete session", "Revoke session"} {
		if evs := e.logsOf(t, `type:sapi AND description:"`+want+`"`); len(evs) == 0 {
			t.Errorf("no sapi event %q", want)
		}
	}

	// Unknown ids: 404 with Auth0's error body on all three.
	const notFound = `{"statusCode":404,"error":"Not Found","message":"The session does not exist."}`
	expect(t, e.do("GET", "/api/v2/sessions/sess_ghost", admin, nil), http.StatusNotFound, notFound)
	expect(t, e.do("DELETE", "/api/v2/sessions/sess_ghost", admin, nil), http.StatusNotFound, notFound)
	expect(t, e.do("POST", "/api/v2/sessions/sess_ghost/revoke", admin, nil), http.StatusNotFound, notFound)

	// Scopes: the wrong one, or only one of revoke's two, is a 403 naming what is needed; no token is a
	// 401. Nothing is removed by a refused request.
	expect(t, e.do("GET", "/api/v2/sessions/sess_other", e.mintToken("delete:sessions"), nil), http.StatusForbidden,
		`{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: read:sessions","errorCode":"insufficient_scope"}`)
	expect(t, e.do("DELETE", "/api/v2/sessions/sess_other", e.mintToken("read:sessions", "delete:refresh_tokens"), nil), http.StatusForbidden,
		`{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected any of: delete:sessions","errorCode":"insufficient_scope"}`)
	const needBoth = `{"statusCode":403,"error":"Forbidden","message":"Insufficient scope, expected all of: delete:sessions,delete:refresh_tokens","errorCode":"insufficient_scope"}`
	expect(t, e.do("POST", "/api/v2/sessions/sess_other/revoke", e.mintToken("delete:sessions"), nil), http.StatusForbidden, needBoth)
	expect(t, e.do("POST", "/api/v2/sessions/sess_other/revoke", e.mintToken("delete:refresh_tokens"), nil), http.StatusForbidden, needBoth)
	expect(t, e.do("GET", "/api/v2/sessions/sess_other", "", nil), http.StatusUnauthorized, "")
	if ids := e.sessionIDsOf(t, other.ID, admin); !slices.Equal(ids, []string{"sess_other"}) {
		t.Errorf("refused requests changed the other user's sessions: %v", ids)
	}
	if ids := e.refreshTokenIDsOf(t, other.ID, admin); !slices.Equal(ids, []string{"rt_other"}) {
		t.Errorf("refused requests changed the other user's refresh tokens: %v", ids)
	}
}
