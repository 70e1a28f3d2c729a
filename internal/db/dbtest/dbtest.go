// Package dbtest gives tests a fresh, isolated database of each dialect: a SQLite file in a temp dir
// always, and a private schema in the PostgreSQL database named by USERDESK_TEST_POSTGRES when set.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/userdesk/userdesk/internal/db"
)

// EnvPostgres names the environment variable holding a PostgreSQL connection URL for tests, e.g.
// postgres://userdesk:userdesk@127.0.0.1:5432/userdesk_test?sslmode=disable (scripts/ensure-postgres
// prints one). When it is unset, PostgreSQL tests are skipped.
const EnvPostgres = "USERDESK_TEST_POSTGRES"

// SQLite opens a new database file in t.TempDir(), closed when the test ends.
func SQLite(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "userdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// Postgres returns a connection whose search_path is a schema of its own (random name), created now
// and dropped with everything in it when the test ends, so tests neither see nor disturb each other.
// It skips the test when USERDESK_TEST_POSTGRES is unset and fails it when the server is unreachable.
func Postgres(t testing.TB) *db.DB {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skip(EnvPostgres + " is not set; skipping the PostgreSQL run (scripts/ensure-postgres prints a URL)")
	}
	ctx := context.Background()
	admin, err := db.OpenPostgres(ctx, base)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	t.Cleanup(func() { admin.Close() })

	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	if _, err := admin.W.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.W.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})

	d, err := db.OpenPostgres(ctx, withSearchPath(t, base, schema))
	if err != nil {
		t.Fatal(err)
	}
	// Registered after the schema cleanup, so it runs first (LIFO): close before DROP SCHEMA.
	t.Cleanup(func() { d.Close() })
	return d
}

// withSearchPath adds search_path=schema to a URL or keyword/value connection string; pgx sends
// unknown parameters to the server as run-time settings on every new connection of the pool.
func withSearchPath(t testing.TB, conn, schema string) string {
	if !db.IsPostgresURL(conn) {
		return conn + " search_path=" + schema
	}
	u, err := url.Parse(conn)
	if err != nil {
		t.Fatalf("%s is not a valid URL", EnvPostgres)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Each runs fn as two subtests, "sqlite" and "postgres", passing SQLite or Postgres as open; fn calls
// open for every fresh database it needs. The postgres subtest is skipped (on its first open) when
// USERDESK_TEST_POSTGRES is unset.
func Each(t *testing.T, fn func(t *testing.T, open func(testing.TB) *db.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite) })
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv(EnvPostgres) == "" {
			t.Skip(EnvPostgres + " is not set; skipping the PostgreSQL run (scripts/ensure-postgres prints a URL)")
		}
		fn(t, Postgres)
	})
}
