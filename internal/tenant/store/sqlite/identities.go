package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// linkedKeyTaken is the RAISE message of the triggers that keep a linked identity's keys taken; mapErr
// turns it into store.ErrAlreadyExists like a unique-index violation.
const linkedKeyTaken = "UNIQUE constraint failed: linked_identities (a linked identity holds this user id, email or username)"

// linkMigration (version 4) adds account linking (store.LinkStore). A linked identity is a row of
// linked_identities, not of users, so lists, searches, counts (user_count) and GetUser leave it out
// without any change to their queries. The row references its primary with ON DELETE CASCADE (deleting
// a primary deletes its linked identities). user_key is the id the account had and gets back on
// unlinking; it, and the email and username within the connection, stay taken while linked: unique
// indexes here, and triggers that refuse a users row claiming them (and the users indexes already
// refuse the reverse, since a row moves from users to here in one transaction).
var linkMigration = migration{
	version: 4,
	name:    "account linking: linked identities",
	stmts: []string{
		`CREATE TABLE linked_identities (
			seq            INTEGER PRIMARY KEY,
			primary_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			user_key       TEXT NOT NULL UNIQUE,
			connection     TEXT NOT NULL,
			provider       TEXT NOT NULL,
			user_id        TEXT NOT NULL,
			is_social      INTEGER NOT NULL,
			email          TEXT NOT NULL,
			email_verified INTEGER NOT NULL,
			username       TEXT NOT NULL,
			phone_number   TEXT NOT NULL,
			phone_verified INTEGER,
			name           TEXT NOT NULL,
			given_name     TEXT NOT NULL,
			family_name    TEXT NOT NULL,
			nickname       TEXT NOT NULL,
			picture        TEXT NOT NULL,
			password_hash  TEXT NOT NULL,
			linked_at      INTEGER NOT NULL
		)`,
		// Reading the identities of a page of users: one index range per user, in link order.
		`CREATE INDEX linked_identities_primary ON linked_identities (primary_id, seq)`,
		`CREATE UNIQUE INDEX linked_identities_email ON linked_identities (email, connection) WHERE email <> ''`,
		`CREATE UNIQUE INDEX linked_identities_username ON linked_identities (username, connection) WHERE username <> ''`,
		`CREATE TRIGGER users_insert_linked_keys BEFORE INSERT ON users
			WHEN EXISTS (SELECT 1 FROM linked_identities WHERE user_key = NEW.id)
				OR (NEW.email <> '' AND EXISTS (SELECT 1 FROM linked_identities
					WHERE email = NEW.email AND connection = NEW.connection))
				OR (NEW.username <> '' AND EXISTS (SELECT 1 FROM linked_identities
					WHERE username = NEW.username AND connection = NEW.connection))
			BEGIN SELECT RAISE(ABORT, '` + linkedKeyTaken + `'); END`,
		`CREATE TRIGGER users_update_linked_keys BEFORE UPDATE OF email, username, connection ON users
			WHEN (NEW.email <> '' AND (NEW.email <> OLD.email OR NEW.connection <> OLD.connection)
					AND EXISTS (SELECT 1 FROM linked_identities WHERE email = NEW.email AND connection = NEW.connection))
				OR (NEW.username <> '' AND (NEW.username <> OLD.username OR NEW.connection <> OLD.connection)
					AND EXISTS (SELECT 1 FROM linked_identities WHERE username = NEW.username AND connection = NEW.connection))
			BEGIN SELECT RAISE(ABORT, '` + linkedKeyTaken + `'); END`,
	},
}

// linkedCols lists the linked_identities columns in the order scanLinked reads them.
const linkedCols = `primary_id, connection, provider, user_id, is_social, email, email_verified, username,
	phone_number, phone_verified, name, given_name, family_name, nickname, picture, password_hash, linked_at`

