package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one schema step. Steps are applied in slice order, each exactly once; the version of
// every applied step is recorded in schema_migrations. Never edit or reorder a released step: append a
// new one.
type migration struct {
	version int
	name    string
	stmts   []string
}

// Timestamps are INTEGER milliseconds since the Unix epoch, UTC (Auth0 reports milliseconds).
// Booleans are INTEGER 0/1; a NULL boolean or timestamp means "never set". *_lc columns hold
// strings.ToLower copies of the fields Auth0 searches case-insensitively. JSON objects and string
// lists are TEXT exactly as given (NULL when nil).
var migrations = []migration{
	{
		version: 1,
		name:    "initial schema",
		stmts: []string{
			`CREATE TABLE users (
				id                  TEXT NOT NULL PRIMARY KEY,
				connection          TEXT NOT NULL,
				provider            TEXT NOT NULL,
				is_social           INTEGER NOT NULL,
				email               TEXT NOT NULL,
				email_lc            TEXT NOT NULL,
				email_verified      INTEGER NOT NULL,
				username            TEXT NOT NULL,
				phone_number        TEXT NOT NULL,
				phone_verified      INTEGER,
				name                TEXT NOT NULL,
				name_lc             TEXT NOT NULL,
				given_name          TEXT NOT NULL,
				given_name_lc       TEXT NOT NULL,
				family_name         TEXT NOT NULL,
				family_name_lc      TEXT NOT NULL,
				nickname            TEXT NOT NULL,
				nickname_lc         TEXT NOT NULL,
				picture             TEXT NOT NULL,
				password_hash       TEXT NOT NULL,
				blocked             INTEGER,
				user_metadata       TEXT,
				app_metadata        TEXT,
				created_at          INTEGER NOT NULL,
				updated_at          INTEGER NOT NULL,
				last_login          INTEGER,
				last_ip             TEXT NOT NULL,
				logins_count        INTEGER NOT NULL,
				last_password_reset INTEGER
			)`,
			// Uniqueness per connection. Email first so UsersByEmail (any connection) uses the same index;
			// username first so username searches do too.
			`CREATE UNIQUE INDEX users_email_connection ON users (email, connection) WHERE email <> ''`,
			`CREATE UNIQUE INDEX users_username_connection ON users (username, connection) WHERE username <> ''`,
			// Case-insensitive exact/prefix search and sorting with the user id as tie-breaker.
			`CREATE INDEX users_email_lc ON users (email_lc, id)`,
			`CREATE INDEX users_name_lc ON users (name_lc, id)`,
			`CREATE INDEX users_given_name_lc ON users (given_name_lc)`,
			`CREATE INDEX users_family_name_lc ON users (family_name_lc)`,
			`CREATE INDEX users_nickname_lc ON users (nickname_lc, id)`,
			`CREATE INDEX users_phone_number ON users (phone_number) WHERE phone_number <> ''`,
			`CREATE INDEX users_connection ON users (connection, id)`,
			// Sorting pages.
			`CREATE INDEX users_created_at ON users (created_at, id)`,
			`CREATE INDEX users_updated_at ON users (updated_at, id)`,
			`CREATE INDEX users_last_login ON users (last_login, id)`,
			`CREATE INDEX users_logins_count ON users (logins_count, id)`,

			`CREATE TABLE connections (
				id                   TEXT NOT NULL PRIMARY KEY,
				name                 TEXT NOT NULL UNIQUE,
				strategy             TEXT NOT NULL,
				options              TEXT,
				enabled_clients      TEXT NOT NULL,
				realms               TEXT NOT NULL,
				is_domain_connection INTEGER NOT NULL
			)`,
			`CREATE TABLE clients (
				client_id     TEXT NOT NULL PRIMARY KEY,
				client_secret TEXT NOT NULL,
				name          TEXT NOT NULL,
				app_type      TEXT NOT NULL,
				grant_types   TEXT NOT NULL,
				callbacks     TEXT NOT NULL
			)`,
			`CREATE TABLE client_grants (
				id        TEXT NOT NULL PRIMARY KEY,
				client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
				audience  TEXT NOT NULL,
				scope     TEXT NOT NULL,
				UNIQUE (client_id, audience)
			)`,
			`CREATE TABLE signing_keys (
				kid             TEXT NOT NULL PRIMARY KEY,
				private_key_pem BLOB NOT NULL,
				created_at      INTEGER NOT NULL
			)`,
			`CREATE TABLE auth_codes (
				code                  TEXT NOT NULL PRIMARY KEY,
				client_id             TEXT NOT NULL,
				user_id               TEXT NOT NULL,
				redirect_uri          TEXT NOT NULL,
				scope                 TEXT NOT NULL,
				nonce                 TEXT NOT NULL,
				code_challenge        TEXT NOT NULL,
				code_challenge_method TEXT NOT NULL,
				expires_at            INTEGER NOT NULL
			)`,
			`CREATE TABLE settings (
				key   TEXT NOT NULL PRIMARY KEY,
				value TEXT NOT NULL
			)`,
		},
	},
	supportMigration,      // version 2, support_schema.go
	userCountMigration,    // version 3, count_schema.go
	linkMigration,         // version 4, identities.go
	organizationMigration, // version 5, organizations.go
	recoveryCodeMigration, // version 6, recovery.go
}

// migrate applies, in one write transaction, every step of migrations newer than the recorded version.
// It is idempotent: reopening an up-to-date database changes nothing. A database written by a newer
// build (a version this build does not know) is refused rather than used with a schema it cannot read.
func migrate(ctx context.Context, w *sql.DB, migrations []migration) error {
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
	)`); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("sqlite: migrate: read version: %w", err)
	}
	if latest := migrations[len(migrations)-1].version; current > latest {
		return fmt.Errorf("sqlite: migrate: database schema version %d is newer than this build's %d", current, latest)
	}
	for _, m := range migrations {
		if m.version <= current {
			continue
		}
		for _, stmt := range m.stmts {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("sqlite: migrate %d (%s): %w", m.version, m.name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES (?, ?)`, m.version, m.name); err != nil {
			return fmt.Errorf("sqlite: migrate %d: record: %w", m.version, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: migrate: commit: %w", err)
	}
	return nil
}
