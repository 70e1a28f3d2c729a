package sessionstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/userdesk/userdesk/internal/db"
)

var _ Store = (*SQLStore)(nil)

// MigrationsTable records which of this package's migrations a database has applied.
const MigrationsTable = "sessionstore_migrations"

// Times are BIGINT microseconds since the Unix epoch, UTC (0 = unset); roles is a JSON array and vals a
// JSON object, as TEXT. The same columns on both engines keep the queries identical.
var migrations = []db.Migration{
	{
		Version: 1,
		Name:    "staff sessions",
		SQLite: []string{
			`CREATE TABLE staff_sessions (
				id         TEXT NOT NULL PRIMARY KEY,
				issuer     TEXT NOT NULL,
				subject    TEXT NOT NULL,
				email      TEXT NOT NULL,
				name       TEXT NOT NULL,
				roles      TEXT NOT NULL,
				created_at INTEGER NOT NULL,
				seen_at    INTEGER NOT NULL,
				expires_at INTEGER NOT NULL,
				vals       TEXT NOT NULL,
				ip         TEXT NOT NULL,
				user_agent TEXT NOT NULL
			)`,
			`CREATE INDEX staff_sessions_subject ON staff_sessions (issuer, subject)`,
			`CREATE INDEX staff_sessions_expires_at ON staff_sessions (expires_at)`,
		},
		Postgres: []string{
			// COLLATE "C": ids sort bytewise, as on SQLite, whatever the database's locale.
			`CREATE TABLE staff_sessions (
				id         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
				issuer     TEXT NOT NULL,
				subject    TEXT NOT NULL,
				email      TEXT NOT NULL,
				name       TEXT NOT NULL,
				roles      TEXT NOT NULL,
				created_at BIGINT NOT NULL,
				seen_at    BIGINT NOT NULL,
				expires_at BIGINT NOT NULL,
				vals       TEXT NOT NULL,
				ip         TEXT NOT NULL,
				user_agent TEXT NOT NULL
			)`,
			`CREATE INDEX staff_sessions_subject ON staff_sessions (issuer, subject)`,
			`CREATE INDEX staff_sessions_expires_at ON staff_sessions (expires_at)`,
		},
	},
}

// SQLStore is a Store on a db.DB (SQLite or PostgreSQL).
type SQLStore struct {
	d   *db.DB
	now func() time.Time
}

// New applies this package's migrations to d and returns a store on it. The store never closes d: the
// caller owns it, so several stores can share one database (the usual setup: one userdesk.db for
// sessions and audit).
func New(ctx context.Context, d *db.DB, opts ...Option) (*SQLStore, error) {
	if err := d.Migrate(ctx, MigrationsTable, migrations); err != nil {
		return nil, err
	}
	return &SQLStore{d: d, now: buildOptions(opts).now}, nil
}

const columns = `id, issuer, subject, email, name, roles, created_at, seen_at, expires_at, vals, ip, user_agent`

// Create implements Store.
func (s *SQLStore) Create(ctx context.Context, sess Session) error {
	if err := validate(sess); err != nil {
		return err
	}
	args, err := rowArgs(normalize(sess))
	if err != nil {
		return err
	}
	_, err = s.d.W.ExecContext(ctx, s.d.Rebind(`INSERT INTO staff_sessions (`+columns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), args...)
	if db.IsUniqueViolation(err) {
		return fmt.Errorf("sessionstore: create: %w", ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("sessionstore: create: %w", err)
	}
	return nil
}

// Get implements Store.
func (s *SQLStore) Get(ctx context.Context, id string) (Session, error) {
	row := s.d.R.QueryRowContext(ctx, s.d.Rebind(`SELECT `+columns+` FROM staff_sessions WHERE id = ? AND expires_at > ?`), id, micro(s.now()))
	sess, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("sessionstore: get: %w", err)
	}
	return sess, nil
}

// Update implements Store.
func (s *SQLStore) Update(ctx context.Context, id string, fn func(Session) (Session, error)) error {
	return s.d.WriteTx(ctx, func(tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, s.d.Rebind(`SELECT `+columns+` FROM staff_sessions WHERE id = ? AND expires_at > ?`+s.d.ForUpdate()), id, micro(s.now()))
		old, err := scan(row)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("sessionstore: update: %w", err)
		}
		upd, err := fn(old)
		if err != nil {
			return err
		}
		upd.ID = id
		if err := validate(upd); err != nil {
			return err
		}
		args, err := rowArgs(normalize(upd))
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.d.Rebind(`UPDATE staff_sessions SET issuer = ?, subject = ?, email = ?, name = ?,
			roles = ?, created_at = ?, seen_at = ?, expires_at = ?, vals = ?, ip = ?, user_agent = ? WHERE id = ?`),
			append(args[1:], id)...)
		if err != nil {
			return fmt.Errorf("sessionstore: update: %w", err)
		}
		return nil
	})
}

