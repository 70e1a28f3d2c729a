package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/userdesk/userdesk/internal/tenant/store"
)

// --- connections ---

const connCols = `id, name, strategy, options, enabled_clients, realms, is_domain_connection`

func connValues(c store.Connection) ([]any, error) {
	opts, err := jsonText("connection options", c.Options)
	if err != nil {
		return nil, err
	}
	ec, err := jsonList(c.EnabledClients)
	if err != nil {
		return nil, err
	}
	realms, err := jsonList(c.Realms)
	if err != nil {
		return nil, err
	}
	return []any{c.ID, c.Name, c.Strategy, opts, ec, realms, c.IsDomainConnection}, nil
}

// CreateConnection implements store.Store; ErrAlreadyExists when the id or the name is taken.
func (s *Store) CreateConnection(ctx context.Context, c store.Connection) error {
	vals, err := connValues(c)
	if err != nil {
		return err
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO connections (`+connCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`, vals...)
		return mapErr(fmt.Sprintf("create connection %q", c.Name), err)
	})
}

// UpdateConnection implements store.Store. The id cannot change; a new name that is taken gives
// ErrAlreadyExists.
func (s *Store) UpdateConnection(ctx context.Context, id string, fn func(old store.Connection) (store.Connection, error)) (store.Connection, error) {
	var out store.Connection
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		old, err := scanConnection(tx.QueryRowContext(ctx, `SELECT `+connCols+` FROM connections WHERE id = ?`, id))
		if err != nil {
			return notFound(err, "connection", id)
		}
		nc, err := fn(old)
		if err != nil {
			return err
		}
		nc.ID = id
		vals, err := connValues(nc)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE connections SET name = ?, strategy = ?, options = ?,
			enabled_clients = ?, realms = ?, is_domain_connection = ? WHERE id = ?`, append(vals[1:], id)...)
		if err != nil {
			return mapErr(fmt.Sprintf("update connection %q", id), err)
		}
		out = nc
		return nil
	})
	if err != nil {
		return store.Connection{}, err
	}
	return out, nil
}

// GetConnection implements store.Store.
func (s *Store) GetConnection(ctx context.Context, id string) (store.Connection, error) {
	c, err := scanConnection(s.db.R.QueryRowContext(ctx, `SELECT `+connCols+` FROM connections WHERE id = ?`, id))
	return c, notFound(err, "connection", id)
}

// GetConnectionByName implements store.Store.
func (s *Store) GetConnectionByName(ctx context.Context, name string) (store.Connection, error) {
	c, err := scanConnection(s.db.R.QueryRowContext(ctx, `SELECT `+connCols+` FROM connections WHERE name = ?`, name))
	return c, notFound(err, "connection named", name)
}

// ListConnections implements store.Store (ordered by name).
func (s *Store) ListConnections(ctx context.Context) ([]store.Connection, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+connCols+` FROM connections ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list connections: %w", err)
	}
	defer rows.Close()
	var out []store.Connection
	for rows.Next() {
		c, err := scanConnection(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func scanConnection(r rowScanner) (store.Connection, error) {
	var (
		c          store.Connection
		opts       sql.NullString
		ec, realms string
	)
	if err := r.Scan(&c.ID, &c.Name, &c.Strategy, &opts, &ec, &realms, &c.IsDomainConnection); err != nil {
		return store.Connection{}, err
	}
	c.Options = rawJSON(opts)
	var err error
	if c.EnabledClients, err = parseList(ec); err != nil {
		return store.Connection{}, err
	}
	if c.Realms, err = parseList(realms); err != nil {
		return store.Connection{}, err
	}
	return c, nil
}

// --- clients ---

const clientCols = `client_id, client_secret, name, app_type, grant_types, callbacks`

func clientValues(c store.Client) ([]any, error) {
	gt, err := jsonList(c.GrantTypes)
	if err != nil {
		return nil, err
	}
	cb, err := jsonList(c.Callbacks)
	if err != nil {
		return nil, err
	}
	return []any{c.ClientID, c.ClientSecret, c.Name, c.AppType, gt, cb}, nil
}

// CreateClient implements store.Store; ErrAlreadyExists when the client id is taken.
func (s *Store) CreateClient(ctx context.Context, c store.Client) error {
	vals, err := clientValues(c)
	if err != nil {
		return err
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO clients (`+clientCols+`) VALUES (?, ?, ?, ?, ?, ?)`, vals...)
		return mapErr(fmt.Sprintf("create client %q", c.ClientID), err)
	})
}

// UpdateClient implements store.Store. The client id cannot change.
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(old store.Client) (store.Client, error)) (store.Client, error) {
	var out store.Client
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		old, err := scanClient(tx.QueryRowContext(ctx, `SELECT `+clientCols+` FROM clients WHERE client_id = ?`, id))
		if err != nil {
			return notFound(err, "client", id)
		}
		nc, err := fn(old)
		if err != nil {
			return err
		}
		nc.ClientID = id
		vals, err := clientValues(nc)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE clients SET client_secret = ?, name = ?, app_type = ?,
			grant_types = ?, callbacks = ? WHERE client_id = ?`, append(vals[1:], id)...)
		if err != nil {
			return mapErr(fmt.Sprintf("update client %q", id), err)
		}
		out = nc
		return nil
	})
	if err != nil {
		return store.Client{}, err
	}
	return out, nil
}

