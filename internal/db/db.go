// Package db opens the SQL database Userdesk keeps its own state in (staff sessions, the audit trail):
// a SQLite file by default, PostgreSQL when configured. It owns the connection setup, the
// transaction helpers and the ordered-migrations runner that the storage packages share, so two stores
// can live in one database (one SQLite writer connection) with their own migration tables.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the SQL engine behind a DB; stores branch on it only for DDL and row locking.
type Dialect int

const (
	// SQLite is modernc.org/sqlite (driver "sqlite").
	SQLite Dialect = iota + 1
	// Postgres is PostgreSQL through github.com/jackc/pgx/v5/stdlib (driver "pgx").
	Postgres
)

func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "dialect(" + strconv.Itoa(int(d)) + ")"
}

// busyTimeoutMS is how long a SQLite connection waits for a lock held by another connection (or
// another process using the same file) before failing with SQLITE_BUSY.
const busyTimeoutMS = 10000

// DB is an open database. It is safe for concurrent use.
//
// On SQLite, W is a pool capped at one connection, so writers queue inside the process instead of
// contending for SQLite's write lock, and every write transaction starts with BEGIN IMMEDIATE; R is a
// pool of query_only connections that, thanks to WAL, never block on the writer. On PostgreSQL, W and
// R are the same pool.
//
// Queries are written with '?' placeholders; Rebind turns them into PostgreSQL's $n.
type DB struct {
	Dialect Dialect
	W       *sql.DB
	R       *sql.DB
}

// Open opens a PostgreSQL database when dsn is a postgres:// or postgresql:// URL, and otherwise the
// SQLite database file at path dsn.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgresURL(dsn) {
		return OpenPostgres(ctx, dsn)
	}
	return OpenSQLite(ctx, dsn)
}

// IsPostgresURL reports whether dsn is a postgres:// or postgresql:// URL.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// OpenSQLite opens (creating when missing) the SQLite database file at path with WAL journaling and
// synchronous=FULL, so a committed transaction survives a crash or power loss.
//
// path must name a file: an in-memory database exists once per connection, so the writer and the read
// pool would each see a different, empty database. Tests use a file in t.TempDir(). ":memory:", file:
// URIs and paths containing '?' are rejected.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" || strings.HasPrefix(path, ":memory:") || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("db: open sqlite %q: a plain database file path is required", path)
	}
	// busy_timeout comes first so that the pragmas after it (journal_mode needs a lock) wait instead
	// of failing when another process holds the file.
	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busyTimeoutMS)
	w, err := sql.Open("sqlite", path+"?"+common+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("db: open sqlite writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		w.Close()
		return nil, fmt.Errorf("db: open sqlite %q: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		w.Close()
		return nil, fmt.Errorf("db: open sqlite %q: journal_mode is %q, want wal", path, mode)
	}
	// synchronous is per connection and only matters on the writer; the readers never write.
	r, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("db: open sqlite readers: %w", err)
	}
	n := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("db: open sqlite readers: %w", err)
	}
	return &DB{Dialect: SQLite, W: w, R: r}, nil
}

// OpenPostgres connects to the PostgreSQL database named by url (any form pgx accepts, e.g.
// postgres://user:pass@127.0.0.1:5432/userdesk?sslmode=disable; extra parameters such as
// search_path=... are sent as run-time settings). It fails when the server cannot be reached. The
// returned error never contains the URL, which may hold a password.
func OpenPostgres(ctx context.Context, url string) (*DB, error) {
	p, err := sql.Open("pgx", url)
	if err != nil {
		return nil, errors.New("db: open postgres: invalid connection string")
	}
	p.SetMaxOpenConns(max(8, 2*runtime.NumCPU()))
	p.SetMaxIdleConns(4)
	if err := p.PingContext(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("db: open postgres: %w", err)
	}
	return &DB{Dialect: Postgres, W: p, R: p}, nil
}

// Close closes the pools; on SQLite it lets the planner refresh its statistics first (PRAGMA optimize).
func (d *DB) Close() error {
	if d.Dialect == SQLite {
		_, optErr := d.W.Exec("PRAGMA optimize")
		return errors.Join(optErr, d.W.Close(), d.R.Close())
	}
	return d.W.Close()
}

// Rebind rewrites the '?' placeholders of q as $1, $2, ... for PostgreSQL and returns q unchanged for
// SQLite. Queries passed here must not contain '?' anywhere else (in literals or comments).
func (d *DB) Rebind(q string) string {
	if d.Dialect != Postgres || !strings.ContainsRune(q, '?') {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// ForUpdate is the row-locking suffix for a SELECT that precedes an UPDATE of the same rows inside a
// WriteTx: " FOR UPDATE" on PostgreSQL; empty on SQLite, whose BEGIN IMMEDIATE already holds the
// database write lock.
func (d *DB) ForUpdate() string {
	if d.Dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// WriteTx runs fn in one write transaction and commits when fn returns nil; fn's error is returned
// unwrapped after a rollback. The commit is durable when WriteTx returns nil.
func (d *DB) WriteTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: commit: %w", err)
	}
	return nil
}

// ReadTx runs fn in one read-only transaction, so several statements see one snapshot (a SQLite read
// transaction in WAL mode; REPEATABLE READ on PostgreSQL).
func (d *DB) ReadTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	var opts *sql.TxOptions
	if d.Dialect == Postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	tx, err := d.R.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("db: begin read: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	return fn(tx)
}

// IsUniqueViolation reports whether err is a unique or primary-key constraint violation.
func IsUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505" // unique_violation
	}
	return false
}
