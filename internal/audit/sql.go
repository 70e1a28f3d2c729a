package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/userdesk/userdesk/internal/db"
)

var _ Store = (*SQLStore)(nil)

// MigrationsTable records which of this package's migrations a database has applied.
const MigrationsTable = "audit_migrations"

// time_us is microseconds since the Unix epoch, UTC. changes is a JSON array of Change. actor_email_lc
// is strings.ToLower(actor_email), for the case-insensitive actor filter. Triggers make the table
// append-only in the database itself, so no code path (nor a stray SQL statement through the app's
// connection) can rewrite history.
var migrations = []db.Migration{
	{
		Version: 1,
		Name:    "audit entries",
		SQLite: []string{
			`CREATE TABLE audit_entries (
				id              INTEGER PRIMARY KEY AUTOINCREMENT,
				time_us         INTEGER NOT NULL,
				actor_issuer    TEXT NOT NULL,
				actor_subject   TEXT NOT NULL,
				actor_email     TEXT NOT NULL,
				actor_email_lc  TEXT NOT NULL,
				actor_role      TEXT NOT NULL,
				client_ip       TEXT NOT NULL,
				action          TEXT NOT NULL,
				target_user_id  TEXT NOT NULL,
				target_email    TEXT NOT NULL,
				changes         TEXT NOT NULL,
				reason          TEXT NOT NULL,
				outcome         TEXT NOT NULL,
				upstream_status INTEGER NOT NULL,
				correlation_id  TEXT NOT NULL,
				request_id      TEXT NOT NULL,
				detail          TEXT NOT NULL
			)`,
			`CREATE INDEX audit_entries_time ON audit_entries (time_us, id)`,
			`CREATE INDEX audit_entries_target ON audit_entries (target_user_id, time_us, id)`,
			`CREATE INDEX audit_entries_actor_subject ON audit_entries (actor_subject, time_us, id)`,
			`CREATE INDEX audit_entries_actor_email ON audit_entries (actor_email_lc, time_us, id)`,
			`CREATE INDEX audit_entries_action ON audit_entries (action, time_us, id)`,
			`CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
				BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END`,
			`CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
				BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END`,
		},
		Postgres: []string{
			`CREATE TABLE audit_entries (
				id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
				time_us         BIGINT NOT NULL,
				actor_issuer    TEXT NOT NULL,
				actor_subject   TEXT NOT NULL,
				actor_email     TEXT NOT NULL,
				actor_email_lc  TEXT NOT NULL,
				actor_role      TEXT NOT NULL,
				client_ip       TEXT NOT NULL,
				action          TEXT NOT NULL,
				target_user_id  TEXT NOT NULL,
				target_email    TEXT NOT NULL,
				changes         TEXT NOT NULL,
				reason          TEXT NOT NULL,
				outcome         TEXT NOT NULL,
				upstream_status INTEGER NOT NULL,
				correlation_id  TEXT NOT NULL,
				request_id      TEXT NOT NULL,
				detail          TEXT NOT NULL
			)`,
			`CREATE INDEX audit_entries_time ON audit_entries (time_us, id)`,
			`CREATE INDEX audit_entries_target ON audit_entries (target_user_id, time_us, id)`,
			`CREATE INDEX audit_entries_actor_subject ON audit_entries (actor_subject, time_us, id)`,
			`CREATE INDEX audit_entries_actor_email ON audit_entries (actor_email_lc, time_us, id)`,
			`CREATE INDEX audit_entries_action ON audit_entries (action, time_us, id)`,
			`CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
				BEGIN
					RAISE EXCEPTION 'audit_entries is append-only' USING ERRCODE = 'insufficient_privilege';
				END
			$$`,
			`CREATE TRIGGER audit_entries_no_update_delete BEFORE UPDATE OR DELETE ON audit_entries
				FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()`,
			`CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
				FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()`,
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

const columns = `id, time_us, actor_issuer, actor_subject, actor_email, actor_role, client_ip, action,
	target_user_id, target_email, changes, reason, outcome, upstream_status, correlation_id, request_id, detail`

// Append implements Store. On SQLite the single writer connection runs with synchronous=FULL; on
// PostgreSQL the commit waits for the WAL flush (synchronous_commit on, the default).
func (s *SQLStore) Append(ctx context.Context, e Entry) (Entry, error) {
	e, err := prepare(e, s.now)
	if err != nil {
		return Entry{}, err
	}
	changes, err := json.Marshal(e.Changes)
	if err != nil {
		return Entry{}, fmt.Errorf("audit: append: encode changes: %w", err)
	}
	err = s.d.W.QueryRowContext(ctx, s.d.Rebind(`INSERT INTO audit_entries (time_us, actor_issuer, actor_subject,
		actor_email, actor_email_lc, actor_role, client_ip, action, target_user_id, target_email, changes, reason,
		outcome, upstream_status, correlation_id, request_id, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		e.Time.UnixMicro(), e.ActorIssuer, e.ActorSubject, e.ActorEmail, strings.ToLower(e.ActorEmail), e.ActorRole,
		e.ClientIP, e.Action, e.TargetUserID, e.TargetEmail, string(changes), e.Reason, string(e.Outcome),
		e.UpstreamStatus, e.CorrelationID, e.RequestID, e.Detail).Scan(&e.ID)
	if err != nil {
		return Entry{}, fmt.Errorf("audit: append: %w", err)
	}
	return e, nil
}

// Get implements Store.
func (s *SQLStore) Get(ctx context.Context, id int64) (Entry, error) {
	e, err := scan(s.d.R.QueryRowContext(ctx, s.d.Rebind(`SELECT `+columns+` FROM audit_entries WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, ErrNotFound
	}
	if err != nil {
		return Entry{}, fmt.Errorf("audit: get: %w", err)
	}
	return e, nil
}

// where returns the WHERE clause (with a leading space, or empty) and its arguments for f.
func where(f Filter) (string, []any) {
	var conds []string
	var args []any
	if f.Actor != "" {
		conds = append(conds, `(actor_subject = ? OR actor_email_lc = ?)`)
		args = append(args, f.Actor, strings.ToLower(f.Actor))
	}
	if f.TargetUserID != "" {
		conds = append(conds, `target_user_id = ?`)
		args = append(args, f.TargetUserID)
	}
	if f.Action != "" {
		conds = append(conds, `action = ?`)
		args = append(args, f.Action)
	}
	if f.Outcome != "" {
		conds = append(conds, `outcome = ?`)
		args = append(args, string(f.Outcome))
	}
	if !f.From.IsZero() {
		conds = append(conds, `time_us >= ?`)
		args = append(args, ceilMicro(f.From))
	}
	if !f.To.IsZero() {
		conds = append(conds, `time_us < ?`)
		args = append(args, ceilMicro(f.To))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// ceilMicro rounds t up to a whole microsecond: stored times are whole microseconds, so time_us >= c
// is exactly Time >= t (and time_us < c exactly Time < t).
func ceilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if time.UnixMicro(us).Before(t) {
		us++
	}
	return us
}

const newestFirst = ` ORDER BY time_us DESC, id DESC`

// Query implements Store. The count and the page come from one snapshot.
func (s *SQLStore) Query(ctx context.Context, f Filter) ([]Entry, int, error) {
	w, args := where(f)
	limit, offset := page(f)
	var (
		total int
		out   = []Entry{}
	)
	err := s.d.ReadTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, s.d.Rebind(`SELECT COUNT(*) FROM audit_entries`+w), args...).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, s.d.Rebind(`SELECT `+columns+` FROM audit_entries`+w+newestFirst+` LIMIT ? OFFSET ?`),
			append(args, limit, offset)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scan(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, 0, fmt.Errorf("audit: query: %w", err)
	}
	return out, total, nil
}

// Each implements Store. Rows are read while fn runs, from one read snapshot; fn may write (append
// an entry of its own) without deadlocking, since reads and writes use different connections on
// SQLite and PostgreSQL serves both from one pool.
func (s *SQLStore) Each(ctx context.Context, f Filter, fn func(Entry) error) error {
	w, args := where(f)
	q := `SELECT ` + columns + ` FROM audit_entries` + w + newestFirst
	switch {
	case f.Limit > 0:
		q += ` LIMIT ? OFFSET ?`
		args = append(args, f.Limit, max(f.Offset, 0))
	case f.Offset > 0:
		if s.d.Dialect == db.Postgres {
			q += ` OFFSET ?`
		} else {
			q += ` LIMIT -1 OFFSET ?` // SQLite allows OFFSET only after a LIMIT; -1 is none
		}
		args = append(args, f.Offset)
	}
	rows, err := s.d.R.QueryContext(ctx, s.d.Rebind(q), args...)
	if err != nil {
		return fmt.Errorf("audit: each: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return fmt.Errorf("audit: each: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit: each: %w", err)
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scan(r scanner) (Entry, error) {
	var (
		e       Entry
		us      int64
		changes string
		outcome string
	)
	if err := r.Scan(&e.ID, &us, &e.ActorIssuer, &e.ActorSubject, &e.ActorEmail, &e.ActorRole, &e.ClientIP,
		&e.Action, &e.TargetUserID, &e.TargetEmail, &changes, &e.Reason, &outcome, &e.UpstreamStatus,
		&e.CorrelationID, &e.RequestID, &e.Detail); err != nil {
		return Entry{}, err
	}
	e.Time = time.UnixMicro(us).UTC()
	e.Outcome = Outcome(outcome)
	if err := json.Unmarshal([]byte(changes), &e.Changes); err != nil {
		return Entry{}, fmt.Errorf("decode changes: %w", err)
	}
	if e.Changes == nil {
		e.Changes = []Change{}
	}
	return e, nil
}