// GetClient implements store.Store.
func (s *Store) GetClient(ctx context.Context, id string) (store.Client, error) {
	c, err := scanClient(s.db.R.QueryRowContext(ctx, `SELECT `+clientCols+` FROM clients WHERE client_id = ?`, id))
	return c, notFound(err, "client", id)
}

// ListClients implements store.Store, ordered by name then client id.
func (s *Store) ListClients(ctx context.Context) ([]store.Client, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+clientCols+` FROM clients ORDER BY name, client_id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list clients: %w", err)
	}
	defer rows.Close()
	var out []store.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func scanClient(r rowScanner) (store.Client, error) {
	var (
		c      store.Client
		gt, cb string
	)
	if err := r.Scan(&c.ClientID, &c.ClientSecret, &c.Name, &c.AppType, &gt, &cb); err != nil {
		return store.Client{}, err
	}
	var err error
	if c.GrantTypes, err = parseList(gt); err != nil {
		return store.Client{}, err
	}
	if c.Callbacks, err = parseList(cb); err != nil {
		return store.Client{}, err
	}
	return c, nil
}

// --- client grants ---

const grantCols = `id, client_id, audience, scope`

// CreateClientGrant implements store.Store. ErrAlreadyExists when the id or the (client, audience)
// pair is taken; ErrNotFound when the client does not exist.
func (s *Store) CreateClientGrant(ctx context.Context, g store.ClientGrant) error {
	scope, err := jsonList(g.Scope)
	if err != nil {
		return err
	}
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO client_grants (`+grantCols+`) VALUES (?, ?, ?, ?)`,
			g.ID, g.ClientID, g.Audience, scope)
		return mapErr(fmt.Sprintf("create client grant %q", g.ID), err)
	})
}

// GetClientGrant implements store.Store.
func (s *Store) GetClientGrant(ctx context.Context, clientID, audience string) (store.ClientGrant, error) {
	g, err := scanGrant(s.db.R.QueryRowContext(ctx, `SELECT `+grantCols+` FROM client_grants
		WHERE client_id = ? AND audience = ?`, clientID, audience))
	return g, notFound(err, "client grant for", clientID+" "+audience)
}

// UpdateClientGrant implements store.Store. The grant id cannot change.
func (s *Store) UpdateClientGrant(ctx context.Context, id string, fn func(old store.ClientGrant) (store.ClientGrant, error)) (store.ClientGrant, error) {
	var out store.ClientGrant
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		old, err := scanGrant(tx.QueryRowContext(ctx, `SELECT `+grantCols+` FROM client_grants WHERE id = ?`, id))
		if err != nil {
			return notFound(err, "client grant", id)
		}
		ng, err := fn(old)
		if err != nil {
			return err
		}
		ng.ID = id
		scope, err := jsonList(ng.Scope)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE client_grants SET client_id = ?, audience = ?, scope = ?
			WHERE id = ?`, ng.ClientID, ng.Audience, scope, id)
		if err != nil {
			return mapErr(fmt.Sprintf("update client grant %q", id), err)
		}
		out = ng
		return nil
	})
	if err != nil {
		return store.ClientGrant{}, err
	}
	return out, nil
}

func scanGrant(r rowScanner) (store.ClientGrant, error) {
	var (
		g     store.ClientGrant
		scope string
	)
	if err := r.Scan(&g.ID, &g.ClientID, &g.Audience, &scope); err != nil {
		return store.ClientGrant{}, err
	}
	var err error
	g.Scope, err = parseList(scope)
	return g, err
}

// --- signing keys ---

// AddSigningKey implements store.Store; ErrAlreadyExists when the kid is taken.
func (s *Store) AddSigningKey(ctx context.Context, k store.SigningKey) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (kid, private_key_pem, created_at) VALUES (?, ?, ?)`,
			k.KID, k.PrivateKeyPEM, millis(k.CreatedAt))
		return mapErr(fmt.Sprintf("add signing key %q", k.KID), err)
	})
}

