package sessionstore_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/sessions"

	"github.com/userdesk/userdesk/internal/sessionstore"
	"github.com/userdesk/userdesk/internal/sessionstore/storetest"
)

const cookieName = "__Host-userdesk"

func key(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

var (
	pairOld = [][]byte{key(1, 32), key(2, 32)}
	pairNew = [][]byte{key(3, 64), key(4, 16)}
)

type harness struct {
	t       *testing.T
	backend *sessionstore.MemoryStore
	clock   *storetest.Clock
	store   *sessionstore.GorillaStore
}

func newHarness(t *testing.T, cfg sessionstore.GorillaConfig, keys ...[]byte) *harness {
	t.Helper()
	c := storetest.NewClock(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	h := &harness{t: t, backend: sessionstore.NewMemory(sessionstore.WithClock(c.Now)), clock: c}
	cfg.Now = c.Now
	if len(keys) == 0 {
		keys = pairOld
	}
	var err error
	h.store, err = sessionstore.NewGorillaStore(h.backend, cfg, keys...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// request returns a request carrying cookie (when non-nil) from 198.51.100.9.
func request(cookie *http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://userdesk.example/users", nil)
	r.RemoteAddr = "198.51.100.9:51234"
	r.Header.Set("User-Agent", "TestBrowser/1.0")
	if cookie != nil {
		r.AddCookie(cookie)
	}
	return r
}

// load runs one request through store.Get.
func load(t *testing.T, store sessions.Store, cookie *http.Cookie) (*sessions.Session, error) {
	t.Helper()
	return store.Get(request(cookie), cookieName)
}

// save runs edit on the request's session, saves it and returns the cookie that was set.
func save(t *testing.T, store sessions.Store, cookie *http.Cookie, edit func(*sessions.Session)) (*sessions.Session, *http.Cookie) {
	t.Helper()
	r := request(cookie)
	gs, _ := store.Get(r, cookieName)
	edit(gs)
	w := httptest.NewRecorder()
	if err := gs.Save(r, w); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return gs, setCookie(t, w)
}

func setCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	cs := w.Result().Cookies()
	if len(cs) != 1 || cs[0].Name != cookieName {
		t.Fatalf("want exactly one %s cookie, got %v", cookieName, cs)
	}
	return cs[0]
}

var alice = sessionstore.Staff{Issuer: "https://idp.example/", Subject: "auth0|alice", Email: "alice@example.com", Name: "Alice", Roles: []string{"agent"}}

// signIn runs the sign-in step: identity set, id rotated, saved.
func (h *harness) signIn(cookie *http.Cookie) (*sessions.Session, *http.Cookie) {
	return save(h.t, h.store, cookie, func(gs *sessions.Session) {
		sessionstore.SetStaff(gs, alice)
		sessionstore.Rotate(gs)
	})
}

func TestGorillaSignInCookieHoldsOnlyAnID(t *testing.T) {
	h := newHarness(t, sessionstore.GorillaConfig{})
	gs, err := load(t, h.store, nil)
	if err != nil || !gs.IsNew {
		t.Fatalf("no cookie: IsNew=%v err=%v; want a new session", gs.IsNew, err)
	}
	if _, ok := sessionstore.StaffOf(gs); ok {
		t.Fatal("a new session has no staff")
	}

	gs, c := save(t, h.store, nil, func(gs *sessions.Session) {
		sessionstore.SetStaff(gs, alice)
		gs.Values["return_to"] = "/users/auth0%7Cbob"
	})
	if c.Path != "/" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Domain != "" || c.MaxAge != 0 || !c.Expires.IsZero() {
		t.Errorf("cookie attributes: %+v; want Path=/ Secure HttpOnly SameSite=Lax, no Domain, session cookie", c)
	}
	if len(c.String()) > 4096 {
		t.Errorf("Set-Cookie is %d bytes, over 4096", len(c.String()))
	}
	if strings.Contains(c.Value, gs.ID) || strings.Contains(c.Value, "alice") {
		t.Errorf("cookie value reveals the id or the staff: %q", c.Value)
	}
	rec, err := h.backend.Get(context.Background(), gs.ID)
	if err != nil {
		t.Fatalf("server-side record: %v", err)
	}
	if rec.Subject != alice.Subject || rec.Email != alice.Email || rec.IP != "198.51.100.9" || rec.UserAgent != "TestBrowser/1.0" ||
		!rec.CreatedAt.Equal(h.clock.Now()) || !rec.ExpiresAt.Equal(h.clock.Now().Add(sessionstore.DefaultLifetime)) ||
		rec.Values["return_to"] != "/users/auth0%7Cbob" || len(rec.Values) != 1 {
		t.Errorf("server-side record: %+v", rec)
	}

	again, err := load(t, h.store, c)
	if err != nil || again.IsNew || again.ID != gs.ID {
		t.Fatalf("reload: IsNew=%v id match=%v err=%v", again.IsNew, again.ID == gs.ID, err)
	}
	st, ok := sessionstore.StaffOf(again)
	if !ok || st.Subject != alice.Subject || st.Issuer != alice.Issuer || len(st.Roles) != 1 || st.Roles[0] != "agent" {
		t.Errorf("StaffOf after reload: %+v, %v", st, ok)
	}
	if again.Values["return_to"] != "/users/auth0%7Cbob" {
		t.Errorf("values after reload: %v", again.Values)
	}
}

func TestGorillaCookieOptionsConfigurable(t *testing.T) {
	opts := sessionstore.DefaultCookieOptions()
	opts.Secure = false // plain-HTTP local demo
	h := newHarness(t, sessionstore.GorillaConfig{Cookie: &opts})
	_, c := save(t, h.store, nil, func(*sessions.Session) {})
	if c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("cookie %+v; want the given options", c)
	}
}

func TestGorillaRotateRejectsPreLoginID(t *testing.T) {
	h := newHarness(t, sessionstore.GorillaConfig{})
	pre, preCookie := save(t, h.store, nil, func(gs *sessions.Session) { gs.Values["return_to"] = "/audit" })
	h.clock.Advance(5 * time.Minute)

	post, postCookie := h.signIn(preCookie)
	if post.ID == pre.ID || postCookie.Value == preCookie.Value {
		t.Fatal("sign-in kept the pre-login session id")
	}
	if _, err := h.backend.Get(context.Background(), pre.ID); !errors.Is(err, sessionstore.ErrNotFound) {
		t.Errorf("pre-login record still stored: %v", err)
	}
	replay, err := load(t, h.store, preCookie)
	if err != nil || !replay.IsNew {
		t.Errorf("replayed pre-login cookie: IsNew=%v err=%v; want a new, empty session", replay.IsNew, err)
	}
	got, _ := load(t, h.store, postCookie)
	if got.IsNew || got.Values["return_to"] != "/audit" {
		t.Errorf("values carried over the rotation: IsNew=%v values=%v", got.IsNew, got.Values)
	}
	rec, _ := h.backend.Get(context.Background(), post.ID)
	if !rec.CreatedAt.Equal(h.clock.Now()) || !rec.ExpiresAt.Equal(h.clock.Now().Add(sessionstore.DefaultLifetime)) {
		t.Errorf("rotated session must start a fresh lifetime at sign-in: %+v", rec)
	}
	// Saving again without Rotate keeps the id.
	again, _ := save(t, h.store, postCookie, func(gs *sessions.Session) { gs.Values["flash"] = "ok" })
	if again.ID != post.ID {
		t.Error("a plain Save changed the id")
	}
}

func TestGorillaSignOutDeletesServerSide(t *testing.T) {
	h := newHarness(t, sessionstore.GorillaConfig{})
	gs, c := h.signIn(nil)
	_, out := save(t, h.store, c, func(gs *sessions.Session) { gs.Options.MaxAge = -1 })
	if out.MaxAge >= 0 || out.Value != "" {
		t.Errorf("sign-out cookie %+v; want an empty, expired cookie", out)
	}
	if _, err := h.backend.Get(context.Background(), gs.ID); !errors.Is(err, sessionstore.ErrNotFound) {
		t.Errorf("record after sign-out: %v; want ErrNotFound", err)
	}
	replay, err := load(t, h.store, c)
	if err != nil || !replay.IsNew {
		t.Errorf("replayed cookie after sign-out: IsNew=%v err=%v", replay.IsNew, err)
	}
}

func TestGorillaIdleTimeout(t *testing.T) {
	h := newHarness(t, sessionstore.GorillaConfig{})
	gs, c := h.signIn(nil)
	for i := range 3 { // activity every 29 min keeps it alive
		h.clock.Advance(29 * time.Minute)
		got, err := load(t, h.store, c)
		if err != nil || got.IsNew {
			t.Fatalf("request %d after 29 idle minutes: IsNew=%v err=%v", i, got.IsNew, err)
		}
	}
	h.clock.Advance(31 * time.Minute)
	got, err := load(t, h.store, c)
	if err != nil || !got.IsNew {
		t.Fatalf("after 31 idle minutes: IsNew=%v err=%v; want a new session", got.IsNew, err)
	}
	if err := h.backend.Delete(context.Background(), gs.ID); !errors.Is(err, sessionstore.ErrNotFound) {
		t.Errorf("idle session not deleted server-side: %v", err)
	}
}

func TestGorillaAbsoluteLifetime(t *testing.T) {
	h := newHarness(t, sessionstore.GorillaConfig{Lifetime: 12 * time.Hour})
	_, c := h.signIn(nil)
	for elapsed := 10 * time.Minute; elapsed < 12*time.Hour; elapsed += 10 * time.Minute {
		h.clock.Advance(10 * time.Minute)
		if got, err := load(t, h.store, c); err != nil || got.IsNew {
			t.Fatalf("at %v of activity: IsNew=%v err=%v", elapsed, got.IsNew, err)
		}
	}
	h.clock.Advance(11 * time.Minute) // 12h01
	if got, err := load(t, h.store, c); err != nil || !got.IsNew {
		t.Fatalf("at 12h01 despite activity: IsNew=%v err=%v; want re-authentication", got.IsNew, err)
	}
}

func TestGorillaTouchInterval(t *testing.T) {
	h := newHarness(t, sessionstore.GorillaConfig{TouchInterval: time.Minute})
	gs, c := h.signIn(nil)
	signedIn := h.clock.Now()
	seenAt := func() time.Time {
		rec, err := h.backend.Get(context.Background(), gs.ID)
		if err != nil {
			t.Fatal(err)
		}
		return rec.SeenAt
	}
	h.clock.Advance(30 * time.Second)
	load(t, h.store, c)
	if !seenAt().Equal(signedIn) {
		t.Errorf("a request within the touch interval wrote SeenAt: %v", seenAt())
	}
	h.clock.Advance(31 * time.Second)
	load(t, h.store, c)
	if !seenAt().Equal(h.clock.Now()) {
		t.Errorf("SeenAt = %v, want the request time %v", seenAt(), h.clock.Now())
	}
}

func TestGorillaAdminEndsSessions(t *testing.T) {
	h := newHarness(t, sessionstore.GorillaConfig{})
	_, c1 := h.signIn(nil)
	_, c2 := h.signIn(nil)
	r := request(c1)
	loaded, _ := h.store.Get(r, cookieName) // a request in flight when the admin acts
	n, err := h.backend.DeleteBySubject(context.Background(), alice.Issuer, alice.Subject)
	if err != nil || n != 2 {
		t.Fatalf("DeleteBySubject: %d, %v", n, err)
	}
	for _, c := range []*http.Cookie{c1, c2} {
		if got, err := load(t, h.store, c); err != nil || !got.IsNew {
			t.Errorf("cookie after the admin ended the sessions: IsNew=%v err=%v", got.IsNew, err)
		}
	}
	loaded.Values["flash"] = "saved"
	w := httptest.NewRecorder()
	if err := loaded.Save(r, w); !errors.Is(err, sessionstore.ErrNotFound) {
		t.Errorf("Save of an ended session: %v; want ErrNotFound (never resurrected)", err)
	}
	if c := setCookie(t, w); c.MaxAge >= 0 {
		t.Errorf("Save of an ended session must expire the cookie: %+v", c)
	}
	if list, _ := h.backend.List(context.Background()); len(list) != 0 {
		t.Errorf("ended session came back: %v", list)
	}
}

func TestGorillaKeyRotation(t *testing.T) {
	ctx := context.Background()
	backend := sessionstore.NewMemory()
	mk := func(keys ...[]byte) *sessionstore.GorillaStore {
		s, err := sessionstore.NewGorillaStore(backend, sessionstore.GorillaConfig{}, keys...)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	oldOnly := mk(pairOld...)
	rotated := mk(append(append([][]byte{}, pairNew...), pairOld...)...)
	newOnly := mk(pairNew...)

	_, oldCookie := save(t, oldOnly, nil, func(gs *sessions.Session) { sessionstore.SetStaff(gs, alice) })

	// After rotation, a cookie made with the old key still decodes: nobody is signed out.
	gs, err := load(t, rotated, oldCookie)
	if err != nil || gs.IsNew {
		t.Fatalf("old-key cookie under rotated keys: IsNew=%v err=%v", gs.IsNew, err)
	}
	if st, ok := sessionstore.StaffOf(gs); !ok || st.Subject != alice.Subject {
		t.Errorf("staff after rotation: %+v %v", st, ok)
	}
	// New cookies use the first (new) pair: the new key alone decodes them, the old key alone does not.
	_, newCookie := save(t, rotated, oldCookie, func(gs *sessions.Session) { gs.Values["x"] = "1" })
	if gs, err := load(t, newOnly, newCookie); err != nil || gs.IsNew {
		t.Errorf("re-saved cookie under the new key alone: IsNew=%v err=%v", gs.IsNew, err)
	}
	if gs, err := load(t, oldOnly, newCookie); err == nil || !gs.IsNew {
		t.Errorf("re-saved cookie under the old key alone: IsNew=%v err=%v; want a decode error", gs.IsNew, err)
	}
	// Once the old pair is removed, cookies it made are rejected.
	if gs, err := load(t, newOnly, oldCookie); err == nil || !gs.IsNew {
		t.Errorf("old-key cookie after the old key was removed: IsNew=%v err=%v; want a decode error", gs.IsNew, err)
	}
	if list, _ := backend.List(ctx); len(list) != 1 {
		t.Errorf("one session expected throughout, got %d", len(list))
	}
}

func TestGorillaTamperedCookie(t *testing.T) {
	h := newHarness(t, sessionstore.GorillaConfig{})
	_, c := h.signIn(nil)
	b := []byte(c.Value)
	b[len(b)/2] ^= 1
	forged := &http.Cookie{Name: cookieName, Value: string(b)}
	if gs, err := load(t, h.store, forged); err == nil || !gs.IsNew {
		t.Errorf("tampered cookie: IsNew=%v err=%v; want a decode error and a new session", gs.IsNew, err)
	}
	// A cookie carrying a bare session id (not sealed by us) is rejected too.
	gs, _ := load(t, h.store, c)
	if gs2, err := load(t, h.store, &http.Cookie{Name: cookieName, Value: gs.ID}); err == nil || !gs2.IsNew {
		t.Errorf("raw id as cookie: IsNew=%v err=%v", gs2.IsNew, err)
	}
}

func TestGorillaRejectsNonStringValues(t *testing.T) {
	h := newHarness(t, sessionstore.GorillaConfig{})
	for name, edit := range map[string]func(*sessions.Session){
		"int value":  func(gs *sessions.Session) { gs.Values["n"] = 1 },
		"int key":    func(gs *sessions.Session) { gs.Values[1] = "x" },
		"flash list": func(gs *sessions.Session) { gs.AddFlash("hi") },
	} {
		r := request(nil)
		gs, _ := h.store.Get(r, cookieName)
		edit(gs)
		if err := gs.Save(r, httptest.NewRecorder()); err == nil {
			t.Errorf("%s: Save succeeded; want an error", name)
		}
	}
	if list, _ := h.backend.List(context.Background()); len(list) != 0 {
		t.Errorf("failed saves stored sessions: %d", len(list))
	}
}

func TestNewGorillaStoreValidatesKeys(t *testing.T) {
	b := sessionstore.NewMemory()
	for name, keys := range map[string][][]byte{
		"none":             nil,
		"hash key only":    {key(1, 32)},
		"short hash key":   {key(1, 16), key(2, 32)},
		"bad block key":    {key(1, 32), key(2, 20)},
		"second pair half": {key(1, 32), key(2, 32), key(3, 32)},
	} {
		if _, err := sessionstore.NewGorillaStore(b, sessionstore.GorillaConfig{}, keys...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := sessionstore.NewGorillaStore(nil, sessionstore.GorillaConfig{}, pairOld...); err == nil {
		t.Error("nil backend accepted")
	}
}
