// Package sqlite implements store.Store on a SQLite database file with the pure-Go modernc.org/sqlite
// driver: one writer connection beside a read pool, WAL journal, synchronous=FULL and ordered
// migrations recorded in schema_migrations.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

var _ store.Store = (*Store)(nil)

// busyTimeoutMS is how long a connection waits for a lock held by another connection (or another
// process using the same file) before failing with SQLITE_BUSY.
const busyTimeoutMS = 10000

// Store is a store.Store backed by one SQLite database file. It is safe for concurrent use.
//
// Writes go through w, a pool capped at one connection, so writers queue inside the process instead of
// contending for SQLite's write lock; every write transaction starts with BEGIN IMMEDIATE so a
// transaction that reads before it writes can never fail to upgrade its lock. Reads go through r, a
// pool of query_only connections that, thanks to WAL, never block on the writer.
type Store struct {
	w *sql.DB
	r *sql.DB
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

// open is Open with the migration steps to apply (tests open older schemas).
func open(ctx context.Context, path string, steps []migration) (*Store, error) {
	if path == "" || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlite: open %q: a plain database file path is required", path)
	}
	// busy_timeout comes first so that the pragmas after it (journal_mode needs a lock) wait instead
	// of failing when another process holds the file. The driver also sorts busy_timeout first.
	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busyTimeoutMS)
	w, err := sql.Open("sqlite", path+"?"+common+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	if err := checkJournalMode(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	if err := migrate(ctx, w, steps); err != nil {
		w.Close()
		return nil, err
	}

	r, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open readers: %w", err)
	}
	n := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open readers: %w", err)
	}
	return &Store{w: w, r: r}, nil
}

// checkJournalMode fails when the file system refused WAL (the durability and reader/writer
// concurrency promises depend on it).
func checkJournalMode(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("sqlite: read journal_mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("sqlite: journal_mode is %q, want wal", mode)
	}
	return nil
}

// Close closes both pools; it lets SQLite refresh its planner statistics first (PRAGMA optimize).
func (s *Store) Close() error {
	_, optErr := s.w.Exec("PRAGMA optimize")
	return errors.Join(optErr, s.w.Close(), s.r.Close())
}

// writeTx runs fn in one write transaction (BEGIN IMMEDIATE on the single writer connection) and
// commits when fn returns nil.
func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// readTx runs fn in one read transaction on the read pool, so several statements see one snapshot.
func (s *Store) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin read: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	return fn(tx)
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