// SigningKeys implements store.Store: newest first; keys created in the same millisecond come in
// reverse insertion order, so the last one added wins.
func (s *Store) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT kid, private_key_pem, created_at FROM signing_keys
		ORDER BY created_at DESC, rowid DESC`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list signing keys: %w", err)
	}
	defer rows.Close()
	var out []store.SigningKey
	for rows.Next() {
		var (
			k  store.SigningKey
			ms int64
		)
		if err := rows.Scan(&k.KID, &k.PrivateKeyPEM, &ms); err != nil {
			return nil, fmt.Errorf("sqlite: read signing key: %w", err)
		}
		k.CreatedAt = fromMillis(ms)
		out = append(out, k)
	}
	return out, rows.Err()
}

// --- authorization codes ---

const codeCols = `code, client_id, user_id, redirect_uri, scope, nonce, code_challenge,
	code_challenge_method, expires_at`

// CreateAuthCode implements store.Store; ErrAlreadyExists when the code is taken.
func (s *Store) CreateAuthCode(ctx context.Context, c store.AuthCode) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO auth_codes (`+codeCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.Code, c.ClientID, c.UserID, c.RedirectURI, c.Scope, c.Nonce, c.CodeChallenge,
			c.CodeChallengeMethod, millis(c.ExpiresAt))
		return mapErr("create auth code", err)
	})
}

// TakeAuthCode implements store.Store. The code is deleted in the same statement that reads it, so
// two concurrent redemptions cannot both succeed. Expired codes are returned too: checking ExpiresAt
// against the injected clock is the caller's job. Error messages never contain the code.
func (s *Store) TakeAuthCode(ctx context.Context, code string) (store.AuthCode, error) {
	var c store.AuthCode
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var exp int64
		err := tx.QueryRowContext(ctx, `DELETE FROM auth_codes WHERE code = ? RETURNING `+codeCols, code).Scan(
			&c.Code, &c.ClientID, &c.UserID, &c.RedirectURI, &c.Scope, &c.Nonce, &c.CodeChallenge,
			&c.CodeChallengeMethod, &exp)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("auth code: %w", store.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: take auth code: %w", err)
		}
		c.ExpiresAt = fromMillis(exp)
		return nil
	})
	if err != nil {
		return store.AuthCode{}, err
	}
	return c, nil
}

// --- settings ---

// GetSetting implements store.Store.
func (s *Store) GetSetting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.R.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	return v, notFound(err, "setting", key)
}

// PutSetting implements store.Store.
func (s *Store) PutSetting(ctx context.Context, key, value string) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
		return mapErr(fmt.Sprintf("put setting %q", key), err)
	})
}

// --- helpers ---

// notFound maps sql.ErrNoRows to store.ErrNotFound and wraps other errors.
func notFound(err error, what, key string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s %q: %w", what, key, store.ErrNotFound)
	default:
		return fmt.Errorf("sqlite: read %s %q: %w", what, key, err)
	}
}

// jsonList stores a string list as JSON; nil becomes "null" and an empty list "[]", so the
// difference survives a round trip.
func jsonList(l []string) (string, error) {
	b, err := json.Marshal(l)
	if err != nil {
		return "", fmt.Errorf("sqlite: encode list: %w", err)
	}
	return string(b), nil
}

func parseList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("sqlite: decode list: %w", err)
	}
	return l, nil
}
