package db

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
)

// Migration is one schema step of one store. Steps are applied in slice order, each exactly once, and
// the version of every applied step is recorded in that store's migrations table. Never edit or
// reorder a released step: append a new one. Statements are dialect-specific (no Rebind).
type Migration struct {
	Version  int
	Name     string
	SQLite   []string
	Postgres []string
}

var tableName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Migrate applies, in one write transaction, every migration in ms newer than the version recorded in
// table (created when missing; one table per store, e.g. "audit_migrations", so several stores share
// a database). It is idempotent: reopening an up-to-date database changes nothing. A database written
// by a newer build (a version this build does not know) is refused rather than used with a schema it
// cannot read. On PostgreSQL a transaction-scoped advisory lock keyed by table serialises replicas
// that start at the same time; on SQLite BEGIN IMMEDIATE does.
func (d *DB) Migrate(ctx context.Context, table string, ms []Migration) error {
	if !tableName.MatchString(table) {
		return fmt.Errorf("db: migrate: invalid table name %q", table)
	}
	if len(ms) == 0 {
		return fmt.Errorf("db: migrate %s: no migrations", table)
	}
	for i, m := range ms {
		if m.Version <= 0 || (i > 0 && m.Version <= ms[i-1].Version) {
			return fmt.Errorf("db: migrate %s: versions must be positive and increasing (step %d has %d)", table, i, m.Version)
		}
	}
	return d.WriteTx(ctx, func(tx *sql.Tx) error {
		create := `CREATE TABLE IF NOT EXISTS ` + table + ` (
			version    INTEGER NOT NULL PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
		)`
		if d.Dialect == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, table); err != nil {
				return fmt.Errorf("db: migrate %s: lock: %w", table, err)
			}
			create = `CREATE TABLE IF NOT EXISTS ` + table + ` (
				version    INTEGER NOT NULL PRIMARY KEY,
				name       TEXT NOT NULL,
				applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
			)`
		}
		if _, err := tx.ExecContext(ctx, create); err != nil {
			return fmt.Errorf("db: migrate %s: %w", table, err)
		}
		var current int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+table).Scan(&current); err != nil {
			return fmt.Errorf("db: migrate %s: read version: %w", table, err)
		}
		if latest := ms[len(ms)-1].Version; current > latest {
			return fmt.Errorf("db: migrate %s: database schema version %d is newer than this build's %d", table, current, latest)
		}
		for _, m := range ms {
			if m.Version <= current {
				continue
			}
			stmts := m.SQLite
			if d.Dialect == Postgres {
				stmts = m.Postgres
			}
			if len(stmts) == 0 {
				return fmt.Errorf("db: migrate %s %d (%s): no statements for %s", table, m.Version, m.Name, d.Dialect)
			}
			for _, stmt := range stmts {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("db: migrate %s %d (%s): %w", table, m.Version, m.Name, err)
				}
			}
			if _, err := tx.ExecContext(ctx, d.Rebind(`INSERT INTO `+table+` (version, name) VALUES (?, ?)`), m.Version, m.Name); err != nil {
				return fmt.Errorf("db: migrate %s %d: record: %w", table, m.Version, err)
			}
		}
		return nil
	})
}