// Touch implements Store.
func (s *SQLStore) Touch(ctx context.Context, id string, seenAt time.Time) error {
	us := micro(seenAt)
	res, err := s.d.W.ExecContext(ctx, s.d.Rebind(`UPDATE staff_sessions
		SET seen_at = CASE WHEN seen_at < ? THEN ? ELSE seen_at END
		WHERE id = ? AND expires_at > ?`), us, us, id, micro(s.now()))
	return affectedOne("touch", res, err)
}

// Delete implements Store.
func (s *SQLStore) Delete(ctx context.Context, id string) error {
	res, err := s.d.W.ExecContext(ctx, s.d.Rebind(`DELETE FROM staff_sessions WHERE id = ?`), id)
	return affectedOne("delete", res, err)
}

// DeleteBySubject implements Store.
func (s *SQLStore) DeleteBySubject(ctx context.Context, issuer, subject string) (int, error) {
	res, err := s.d.W.ExecContext(ctx, s.d.Rebind(`DELETE FROM staff_sessions WHERE issuer = ? AND subject = ?`), issuer, subject)
	return affected("delete by subject", res, err)
}

// ListBySubject implements Store.
func (s *SQLStore) ListBySubject(ctx context.Context, issuer, subject string) ([]Session, error) {
	return s.list(ctx, `issuer = ? AND subject = ? AND `, issuer, subject)
}

// List implements Store.
func (s *SQLStore) List(ctx context.Context) ([]Session, error) {
	return s.list(ctx, "")
}

func (s *SQLStore) list(ctx context.Context, where string, args ...any) ([]Session, error) {
	rows, err := s.d.R.QueryContext(ctx, s.d.Rebind(`SELECT `+columns+` FROM staff_sessions
		WHERE `+where+`expires_at > ? ORDER BY created_at DESC, id`), append(args, micro(s.now()))...)
	if err != nil {
		return nil, fmt.Errorf("sessionstore: list: %w", err)
	}
	defer rows.Close()
	out := []Session{}
	for rows.Next() {
		sess, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sessionstore: list: %w", err)
		}
		out = append(out, sess)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sessionstore: list: %w", err)
	}
	return out, nil
}

// DeleteExpired implements Store.
func (s *SQLStore) DeleteExpired(ctx context.Context, now time.Time) (int, error) {
	res, err := s.d.W.ExecContext(ctx, s.d.Rebind(`DELETE FROM staff_sessions WHERE expires_at <= ?`), micro(now))
	return affected("delete expired", res, err)
}

func affected(op string, res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, fmt.Errorf("sessionstore: %s: %w", op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sessionstore: %s: %w", op, err)
	}
	return int(n), nil
}

func affectedOne(op string, res sql.Result, err error) error {
	n, err := affected(op, res, err)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// rowArgs returns the values of columns, in order, for a normalized session.
func rowArgs(s Session) ([]any, error) {
	roles, err := json.Marshal(s.Roles)
	if err != nil {
		return nil, fmt.Errorf("sessionstore: encode roles: %w", err)
	}
	vals, err := json.Marshal(s.Values)
	if err != nil {
		return nil, fmt.Errorf("sessionstore: encode values: %w", err)
	}
	return []any{s.ID, s.Issuer, s.Subject, s.Email, s.Name, string(roles),
		micro(s.CreatedAt), micro(s.SeenAt), micro(s.ExpiresAt), string(vals), s.IP, s.UserAgent}, nil
}

type scanner interface{ Scan(dest ...any) error }

func scan(r scanner) (Session, error) {
	var (
		s                        Session
		roles, vals              string
		created, seen, expiresAt int64
	)
	if err := r.Scan(&s.ID, &s.Issuer, &s.Subject, &s.Email, &s.Name, &roles, &created, &seen, &expiresAt, &vals, &s.IP, &s.UserAgent); err != nil {
		return Session{}, err
	}
	if err := json.Unmarshal([]byte(roles), &s.Roles); err != nil {
		return Session{}, fmt.Errorf("decode roles: %w", err)
	}
	if err := json.Unmarshal([]byte(vals), &s.Values); err != nil {
		return Session{}, fmt.Errorf("decode values: %w", err)
	}
	s.CreatedAt, s.SeenAt, s.ExpiresAt = fromMicro(created), fromMicro(seen), fromMicro(expiresAt)
	return normalize(s), nil
}

// micro encodes t as microseconds since the Unix epoch; the zero time is 0.
func micro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicro(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
