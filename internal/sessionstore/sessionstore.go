// Package sessionstore keeps staff sign-in sessions server-side (SQLite or PostgreSQL, plus an
// in-memory store for tests) and adapts them to gorilla/sessions, so the browser cookie holds only a
// random session id that can be revoked.
package sessionstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"time"
)

// Errors returned by every Store; test with errors.Is.
var (
	// ErrNotFound: no session with that id, or it has expired (ExpiresAt is not after the store's now).
	ErrNotFound = errors.New("sessionstore: session not found")
	// ErrAlreadyExists: Create with an id that is already stored.
	ErrAlreadyExists = errors.New("sessionstore: session already exists")
	// ErrInvalid: a session that cannot be stored (no id, no expiry, expiry before creation).
	ErrInvalid = errors.New("sessionstore: invalid session")
)

// Staff is who a session belongs to: the identity the IdP asserted (issuer + subject is the stable
// key, email and name are for display) and the Userdesk roles it mapped to at sign-in. All empty for a
// session started before sign-in.
type Staff struct {
	Issuer  string
	Subject string
	Email   string
	Name    string
	Roles   []string
}

// Session is one server-side session. Times are stored with microsecond precision and returned in UTC.
type Session struct {
	// ID is the session's secret handle, carried in the (signed and encrypted) cookie: NewID makes one.
	ID string
	Staff
	CreatedAt time.Time
	// SeenAt is the last recorded activity, for the idle timeout. It lags real activity by up to the
	// adapter's touch interval.
	SeenAt time.Time
	// ExpiresAt is the absolute end of the session, whatever the activity: the store treats the session
	// as gone from that instant on.
	ExpiresAt time.Time
	// Values holds small extras (flash messages, the page to return to); keep it to a few hundred bytes.
	Values map[string]string
	// IP and UserAgent describe where the session was started, for the staff-sessions page.
	IP        string
	UserAgent string
}

// Store keeps sessions. Implementations are safe for concurrent use. A session whose ExpiresAt is not
// after the store's clock is treated as absent by every method except DeleteExpired and Delete, so an
// expired session can never be loaded, extended or listed even before it is swept.
type Store interface {
	// Create stores a new session. ErrAlreadyExists when the id is taken, ErrInvalid when s has no ID,
	// a zero ExpiresAt or an ExpiresAt before CreatedAt.
	Create(ctx context.Context, s Session) error
	// Get returns the session, or ErrNotFound when it is missing or expired.
	Get(ctx context.Context, id string) (Session, error)
	// Update replaces the session with fn's result inside one transaction (fn sees the current value
	// and may be called once). The ID cannot be changed; ErrNotFound when missing or expired, fn's error
	// unchanged when it fails.
	Update(ctx context.Context, id string, fn func(Session) (Session, error)) error
	// Touch records activity at seenAt; SeenAt never moves backwards. ErrNotFound when missing or expired.
	Touch(ctx context.Context, id string, seenAt time.Time) error
	// Delete removes the session (sign-out); ErrNotFound when there was none.
	Delete(ctx context.Context, id string) error
	// DeleteBySubject removes every session of one staff member (an admin ending their sessions) and
	// returns how many it removed, expired ones included.
	DeleteBySubject(ctx context.Context, issuer, subject string) (int, error)
	// ListBySubject returns the staff member's unexpired sessions, newest first.
	ListBySubject(ctx context.Context, issuer, subject string) ([]Session, error)
	// List returns every unexpired session, newest first. Sessions past the idle timeout but not yet
	// past ExpiresAt are included: the caller knows the idle timeout and can filter on SeenAt.
	List(ctx context.Context) ([]Session, error)
	// DeleteExpired removes sessions whose ExpiresAt is not after now and returns how many.
	DeleteExpired(ctx context.Context, now time.Time) (int, error)
}

// NewID returns a new session id: 256 bits from crypto/rand, base64url without padding (43 characters).
func NewID() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (it crashes the program instead)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validate reports why s cannot be stored, wrapped in ErrInvalid.
func validate(s Session) error {
	switch {
	case s.ID == "":
		return errors.Join(ErrInvalid, errors.New("empty id"))
	case s.ExpiresAt.IsZero():
		return errors.Join(ErrInvalid, errors.New("zero ExpiresAt"))
	case s.ExpiresAt.Before(s.CreatedAt):
		return errors.Join(ErrInvalid, errors.New("ExpiresAt before CreatedAt"))
	}
	return nil
}

// normalize gives s the form every store returns: UTC times truncated to microseconds, non-nil Roles
// and Values copies that the caller's later edits cannot reach.
func normalize(s Session) Session {
	s.Issuer, s.Subject, s.Email, s.Name = clean(s.Issuer), clean(s.Subject), clean(s.Email), clean(s.Name)
	s.IP, s.UserAgent = clean(s.IP), clean(s.UserAgent)
	s.CreatedAt = utcMicro(s.CreatedAt)
	s.SeenAt = utcMicro(s.SeenAt)
	s.ExpiresAt = utcMicro(s.ExpiresAt)
	roles := make([]string, len(s.Roles))
	for i, r := range s.Roles {
		roles[i] = clean(r)
	}
	s.Roles = roles
	vals := make(map[string]string, len(s.Values))
	for k, v := range s.Values {
		vals[clean(k)] = clean(v)
	}
	s.Values = vals
	return s
}

// clean makes s storable as text on every engine (PostgreSQL rejects NUL bytes and invalid UTF-8):
// each invalid sequence and each NUL becomes U+FFFD.
func clean(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func utcMicro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// Option configures a store.
type Option func(*options)

type options struct {
	now func() time.Time
}

// WithClock makes the store judge expiry by now instead of time.Now (tests use a fake clock).
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

func buildOptions(opts []Option) options {
	o := options{now: time.Now}
	for _, f := range opts {
		f(&o)
	}
	return o
}
