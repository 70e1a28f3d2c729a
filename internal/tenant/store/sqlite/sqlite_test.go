package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
	"github.com/userdesk/userdesk/internal/tenant/store/conformance"
	"github.com/userdesk/userdesk/internal/tenant/store/sqlite"
)

func openTemp(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "tenant.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestOpenRejectsMemory(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file::memory:?cache=shared", "x.db?mode=memory"} {
		if s, err := sqlite.Open(t.Context(), p); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded; want an error (a file is required)", p)
		}
	}
}

// TestPragmas checks the settings the durability and concurrency promises rest on.
func TestPragmas(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	for _, tc := range []struct {
		reader     bool
		name, want string
	}{
		{false, "journal_mode", "wal"},
		{false, "synchronous", "2"}, // FULL: a committed transaction survives power loss
		{false, "foreign_keys", "1"},
		{false, "busy_timeout", "10000"},
		{false, "query_only", "0"},
		{true, "journal_mode", "wal"},
		{true, "busy_timeout", "10000"},
		{true, "query_only", "1"}, // the read pool cannot write, so every write goes through the one writer
	} {
		get, pool := s.WriterPragma, "writer"
		if tc.reader {
			get, pool = s.ReaderPragma, "reader"
		}
		got, err := get(ctx, tc.name)
		if err != nil || got != tc.want {
			t.Errorf("%s PRAGMA %s = %q, %v; want %q", pool, tc.name, got, err, tc.want)
		}
	}
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tenant.db")
	created := time.Date(2023, 1, 25, 19, 0, 26, 187_000_000, time.UTC)
	for round := range 3 {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatalf("Open round %d: %v", round, err)
		}
		u := store.User{ID: fmt.Sprintf("auth0|%d", round), Connection: "db", Provider: "auth0",
			Email: fmt.Sprintf("u%d@example.com", round), CreatedAt: created, UpdatedAt: created}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser round %d: %v", round, err)
		}
		if err := s.PutSetting(ctx, "round", fmt.Sprint(round)); err != nil {
			t.Fatalf("PutSetting: %v", err)
		}
		if round > 0 {
			// Everything written before the previous Close is still there.
			for i := range round {
				got, err := s.GetUser(ctx, fmt.Sprintf("auth0|%d", i))
				if err != nil || got.Email != fmt.Sprintf("u%d@example.com", i) || !got.CreatedAt.Equal(created) {
					t.Errorf("round %d: user %d = %+v, %v", round, i, got, err)
				}
			}
			// The unique index created by the first migration is still enforced.
			dup := u
			dup.ID = "auth0|dup"
			if err := s.CreateUser(ctx, dup); !errors.Is(err, store.ErrAlreadyExists) {
				t.Errorf("round %d: duplicate email after reopen: %v", round, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close round %d: %v", round, err)
		}
	}
	// Migrations ran once: one row per known version, however often the file was opened.
	versions, err := sqlite.AppliedMigrations(ctx, path)
	if err != nil {
		t.Fatalf("AppliedMigrations: %v", err)
	}
	if want := sqlite.KnownMigrations(); !slices.Equal(versions, want) {
		t.Errorf("schema_migrations versions = %v, want %v", versions, want)
	}
}

// TestConcurrentWriters hammers the store from many goroutines at once: creates, updates, reads and
// searches interleave, and none may fail with SQLITE_BUSY ("database is locked").
func TestConcurrentWriters(t *testing.T) {
	ctx := t.Context()
	s := openTemp(t)
	const workers, perWorker = 16, 25
	now := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				id := fmt.Sprintf("auth0|w%02d-%03d", w, i)
				u := store.User{ID: id, Connection: "db", Provider: "auth0",
					Email: fmt.Sprintf("w%02d-%03d@example.com", w, i), CreatedAt: now, UpdatedAt: now}
				if err := s.CreateUser(ctx, u); err != nil {
					fail(fmt.Errorf("create %s: %w", id, err))
					continue
				}
				if _, err := s.UpdateUser(ctx, id, func(old store.User) (store.User, error) {
					old.LoginsCount++
					return old, nil
				}); err != nil {
					fail(fmt.Errorf("update %s: %w", id, err))
				}
				if _, _, err := s.ListUsers(ctx, store.Query{Expr: store.Term{Field: "email", Value: fmt.Sprintf("w%02d", w), Prefix: true}, Limit: 5}); err != nil {
					fail(fmt.Errorf("list: %w", err))
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if strings.Contains(err.Error(), "locked") || strings.Contains(err.Error(), "busy") {
			t.Errorf("lock contention surfaced: %v", err)
		} else {
			t.Errorf("unexpected error: %v", err)
		}
	}
	users, total, err := s.ListUsers(ctx, store.Query{Expr: store.Term{Field: "logins_count", Value: "1"}})
	if err != nil || total != workers*perWorker || len(users) != workers*perWorker {
		t.Errorf("after the run: %d users with logins_count 1 (total %d), %v; want %d", len(users), total, err, workers*perWorker)
	}
}

// TestTwoStoresOneFile opens the same file twice (as two processes would): both writer
// connections queue on SQLite's lock thanks to busy_timeout instead of failing.
func TestTwoStoresOneFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	path := filepath.Join(t.TempDir(), "tenant.db")
	a, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open a: %v", err)
	}
	defer a.Close()
	b, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open b: %v", err)
	}
	defer b.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i, s := range []*sqlite.Store{a, b} {
		wg.Go(func() {
			for j := range 50 {
				if err := s.PutSetting(ctx, fmt.Sprintf("k%d-%d", i, j), "v"); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("write through a second store on the same file: %v", err)
	}
	if v, err := a.GetSetting(ctx, "k1-49"); err != nil || v != "v" {
		t.Errorf("store a reads store b's write: %q, %v", v, err)
	}
}
