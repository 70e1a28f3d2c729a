// Package tokenstore keeps the Management API token in Userdesk's database (SQLite or PostgreSQL),
// encrypted with AES-256-GCM, so that every replica, and every restart, uses one token: it implements
// mgmt.TokenStore, with a lease so that only one replica fetches when the token is due.
package tokenstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/userdesk/userdesk/internal/db"
	"github.com/userdesk/userdesk/internal/mgmt"
)

// Defaults of Config.
const (
	DefaultLease        = 15 * time.Second
	DefaultPollInterval = 100 * time.Millisecond
)

// hkdfInfo separates the token key from every other use of the same secret (the session keys).
const hkdfInfo = "userdesk mgmt token store v1"

// Config configures New.
type Config struct {
	// Keys are secrets, newest first (the session keys, or USERDESK_TOKEN_KEY), at least 32 bytes
	// each. Each becomes an AES-256 key through HKDF-SHA256. Tokens are sealed with the first and
	// opened with any, so a key rotation costs no token fetch until the old key is dropped.
	Keys [][]byte
	// Tenant (base URL and audience) and ClientID name the service account: each has a row of its
	// own. ClientSecret is only hashed into the row's key, so that rotating the secret (or recreating
	// the embedded tenant) starts from a new token instead of one the old credentials obtained.
	Tenant       string
	ClientID     string
	ClientSecret string
	// Lease is how long a replica that found no fresh token may take to fetch and save one before
	// another replica may try (default DefaultLease; make it the Management API timeout plus a margin).
	Lease time.Duration
	// RefreshWindow must equal the client's mgmt.WithTokenRefreshWindow (default
	// mgmt.DefaultTokenRefreshWindow): a stored token is handed out only while the client would
	// consider it fresh, so both agree on when a fetch is due.
	RefreshWindow time.Duration
	// PollInterval is how often a replica waiting for another's fetch looks again (default
	// DefaultPollInterval).
	PollInterval time.Duration
	Now          func() time.Time // default time.Now
}

// Store is a mgmt.TokenStore over a db.DB. It is safe for concurrent use, and it never logs the token.
type Store struct {
	db     *db.DB
	id     string // row key: a hash of tenant and client ID
	aad    []byte
	aeads  []cipher.AEAD
	owner  string // this process's lease holder name
	lease  time.Duration
	window time.Duration
	poll   time.Duration
	now    func() time.Time
}

var _ mgmt.TokenStore = (*Store)(nil)

var migrations = []db.Migration{{
	Version: 1,
	Name:    "mgmt_tokens",
	SQLite: []string{`CREATE TABLE mgmt_tokens (
		id          TEXT NOT NULL PRIMARY KEY,
		sealed      BLOB,
		expires_at  INTEGER NOT NULL DEFAULT 0,
		lease_until INTEGER NOT NULL DEFAULT 0,
		lease_owner TEXT NOT NULL DEFAULT '',
		updated_at  INTEGER NOT NULL DEFAULT 0
	)`},
	Postgres: []string{`CREATE TABLE mgmt_tokens (
		id          TEXT NOT NULL PRIMARY KEY,
		sealed      BYTEA,
		expires_at  BIGINT NOT NULL DEFAULT 0,
		lease_until BIGINT NOT NULL DEFAULT 0,
		lease_owner TEXT NOT NULL DEFAULT '',
		updated_at  BIGINT NOT NULL DEFAULT 0
	)`},
}}

