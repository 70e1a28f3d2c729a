package sessionstore

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

var _ sessions.Store = (*GorillaStore)(nil)

// Defaults of GorillaConfig (the ASVS L2 starting points: 12 h absolute, 30 min idle).
const (
	DefaultLifetime      = 12 * time.Hour
	DefaultIdleTimeout   = 30 * time.Minute
	DefaultTouchInterval = time.Minute
	// maxUserAgent bounds what is kept of the User-Agent header.
	maxUserAgent = 256
)

// GorillaConfig configures a GorillaStore; zero fields take the documented defaults.
type GorillaConfig struct {
	// Cookie holds the attributes of the cookies the store sets. Nil means DefaultCookieOptions(). It
	// is used whole (start from DefaultCookieOptions and change fields), copied into each session.
	Cookie *sessions.Options
	// Lifetime is the absolute session length from sign-in (Rotate) or creation; default 12 h.
	Lifetime time.Duration
	// IdleTimeout ends a session that saw no request for this long; default 30 min, negative disables.
	IdleTimeout time.Duration
	// TouchInterval is how stale SeenAt may get before a request writes it back, trading one write per
	// request for an idle timeout that may end a session up to this much early; default 1 min,
	// negative writes on every request.
	TouchInterval time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// ClientIP returns the address recorded for a new session; default the host of r.RemoteAddr. Pass
	// the trusted-proxy-aware resolver when behind a proxy.
	ClientIP func(r *http.Request) string
}

// DefaultCookieOptions are the cookie attributes OWASP asks for: Path=/, no Domain (so a "__Host-"
// name is accepted), Secure, HttpOnly, SameSite=Lax (the OIDC callback is a cross-site navigation),
// and MaxAge 0: a browser-session cookie, since the server enforces the lifetime. Only the plain-HTTP
// local demo should clear Secure.
func DefaultCookieOptions() sessions.Options {
	return sessions.Options{Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

// GorillaStore is a gorilla/sessions Store over a Store backend. The cookie holds only the session id,
// signed (HMAC) and encrypted (AES) by securecookie; the values live server-side, so signing out or an
// admin ending a session revokes it at once.
//
// Mapping of gorilla's Session.Values: the Staff set with SetStaff goes to the identity columns; every
// other entry must have a string key and a string value (they go to Session.Values), or Save fails.
// gorilla's AddFlash stores a []interface{} and is therefore not supported: keep a flash as a string.
//
// MaxAge < 0 (sign-out) deletes the session server-side and expires the cookie. MaxAge 0 is a
// browser-session cookie, unlike gorilla's FilesystemStore, which deletes on MaxAge <= 0.
//
// New (called by sessions.GetRegistry(r).Get, i.e. store.Get) returns a fresh session, with a nil
// error, when the cookie names a session that is unknown, expired, idle for IdleTimeout or older than
// Lifetime; an idle or over-age session is also deleted server-side. It returns the fresh session and
// the decoding error for a cookie that does not verify (tampered, or signed with a removed key), and
// the fresh session and the backend's error when storage fails.
type GorillaStore struct {
	backend  Store
	codecs   []securecookie.Codec
	cookie   sessions.Options
	lifetime time.Duration
	idle     time.Duration
	touch    time.Duration
	now      func() time.Time
	clientIP func(*http.Request) string
}

// NewGorillaStore returns a GorillaStore over backend. keyPairs are (hash key, block key) pairs: a 32-
// or 64-byte HMAC key and a 16-, 24- or 32-byte AES key each, at least one pair. New cookies are signed
// and encrypted with the first pair; every pair is tried when decoding, so to rotate keys put the new
// pair first and keep the old one until the cookies it made have expired (Lifetime), then drop it.
func NewGorillaStore(backend Store, cfg GorillaConfig, keyPairs ...[]byte) (*GorillaStore, error) {
	if backend == nil {
		return nil, errors.New("sessionstore: NewGorillaStore: nil backend")
	}
	if len(keyPairs) == 0 || len(keyPairs)%2 != 0 {
		return nil, errors.New("sessionstore: NewGorillaStore: keys must come in (hash key, block key) pairs, at least one pair")
	}
	for i := 0; i < len(keyPairs); i += 2 {
		if h := len(keyPairs[i]); h != 32 && h != 64 {
			return nil, fmt.Errorf("sessionstore: NewGorillaStore: hash key %d is %d bytes, want 32 or 64", i/2, h)
		}
		if b := len(keyPairs[i+1]); b != 16 && b != 24 && b != 32 {
			return nil, fmt.Errorf("sessionstore: NewGorillaStore: block key %d is %d bytes, want 16, 24 or 32", i/2, b)
		}
	}
	g := &GorillaStore{
		backend:  backend,
		codecs:   securecookie.CodecsFromPairs(keyPairs...),
		cookie:   DefaultCookieOptions(),
		lifetime: cfg.Lifetime,
		idle:     cfg.IdleTimeout,
		touch:    cfg.TouchInterval,
		now:      cfg.Now,
		clientIP: cfg.ClientIP,
	}
	if cfg.Cookie != nil {
		g.cookie = *cfg.Cookie
	}
	if g.lifetime <= 0 {
		g.lifetime = DefaultLifetime
	}
	if g.idle == 0 {
		g.idle = DefaultIdleTimeout
	}
	if g.touch == 0 {
		g.touch = DefaultTouchInterval
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.clientIP == nil {
		g.clientIP = remoteHost
	}
	for _, c := range g.codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			// securecookie rejects a value whose embedded timestamp (set at the last Save) is older than
			// this: a second, cookie-side bound on top of the server-side expiry.
			sc.MaxAge(int(g.lifetime/time.Second) + 60)
		}
	}
	return g, nil
}

// Keys of gorilla Session.Values that only this package can write.
type (
	staffKey  struct{}
	rotateKey struct{}
)

// SetStaff records who the session belongs to; it is stored on the next Save.
func SetStaff(gs *sessions.Session, st Staff) { gs.Values[staffKey{}] = st }

// StaffOf returns who the session belongs to; ok is false before sign-in.
func StaffOf(gs *sessions.Session) (st Staff, ok bool) {
	st, ok = gs.Values[staffKey{}].(Staff)
	return st, ok && st.Subject != ""
}

// Rotate makes the next Save store the session under a new id, delete the old id server-side and
// start a fresh absolute lifetime. Call it at sign-in, so an id planted before sign-in (session
// fixation) is worthless after it.
func Rotate(gs *sessions.Session) { gs.Values[rotateKey{}] = true }

// Get returns the named session of r, cached per request (gorilla's registry).
func (g *GorillaStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(g, name)
}

// New loads the session named by r's cookie, or returns a new one (IsNew true); see GorillaStore.
func (g *GorillaStore) New(r *http.Request, name string) (*sessions.Session, error) {
	gs := sessions.NewSession(g, name)
	opts := g.cookie
	gs.Options = &opts
	gs.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return gs, nil
	}
	var id string
	if err := securecookie.DecodeMulti(name, c.Value, &id, g.codecs...); err != nil {
		return gs, err
	}
	ctx := r.Context()
	rec, err := g.backend.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return gs, nil
	}
	if err != nil {
		return gs, err
	}
	now := g.now()
	if !now.Before(rec.ExpiresAt) || (g.idle > 0 && now.Sub(rec.SeenAt) >= g.idle) {
		if err := g.backend.Delete(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
			return gs, err
		}
		return gs, nil
	}
	if g.touch < 0 || now.Sub(rec.SeenAt) >= g.touch {
		if err := g.backend.Touch(ctx, id, now); err != nil {
			if errors.Is(err, ErrNotFound) { // ended between Get and Touch
				return gs, nil
			}
			return gs, err
		}
	}
	gs.ID = id
	gs.IsNew = false
	for k, v := range rec.Values {
		gs.Values[k] = v
	}
	if rec.Subject != "" {
		gs.Values[staffKey{}] = rec.Staff
	}
	return gs, nil
}

