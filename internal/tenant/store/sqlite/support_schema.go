package sqlite

// supportMigration (version 2) adds the tables behind the support-console endpoints (store.SupportStore).
// Records that belong to a user reference users(id) with ON DELETE CASCADE, so deleting a user removes
// them in the same statement; log events and brute-force blocks outlive the user, as in Auth0.
var supportMigration = migration{
	version: 2,
	name:    "support console: roles, permissions, logs, blocks, MFA, sessions, tickets, jobs",
	stmts: []string{
		`CREATE TABLE roles (
			id          TEXT NOT NULL PRIMARY KEY,
			name        TEXT NOT NULL UNIQUE,
			description TEXT NOT NULL
		)`,
		`CREATE TABLE user_roles (
			role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
			user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			PRIMARY KEY (role_id, user_id)
		)`,
		`CREATE INDEX user_roles_user ON user_roles (user_id)`,
		`CREATE TABLE resource_servers (
			identifier TEXT NOT NULL PRIMARY KEY,
			id         TEXT NOT NULL UNIQUE,
			name       TEXT NOT NULL,
			scopes     TEXT NOT NULL
		)`,
		`CREATE TABLE role_permissions (
			role_id         TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
			resource_server TEXT NOT NULL,
			permission      TEXT NOT NULL,
			PRIMARY KEY (role_id, resource_server, permission)
		)`,
		`CREATE TABLE user_permissions (
			user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			resource_server TEXT NOT NULL,
			permission      TEXT NOT NULL,
			PRIMARY KEY (user_id, resource_server, permission)
		)`,
		`CREATE TABLE logs (
			id                TEXT NOT NULL PRIMARY KEY,
			date              INTEGER NOT NULL,
			type              TEXT NOT NULL,
			description       TEXT,
			client_id         TEXT,
			client_name       TEXT,
			connection        TEXT,
			connection_id     TEXT,
			user_id           TEXT,
			user_name         TEXT,
			ip                TEXT,
			hostname          TEXT,
			user_agent        TEXT,
			audience          TEXT,
			scope             TEXT,
			strategy          TEXT,
			strategy_type     TEXT,
			organization_id   TEXT,
			organization_name TEXT,
			is_mobile         INTEGER NOT NULL,
			details           TEXT,
			location_info     TEXT,
			correlation_id    TEXT NOT NULL
		)`,
		`CREATE INDEX logs_user ON logs (user_id, id) WHERE user_id IS NOT NULL`,
		`CREATE INDEX logs_type ON logs (type, id)`,
		`CREATE INDEX logs_client ON logs (client_id, id)`,
		`CREATE INDEX logs_date ON logs (date, id)`,
		`CREATE TABLE login_failures (
			identifier TEXT NOT NULL,
			ip         TEXT NOT NULL,
			connection TEXT NOT NULL,
			count      INTEGER NOT NULL,
			last_at    INTEGER NOT NULL,
			PRIMARY KEY (identifier, ip, connection)
		)`,
		`CREATE TABLE user_blocks (
			identifier TEXT NOT NULL,
			ip         TEXT NOT NULL,
			connection TEXT NOT NULL,
			created_at INTEGER NOT NULL,
			PRIMARY KEY (identifier, ip, connection)
		)`,
		`CREATE TABLE auth_methods (
			user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			id               TEXT NOT NULL,
			type             TEXT NOT NULL,
			name             TEXT NOT NULL,
			email            TEXT NOT NULL,
			phone_number     TEXT NOT NULL,
			preferred_method TEXT NOT NULL,
			totp_secret      TEXT NOT NULL,
			confirmed        INTEGER NOT NULL,
			created_at       INTEGER NOT NULL,
			last_auth_at     INTEGER,
			PRIMARY KEY (user_id, id)
		)`,
		`CREATE TABLE sessions (
			id                 TEXT NOT NULL PRIMARY KEY,
			user_id            TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			client_ids         TEXT NOT NULL,
			created_at         INTEGER NOT NULL,
			updated_at         INTEGER NOT NULL,
			authenticated_at   INTEGER NOT NULL,
			last_interacted_at INTEGER NOT NULL,
			idle_expires_at    INTEGER NOT NULL,
			expires_at         INTEGER NOT NULL,
			initial_user_agent TEXT NOT NULL,
			initial_ip         TEXT NOT NULL,
			last_user_agent    TEXT NOT NULL,
			last_ip            TEXT NOT NULL,
			auth_methods       TEXT NOT NULL
		)`,
		`CREATE INDEX sessions_user ON sessions (user_id, created_at, id)`,
		`CREATE TABLE refresh_tokens (
			id               TEXT NOT NULL PRIMARY KEY,
			user_id          TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			client_id        TEXT NOT NULL,
			session_id       TEXT NOT NULL,
			created_at       INTEGER NOT NULL,
			idle_expires_at  INTEGER,
			expires_at       INTEGER,
			rotating         INTEGER NOT NULL,
			resource_servers TEXT NOT NULL
		)`,
		`CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id, created_at, id)`,
		`CREATE TABLE tickets (
			id                        TEXT NOT NULL PRIMARY KEY,
			type                      TEXT NOT NULL,
			user_id                   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			client_id                 TEXT NOT NULL,
			result_url                TEXT NOT NULL,
			mark_email_as_verified    INTEGER NOT NULL,
			include_email_in_redirect INTEGER NOT NULL,
			created_at                INTEGER NOT NULL,
			expires_at                INTEGER NOT NULL
		)`,
		`CREATE TABLE jobs (
			id            TEXT NOT NULL PRIMARY KEY,
			type          TEXT NOT NULL,
			status        TEXT NOT NULL,
			user_id       TEXT NOT NULL,
			client_id     TEXT NOT NULL,
			connection_id TEXT NOT NULL,
			connection    TEXT NOT NULL,
			format        TEXT NOT NULL,
			max_users     INTEGER NOT NULL,
			fields        TEXT,
			created_at    INTEGER NOT NULL,
			file_token    TEXT NOT NULL,
			exported      INTEGER NOT NULL
		)`,
		`CREATE TABLE job_files (
			job_id TEXT NOT NULL PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
			data   BLOB NOT NULL
		)`,
	},
}
