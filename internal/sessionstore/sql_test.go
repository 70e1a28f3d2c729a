package sessionstore_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/userdesk/userdesk/internal/db"
	"github.com/userdesk/userdesk/internal/db/dbtest"
	"github.com/userdesk/userdesk/internal/sessionstore"
	"github.com/userdesk/userdesk/internal/sessionstore/storetest"
)

func TestSQLConformance(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, open func(testing.TB) *db.DB) {
		storetest.Run(t, func(t *testing.T, now func() time.Time) sessionstore.Store {
			s, err := sessionstore.New(context.Background(), open(t), sessionstore.WithClock(now))
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
}

func TestMemoryConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) sessionstore.Store {
		return sessionstore.NewMemory(sessionstore.WithClock(now))
	})
}

// Sessions survive closing and reopening the file, and reopening does not re-run migrations.
func TestSQLiteReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "userdesk.db")
	d, err := db.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sessionstore.New(ctx, d)
	if err != nil {
		d.Close()
		t.Fatal(err)
	}
	now := time.Now()
	sess := sessionstore.Session{ID: sessionstore.NewID(), Staff: sessionstore.Staff{Issuer: "iss", Subject: "alice"},
		CreatedAt: now, SeenAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.Create(ctx, sess); err != nil {
		d.Close()
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = db.OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer d.Close()
	s, err = sessionstore.New(ctx, d)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	got, err := s.Get(ctx, sess.ID)
	if err != nil || got.Subject != "alice" {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	var n int
	if err := d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+sessionstore.MigrationsTable).Scan(&n); err != nil || n != 1 {
		t.Errorf("%s has %d rows (%v) after reopening, want 1", sessionstore.MigrationsTable, n, err)
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := sessionstore.NewID()
		if len(id) != 43 || strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("id %q is not 43 base64url characters (256 bits)", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}