// New migrates the mgmt_tokens table (recorded in tokenstore_migrations) and returns the store.
func New(ctx context.Context, d *db.DB, cfg Config) (*Store, error) {
	if len(cfg.Keys) == 0 {
		return nil, errors.New("tokenstore: no key")
	}
	if cfg.Tenant == "" || cfg.ClientID == "" {
		return nil, errors.New("tokenstore: tenant and client ID are required")
	}
	s := &Store{db: d, lease: cfg.Lease, window: cfg.RefreshWindow, poll: cfg.PollInterval, now: cfg.Now}
	if s.lease <= 0 {
		s.lease = DefaultLease
	}
	if s.window <= 0 {
		s.window = mgmt.DefaultTokenRefreshWindow
	}
	if s.poll <= 0 {
		s.poll = DefaultPollInterval
	}
	if s.now == nil {
		s.now = time.Now
	}
	for i, k := range cfg.Keys {
		if len(k) < 32 {
			return nil, fmt.Errorf("tokenstore: key %d is shorter than 32 bytes", i+1)
		}
		key, err := hkdf.Key(sha256.New, k, nil, hkdfInfo, 32)
		if err != nil {
			return nil, fmt.Errorf("tokenstore: derive key: %w", err)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		s.aeads = append(s.aeads, aead)
	}
	sum := sha256.Sum256([]byte(cfg.Tenant + "\x00" + cfg.ClientID + "\x00" + cfg.ClientSecret))
	s.id = hex.EncodeToString(sum[:16])
	// The row id is bound into the ciphertext, so a sealed token copied to another row does not open.
	s.aad = []byte(hkdfInfo + "\x00" + s.id)
	var b [12]byte
	_, _ = rand.Read(b[:])
	s.owner = hex.EncodeToString(b[:])
	if err := d.Migrate(ctx, "tokenstore_migrations", migrations); err != nil {
		return nil, fmt.Errorf("tokenstore: %w", err)
	}
	return s, nil
}

// sealedToken is the encrypted payload.
type sealedToken struct {
	AccessToken string    `json:"access_token"`
	TokenType   string    `json:"token_type"`
	Scopes      []string  `json:"scopes"`
	IssuedAt    time.Time `json:"issued_at"`
	Expiry      time.Time `json:"expiry"`
}

// fresh reports whether t is before its refresh point, computed exactly as the client does.
func (s *Store) fresh(t *mgmt.Token, now time.Time) bool {
	life := t.Expiry.Sub(t.IssuedAt)
	return now.Before(t.Expiry.Add(-min(s.window, life/10)))
}

// Load returns the stored token when it is fresh. Otherwise it returns nil, and the caller is
// expected to fetch and Save: this replica then holds the lease. While another replica holds the
// lease, Load waits (polling) until that replica saves, until the lease runs out (then this replica
// takes it), or until ctx ends (then nil and ctx's error: the client fetches on its own).
func (s *Store) Load(ctx context.Context) (*mgmt.Token, error) {
	for {
		tok, wait, err := s.loadOrLease(ctx)
		if err != nil || !wait {
			return tok, err
		}
		t := time.NewTimer(s.poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// loadOrLease runs one locked look at the row: a fresh token; or wait (someone else's lease is live);
// or take the lease and report nothing.
func (s *Store) loadOrLease(ctx context.Context) (tok *mgmt.Token, wait bool, err error) {
	err = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO mgmt_tokens (id) VALUES (?) ON CONFLICT (id) DO NOTHING`), s.id); err != nil {
			return err
		}
		var sealed []byte
		var leaseUntil int64
		var owner string
		row := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT sealed, lease_until, lease_owner FROM mgmt_tokens WHERE id = ?`+s.db.ForUpdate()), s.id)
		if err := row.Scan(&sealed, &leaseUntil, &owner); err != nil {
			return err
		}
		now := s.now()
		if t := s.open(sealed); t != nil && s.fresh(t, now) {
			tok = t
			return nil
		}
		if owner != s.owner && now.UnixMilli() < leaseUntil {
			wait = true
			return nil
		}
		_, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE mgmt_tokens SET lease_until = ?, lease_owner = ? WHERE id = ?`),
			now.Add(s.lease).UnixMilli(), s.owner, s.id)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("tokenstore: load: %w", err)
	}
	return tok, wait, nil
}

// Save stores t sealed with the newest key and releases the lease. A token that expires before the
// stored one does not replace it.
func (s *Store) Save(ctx context.Context, t *mgmt.Token) error {
	if t == nil || t.AccessToken == "" {
		return errors.New("tokenstore: save: empty token")
	}
	plain, err := json.Marshal(sealedToken{AccessToken: t.AccessToken, TokenType: t.TokenType, Scopes: t.Scopes,
		IssuedAt: t.IssuedAt, Expiry: t.Expiry})
	if err != nil {
		return err
	}
	nonce := make([]byte, s.aeads[0].NonceSize())
	_, _ = rand.Read(nonce)
	sealed := s.aeads[0].Seal(nonce, nonce, plain, s.aad)
	_, err = s.db.W.ExecContext(ctx, s.db.Rebind(`INSERT INTO mgmt_tokens (id, sealed, expires_at, lease_until, lease_owner, updated_at)
		VALUES (?, ?, ?, 0, '', ?)
		ON CONFLICT (id) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at,
			lease_until = 0, lease_owner = '', updated_at = excluded.updated_at
		WHERE mgmt_tokens.expires_at <= excluded.expires_at`),
		s.id, sealed, t.Expiry.UnixMilli(), s.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("tokenstore: save: %w", err)
	}
	return nil
}

// open decrypts a sealed token with any key; nil when there is none or no key opens it (a key that
// was dropped, or tampering): the caller then fetches a new token.
func (s *Store) open(sealed []byte) *mgmt.Token {
	if len(sealed) == 0 {
		return nil
	}
	for _, a := range s.aeads {
		ns := a.NonceSize()
		if len(sealed) < ns {
			return nil
		}
		plain, err := a.Open(nil, sealed[:ns], sealed[ns:], s.aad)
		if err != nil {
			continue
		}
		var st sealedToken
		if json.Unmarshal(plain, &st) != nil || st.AccessToken == "" {
			return nil
		}
		return &mgmt.Token{AccessToken: st.AccessToken, TokenType: st.TokenType, Scopes: st.Scopes,
			IssuedAt: st.IssuedAt, Expiry: st.Expiry}
	}
	return nil
}

// Forget deletes every stored token (of every tenant and service account in this database) and
// returns how many there were. Processes keep the token they hold in memory; once restarted, each
// asks Auth0 for a new one, with the scopes granted at that moment. `userdesk forget-token` runs it.
func Forget(ctx context.Context, d *db.DB) (int64, error) {
	if err := d.Migrate(ctx, "tokenstore_migrations", migrations); err != nil {
		return 0, fmt.Errorf("tokenstore: %w", err)
	}
	res, err := d.W.ExecContext(ctx, `DELETE FROM mgmt_tokens`)
	if err != nil {
		return 0, fmt.Errorf("tokenstore: forget: %w", err)
	}
	return res.RowsAffected()
}
