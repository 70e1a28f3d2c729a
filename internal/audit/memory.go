package audit

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

var _ Store = (*MemoryStore)(nil)

// MemoryStore is a Store in process memory: for tests of the code that writes audit entries (it also
// lets a test read back exactly what was recorded). Everything is lost when the process ends.
type MemoryStore struct {
	mu      sync.Mutex
	entries []Entry // in append order; IDs are index+1
	now     func() time.Time
}

// NewMemory returns an empty MemoryStore.
func NewMemory(opts ...Option) *MemoryStore {
	return &MemoryStore{now: buildOptions(opts).now}
}

// Append implements Store.
func (s *MemoryStore) Append(_ context.Context, e Entry) (Entry, error) {
	e, err := prepare(e, s.now)
	if err != nil {
		return Entry{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e.ID = int64(len(s.entries) + 1)
	s.entries = append(s.entries, e)
	return clone(e), nil
}

// Get implements Store.
func (s *MemoryStore) Get(_ context.Context, id int64) (Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id < 1 || id > int64(len(s.entries)) {
		return Entry{}, ErrNotFound
	}
	return clone(s.entries[id-1]), nil
}

// Query implements Store.
func (s *MemoryStore) Query(_ context.Context, f Filter) ([]Entry, int, error) {
	all := s.matching(f)
	limit, offset := page(f)
	out := []Entry{}
	if offset < len(all) {
		out = all[offset:min(len(all), offset+limit)]
	}
	return out, len(all), nil
}

// Each implements Store.
func (s *MemoryStore) Each(_ context.Context, f Filter, fn func(Entry) error) error {
	all := s.matching(f)
	all = all[min(max(f.Offset, 0), len(all)):]
	if f.Limit > 0 {
		all = all[:min(f.Limit, len(all))]
	}
	for _, e := range all {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// matching returns copies of the entries f selects, newest first.
func (s *MemoryStore) matching(f Filter) []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Entry{}
	for _, e := range s.entries {
		if f.Actor != "" && e.ActorSubject != f.Actor && strings.ToLower(e.ActorEmail) != strings.ToLower(f.Actor) ||
			f.TargetUserID != "" && e.TargetUserID != f.TargetUserID ||
			f.Action != "" && e.Action != f.Action ||
			f.Outcome != "" && e.Outcome != f.Outcome ||
			!f.From.IsZero() && e.Time.Before(f.From) ||
			!f.To.IsZero() && !e.Time.Before(f.To) {
			continue
		}
		out = append(out, clone(e))
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return out
}

func clone(e Entry) Entry {
	e.Changes = slices.Clone(e.Changes)
	if e.Changes == nil {
		e.Changes = []Change{}
	}
	return e
}