// Save stores gs server-side and sets the cookie carrying its id, or, when gs.Options.MaxAge < 0,
// deletes it server-side and expires the cookie. Saving a loaded session that was deleted meanwhile
// (signed out elsewhere, ended by an admin) fails with an error wrapping ErrNotFound and expires the
// cookie, rather than bringing the session back.
func (g *GorillaStore) Save(r *http.Request, w http.ResponseWriter, gs *sessions.Session) error {
	ctx := r.Context()
	name := gs.Name()
	if gs.Options.MaxAge < 0 {
		if gs.ID != "" {
			if err := g.backend.Delete(ctx, gs.ID); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		gs.ID = ""
		http.SetCookie(w, sessions.NewCookie(name, "", gs.Options))
		return nil
	}
	st, vals, err := split(gs.Values)
	if err != nil {
		return err
	}
	now := g.now()
	_, rotate := gs.Values[rotateKey{}]
	switch {
	case gs.ID == "" || rotate:
		if gs.ID != "" {
			if err := g.backend.Delete(ctx, gs.ID); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		rec := Session{
			ID:        NewID(),
			Staff:     st,
			CreatedAt: now,
			SeenAt:    now,
			ExpiresAt: now.Add(g.lifetime),
			Values:    vals,
			IP:        g.clientIP(r),
			UserAgent: truncate(r.UserAgent(), maxUserAgent),
		}
		if err := g.backend.Create(ctx, rec); err != nil {
			return err
		}
		gs.ID = rec.ID
		delete(gs.Values, rotateKey{})
	default:
		err := g.backend.Update(ctx, gs.ID, func(old Session) (Session, error) {
			old.Staff, old.Values = st, vals
			if now.After(old.SeenAt) {
				old.SeenAt = now
			}
			return old, nil
		})
		if errors.Is(err, ErrNotFound) {
			gs.ID = ""
			expired := *gs.Options
			expired.MaxAge = -1
			http.SetCookie(w, sessions.NewCookie(name, "", &expired))
			return fmt.Errorf("sessionstore: save: session ended meanwhile: %w", ErrNotFound)
		}
		if err != nil {
			return err
		}
	}
	encoded, err := securecookie.EncodeMulti(name, gs.ID, g.codecs...)
	if err != nil {
		return fmt.Errorf("sessionstore: save: encode cookie: %w", err)
	}
	gs.IsNew = false
	http.SetCookie(w, sessions.NewCookie(name, encoded, gs.Options))
	return nil
}

// split separates gorilla values into the staff identity and the string extras.
func split(values map[any]any) (Staff, map[string]string, error) {
	var st Staff
	vals := map[string]string{}
	for k, v := range values {
		switch k := k.(type) {
		case staffKey:
			st, _ = v.(Staff)
		case rotateKey:
		case string:
			s, ok := v.(string)
			if !ok {
				return Staff{}, nil, fmt.Errorf("sessionstore: save: value of %q is a %T; only strings are stored", k, v)
			}
			vals[k] = s
		default:
			return Staff{}, nil, fmt.Errorf("sessionstore: save: key of type %T; only string keys are stored", k)
		}
	}
	return st, vals, nil
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
