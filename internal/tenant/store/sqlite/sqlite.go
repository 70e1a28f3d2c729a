// Package sqlite implements store.Store on a SQLite database file with the pure-Go modernc.org/sqlite
// driver: one writer connection beside a read pool, WAL journal, synchronous=FULL and ordered
// migrations recorded in schema_migrations.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/userdesk/userdesk/internal/db"
	"github.com/userdesk/userdesk/internal/tenant/store"
)

var _ store.Store = (*Store)(nil)

// Store is a store.Store backed by one SQLite database file. It is safe for concurrent use.
//
// Writes go through db.W, a pool capped at one connection, so writers queue inside the process
// instead of contending for SQLite's write lock; every write transaction starts with BEGIN IMMEDIATE
// so a transaction that reads before it writes can never fail to upgrade its lock. Reads go through
// db.R, a pool of query_only connections that, thanks to WAL, never block on the writer.
type Store struct {
	db *db.DB
	// probes counts ListUsers order-scan probes (users.go probePage) that answered the page and that
	// gave up, so tests can prove both plans run.
	probes struct{ hit, miss atomic.Int64 }
}

// Open opens (creating when missing) the database file at path and applies pending migrations.
//
// path must name a file: an in-memory database exists once per connection, so the writer and the read
// pool would each see a different, empty database. Tests use a file in t.TempDir(). ":memory:", file:
// URIs and paths containing '?' are rejected.
func Open(ctx context.Context, path string) (*Store, error) {
	return open(ctx, path, migrations)
}

// open is Open with the migration steps to apply (tests open older schemas). The file is opened
// the way Userdesk opens its own database (internal/db: one writer with WAL, synchronous=FULL and
// BEGIN IMMEDIATE, beside a query_only read pool), then migrated on the writer.
func open(ctx context.Context, path string, steps []migration) (*Store, error) {
	d, err := db.OpenSQLite(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := migrate(ctx, d.W, steps); err != nil {
		d.Close()
		return nil, err
	}
	return &Store{db: d}, nil
}

// Close closes both pools; it lets SQLite refresh its planner statistics first (PRAGMA optimize).
func (s *Store) Close() error { return s.db.Close() }

// writeTx runs fn in one write transaction (BEGIN IMMEDIATE on the single writer connection) and
// commits when fn returns nil.
func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.db.WriteTx(ctx, fn)
}

// readTx runs fn in one read transaction on the read pool, so several statements see one snapshot.
func (s *Store) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.db.ReadTx(ctx, fn)
}

// mapErr turns unique-key violations (and a key a linked identity holds) into store.ErrAlreadyExists
// and missing foreign keys into store.ErrNotFound, keeping SQLite's message (it names the columns, never
// values) as detail.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%s: %w (%s)", op, store.ErrAlreadyExists, constraintDetail(se))
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%s: %w (referenced record missing)", op, store.ErrNotFound)
		case sqlite3.SQLITE_CONSTRAINT_TRIGGER:
			if strings.Contains(se.Error(), linkedKeyTaken) { // identities.go: a key a linked identity holds
				return fmt.Errorf("%s: %w (%s)", op, store.ErrAlreadyExists, constraintDetail(se))
			}
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// constraintDetail extracts "users.email, users.connection" from SQLite's
// "constraint failed: UNIQUE constraint failed: users.email, users.connection (2067)".
func constraintDetail(se *sqlite.Error) string {
	msg := se.Error()
	if i := strings.LastIndex(msg, "constraint failed: "); i >= 0 {
		msg = msg[i+len("constraint failed: "):]
	}
	if i := strings.LastIndex(msg, " ("); i >= 0 {
		msg = msg[:i]
	}
	return msg
}