// attachLinked fills Linked of every user with one query, whatever the number of users (a page of a
// list costs one indexed lookup per user inside that query, not one query per user).
func attachLinked(ctx context.Context, q querier, users []store.User) error {
	if len(users) == 0 {
		return nil
	}
	var (
		rows *sql.Rows
		err  error
	)
	if len(users) == 1 {
		rows, err = q.QueryContext(ctx, `SELECT `+linkedCols+` FROM linked_identities WHERE primary_id = ? ORDER BY seq`, users[0].ID)
	} else {
		ids := make([]string, len(users))
		for i, u := range users {
			ids[i] = u.ID
		}
		list, merr := json.Marshal(ids)
		if merr != nil {
			return merr
		}
		rows, err = q.QueryContext(ctx, `SELECT `+linkedCols+` FROM linked_identities
			WHERE primary_id IN (SELECT value FROM json_each(?)) ORDER BY primary_id, seq`, string(list))
	}
	if err != nil {
		return fmt.Errorf("sqlite: read linked identities: %w", err)
	}
	defer rows.Close()
	at := make(map[string]int, len(users))
	for i, u := range users {
		at[u.ID] = i
	}
	for rows.Next() {
		primary, li, err := scanLinked(rows)
		if err != nil {
			return err
		}
		if i, ok := at[primary]; ok {
			users[i].Linked = append(users[i].Linked, li)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: read linked identities: %w", err)
	}
	return nil
}

func scanLinked(r rowScanner) (string, store.LinkedIdentity, error) {
	var (
		primary  string
		li       store.LinkedIdentity
		p        = &li.Profile
		verified sql.NullBool
		linkedAt int64
	)
	err := r.Scan(&primary, &li.Connection, &li.Provider, &li.UserID, &li.IsSocial, &p.Email, &p.EmailVerified,
		&p.Username, &p.PhoneNumber, &verified, &p.Name, &p.GivenName, &p.FamilyName, &p.Nickname, &p.Picture,
		&li.PasswordHash, &linkedAt)
	if err != nil {
		return "", store.LinkedIdentity{}, fmt.Errorf("sqlite: read linked identity: %w", err)
	}
	p.PhoneVerified = boolPtr(verified)
	li.LinkedAt = fromMillis(linkedAt)
	return primary, li, nil
}

// readUser reads one user with its linked identities inside tx; sql.ErrNoRows when missing.
func readUser(ctx context.Context, tx *sql.Tx, id string) (store.User, error) {
	u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if err != nil {
		return store.User{}, err
	}
	us := []store.User{u}
	if err := attachLinked(ctx, tx, us); err != nil {
		return store.User{}, err
	}
	return us[0], nil
}

// LinkUser implements store.LinkStore.
func (s *Store) LinkUser(ctx context.Context, primaryID, secondaryID string, at time.Time) (store.User, error) {
	var out store.User
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := readUser(ctx, tx, primaryID); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %q: %w", primaryID, store.ErrNotFound)
		} else if err != nil {
			return err
		}
		if primaryID == secondaryID {
			return fmt.Errorf("link user %q to itself: %w", primaryID, store.ErrInvalidLink)
		}
		sec, err := readUser(ctx, tx, secondaryID)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %q: %w", secondaryID, store.ErrSecondaryNotFound)
		}
		if err != nil {
			return err
		}
		if len(sec.Linked) > 0 {
			return fmt.Errorf("user %q has linked identities of its own: %w", secondaryID, store.ErrInvalidLink)
		}
		// The row goes first (with what cascades from it), so its keys are free for the identity row.
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, secondaryID); err != nil {
			return fmt.Errorf("sqlite: link: remove user %q: %w", secondaryID, err)
		}
		userID := sec.ID
		if _, rest, ok := strings.Cut(sec.ID, "|"); ok {
			userID = rest
		}
		p := store.ProfileOf(sec)
		_, err = tx.ExecContext(ctx, `INSERT INTO linked_identities (primary_id, user_key, connection, provider,
			user_id, is_social, email, email_verified, username, phone_number, phone_verified, name, given_name,
			family_name, nickname, picture, password_hash, linked_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			primaryID, sec.Provider+"|"+userID, sec.Connection, sec.Provider, userID, sec.IsSocial, p.Email,
			p.EmailVerified, p.Username, p.PhoneNumber, nullBool(p.PhoneVerified), p.Name, p.GivenName,
			p.FamilyName, p.Nickname, p.Picture, sec.PasswordHash, millis(at))
		if err != nil {
			return mapErr(fmt.Sprintf("link user %q", secondaryID), err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET updated_at = ? WHERE id = ?`, millis(at), primaryID); err != nil {
			return fmt.Errorf("sqlite: link: touch user %q: %w", primaryID, err)
		}
		out, err = readUser(ctx, tx, primaryID)
		return err
	})
	if err != nil {
		return store.User{}, err
	}
	return out, nil
}

// UnlinkIdentity implements store.LinkStore.
func (s *Store) UnlinkIdentity(ctx context.Context, primaryID, provider, userID string, at time.Time) (store.User, store.User, error) {
	var primary, restored store.User
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := readUser(ctx, tx, primaryID); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %q: %w", primaryID, store.ErrNotFound)
		} else if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+linkedCols+` FROM linked_identities
			WHERE primary_id = ? AND provider = ? AND user_id = ?`, primaryID, provider, userID)
		if err != nil {
			return fmt.Errorf("sqlite: unlink: %w", err)
		}
		var (
			li    store.LinkedIdentity
			found bool
		)
		for rows.Next() {
			if _, li, err = scanLinked(rows); err != nil {
				rows.Close()
				return err
			}
			found = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlite: unlink: %w", err)
		}
		if !found {
			return fmt.Errorf("identity %s|%s of user %q: %w", provider, userID, primaryID, store.ErrIdentityNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM linked_identities WHERE primary_id = ? AND provider = ? AND user_id = ?`,
			primaryID, provider, userID); err != nil {
			return fmt.Errorf("sqlite: unlink: %w", err)
		}
		p := li.Profile
		u := store.User{
			ID: li.Provider + "|" + li.UserID, Connection: li.Connection, Provider: li.Provider, IsSocial: li.IsSocial,
			Email: p.Email, EmailVerified: p.EmailVerified, Username: p.Username, PhoneNumber: p.PhoneNumber,
			PhoneVerified: p.PhoneVerified, Name: p.Name, GivenName: p.GivenName, FamilyName: p.FamilyName,
			Nickname: p.Nickname, Picture: p.Picture, PasswordHash: li.PasswordHash, CreatedAt: at, UpdatedAt: at,
		}
		vals, err := userValues(u)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, insertUserSQL, vals...); err != nil {
			return mapErr(fmt.Sprintf("unlink: recreate user %q", u.ID), err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET updated_at = ? WHERE id = ?`, millis(at), primaryID); err != nil {
			return fmt.Errorf("sqlite: unlink: touch user %q: %w", primaryID, err)
		}
		if primary, err = readUser(ctx, tx, primaryID); err != nil {
			return err
		}
		restored, err = readUser(ctx, tx, u.ID)
		return err
	})
	if err != nil {
		return store.User{}, store.User{}, err
	}
	return primary, restored, nil
}
