package sessionstore

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"
)

var _ Store = (*MemoryStore)(nil)

// MemoryStore is a Store in process memory: for tests of the code that uses sessions, and for a
// throw-away local demo. Everything is lost when the process ends.
type MemoryStore struct {
	mu  sync.Mutex
	m   map[string]Session
	now func() time.Time
}

// NewMemory returns an empty MemoryStore.
func NewMemory(opts ...Option) *MemoryStore {
	return &MemoryStore{m: map[string]Session{}, now: buildOptions(opts).now}
}

// live returns the unexpired session id; the caller holds mu.
func (s *MemoryStore) live(id string) (Session, bool) {
	sess, ok := s.m[id]
	if !ok || !sess.ExpiresAt.After(s.now()) {
		return Session{}, false
	}
	return sess, true
}

// Create implements Store.
func (s *MemoryStore) Create(_ context.Context, sess Session) error {
	if err := validate(sess); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[sess.ID]; ok {
		return ErrAlreadyExists
	}
	s.m[sess.ID] = normalize(sess)
	return nil
}

// Get implements Store.
func (s *MemoryStore) Get(_ context.Context, id string) (Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.live(id)
	if !ok {
		return Session{}, ErrNotFound
	}
	return normalize(sess), nil
}

// Update implements Store.
func (s *MemoryStore) Update(_ context.Context, id string, fn func(Session) (Session, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.live(id)
	if !ok {
		return ErrNotFound
	}
	upd, err := fn(normalize(old))
	if err != nil {
		return err
	}
	upd.ID = id
	if err := validate(upd); err != nil {
		return err
	}
	s.m[id] = normalize(upd)
	return nil
}

// Touch implements Store.
func (s *MemoryStore) Touch(_ context.Context, id string, seenAt time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.live(id)
	if !ok {
		return ErrNotFound
	}
	if t := utcMicro(seenAt); t.After(sess.SeenAt) {
		sess.SeenAt = t
		s.m[id] = sess
	}
	return nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[id]; !ok {
		return ErrNotFound
	}
	delete(s.m, id)
	return nil
}

// DeleteBySubject implements Store.
func (s *MemoryStore) DeleteBySubject(_ context.Context, issuer, subject string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, sess := range s.m {
		if sess.Issuer == issuer && sess.Subject == subject {
			delete(s.m, id)
			n++
		}
	}
	return n, nil
}

// ListBySubject implements Store.
func (s *MemoryStore) ListBySubject(_ context.Context, issuer, subject string) ([]Session, error) {
	return s.list(func(sess Session) bool { return sess.Issuer == issuer && sess.Subject == subject }), nil
}

// List implements Store.
func (s *MemoryStore) List(_ context.Context) ([]Session, error) {
	return s.list(func(Session) bool { return true }), nil
}

func (s *MemoryStore) list(keep func(Session) bool) []Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Session{}
	for id := range s.m {
		if sess, ok := s.live(id); ok && keep(sess) {
			out = append(out, normalize(sess))
		}
	}
	slices.SortFunc(out, func(a, b Session) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// DeleteExpired implements Store.
func (s *MemoryStore) DeleteExpired(_ context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, sess := range s.m {
		if !sess.ExpiresAt.After(now) {
			delete(s.m, id)
			n++
		}
	}
	return n, nil
}
